"""Domain-decomposition preconditioners over ``P`` contiguous row blocks, emulating PETSc on
``P`` MPI ranks (NeurKItt ran 16): ``bjacobi``, ``sor`` and ``asm``."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _kernels as K
from .base import Preconditioner, as_csr, restrict_to_blocks, row_blocks
from .incomplete import ILU0

__all__ = ["BlockJacobi", "SSOR", "AdditiveSchwarz"]


class BlockJacobi(ILU0):
    """Block Jacobi with an ILU(0) solve per block (PETSc ``-pc_type bjacobi``: one block per
    rank, sub-PC ILU(0)). Equals ILU(0) of ``A`` with the couplings between blocks removed.

    Parameters
    ----------
    A : scipy sparse matrix
    blocks : int
        Number of contiguous row blocks (PETSc ranks); 1 gives plain ILU(0).
    """

    name = "bjacobi"

    def __init__(self, A, blocks: int = 16) -> None:
        self.blocks = blocks
        super().__init__(A)

    def _setup(self, A) -> None:
        A = as_csr(A)
        super()._setup(restrict_to_blocks(A, row_blocks(A.shape[0], self.blocks)))


class SSOR(Preconditioner):
    """Symmetric Gauss-Seidel (SOR with ``omega = 1``, one symmetric sweep from a zero guess)
    on each diagonal block: PETSc ``-pc_type sor`` (``SOR_LOCAL_SYMMETRIC_SWEEP``) on ``P``
    ranks, ``M^{-1} = (D+U)^{-1} D (D+L)^{-1}`` of the block-restricted matrix.
    """

    name = "sor"

    def __init__(self, A, blocks: int = 16) -> None:
        self.blocks = blocks
        super().__init__(A)

    def _setup(self, A) -> None:
        A = as_csr(A)
        Ab = restrict_to_blocks(A, row_blocks(A.shape[0], self.blocks))
        self.indptr, self.indices = Ab.indptr.astype(np.int64), Ab.indices.astype(np.int64)
        self.data = Ab.data
        self.diag = K.diagonal_positions(self.indptr, self.indices)
        if np.any(self.diag < 0) or np.any(self.data[self.diag] == 0):
            raise ValueError("sor: zero or missing diagonal entry")

    def _solve(self, r: np.ndarray) -> np.ndarray:
        return K.sgs_solve(self.indptr, self.indices, self.data, self.diag, r)


class AdditiveSchwarz(Preconditioner):
    """Restricted additive Schwarz with overlap 1 and ILU(0) subdomain solves (PETSc
    ``-pc_type asm``: one subdomain per rank, ``PC_ASM_RESTRICT``, sub-PC ILU(0)).

    Subdomain ``r`` is block ``r`` plus every node one graph edge away (for the 5-point stencil
    in natural order, rows ``[s_r - g, e_r + g)``); its ILU(0) solve is applied to the
    restricted residual and only the owned rows are kept. All subdomain matrices are stacked in
    one block-diagonal matrix so one compiled solve serves them all.
    """

    name = "asm"

    def __init__(self, A, blocks: int = 16) -> None:
        self.blocks = blocks
        super().__init__(A)

    def _setup(self, A) -> None:
        A = as_csr(A)
        bounds = row_blocks(A.shape[0], self.blocks)
        gather, owned, subs = [], [], []
        offset = 0
        for r in range(self.blocks):
            rows = np.arange(bounds[r], bounds[r + 1])
            neighbours = A.indices[A.indptr[bounds[r]] : A.indptr[bounds[r + 1]]]
            omega = np.union1d(rows, neighbours)
            subs.append(A[omega][:, omega])
            gather.append(omega)
            owned.append(offset + np.searchsorted(omega, rows))
            offset += omega.size
        self.gather = np.concatenate(gather)
        self.owned = np.concatenate(owned)
        self.sub = ILU0(sp.block_diag(subs, format="csr"))

    def _solve(self, r: np.ndarray) -> np.ndarray:
        z = self.sub._solve(np.ascontiguousarray(r[self.gather]))
        return z[self.owned]
