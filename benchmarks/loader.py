"""Benchmark the DataModule's loader against the training step it has to feed.

For each store: samples/s of iterating the train DataLoader (``num_workers`` 0 and 2, median
of epochs), and samples/s of one optimisation step of the model (forward, projection loss,
backward, Adam), on this machine's CPU. The ratio loader/step should be >= 5.

Stores: the default ``configs/data/darcy_g64.yaml`` (generated if missing) and a small store
with the layout of ``configs/data/darcy_g180.yaml`` (64 training samples, generated in a
temporary directory).

Usage: ``python benchmarks/loader.py [--epochs 3] [--steps 5]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np
import torch

from nk_lightning.data.datamodule import SubspaceDataModule
from nk_lightning.data.generation import ensure_dataset
from nk_lightning.data.spec import DataConfig, load_data_config
from nk_lightning.metrics import projection_loss
from nk_lightning.tasks import SubspaceModule


def loader_rate(dm: SubspaceDataModule, epochs: int) -> float:
    loader = dm.train_dataloader()
    rates = []
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        t, n = time.perf_counter(), 0
        for batch in loader:
            n += batch["coef"].shape[0]
        rates.append(n / (time.perf_counter() - t))
    return float(np.median(rates))


def step_rate(dm: SubspaceDataModule, model_kwargs: dict, steps: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = SubspaceModule(
            n_vectors=dm.n_vectors,
            in_channels=dm.in_channels,
            grid=dm.grid,
            input_stats=dm.input_stats,
            **model_kwargs,
        )
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    batch = next(iter(dm.train_dataloader()))
    times = []
    for i in range(steps + 1):
        t = time.perf_counter()
        loss = projection_loss(module(batch["coef"]), batch["eigvecs"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:  # the first step warms up
            times.append(time.perf_counter() - t)
    return batch["coef"].shape[0] / float(np.median(times))


def bench(
    name: str,
    cfg: DataConfig,
    config_path: str,
    batch: int,
    model_kwargs: dict,
    epochs: int,
    steps: int,
) -> None:
    ensure_dataset(cfg)
    step = None
    for workers in (0, 2):
        dm = SubspaceDataModule(
            config=config_path, path=cfg.out, batch_size=batch, num_workers=workers
        )
        dm.setup("fit")
        rate = loader_rate(dm, epochs)
        if step is None:
            step = step_rate(dm, model_kwargs, steps)
        print(
            f"{name}: loader (workers={workers}) {rate:8.1f} samples/s | training step "
            f"{step:6.1f} samples/s | ratio x{rate / step:.1f}"
        )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--steps", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(2)
    default = load_data_config("configs/data/darcy_g64.yaml")
    bench(
        "darcy g=64 (default, batch 16, FNO w32 m16 L4)",
        default,
        "configs/data/darcy_g64.yaml",
        16,
        dict(width=32, n_modes=16, n_layers=4),
        args.epochs,
        args.steps,
    )
    with tempfile.TemporaryDirectory() as tmp:
        big = load_data_config(
            "configs/data/darcy_g180.yaml",
            n_train=64,
            n_val=4,
            n_test=4,
            out=f"{tmp}/darcy_g180.zarr",
            workers=2,
        )
        bench(
            "darcy g=180 (paper layout, 64 samples, batch 8, FNO w32 m16 L4)",
            big,
            "configs/data/darcy_g180.yaml",
            8,
            dict(width=32, n_modes=16, n_layers=4),
            args.epochs,
            args.steps,
        )


if __name__ == "__main__":
    main()
