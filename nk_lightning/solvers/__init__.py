"""Krylov solvers and preconditioners (numpy/scipy/numba; no torch).

- :func:`gmres`: restarted GMRES(m), the paper's baseline conventions by default.
- :func:`gcrodr`: GCRO-DR(m, k) with an optional given recycle space ``U`` (NeurKItt).
- :func:`cg`: preconditioned conjugate gradients (SPD systems), a classical baseline.
- :func:`gauss_seidel`: Gauss-Seidel as a stationary solver, a classical baseline.
- :mod:`~nk_lightning.solvers.preconditioners`: the seven PETSc-style preconditioners.

Both solvers return a :class:`SolveResult`.
"""

from .cg import cg
from .gcrodr import gcrodr
from .gmres import gmres
from .preconditioners import PRECONDITIONERS, Preconditioner, make_preconditioner
from .result import SolveResult
from .stationary import gauss_seidel
from .warmup import warmup

__all__ = [
    "PRECONDITIONERS",
    "Preconditioner",
    "SolveResult",
    "cg",
    "gauss_seidel",
    "gcrodr",
    "gmres",
    "make_preconditioner",
    "warmup",
]
