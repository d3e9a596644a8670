"""Benchmark dataset generation.

1. Ground truth per sample: ours (shift-invert Lanczos, symmetric MMD factorisation) against
   the paper's way, ``scipy.sparse.linalg.eigs(A, k, sigma=0, which="LM", tol=1e-14)``, on the
   same Darcy matrices, one process, single-threaded BLAS for both. Both residuals printed.
2. ``generate(workers=2)`` against ``generate(workers=1)``: samples/s.
3. Store size per sample and the latency of reading one sample.

Usage: ``python benchmarks/generate.py [--grids 128 256] [--samples 5] [--k 20]``
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from nk_lightning.data import open_dataset
from nk_lightning.data.generation import generate
from nk_lightning.data.groundtruth import eigen_residuals, smallest_eigenpairs
from nk_lightning.data.spec import DataConfig, DatasetSpec
from nk_lightning.pdes import get_pde


def paper_way(A, k):
    w, V = spla.eigs(A, k, sigma=0, which="LM", tol=1e-14)
    return w.real, V.real


def bench_groundtruth(grids, samples, k):
    print(f"== ground truth, k={k}, {samples} Darcy samples per grid, 1 thread")
    for g in grids:
        rows = []
        for i in range(samples):
            rng = np.random.default_rng([99, g, i])
            A = get_pde("darcy").sample(rng, g).A
            v0 = rng.standard_normal(A.shape[0])
            t = time.perf_counter()
            wp, Vp = paper_way(A, k)
            tp = time.perf_counter() - t
            t = time.perf_counter()
            ours = smallest_eigenpairs(A, k, v0=v0)
            to = time.perf_counter() - t
            rp = eigen_residuals(A, wp, Vp).max()
            gap = np.abs(np.sort(wp) - ours.eigvals).max() / ours.eigvals.max()
            rows.append((tp, to, rp, ours.residual, gap))
        r = np.array(rows)
        tp, to = np.median(r[:, 0]), np.median(r[:, 1])
        print(
            f"g={g:4d} n={g * g:6d}: paper eigs {tp * 1e3:8.1f} ms (max residual "
            f"{r[:, 2].max():.1e}) | ours {to * 1e3:8.1f} ms (max residual {r[:, 3].max():.1e}) "
            f"| eigenvalue agreement {r[:, 4].max():.1e} | speedup x{tp / to:.2f}"
        )


def bench_workers(grid, k, n_samples, reps, tmp):
    print(f"== generate(): workers 2 vs 1, Darcy g={grid} k={k}, {n_samples} samples, {reps} reps")
    spec = DatasetSpec(pde="darcy", grid=grid, k=k, n_train=n_samples, n_val=0, n_test=0, seed=1)
    rates = {1: [], 2: []}
    for _ in range(reps):
        for w in (1, 2):
            out = Path(tmp) / f"w{w}.zarr"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            generate(DataConfig(spec=spec, out=str(out)), workers=w, progress=False)
            rates[w].append(n_samples / (time.perf_counter() - t))
    r1, r2 = np.median(rates[1]), np.median(rates[2])
    print(
        f"workers=1: {r1:.1f} samples/s | workers=2: {r2:.1f} samples/s | ratio x{r2 / r1:.2f}"
        " (end to end: process start, writing, statistics and consolidation included)"
    )
    return Path(tmp) / "w1.zarr", spec


def bench_store(path, spec, reps=50):
    print("== store")
    total = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    print(
        f"size on disk: {total / spec.n_train / 2**10:.1f} KiB per sample "
        f"(g={spec.grid}, k={spec.k}; raw float32 eigvecs alone are "
        f"{4 * spec.n * spec.k / 2**10:.1f} KiB)"
    )
    ds = open_dataset(str(path))
    arr = ds.split("train")
    rng = np.random.default_rng(0)
    for names in (("coef", "eigvecs"), ("coef", "eigvecs", "A_data", "b")):
        times = []
        for i in rng.integers(0, len(arr), reps):
            t = time.perf_counter()
            for name in names:
                getattr(arr, name)[int(i)]
            times.append(time.perf_counter() - t)
        print(f"read one sample ({', '.join(names)}): median {np.median(times) * 1e3:.2f} ms")
    S = ds.samples_per_shard
    times = []
    for _ in range(5):
        t = time.perf_counter()
        arr.coef[0:S], arr.eigvecs[0:S]
        times.append((time.perf_counter() - t) / S)
    print(
        f"read a whole shard of {S} (coef, eigvecs): "
        f"median {np.median(times) * 1e3:.2f} ms per sample"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grids", type=int, nargs="+", default=[128, 256])
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--worker-grid", type=int, default=64)
    p.add_argument(
        "--worker-samples",
        type=int,
        default=928,
        help="default: the size of configs/data/darcy_g64.yaml",
    )
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    with threadpool_limits(limits=1):
        bench_groundtruth(args.grids, args.samples, args.k)
    with tempfile.TemporaryDirectory() as tmp:
        path, spec = bench_workers(args.worker_grid, args.k, args.worker_samples, args.reps, tmp)
        bench_store(path, spec)


if __name__ == "__main__":
    main()
