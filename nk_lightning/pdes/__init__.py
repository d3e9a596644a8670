"""PDE matrix families (numpy/scipy only; no torch).

Each family is defined once here and used by data generation, training-time checks and the
solvers. All matrices use row-major unknown ordering on the ``g x g`` interior grid.
"""

from . import darcy, heat, helmholtz  # noqa: F401  (register the families)
from .base import PDEFamily, PDESample, available_pdes, get_pde
from .grf import gaussian_random_field
from .stencil import diffusion_matrix, grid_pattern, with_diagonal

__all__ = [
    "PDEFamily",
    "PDESample",
    "available_pdes",
    "diffusion_matrix",
    "gaussian_random_field",
    "get_pde",
    "grid_pattern",
    "with_diagonal",
]
