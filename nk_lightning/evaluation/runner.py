"""Solve every case with every method, preconditioner and tolerance; serially or in processes."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..solvers import PRECONDITIONERS, make_preconditioner, warmup
from .cases import EvalSettings, SystemCase
from .methods import APPLIES_TO, METHODS, MethodContext

__all__ = ["validate_settings", "solve_case", "run_cases"]


def validate_settings(settings: EvalSettings) -> None:
    """One-line errors for unknown names and bad numbers."""
    for name in settings.methods:
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; choose from {sorted(METHODS)}")
    for name in settings.preconditioners:
        if name not in PRECONDITIONERS:
            raise ValueError(
                f"unknown preconditioner {name!r}; choose from {list(PRECONDITIONERS)}"
            )
    for tol in settings.tolerances:
        if not 0 < tol < 1:
            raise ValueError(f"tolerances must be in (0, 1), got {tol!r}")
    if settings.reps < 1:
        raise ValueError(f"reps must be >= 1, got {settings.reps!r}")


def solve_case(
    case: SystemCase, settings: EvalSettings, ctx: MethodContext
) -> list[dict[str, Any]]:
    """All records of one system (see :func:`run_cases`)."""
    records = []
    for pc_name in settings.preconditioners:
        M = make_preconditioner(pc_name, case.A, blocks=settings.blocks)
        setup = M.setup_time
        for rtol in settings.tolerances:
            for method in settings.methods:
                allowed = APPLIES_TO.get(method)
                if allowed is not None and pc_name not in allowed:
                    continue
                solve_times, outcome = [], None
                for _ in range(settings.reps):
                    outcome = METHODS[method](case, M, rtol, ctx)
                    solve_times.append(outcome.result.solve_time)
                res = outcome.result
                solve = float(np.median(solve_times))
                rec = {
                    "system": int(case.index),
                    "method": method,
                    "preconditioner": pc_name,
                    "rtol": float(rtol),
                    "iterations": int(res.iterations),
                    "time": setup + outcome.setup_time + outcome.inference_time + solve,
                    "solve_time": solve,
                    "setup_time": setup + outcome.setup_time,
                    "inference_time": float(outcome.inference_time),
                    "converged": bool(res.converged),
                    "true_residual": float(res.true_residual),
                    "precond_residual": float(res.true_precond_residual),
                    "n_matvec": int(res.n_matvec),
                    "n_precond": int(res.n_precond),
                    "reason": res.reason,
                    "recycle_dim": int(res.recycle_dim),
                    "fallback": outcome.note,
                }
                rec.update(res.info.get("record_extras", {}))
                if settings.histories_for == case.index:
                    rec["history"] = {
                        "residuals": res.residuals.tolist(),
                        "times": (
                            res.times + setup + outcome.setup_time + outcome.inference_time
                        ).tolist(),
                    }
                records.append(rec)
    return records


_CTX: dict[str, Any] = {}


def _init(settings: EvalSettings, ctx: MethodContext) -> None:
    # one BLAS thread per worker process for every method, library ones (scipy gcrotmk,
    # pyamg) included: with several workers, threaded BLAS oversubscribes the cores
    _CTX["limits"] = threadpool_limits(limits=1, user_api="blas")
    warmup()
    _CTX.update(settings=settings, ctx=ctx)


def _solve(case: SystemCase) -> list[dict[str, Any]]:
    return solve_case(case, _CTX["settings"], _CTX["ctx"])


def run_cases(
    cases: Iterable[SystemCase],
    settings: EvalSettings,
    ctx: MethodContext,
    *,
    workers: int = 1,
    progress: bool = True,
    total: int | None = None,
) -> list[dict]:
    """Solve all cases; one record per system x method x preconditioner x tolerance.

    Each record has ``system, method, preconditioner, rtol, iterations, time`` (= setup +
    inference + median solve time), ``solve_time, setup_time, inference_time, converged,
    true_residual, precond_residual, n_matvec, n_precond, reason, recycle_dim, fallback``.
    The preconditioner is built once per system and shared by all methods, so time ratios
    compare like with like.

    Parameters
    ----------
    workers : int
        Processes; every solve runs with one BLAS thread (also library methods), so use at
        most one worker per core.
    """
    validate_settings(settings)
    cases = list(cases)
    bar = tqdm(
        total=total or len(cases),
        unit="system",
        desc="evaluate",
        disable=not progress,
        mininterval=1.0,
    )
    records: list[dict] = []
    try:
        if workers <= 1 or len(cases) <= 1:
            warmup()
            with threadpool_limits(limits=1, user_api="blas"):
                for case in cases:
                    records += solve_case(case, settings, ctx)
                    bar.update(1)
        else:
            with mp.get_context("spawn").Pool(
                workers, initializer=_init, initargs=(settings, ctx)
            ) as pool:
                for recs in pool.imap(_solve, cases):
                    records += recs
                    bar.update(1)
    finally:
        bar.close()
    return records
