"""Dataset generation: sample systems, compute ground truth, write whole shards in parallel.

Sample ``i`` of a split depends only on ``(seed, split, i)`` (its generator is seeded with
that triple and BLAS runs single-threaded), so the store is identical whatever the number of
workers, the ``--shard`` split across jobs, or the interruptions and resumptions on the way.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..errors import ConfigError, GroundTruthError, StoreError, StoreNotReady
from ..pdes import get_pde, grid_pattern
from .groundtruth import factorize, smallest_eigenpairs
from .spec import SPLITS, DataConfig, DatasetSpec
from .store import (
    finalize_store,
    n_shards,
    open_dataset,
    prepare_store,
    shard_bounds,
    shards_done,
    write_shard,
)

__all__ = ["generate", "ensure_dataset", "compute_sample", "GenerationReport", "parse_shard"]

SPLIT_IDS = {"train": 0, "val": 1, "test": 2}


def sample_rng(spec: DatasetSpec, split: str, index: int) -> np.random.Generator:
    """The generator of sample ``index`` of ``split``: a function of ``(seed, split, index)``."""
    return np.random.default_rng([spec.seed, SPLIT_IDS[split], index])


def compute_sample(spec: DatasetSpec, split: str, index: int) -> dict[str, np.ndarray]:
    """Draw one system and its ground truth.

    Returns
    -------
    dict
        ``coef (C, g, g) float32``, ``eigvecs (n, k) float32``, ``eigvals (k,) float64``,
        ``A_data (nnz,) float64``, ``b (n,) float64``, ``eig_residual () float64`` and, if
        ``spec.solutions``, ``x (n,) float64`` with ``||A x - b|| <= 1e-10 ||b||``.
    """
    rng = sample_rng(spec, split, index)
    system = get_pde(spec.pde).sample(rng, spec.grid, spec.pde_params)
    indptr, indices = grid_pattern(spec.grid)
    A = system.A
    assert np.array_equal(A.indptr, indptr) and np.array_equal(A.indices, indices)
    v0 = rng.standard_normal(spec.n)
    label = f"{split} sample {index}"
    lu = factorize(A, label)
    eig = smallest_eigenpairs(A, spec.k, lu=lu, v0=v0, tol=spec.eig_tol, label=label)
    b = np.ones(spec.n) if spec.rhs == "ones" else rng.standard_normal(spec.n)
    out = {
        "coef": system.coef,
        "eigvecs": eig.eigvecs.astype(np.float32),
        "eigvals": eig.eigvals,
        "A_data": A.data,
        "b": b,
        "eig_residual": np.float64(eig.residual),
    }
    if spec.solutions:
        x = lu.solve(b)
        residual = np.linalg.norm(A @ x - b) / np.linalg.norm(b)
        if not residual <= 1e-10:
            raise GroundTruthError(f"{label}: exact solution has relative residual {residual:.2e}")
        out["x"] = x
    return out


# -- worker side -------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_init(path: str, spec_dict: dict[str, Any], queue: Any) -> None:
    # The parent handles Ctrl-C and terminates the pool; workers must not print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import zarr

    _WORKER.update(
        root=zarr.open_group(path, mode="r+", use_consolidated=False),
        spec=DatasetSpec(**spec_dict),
        queue=queue,
        limits=threadpool_limits(limits=1),
    )


def _run_shard(task: tuple[str, int]) -> tuple[str, int]:
    split, shard = task
    spec, root, queue = _WORKER["spec"], _WORKER["root"], _WORKER["queue"]
    start, stop = shard_bounds(spec, split, shard)
    rows = []
    for i in range(start, stop):
        rows.append(compute_sample(spec, split, i))
        if queue is not None:
            queue.put(1)
    data = {name: np.stack([r[name] for r in rows]) for name in rows[0]}
    write_shard(root, spec, split, shard, data)
    return task


# -- parent side -------------------------------------------------------------------------------


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """Parse ``"i/N"`` (0 <= i < N) into ``(i, N)``; ``None`` passes through."""
    if text is None:
        return None
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard must look like i/N, got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard i/N needs 0 <= i < N, got {text!r}")
    return i, n


@dataclass
class GenerationReport:
    """What a :func:`generate` call did.

    Attributes
    ----------
    path : str
    samples_written : int
        Samples computed and written by this call.
    samples_skipped : int
        Samples of this job's part that were already done (resume).
    seconds : float
        Wall time of the sample loop.
    complete : bool
        Whether the whole store is finished (all parts done, statistics written).
    """

    path: str
    samples_written: int
    samples_skipped: int
    seconds: float
    complete: bool

    @property
    def samples_per_second(self) -> float:
        return self.samples_written / self.seconds if self.seconds > 0 else float("nan")


def _tasks(spec: DatasetSpec, root: Any, part: tuple[int, int] | None) -> Iterator[tuple]:
    """This job's shards as ``(split, shard, done)``; global shard ``j`` belongs to part
    ``j mod N``."""
    j = 0
    for split in SPLITS:
        done = shards_done(root, split)
        for shard in range(n_shards(spec, split)):
            if part is None or j % part[1] == part[0]:
                yield split, shard, bool(done[shard])
            j += 1


def generate(
    cfg: DataConfig,
    *,
    workers: int | None = None,
    shard: tuple[int, int] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> GenerationReport:
    """Generate (or resume, or finish) the store described by ``cfg``.

    Parameters
    ----------
    cfg : DataConfig
        Spec and output location.
    workers : int, optional
        Processes computing shards (default ``cfg.workers``); 1 runs in this process.
    shard : tuple of int, optional
        ``(i, N)``: do only part ``i`` of ``N`` (disjoint sets of whole shards), for
        independent jobs on several machines. The job that completes the last part finalizes.
    overwrite : bool
        Replace an existing store generated with other parameters.
    progress : bool
        Show a tqdm progress bar (samples/s and ETA).

    Raises
    ------
    ConfigError, StoreError, GroundTruthError
    """
    spec, path = cfg.spec, cfg.out
    workers = cfg.workers if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer, got {workers!r}")
    if overwrite and shard is not None:
        raise ConfigError(
            "--overwrite cannot be combined with --shard (each job would delete the others' "
            "work); delete the store once, then start the jobs"
        )
    root = prepare_store(path, spec, overwrite=overwrite)
    tasks = list(_tasks(spec, root, shard))
    todo = [(split, s) for split, s, done in tasks if not done]
    size = {t: shard_bounds(spec, *t)[1] - shard_bounds(spec, *t)[0] for t in todo}
    skipped = sum(
        shard_bounds(spec, split, s)[1] - shard_bounds(spec, split, s)[0]
        for split, s, done in tasks
        if done
    )
    total = sum(size.values())
    start = time.perf_counter()
    bar = tqdm(
        total=total,
        unit="sample",
        desc=f"generate {spec.pde} g={spec.grid}",
        disable=not progress or total == 0,
        dynamic_ncols=True,
        mininterval=1.0,
    )
    try:
        if workers == 1 or len(todo) <= 1:
            _run_inline(path, spec, todo, bar)
        else:
            _run_pool(path, spec, todo, min(workers, len(todo)), bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    complete = finalize_store(path, spec)
    return GenerationReport(path, total, skipped, seconds, complete)


def _run_inline(path: str, spec: DatasetSpec, todo: list, bar: tqdm) -> None:
    class _Bar:
        def put(self, n: int) -> None:
            bar.update(n)

    _worker_init(path, spec.identity(), _Bar())
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for task in todo:
            _run_shard(task)
    finally:
        _WORKER["limits"].restore_original_limits()
        _WORKER.clear()


def _run_pool(path: str, spec: DatasetSpec, todo: list, workers: int, bar: tqdm) -> None:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    pool = ctx.Pool(workers, initializer=_worker_init, initargs=(path, spec.identity(), queue))
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        pending = pool.imap_unordered(_run_shard, todo)
        finished = 0
        while finished < len(todo):
            _drain(queue, bar)
            try:
                pending.next(timeout=0.2)
                finished += 1
            except mp.TimeoutError:
                continue
        _drain(queue, bar)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        signal.signal(signal.SIGTERM, previous)


def _drain(queue: Any, bar: tqdm) -> None:
    n = 0
    while not queue.empty():
        try:
            n += queue.get_nowait()
        except Exception:  # noqa: BLE001  (queue.Empty races with empty())
            break
    if n:
        bar.update(n)


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _launch_rank() -> int:
    """Global rank from the launcher's environment (torchrun, SLURM), 0 if none."""
    for var in ("RANK", "SLURM_PROCID"):
        if var in os.environ:
            return int(os.environ[var])
    return 0


