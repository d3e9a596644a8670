"""Aggregate evaluation records into speedups and paper-style tables."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from .methods import GMRES_FAMILY

__all__ = ["summarize", "paper_table", "markdown_table", "BASELINE", "SUMMARY_COLUMNS"]

BASELINE = "gmres"
SUMMARY_COLUMNS = [
    "method",
    "preconditioner",
    "rtol",
    "iterations_mean",
    "time_mean",
    "setup_time_mean",
    "inference_time_mean",
    "iteration_speedup",
    "time_speedup",
    "oracle_fraction",
    "not_converged",
    "fallbacks",
]
"""The columns of the per-method summary tables (Markdown and console)."""


def _group(records: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["method"], r["preconditioner"], r["rtol"])].append(r)
    return groups


def summarize(records: list[dict], baseline: str = BASELINE) -> list[dict[str, Any]]:
    """One row per (method, preconditioner, rtol).

    Speedups are ratios of means over the same systems: ``iteration_speedup`` =
    mean baseline iterations / mean method iterations, ``time_speedup`` likewise with ``time``
    (preconditioner setup + inference + solve). ``oracle_fraction`` is the share of the oracle's
    iteration reduction the method achieves, ``(its_gmres - its) / (its_gmres - its_oracle)``.
    Non-converged solves count with their iterations at the cap and are reported in
    ``not_converged``; ``fallbacks`` counts systems where a method had to fall back. Methods
    without iterations (a direct solve, the network alone) get no ``iteration_speedup``, and
    ``oracle_fraction`` is given only for the GMRES/GCRO-DR family (same steps, same norm).
    """
    groups = _group(records)
    rows = []
    for (method, pc, rtol), recs in sorted(
        groups.items(), key=lambda x: (x[0][1], x[0][2], x[0][0])
    ):
        base = {r["system"]: r for r in groups.get((baseline, pc, rtol), [])}
        oracle = {r["system"]: r for r in groups.get(("oracle", pc, rtol), [])}
        its = np.array([r["iterations"] for r in recs], dtype=float)
        times = np.array([r["time"] for r in recs])
        row = {
            "method": method,
            "preconditioner": pc,
            "rtol": rtol,
            "systems": len(recs),
            "iterations_mean": float(its.mean()),
            "iterations_median": float(np.median(its)),
            "time_mean": float(times.mean()),
            "time_median": float(np.median(times)),
            "solve_time_mean": float(np.mean([r["solve_time"] for r in recs])),
            "setup_time_mean": float(np.mean([r["setup_time"] for r in recs])),
            "inference_time_mean": float(np.mean([r["inference_time"] for r in recs])),
            "not_converged": int(sum(not r["converged"] for r in recs)),
            "fallbacks": int(sum(bool(r.get("fallback")) for r in recs)),
        }
        shared = [r for r in recs if r["system"] in base]
        if shared:
            b_its = np.mean([base[r["system"]]["iterations"] for r in shared])
            b_time = np.mean([base[r["system"]]["time"] for r in shared])
            m_its = np.mean([r["iterations"] for r in shared])
            m_time = np.mean([r["time"] for r in shared])
            if m_its > 0:  # direct methods (LU, the network alone) have no iterations
                row["iteration_speedup"] = float(b_its / m_its)
            row["time_speedup"] = float(b_time / max(m_time, 1e-300))
            both = [r for r in shared if r["system"] in oracle]
            if both and method in GMRES_FAMILY:
                o_its = np.mean([oracle[r["system"]]["iterations"] for r in both])
                b2 = np.mean([base[r["system"]]["iterations"] for r in both])
                m2 = np.mean([r["iterations"] for r in both])
                row["oracle_fraction"] = (
                    float((b2 - m2) / (b2 - o_its)) if b2 != o_its else float("nan")
                )
        rows.append(row)
    return rows


def paper_table(summary: list[dict], method: str = "neurkitt", dataset: str = "") -> dict[str, Any]:
    """The paper's layout: rows (dataset, preconditioner), columns tolerances, cells
    ``"time x / iterations x"`` of ``method`` against GMRES.

    Returns
    -------
    dict
        ``{"columns": [...], "data": [[...], ...]}`` (the shape of a W&B table).
    """
    rows = [r for r in summary if r["method"] == method and "time_speedup" in r]
    tols = sorted({r["rtol"] for r in rows}, reverse=True)
    pcs = _paper_order({r["preconditioner"] for r in rows})
    cell = {(r["preconditioner"], r["rtol"]): r for r in rows}
    data = []
    for pc in pcs:
        line = [dataset, pc]
        for t in tols:
            r = cell.get((pc, t))
            if r is None:
                line.append("")
                continue
            flag = " (!)" if r["not_converged"] else ""
            its = f"{r['iteration_speedup']:.2f}" if "iteration_speedup" in r else "n/a"
            line.append(f"{r['time_speedup']:.2f} / {its}{flag}")
        data.append(line)
    return {"columns": ["dataset", "preconditioner", *[f"{t:.0e}" for t in tols]], "data": data}


def _paper_order(names) -> list[str]:
    """Preconditioners in the paper's order (none, jacobi, bjacobi, sor, asm, icc, ilu)."""
    from ..solvers import PRECONDITIONERS

    rank = {name: i for i, name in enumerate(PRECONDITIONERS)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def markdown_table(columns: list[str], data: list[list[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in data]
    return "\n".join(lines)
