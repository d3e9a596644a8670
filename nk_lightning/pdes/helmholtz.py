"""Positive-shift "Helmholtz" operator of NeurKItt: ``-Laplace u + p u``, ``p = |exp(GRF)|``."""

from __future__ import annotations

import numpy as np

from .base import PDEFamily, PDESample, register
from .grf import gaussian_random_field
from .stencil import diffusion_matrix, with_diagonal

__all__ = ["Helmholtz"]


@register
class Helmholtz(PDEFamily):
    """Helmholtz family as in the paper's data (a positive shift, hence SPD).

    ``p = |exp(GRF)|`` on the ``g x g`` interior nodes (``alpha=2.5, tau=7``, sampled on the
    interior grid as the paper does), ``A = diffusion_matrix(1) + diag(p)``. Input channel:
    ``p``. Note this is not the indefinite Helmholtz operator ``-Laplace - k^2``.
    """

    name = "helmholtz"
    channels = ("p",)
    defaults = {"alpha": 2.5, "tau": 7.0}

    def draw(self, rng: np.random.Generator, grid: int, *, alpha: float, tau: float) -> PDESample:
        p = np.abs(np.exp(gaussian_random_field(rng, grid, alpha, tau)))
        laplacian = diffusion_matrix(np.ones((grid + 2, grid + 2)))
        return PDESample(coef=p[None].astype(np.float32), A=with_diagonal(laplacian, p))
