"""Heat-type operator: Darcy diffusion plus a non-negative reaction term ``diag(p^2)``."""

from __future__ import annotations

import numpy as np

from .base import PDEFamily, PDESample, register
from .grf import gaussian_random_field
from .stencil import diffusion_matrix, with_diagonal

__all__ = ["Heat"]


@register
class Heat(PDEFamily):
    """Heat family of NeurKItt.

    ``a = exp(GRF)`` on the full grid (``alpha=2, tau=3``), ``p ~ U(-1, 1)`` per interior node,
    ``A = diffusion_matrix(a) + diag(q)`` with ``q = p^2``. Input channels: ``a`` and ``q`` on
    the interior nodes (both in the row-major node order of the matrix).
    """

    name = "heat"
    channels = ("a", "q")
    defaults = {"alpha": 2.0, "tau": 3.0}

    def draw(self, rng: np.random.Generator, grid: int, *, alpha: float, tau: float) -> PDESample:
        a = np.exp(gaussian_random_field(rng, grid + 2, alpha, tau))
        q = rng.uniform(-1.0, 1.0, size=(grid, grid)) ** 2
        coef = np.stack([a[1:-1, 1:-1], q]).astype(np.float32)
        return PDESample(coef=coef, A=with_diagonal(diffusion_matrix(a), q))
