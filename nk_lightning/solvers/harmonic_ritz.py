"""Harmonic Ritz vectors for the recycle update of GCRO-DR (Parks et al. 2006, sec. 2.4)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

__all__ = ["harmonic_ritz_basis"]


def harmonic_ritz_basis(G: np.ndarray, WtY: np.ndarray, k: int, max_k: int) -> np.ndarray:
    """Real orthonormal basis of the ``k`` harmonic Ritz vectors of smallest magnitude.

    Solves the generalized eigenproblem ``G^T G p = theta G^T (W^T Y) p`` of an Arnoldi-like
    relation ``Op Y = W G`` (``Y`` has ``m`` columns, ``W`` has ``m + 1``), and keeps the ``k``
    eigenvalues of smallest ``|theta|`` ("SM" target).

    Complex eigenvalues come in conjugate pairs even for SPD operators (``G`` is not
    symmetric): a pair contributes its real and imaginary parts as two real columns and is
    never split. If the ``k``-th value starts a pair, ``k + 1`` vectors are kept when
    ``k + 1 <= max_k`` (Parks et al.), else ``k - 1``. Infinite or NaN eigenvalues sort last.
    The sort is stable, so runs are deterministic.

    Parameters
    ----------
    G : numpy.ndarray
        Shape ``(m + 1, m)``.
    WtY : numpy.ndarray
        ``W^T Y``, shape ``(m + 1, m)``.
    k : int
        Number of vectors wanted, ``1 <= k <= m``.
    max_k : int
        Largest number of vectors allowed (to keep room for new Arnoldi vectors).

    Returns
    -------
    numpy.ndarray
        ``P``, shape ``(m, k')`` with orthonormal columns, ``k' in {k - 1, k, k + 1}``.

    References
    ----------
    M. L. Parks, E. de Sturler, G. Mackey, D. D. Johnson, S. Maiti, "Recycling Krylov
    subspaces for sequences of linear systems", SIAM J. Sci. Comput. 28(5), 2006.
    R. B. Morgan, "GMRES with deflated restarting", SIAM J. Sci. Comput. 24(1), 2002.
    """
    m = G.shape[1]
    if not 1 <= k <= max_k:
        raise ValueError(f"need 1 <= k <= max_k, got k={k}, max_k={max_k}")
    alpha_beta, vecs = sla.eig(G.T @ G, G.T @ WtY, homogeneous_eigvals=True)
    alpha, beta = alpha_beta
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = alpha / beta
    mag = np.abs(theta)
    mag[~np.isfinite(mag)] = np.inf
    order = np.lexsort((-np.abs(theta.imag), mag))  # by |theta|, conjugates adjacent
    columns: list[np.ndarray] = []
    used = np.zeros(m, dtype=bool)
    for i in order:
        if used[i] or len(columns) >= k:
            continue
        used[i] = True
        v = vecs[:, i]
        is_complex = np.isfinite(theta[i]) and abs(theta[i].imag) > 1e-12 * max(mag[i], 1e-300)
        if not is_complex:
            columns.append(v.real)
            continue
        partner = [j for j in order if not used[j] and np.isfinite(theta[j])]
        if partner:
            used[min(partner, key=lambda j: abs(theta[j] - np.conj(theta[i])))] = True
        if len(columns) + 2 > max_k:
            break  # the pair does not fit: stop at k - 1 rather than split it
        columns.extend([v.real, v.imag])
    if not columns:
        return np.zeros((m, 0))
    P = np.column_stack(columns)
    Q, R = np.linalg.qr(P)
    keep = np.abs(np.diag(R)) > 1e-12 * np.abs(R[0, 0])
    return Q[:, keep]
