"""The preconditioner interface, and PETSc's contiguous row partition."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["Preconditioner", "row_blocks", "restrict_to_blocks", "as_csr"]


def as_csr(A) -> sp.csr_array:
    """``A`` as a canonical float64 CSR array (sorted indices, no duplicates)."""
    if not sp.issparse(A):
        raise TypeError(f"a sparse matrix is required, got {type(A).__name__}")
    A = sp.csr_array(A, dtype=np.float64)
    if not A.has_canonical_format:
        A = A.copy()
        A.sum_duplicates()
        A.sort_indices()
    return A


def row_blocks(n: int, parts: int) -> np.ndarray:
    """Boundaries of PETSc's default row partition (``MatLoad`` with ``PETSC_DECIDE``).

    Block ``r`` holds rows ``[bounds[r], bounds[r+1])`` with sizes
    ``n // parts + (r < n % parts)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(parts + 1,)``, int64.
    """
    if parts < 1 or parts > n:
        raise ValueError(f"number of blocks must be in [1, {n}], got {parts!r}")
    sizes = np.full(parts, n // parts, dtype=np.int64)
    sizes[: n % parts] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def restrict_to_blocks(A: sp.csr_array, bounds: np.ndarray) -> sp.csr_array:
    """Drop every entry of ``A`` that couples two different row blocks."""
    A = A.tocoo()
    block_of = np.searchsorted(bounds, np.arange(A.shape[0]), side="right") - 1
    keep = block_of[A.row] == block_of[A.col]
    return sp.csr_array((A.data[keep], (A.row[keep], A.col[keep])), shape=A.shape)


class Preconditioner(ABC):
    """``M^{-1}`` as an operator: set up once from a matrix, then applied many times.

    Subclasses implement :meth:`_setup` and :meth:`_solve` (one vector). The base class times
    the setup (``setup_time``) and accumulates the applications (``apply_time``,
    ``n_applies``) so solvers can report both separately.

    Parameters
    ----------
    A : scipy sparse matrix
        Shape ``(n, n)``.
    """

    name: str = "?"

    def __init__(self, A) -> None:
        start = time.perf_counter()
        self.shape = A.shape
        self._setup(A)
        self.setup_time = time.perf_counter() - start
        self.apply_time = 0.0
        self.n_applies = 0

    @abstractmethod
    def _setup(self, A) -> None:
        """Build the preconditioner from ``A``."""

    @abstractmethod
    def _solve(self, r: np.ndarray) -> np.ndarray:
        """Return ``M^{-1} r`` for a 1-D float64 ``r`` (a new array)."""

    def solve(self, r: np.ndarray) -> np.ndarray:
        """Apply ``M^{-1}`` to ``r`` of shape ``(n,)`` or ``(n, p)``; returns a new array."""
        start = time.perf_counter()
        r = np.asarray(r, dtype=np.float64)
        if r.ndim == 1:
            out = self._solve(np.ascontiguousarray(r))
            self.n_applies += 1
        else:
            out = np.empty_like(r)
            for j in range(r.shape[1]):
                out[:, j] = self._solve(np.ascontiguousarray(r[:, j]))
            self.n_applies += r.shape[1]
        self.apply_time += time.perf_counter() - start
        return out

    __call__ = solve

    def as_linear_operator(self) -> spla.LinearOperator:
        """``M^{-1}`` as a scipy LinearOperator (e.g. to pass to ``scipy.sparse.linalg.gmres``)."""
        return spla.LinearOperator(
            self.shape, matvec=self.solve, matmat=self.solve, dtype=np.float64
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.shape[0]}, setup_time={self.setup_time:.3g}s)"
