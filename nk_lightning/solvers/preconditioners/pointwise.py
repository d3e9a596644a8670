"""Pointwise preconditioners: ``none`` and ``jacobi``."""

from __future__ import annotations

import numpy as np

from .base import Preconditioner, as_csr

__all__ = ["Identity", "Jacobi"]


class Identity(Preconditioner):
    """``M = I`` (PETSc ``-pc_type none``). Accepts any operator with a ``shape``."""

    name = "none"

    def _setup(self, A) -> None:
        pass

    def _solve(self, r: np.ndarray) -> np.ndarray:
        return r.copy()


class Jacobi(Preconditioner):
    """``M = diag(A)`` (PETSc ``-pc_type jacobi``)."""

    name = "jacobi"

    def _setup(self, A) -> None:
        d = as_csr(A).diagonal()
        if np.any(d == 0):
            raise ValueError(f"jacobi: zero diagonal entry in row {int(np.flatnonzero(d == 0)[0])}")
        self.inv_diag = 1.0 / d

    def _solve(self, r: np.ndarray) -> np.ndarray:
        return r * self.inv_diag
