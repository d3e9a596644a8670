"""Incomplete factorisations on the pattern of A: ILU(0) and IC(0) (PETSc ``ilu``, ``icc``)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _kernels as K
from .base import Preconditioner, as_csr

__all__ = ["ILU0", "IC0"]


class ILU0(Preconditioner):
    """ILU(0): ``A ~ L U`` with ``L`` and ``U`` on the pattern of ``A`` (PETSc ``-pc_type ilu``).

    Natural ordering, no pivoting, no shift; a zero pivot is an error, as in PETSc. Works for
    any sparsity pattern (IKJ variant, Saad Alg. 10.4), not only the 5-point stencil. This is
    not ``scipy.sparse.linalg.spilu`` (SuperLU ILUTP, which drops by value and pivots).
    """

    name = "ilu"

    def _setup(self, A) -> None:
        A = as_csr(A)
        self.indptr, self.indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
        self.diag = K.diagonal_positions(self.indptr, self.indices)
        missing = np.flatnonzero(self.diag < 0)
        if missing.size:
            raise ValueError(f"{self.name}: row {int(missing[0])} has no diagonal entry")
        self.lu, bad = K.ilu0_factor(self.indptr, self.indices, A.data, self.diag)
        if bad >= 0:
            raise ValueError(f"{self.name}: zero pivot in row {int(bad)}")

    def _solve(self, r: np.ndarray) -> np.ndarray:
        return K.ilu0_solve(self.indptr, self.indices, self.lu, self.diag, r)


class IC0(Preconditioner):
    """IC(0): ``A ~ L L^T`` on the pattern of ``tril(A)`` (PETSc ``-pc_type icc``, levels 0).

    Reads the lower triangle only. As in PETSc, a non-positive pivot triggers a diagonal shift
    (``A + alpha diag(A)``, ``alpha`` doubling from 1e-3); ``shift`` records the one used.
    """

    name = "icc"

    def _setup(self, A) -> None:
        lower = sp.tril(as_csr(A), format="csr")
        lower.sort_indices()
        self.indptr, self.indices = lower.indptr.astype(np.int64), lower.indices.astype(np.int64)
        last = self.indices[self.indptr[1:] - 1]
        if np.any(np.diff(self.indptr) == 0) or np.any(last != np.arange(A.shape[0])):
            raise ValueError(f"{self.name}: every row needs a diagonal entry")
        diag = lower.data[self.indptr[1:] - 1]
        self.shift = 0.0
        data = lower.data
        while True:
            self.L, bad = K.ic0_factor(self.indptr, self.indices, data)
            if bad < 0:
                break
            self.shift = 1e-3 if self.shift == 0.0 else 2.0 * self.shift
            if self.shift > 1e3:
                raise ValueError(f"{self.name}: no positive pivots even with a diagonal shift")
            data = lower.data.copy()
            data[self.indptr[1:] - 1] = diag * (1.0 + self.shift)

    def _solve(self, r: np.ndarray) -> np.ndarray:
        return K.ic0_solve(self.indptr, self.indices, self.L, r)
