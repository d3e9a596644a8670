"""Darcy flow ``-div(a grad u) = f`` with a log-normal permeability ``a = exp(GRF)``."""

from __future__ import annotations

import numpy as np

from .base import PDEFamily, PDESample, register
from .grf import gaussian_random_field
from .stencil import diffusion_matrix

__all__ = ["Darcy"]


@register
class Darcy(PDEFamily):
    """Darcy family of NeurKItt.

    ``a = exp(GRF)`` on the full ``(g+2) x (g+2)`` grid (``alpha=2, tau=3``);
    ``A = diffusion_matrix(a)``. Input channel: ``a`` on the interior nodes.

    References
    ----------
    Luo et al., "Neural Krylov Iteration for Accelerating Linear System Solving",
    NeurIPS 2024.
    """

    name = "darcy"
    channels = ("a",)
    defaults = {"alpha": 2.0, "tau": 3.0}

    def draw(self, rng: np.random.Generator, grid: int, *, alpha: float, tau: float) -> PDESample:
        a = np.exp(gaussian_random_field(rng, grid + 2, alpha, tau))
        coef = a[None, 1:-1, 1:-1].astype(np.float32)
        return PDESample(coef=coef, A=diffusion_matrix(a))
