"""Krylov solvers and preconditioners (numpy/scipy/numba; no torch).

- :func:`gmres`: restarted GMRES(m), the paper's baseline conventions by default.
- :func:`gcrodr`: GCRO-DR(m, k) with an optional given recycle space ``U`` (NeurKItt).
- :mod:`~nk_lightning.solvers.preconditioners`: the seven PETSc-style preconditioners.

Both solvers return a :class:`SolveResult`.
"""

from .gcrodr import gcrodr
from .gmres import gmres
from .preconditioners import PRECONDITIONERS, Preconditioner, make_preconditioner
from .result import SolveResult
from .warmup import warmup

__all__ = [
    "PRECONDITIONERS",
    "Preconditioner",
    "SolveResult",
    "gcrodr",
    "gmres",
    "make_preconditioner",
    "warmup",
]
