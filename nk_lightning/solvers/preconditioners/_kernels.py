"""Compiled sparse kernels (numba) on CSR arrays with sorted column indices.

All kernels are sequential by nature (incomplete factorisations, triangular sweeps); numba
makes them run at C speed. Each takes plain arrays so it can be cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "diagonal_positions",
    "ilu0_factor",
    "ilu0_solve",
    "ic0_factor",
    "ic0_solve",
    "sgs_solve",
]


@njit(cache=True)
def diagonal_positions(indptr, indices):  # pragma: no cover - compiled
    """Index of the diagonal entry of each row; -1 if the row has none."""
    n = indptr.shape[0] - 1
    diag = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            if indices[p] == i:
                diag[i] = p
                break
    return diag


@njit(cache=True)
def ilu0_factor(indptr, indices, data, diag):  # pragma: no cover - compiled
    """ILU(0) on the pattern of A (Saad, Iterative Methods, Alg. 10.4, IKJ variant).

    Returns the factors in one array on A's pattern: strictly lower part = L (unit diagonal
    implied), diagonal and upper part = U. Returns ``(lu, bad_row)`` with ``bad_row = -1`` on
    success, else the row of the first zero pivot.
    """
    n = indptr.shape[0] - 1
    lu = data.copy()
    where = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            where[indices[p]] = p
        for p in range(indptr[i], diag[i]):
            k = indices[p]
            pivot = lu[diag[k]]
            if pivot == 0.0:
                return lu, k
            lu[p] /= pivot
            lik = lu[p]
            for q in range(diag[k] + 1, indptr[k + 1]):
                target = where[indices[q]]
                if target >= 0:
                    lu[target] -= lik * lu[q]
        for p in range(indptr[i], indptr[i + 1]):
            where[indices[p]] = -1
        if lu[diag[i]] == 0.0:
            return lu, i
    return lu, -1


@njit(cache=True)
def ilu0_solve(indptr, indices, lu, diag, b):  # pragma: no cover - compiled
    """Solve ``L U x = b`` for the combined factors of :func:`ilu0_factor`. ``b`` is 1-D."""
    n = b.shape[0]
    x = b.copy()
    for i in range(n):
        s = x[i]
        for p in range(indptr[i], diag[i]):
            s -= lu[p] * x[indices[p]]
        x[i] = s
    for i in range(n - 1, -1, -1):
        s = x[i]
        for p in range(diag[i] + 1, indptr[i + 1]):
            s -= lu[p] * x[indices[p]]
        x[i] = s / lu[diag[i]]
    return x


@njit(cache=True)
def ic0_factor(indptr, indices, data):  # pragma: no cover - compiled
    """IC(0) ``A ~ L L^T`` on the pattern of ``tril(A)`` (rows sorted, diagonal last).

    Up-looking row variant: ``L_ik = (a_ik - sum_{j<k} L_ij L_kj) / L_kk`` over the common
    pattern of rows ``i`` and ``k``, ``L_ii = sqrt(a_ii - sum_k L_ik^2)``. Returns
    ``(L, bad_row)``, ``bad_row = -1`` on success, else the row of the first non-positive pivot.
    """
    n = indptr.shape[0] - 1
    L = data.copy()
    for i in range(n):
        start, last = indptr[i], indptr[i + 1] - 1  # last entry of the row is the diagonal
        for p in range(start, last):
            k = indices[p]
            s = L[p]
            # merge row i (entries before p) with row k (its off-diagonal entries)
            a, b = start, indptr[k]
            bend = indptr[k + 1] - 1
            while a < p and b < bend:
                ca, cb = indices[a], indices[b]
                if ca == cb:
                    s -= L[a] * L[b]
                    a += 1
                    b += 1
                elif ca < cb:
                    a += 1
                else:
                    b += 1
            L[p] = s / L[bend]
        d = L[last]
        for p in range(start, last):
            d -= L[p] * L[p]
        if d <= 0.0:
            return L, i
        L[last] = np.sqrt(d)
    return L, -1


@njit(cache=True)
def ic0_solve(indptr, indices, L, b):  # pragma: no cover - compiled
    """Solve ``L L^T x = b`` with ``L`` from :func:`ic0_factor` (diagonal last in each row)."""
    n = b.shape[0]
    y = b.copy()
    for i in range(n):
        s = y[i]
        last = indptr[i + 1] - 1
        for p in range(indptr[i], last):
            s -= L[p] * y[indices[p]]
        y[i] = s / L[last]
    # backward with L^T, column-oriented over the rows of L
    for i in range(n - 1, -1, -1):
        last = indptr[i + 1] - 1
        xi = y[i] / L[last]
        y[i] = xi
        for p in range(indptr[i], last):
            y[indices[p]] -= L[p] * xi
    return y


@njit(cache=True)
def sgs_solve(indptr, indices, data, diag, b):  # pragma: no cover - compiled
    """One symmetric Gauss-Seidel sweep from zero: ``(D+U)^-1 D (D+L)^-1 b``."""
    n = b.shape[0]
    z = b.copy()
    for i in range(n):
        s = z[i]
        for p in range(indptr[i], diag[i]):
            s -= data[p] * z[indices[p]]
        z[i] = s / data[diag[i]]
    for i in range(n):
        z[i] *= data[diag[i]]
    for i in range(n - 1, -1, -1):
        s = z[i]
        for p in range(diag[i] + 1, indptr[i + 1]):
            s -= data[p] * z[indices[p]]
        z[i] = s / data[diag[i]]
    return z
