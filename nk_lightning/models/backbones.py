"""Backbones: maps from input fields ``(B, C, g, g)`` to ``k`` output channels ``(B, k, g, g)``.

``fno`` is neuraloperator's FNO (Li et al. 2021) with a grid positional embedding, the
NeurKItt backbone. ``cnn`` is a plain convolutional network of similar cost, for the "without
FNO" ablation of the paper.
"""

from __future__ import annotations

import warnings
from typing import Literal

import torch
from torch import nn

__all__ = ["build_backbone", "ConvNet", "BACKBONES"]

BACKBONES = ("fno", "cnn")


def _fno(
    in_channels: int, out_channels: int, width: int, n_modes: int, n_layers: int, norm: str | None
) -> nn.Module:
    with warnings.catch_warnings():
        # neuraloperator warns about optional dependencies it does not need here
        warnings.filterwarnings("ignore", module="neuralop")
        from neuralop.models import FNO

    return FNO(
        n_modes=(n_modes, n_modes),
        in_channels=in_channels,
        out_channels=out_channels,
        hidden_channels=width,
        n_layers=n_layers,
        positional_embedding="grid",
        norm=norm,
    )


class ConvNet(nn.Module):
    """A residual CNN with 3x3 convolutions (the non-operator ablation backbone).

    Parameters
    ----------
    in_channels, out_channels, width, n_layers : int
        Input fields, output channels ``k``, hidden channels, residual blocks.
    norm : str or None
        ``"instance_norm"``, ``"group_norm"`` or ``None``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int,
        n_layers: int,
        norm: str | None = None,
    ) -> None:
        super().__init__()
        self.lift = nn.Conv2d(in_channels + 2, width, 3, padding=1)
        self.blocks = nn.ModuleList()
        for _ in range(n_layers):
            layers: list[nn.Module] = [nn.Conv2d(width, width, 3, padding=1)]
            if norm == "instance_norm":
                layers.append(nn.InstanceNorm2d(width))
            elif norm == "group_norm":
                layers.append(nn.GroupNorm(1, width))
            layers += [nn.GELU(), nn.Conv2d(width, width, 3, padding=1)]
            self.blocks.append(nn.Sequential(*layers))
        self.project = nn.Sequential(
            nn.Conv2d(width, 2 * width, 1), nn.GELU(), nn.Conv2d(2 * width, out_channels, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        gx = torch.linspace(0, 1, H, device=x.device, dtype=x.dtype).view(1, 1, H, 1)
        gy = torch.linspace(0, 1, W, device=x.device, dtype=x.dtype).view(1, 1, 1, W)
        x = self.lift(torch.cat([x, gx.expand(B, 1, H, W), gy.expand(B, 1, H, W)], dim=1))
        for block in self.blocks:
            x = x + block(x)
        return self.project(x)


def build_backbone(
    name: Literal["fno", "cnn"],
    *,
    in_channels: int,
    out_channels: int,
    width: int,
    n_modes: int,
    n_layers: int,
    norm: str | None,
) -> nn.Module:
    """Build a backbone by name (``n_modes`` is ignored by ``cnn``)."""
    if name == "fno":
        return _fno(in_channels, out_channels, width, n_modes, n_layers, norm)
    if name == "cnn":
        return ConvNet(in_channels, out_channels, width, n_layers, norm)
    raise ValueError(f"unknown backbone {name!r}; choose one of {list(BACKBONES)}")
