"""The seven PETSc-style preconditioners of NeurKItt, by name.

========  ===========================================  ==================================
name      PETSc                                          here
========  ===========================================  ==================================
none      ``-pc_type none``                              :class:`Identity`
jacobi    ``-pc_type jacobi``                            :class:`Jacobi`
bjacobi   one block per rank, sub ILU(0)                 :class:`BlockJacobi` (16 blocks)
sor       local symmetric sweep, omega 1                 :class:`SSOR` (16 blocks)
asm       RAS, overlap 1, sub ILU(0)                     :class:`AdditiveSchwarz` (16 blocks)
icc       ``-pc_type icc -pc_factor_levels 0``           :class:`IC0`
ilu       ``-pc_type ilu -pc_factor_levels 0``           :class:`ILU0`
========  ===========================================  ==================================

The block count emulates the paper's 16 MPI ranks; ``icc`` and ``ilu`` ran on one process.
"""

from __future__ import annotations

from .base import Preconditioner, restrict_to_blocks, row_blocks
from .block import SSOR, AdditiveSchwarz, BlockJacobi
from .incomplete import IC0, ILU0
from .pointwise import Identity, Jacobi

__all__ = [
    "PRECONDITIONERS",
    "AdditiveSchwarz",
    "BlockJacobi",
    "IC0",
    "ILU0",
    "Identity",
    "Jacobi",
    "Preconditioner",
    "SSOR",
    "make_preconditioner",
    "restrict_to_blocks",
    "row_blocks",
]

PRECONDITIONERS = ("none", "jacobi", "bjacobi", "sor", "asm", "icc", "ilu")
_BLOCKED = {"bjacobi": BlockJacobi, "sor": SSOR, "asm": AdditiveSchwarz}
_SIMPLE = {"none": Identity, "jacobi": Jacobi, "icc": IC0, "ilu": ILU0}


def make_preconditioner(name: str | None, A, *, blocks: int = 16) -> Preconditioner:
    """Build a preconditioner by name.

    Parameters
    ----------
    name : str or None
        One of :data:`PRECONDITIONERS` (``None`` means ``"none"``).
    A : scipy sparse matrix
        Shape ``(n, n)``. ``"none"`` also accepts a LinearOperator.
    blocks : int
        Row blocks (emulated MPI ranks) for ``bjacobi``, ``sor`` and ``asm``.

    Raises
    ------
    ValueError
        Unknown name, or a factorisation failure (zero pivot).
    """
    name = "none" if name is None else name
    if name in _BLOCKED:
        return _BLOCKED[name](A, blocks=min(blocks, A.shape[0]))
    if name in _SIMPLE:
        return _SIMPLE[name](A)
    raise ValueError(f"unknown preconditioner {name!r}; choose one of {list(PRECONDITIONERS)}")
