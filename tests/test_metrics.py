"""Projection loss and principal angles, functional and as a DDP-exact torchmetrics Metric."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest
import scipy.linalg as sla
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from nk_lightning.metrics import (
    PrincipalAngles,
    aligned_mse_loss,
    principal_angles,
    projection_loss,
)


def random_pair(batch, n, k, K, scale, seed=0):
    g = torch.Generator().manual_seed(seed)
    Q = torch.linalg.qr(torch.randn(batch, n, k, generator=g, dtype=torch.float64)).Q
    V = torch.randn(batch, n, K, generator=g, dtype=torch.float64)
    m = min(k, K)
    V[..., :m] = Q[..., :m] + scale * V[..., :m]
    return Q, V


@pytest.mark.parametrize(
    ("k", "K", "scale"), [(4, 4, 1e-7), (4, 4, 0.3), (5, 3, 10.0), (3, 6, 1e-3)]
)
def test_principal_angles_match_scipy(k, K, scale):
    Q, V = random_pair(3, 40, k, K, scale)
    got = principal_angles(Q, V)
    assert got.shape == (3, min(k, K))
    for b in range(3):
        ref = np.sort(sla.subspace_angles(Q[b].numpy(), V[b].numpy()))
        np.testing.assert_allclose(got[b].numpy(), ref, rtol=1e-9, atol=1e-12)
    assert torch.all(got[:, 1:] >= got[:, :-1])


def test_projection_loss_definition():
    Q, V = random_pair(2, 30, 4, 4, 0.2)
    Q, V = Q.float(), V.float()
    R = V - Q @ (Q.transpose(1, 2) @ V)
    expected = torch.stack([R[b].norm(dim=0).sum() for b in range(2)]).mean()
    torch.testing.assert_close(projection_loss(Q, V), expected)
    torch.testing.assert_close(projection_loss(Q, V, squared=True), R.square().sum((1, 2)).mean())
    rotated = Q @ torch.linalg.qr(torch.randn(4, 4)).Q  # same span, other basis
    assert projection_loss(rotated, Q).item() < 1e-5


def test_aligned_mse_is_sign_invariant():
    Q, _ = random_pair(2, 20, 3, 3, 0.0)
    Q = Q.float()
    flipped = Q * torch.tensor([1.0, -1.0, -1.0])
    assert aligned_mse_loss(flipped, Q).item() < 1e-10
    assert aligned_mse_loss(Q[..., [1, 0, 2]], Q).item() > 0.5


def test_metric_accumulates_like_the_functional():
    Q, V = random_pair(9, 30, 4, 4, 0.1, seed=3)
    metric = PrincipalAngles(4)
    metric.update(Q[:5], V[:5])
    metric.update(Q[5:], V[5:])
    out = metric.compute()
    ref = principal_angles(Q, V)
    torch.testing.assert_close(out["max"], ref.amax(1).mean())
    torch.testing.assert_close(out["mean"], ref.mean())
    torch.testing.assert_close(out["per_index"], ref.mean(0))
    assert out["samples"].shape == (9, 4)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_worker(rank, world, port, Q, V, bounds, results):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        metric = PrincipalAngles(V.shape[-1])
        lo, hi = bounds[rank], bounds[rank + 1]
        for start in range(lo, hi, 2):  # batches of 2, uneven counts across ranks
            metric.update(Q[start : min(start + 2, hi)], V[start : min(start + 2, hi)])
        out = metric.compute()
        results[rank] = (out["max"].item(), out["mean"].item(), out["samples"].shape[0])
    finally:
        dist.destroy_process_group()


def test_metric_under_ddp_equals_single_process_for_uneven_split():
    Q, V = random_pair(9, 25, 3, 3, 0.2, seed=5)  # 9 samples on 2 ranks: 5 + 4
    single = PrincipalAngles(3)
    single.update(Q, V)
    ref = single.compute()
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_rank_worker, args=(2, _free_port(), Q, V, [0, 5, 9], results), nprocs=2)
    for rank in range(2):
        worst, mean, count = results[rank]
        assert count == 9
        assert worst == pytest.approx(ref["max"].item(), abs=1e-15, rel=1e-14)
        assert mean == pytest.approx(ref["mean"].item(), abs=1e-15, rel=1e-14)
