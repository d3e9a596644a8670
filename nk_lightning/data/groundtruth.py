"""Ground-truth invariant subspaces: the k smallest eigenpairs of a sparse SPD matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import GroundTruthError

__all__ = ["EigenResult", "factorize", "smallest_eigenpairs", "eigen_residuals", "RESIDUAL_LIMIT"]

RESIDUAL_LIMIT = 1e-8
"""Largest accepted relative eigen-residual ``||A v - lam v|| / (|lam| ||v||)``."""


@dataclass(frozen=True)
class EigenResult:
    """The ``k`` smallest eigenpairs of ``A``.

    Attributes
    ----------
    eigvals : numpy.ndarray
        Shape ``(k,)``, float64, ascending.
    eigvecs : numpy.ndarray
        Shape ``(n, k)``, float64, orthonormal columns; each column's entry of largest
        magnitude is positive (a deterministic sign).
    residual : float
        Largest relative eigen-residual over the ``k`` pairs.
    n_solves : int
        Number of shift-invert solves the Lanczos iteration used.
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    residual: float
    n_solves: int


def eigen_residuals(A: sp.sparray, eigvals: np.ndarray, eigvecs: np.ndarray) -> np.ndarray:
    """Relative residuals ``||A v_j - lam_j v_j|| / (|lam_j| ||v_j||)``, shape ``(k,)``."""
    R = A @ eigvecs - eigvecs * eigvals
    return np.linalg.norm(R, axis=0) / (np.abs(eigvals) * np.linalg.norm(eigvecs, axis=0))


def factorize(A: sp.sparray, label: str = "matrix") -> spla.SuperLU:
    """Symmetric fill-reducing sparse LU of ``A``: SuperLU with the minimum degree ordering of
    ``A^T + A`` and diagonal pivoting (``SymmetricMode``), so the factors keep the symmetric
    structure. Reused for all shift-invert solves and for the exact solution.

    Raises
    ------
    GroundTruthError
        ``A`` is singular.
    """
    try:
        return spla.splu(
            sp.csc_matrix(A),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError as err:  # SuperLU: "Factor is exactly singular"
        raise GroundTruthError(f"{label}: factorisation failed ({err})") from None


def smallest_eigenpairs(
    A: sp.sparray,
    k: int,
    *,
    lu: spla.SuperLU | None = None,
    v0: np.ndarray | None = None,
    tol: float = 0.0,
    residual_limit: float = RESIDUAL_LIMIT,
    label: str = "matrix",
) -> EigenResult:
    """Compute the ``k`` smallest eigenpairs of a symmetric positive definite matrix.

    Shift-invert Lanczos (ARPACK ``eigsh`` on ``A^{-1}``, i.e. shift ``sigma = 0``) with one
    symmetric fill-reducing factorisation reused for every solve: SuperLU with the minimum
    degree ordering of ``A^T + A`` and diagonal pivoting (``SymmetricMode``), so the factors
    keep the symmetric structure. Every pair is checked; a failure raises.

    Parameters
    ----------
    A : scipy.sparse array
        Shape ``(n, n)``, symmetric positive definite.
    k : int
        Number of eigenpairs, ``1 <= k < n``.
    lu : scipy.sparse.linalg.SuperLU, optional
        A factorisation of ``A`` from :func:`factorize` (computed here if not given).
    v0 : numpy.ndarray, optional
        Lanczos start vector, shape ``(n,)``. Pass one derived from the sample's seed to make
        the result independent of what else ran in the process (ARPACK's default start vector
        comes from a process-global generator).
    tol : float
        ARPACK relative accuracy of the Ritz values; 0 means machine precision, which gives
        eigen-residuals of about 1e-12 on the NeurKItt matrices.
    residual_limit : float
        Largest accepted relative residual per pair.
    label : str
        Names the system in the error message (e.g. ``"train sample 17"``).

    Returns
    -------
    EigenResult

    Raises
    ------
    GroundTruthError
        If ARPACK does not converge, or a pair's relative residual exceeds
        ``residual_limit``, or the factorisation finds ``A`` singular.

    Examples
    --------
    >>> import numpy as np
    >>> from nk_lightning.pdes import diffusion_matrix
    >>> res = smallest_eigenpairs(diffusion_matrix(np.ones((12, 12))), 3, v0=np.ones(100))
    >>> bool(res.residual < 1e-8), res.eigvecs.shape
    (True, (100, 3))
    """
    n = A.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must satisfy 1 <= k < n = {n}, got {k!r}")
    if lu is None:
        lu = factorize(A, label)
    n_solves = 0

    def solve(x: np.ndarray) -> np.ndarray:
        nonlocal n_solves
        n_solves += 1
        return lu.solve(x)

    op = spla.LinearOperator((n, n), matvec=solve, dtype=np.float64)
    try:
        mu, V = spla.eigsh(op, k, which="LA", tol=tol, v0=v0)
    except spla.ArpackNoConvergence as err:
        raise GroundTruthError(f"{label}: Lanczos did not converge ({err})") from None
    order = np.argsort(1.0 / mu)
    eigvals = 1.0 / mu[order]
    V = V[:, order]
    rows = np.argmax(np.abs(V), axis=0)
    V *= np.sign(V[rows, np.arange(k)])
    res = eigen_residuals(A, eigvals, V)
    worst = int(np.argmax(res))
    if not np.all(np.isfinite(res)) or res[worst] > residual_limit:
        raise GroundTruthError(
            f"{label}: eigenpair {worst} has relative residual {res[worst]:.3e} "
            f"> {residual_limit:.0e} (eigenvalue {eigvals[worst]:.6e})"
        )
    return EigenResult(eigvals=eigvals, eigvecs=V, residual=float(res[worst]), n_solves=n_solves)
