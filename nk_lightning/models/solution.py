"""A network that predicts the solution ``x`` of ``A x = b`` from the PDE fields."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SolutionPredictor"]


class SolutionPredictor(nn.Module):
    """Backbone ``(B, C [+1], g, g) -> (B, 1, g, g)``, flattened row-major to ``(B, n)``.

    Inputs are normalised with the stored per-channel statistics; when the right-hand side
    varies between systems it is appended as an extra channel (``b / b_scale`` on the grid).
    The output is multiplied by ``output_scale`` (the RMS of the training solutions), so the
    network works with O(1) numbers.

    Parameters
    ----------
    backbone : torch.nn.Module
    input_mean, input_std : sequence of float
        Per-channel statistics of the fields.
    output_scale : float
    rhs_input : bool
        Append ``b`` as an input channel.
    rhs_scale : float
    """

    def __init__(
        self,
        backbone: nn.Module,
        input_mean,
        input_std,
        output_scale: float = 1.0,
        rhs_input: bool = False,
        rhs_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.rhs_input = rhs_input
        self.register_buffer("input_mean", torch.as_tensor(input_mean, dtype=torch.float32))
        self.register_buffer("input_std", torch.as_tensor(input_std, dtype=torch.float32))
        self.register_buffer("output_scale", torch.tensor(float(output_scale)))
        self.register_buffer("rhs_scale", torch.tensor(float(rhs_scale)))

    def forward(self, coef: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        """``coef (B, C, g, g)`` raw fields (and ``b (B, n)``) -> ``x (B, g*g)``."""
        x = (coef - self.input_mean.view(1, -1, 1, 1)) / self.input_std.view(1, -1, 1, 1)
        if self.rhs_input:
            if b is None:
                raise ValueError("this model takes the right-hand side b as an input")
            B, _, H, W = coef.shape
            x = torch.cat([x, (b.to(x.dtype) / self.rhs_scale).reshape(B, 1, H, W)], dim=1)
        y = self.backbone(x)
        return y.reshape(y.shape[0], -1) * self.output_scale