def ensure_dataset(
    cfg: DataConfig,
    *,
    allow_generate: bool = True,
    progress: bool = True,
    poll_seconds: float = 5.0,
    timeout: float = 24 * 3600.0,
):
    """Return the complete store described by ``cfg``, generating (or finishing) it if needed.

    A complete store generated with other parameters is an error, never silently replaced.
    Under a multi-process launcher (torchrun, SLURM) only global rank 0 generates; the others
    wait for the store to be complete.

    Raises
    ------
    StoreError
        Missing or incomplete store with ``allow_generate=False``; a store of other parameters;
        a foreign path.
    """

    def matching():
        store = open_dataset(cfg.out)
        if store.attrs.get("spec") != cfg.spec.identity():
            raise StoreError(
                f"store {cfg.out!r} does not match its data config "
                f"({_describe(store.attrs.get('spec', {}), cfg.spec.identity())}); regenerate it "
                "with python -m nk_lightning.generate --overwrite or point data.path elsewhere"
            )
        return store

    try:
        return matching()
    except StoreNotReady:
        if not allow_generate:
            raise StoreError(
                f"dataset {cfg.out!r} is missing or incomplete and generation is disabled "
                f"(data.generate=false); run: python -m nk_lightning.generate --out {cfg.out} ..."
            ) from None
    if _launch_rank() != 0:
        deadline = time.time() + timeout
        while time.time() < deadline:
            time.sleep(poll_seconds)
            with contextlib.suppress(StoreNotReady):
                return matching()
        raise StoreError(f"timed out waiting for rank 0 to generate {cfg.out!r}")
    generate(cfg, progress=progress)
    return matching()


def _describe(old: dict, new: dict) -> str:
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return f"{key}: stored {old.get(key)!r}, config {new.get(key)!r}"
    return "no difference"
