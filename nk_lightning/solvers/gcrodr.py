"""GCRO-DR: GMRES with deflated restarting and a recycled (e.g. predicted) subspace."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._krylov import KrylovSolver
from .operators import System
from .result import SolveResult

__all__ = ["gcrodr"]

DEFAULT_RECYCLE = 20


def gcrodr(
    A,
    b: np.ndarray,
    x0: np.ndarray | None = None,
    *,
    U: np.ndarray | None = None,
    M=None,
    m: int = 40,
    k: int | None = None,
    rtol: float = 1e-5,
    atol: float = 0.0,
    maxiter: int | None = None,
    side: str = "left",
    callback: Callable[[float], None] | None = None,
    blocks: int = 16,
    blas_threads: int | None = 1,
) -> SolveResult:
    """Solve ``A x = b`` with GCRO-DR(m, k), optionally starting from a given subspace ``U``.

    With ``U`` (NeurKItt): the initial recycle space is ``span(U)``. ``U`` is cast to float64
    and orthonormalised by a rank-revealing (pivoted) QR that drops dependent columns; then
    ``C = orth(Op U)`` by a second pivoted QR, the initial guess is deflated
    (``x1 = x0 + U C^T r0``) and every cycle runs ``s = m - k`` Arnoldi steps on
    ``(I - C C^T) Op``. After each unconverged cycle the recycle space is replaced by the ``k``
    harmonic Ritz vectors of smallest magnitude (Parks et al. 2006, strategy A), and ``C`` is
    re-orthonormalised if it drifted. Without ``U``: the first cycle is GMRES(m) and recycling
    starts after it (equivalent to GMRES-DR for one system), the "no network" baseline.

    ``U`` lives in ``x``-space with either preconditioning side: left uses
    ``C = orth(M^{-1} A U)`` and updates ``x += U y``; right uses the flexible form
    (``C = orth(A U)``, stored ``z_j = M^{-1} v_j``), so a subspace that approximates
    eigenvectors of ``A`` is deflated as such. The conventions (stopping test, iteration count,
    ``maxiter``) are those of :func:`~nk_lightning.solvers.gmres`.

    Parameters
    ----------
    A, b, x0, M, rtol, atol, maxiter, side, callback, blocks, blas_threads
        As for :func:`~nk_lightning.solvers.gmres`.
    U : numpy.ndarray, optional
        Shape ``(n, k_U)`` (or ``(n,)``), any float dtype; need not be orthonormal or of full
        rank. NaN/Inf or a wrong shape raise ``ValueError``; numerical rank 0 falls back to
        GMRES(m) with a ``RuntimeWarning``.
    m : int
        Maximal subspace dimension per cycle, recycled vectors included.
    k : int, optional
        Recycle dimension. Default: the number of columns of ``U`` (as HPDDM), else 20.
        ``U`` is truncated to its first ``k`` columns. ``k = 0`` is exactly GMRES(m).

    Returns
    -------
    SolveResult
        ``recycle_dim`` is the recycle dimension in use at the end.

    Examples
    --------
    >>> import numpy as np, scipy.linalg as sla
    >>> from nk_lightning.pdes import diffusion_matrix
    >>> A = diffusion_matrix(np.ones((22, 22)))
    >>> w, V = sla.eigh(A.toarray())
    >>> b = np.ones(400)
    >>> plain = gcrodr(A, b, k=0, rtol=1e-8)
    >>> deflated = gcrodr(A, b, U=V[:, :10], rtol=1e-8)
    >>> deflated.converged and deflated.iterations < plain.iterations
    True

    References
    ----------
    M. L. Parks, E. de Sturler, G. Mackey, D. D. Johnson, S. Maiti, "Recycling Krylov
    subspaces for sequences of linear systems", SIAM J. Sci. Comput. 28(5), 2006.
    J. Luo et al., "Neural Krylov Iteration for Accelerating Linear System Solving",
    NeurIPS 2024.
    """
    if k is None:
        k = DEFAULT_RECYCLE if U is None else (1 if np.ndim(U) == 1 else np.shape(U)[1])
    system = System(A, b, M, side=side, blocks=blocks)
    k = min(int(k), m - 1) if U is not None and k >= m else k
    solver = KrylovSolver(
        system,
        x0,
        m=m,
        k=k,
        rtol=rtol,
        atol=atol,
        maxiter=maxiter,
        callback=callback,
        method=f"gcrodr({m},{k})",
        blas_threads=blas_threads,
    )
    return solver.run(U=U)
