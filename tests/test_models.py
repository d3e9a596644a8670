"""Subspace predictor: shapes, orthonormality, row-major order, robustness of the QR."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nk_lightning.models import SubspacePredictor, build_backbone, orthonormalize


@pytest.mark.parametrize("backbone", ["fno", "cnn"])
@pytest.mark.parametrize(("g", "channels", "k", "batch"), [(8, 1, 3, 1), (12, 2, 5, 3)])
def test_output_shape_and_orthonormality(backbone, g, channels, k, batch):
    torch.manual_seed(0)
    net = build_backbone(
        backbone, in_channels=channels, out_channels=k, width=8, n_modes=4, n_layers=2, norm=None
    )
    model = SubspacePredictor(net, k, [1.0] * channels, [0.5] * channels)
    Q = model(torch.randn(batch, channels, g, g))
    assert Q.shape == (batch, g * g, k) and Q.dtype == torch.float32
    eye = torch.eye(k).expand(batch, k, k)
    torch.testing.assert_close(Q.transpose(1, 2) @ Q, eye, atol=1e-5, rtol=0)


class Echo(nn.Module):
    """Backbone whose k output channels are known functions of the grid position."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        B, _, H, W = x.shape
        i = torch.arange(H).view(1, 1, H, 1).float()
        j = torch.arange(W).view(1, 1, 1, W).float()
        c = torch.arange(self.k).view(1, self.k, 1, 1).float()
        return (1000 * c + 10 * i + j).expand(B, self.k, H, W)


def test_flattening_is_row_major():
    g, k = 5, 3
    model = SubspacePredictor(Echo(k), k, [0.0], [1.0], orthonormalize=False)
    X = model(torch.zeros(1, 1, g, g))
    for i in range(g):
        for j in range(g):
            for c in range(k):
                assert X[0, i * g + j, c] == 1000 * c + 10 * i + j


def test_normalisation_uses_the_stored_statistics():
    seen = {}

    class Spy(nn.Module):
        def forward(self, x):
            seen["x"] = x
            return x.repeat(1, 2, 1, 1)

    model = SubspacePredictor(Spy(), 2, [3.0], [2.0])
    model(torch.full((1, 1, 4, 4), 7.0))
    torch.testing.assert_close(seen["x"], torch.full((1, 1, 4, 4), 2.0))
    assert {"input_mean", "input_std"} <= set(model.state_dict())


def test_qr_guard_handles_rank_loss_with_finite_gradients():
    torch.manual_seed(0)
    base = torch.randn(2, 30, 2)
    X = torch.cat([base, base[..., :1] * 2.0, torch.zeros(2, 30, 1)], dim=-1).requires_grad_()
    Q = orthonormalize(X)
    torch.testing.assert_close(
        Q.transpose(1, 2) @ Q, torch.eye(4).expand(2, 4, 4), atol=1e-5, rtol=0
    )
    (Q * torch.randn(2, 30, 4, generator=torch.Generator().manual_seed(1))).sum().backward()
    assert torch.isfinite(X.grad).all()


def test_unknown_backbone():
    with pytest.raises(ValueError, match="'unet'"):
        build_backbone(
            "unet", in_channels=1, out_channels=2, width=4, n_modes=2, n_layers=1, norm=None
        )
