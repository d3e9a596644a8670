"""Running the expanded sweep locally: one run after another (or N at a time), resumable."""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .spec import RunSpec, SweepSpec

__all__ = ["RunPaths", "run_sweep", "evaluate_runs", "run_status"]


@dataclass(frozen=True)
class RunPaths:
    """Where a run keeps its files inside the sweep folder ``out``."""

    out: Path
    name: str

    @property
    def run_dir(self) -> Path:  # fit's --log_dir/<run_name>
        return self.out / "runs" / self.name

    @property
    def ckpt_dir(self) -> Path:
        return self.out / "checkpoints" / self.name

    @property
    def done(self) -> Path:
        return self.run_dir / "done.json"

    @property
    def eval_dir(self) -> Path:
        return self.run_dir / "eval"

    def best_checkpoint(self) -> Path | None:
        found = sorted(self.ckpt_dir.glob("best-*.ckpt"))
        return found[-1] if found else None


def run_status(sweep: SweepSpec, out: Path) -> list[tuple[RunSpec, str]]:
    """``(run, "done" | "partial" | "pending")`` for each run of the sweep."""
    status = []
    for run in sweep.runs:
        paths = RunPaths(out, run.name)
        if paths.done.is_file():
            status.append((run, "done"))
        elif (paths.ckpt_dir / "last.ckpt").is_file():
            status.append((run, "partial"))
        else:
            status.append((run, "pending"))
    return status


def _fit_argv(run: RunSpec, paths: RunPaths) -> list[str]:
    argv = [
        *run.argv,
        f"--run_name={run.name}",
        f"--log_dir={paths.out / 'runs'}",
        f"--checkpoint_dir={paths.out / 'checkpoints'}",
    ]
    last = paths.ckpt_dir / "last.ckpt"
    if last.is_file():  # an interrupted run continues where it stopped
        argv.append(f"--ckpt_path={last}")
    return argv


def _execute(run: RunSpec, paths: RunPaths, env: dict[str, str]) -> dict[str, Any]:
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    argv = _fit_argv(run, paths)
    start = time.perf_counter()
    with (paths.run_dir / "fit.log").open("a") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    seconds = time.perf_counter() - start
    result = {
        "name": run.name,
        "params": run.params,
        "returncode": proc.returncode,
        "seconds": seconds,
    }
    best = paths.best_checkpoint()
    if proc.returncode == 0 and best is not None:
        result["best_checkpoint"] = str(best)
        tmp = paths.done.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        os.replace(tmp, paths.done)  # the marker appears only for a complete run
    return result


def run_sweep(sweep: SweepSpec, out: Path, *, parallel: int = 1, log=print) -> list[dict[str, Any]]:
    """Run every run without a ``done.json`` marker; returns what this call ran.

    Each run is a ``python -m nk_lightning.fit`` subprocess writing to
    ``out/runs/<run>/`` (log, config, offline W&B run) and ``out/checkpoints/<run>/``; all runs
    share the W&B group ``sweep.name``. With ``parallel > 1`` the CPU threads are split
    between the concurrent runs.
    """
    todo = [run for run, state in run_status(sweep, out) if state != "done"]
    env = dict(os.environ)
    env.setdefault("WANDB_MODE", "offline")
    env["WANDB_RUN_GROUP"] = sweep.name
    env.pop("NK_RUN_NAME", None)
    if parallel > 1:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // parallel))
    log(
        f"{sweep.name}: {len(sweep.runs)} runs, {len(sweep.runs) - len(todo)} already done, "
        f"{len(todo)} to run ({parallel} at a time)"
    )

    def one(item):
        i, run = item
        log(f"[{i + 1}/{len(todo)}] {run.name} started")
        result = _execute(run, RunPaths(out, run.name), env)
        state = "done" if result["returncode"] == 0 else f"FAILED (exit {result['returncode']})"
        log(
            f"[{i + 1}/{len(todo)}] {run.name} {state} in {result['seconds'] / 60:.1f} min "
            f"(log: {RunPaths(out, run.name).run_dir / 'fit.log'})"
        )
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, enumerate(todo)))


def evaluate_runs(sweep: SweepSpec, out: Path, eval_args: list[str], *, log=print) -> None:
    """Evaluate the best checkpoint of every finished run that has no results yet."""
    import sys

    for run, state in run_status(sweep, out):
        paths = RunPaths(out, run.name)
        if state != "done" or (paths.eval_dir / "results.json").is_file():
            continue
        best = json.loads(paths.done.read_text()).get("best_checkpoint")
        argv = [
            sys.executable,
            "-m",
            "nk_lightning.evaluate",
            "--ckpt",
            best,
            "--out",
            str(paths.eval_dir),
            "--overwrite",
            "--no-progress",
            *eval_args,
        ]
        log(f"evaluate {run.name}")
        with (paths.run_dir / "evaluate.log").open("w") as f:
            proc = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            log(f"evaluate {run.name} FAILED (see {paths.run_dir / 'evaluate.log'})")
