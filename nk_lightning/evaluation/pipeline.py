"""Shared steps of the evaluate command and the training callback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..data.store import SubspaceStore
from .cases import SystemCase
from .figures import angle_figure, convergence_figure, speedup_heatmap
from .summary import SUMMARY_COLUMNS, markdown_table, paper_table, summarize

__all__ = [
    "build_cases",
    "select_indices",
    "write_outputs",
    "DEFAULT_METHODS",
    "PAPER_PRECONDITIONERS",
    "PAPER_TOLERANCES",
]

DEFAULT_METHODS = ["gmres", "neurkitt", "gcrodr", "oracle", "pca"]
PAPER_PRECONDITIONERS = ["none", "jacobi", "bjacobi", "sor", "asm", "icc", "ilu"]
PAPER_TOLERANCES = [1e-2, 1e-4, 1e-7, 1e-10, 1e-12]


def select_indices(n: int, count: int | None) -> list[int]:
    """The first ``count`` systems (all if ``None``): a fixed, reproducible subset."""
    return list(range(n if count is None else min(count, n)))


def build_cases(
    store: SubspaceStore,
    split: str,
    indices: list[int],
    U_pred: np.ndarray | None,
    latency: np.ndarray | None,
    k: int,
) -> list[SystemCase]:
    """Read the systems and true eigenvectors of ``indices`` and attach the predictions."""
    arr = store.split(split)
    cases = []
    for j, i in enumerate(indices):
        A, b = store.system(split, i)
        cases.append(
            SystemCase(
                index=i,
                A=A,
                b=b,
                U_pred=None if U_pred is None else U_pred[j],
                U_true=np.asarray(arr.eigvecs[i][:, :k]),
                inference_time=0.0 if latency is None else float(latency[j]),
            )
        )
    return cases


def write_outputs(
    out: Path,
    records: list[dict],
    angles: np.ndarray | None,
    meta: dict[str, Any],
    dataset: str,
    title: str,
) -> dict[str, Any]:
    """Write table.md, the PNG figures and report.html; return the summary block."""
    from .report import write_html_report, write_json

    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    sections = []
    for method in [m for m in methods if m != "gmres"]:
        tab = paper_table(summary, method, dataset)
        sections.append((f"{method} vs GMRES(40): time x / iterations x", markdown_table(**tab)))
    cols = SUMMARY_COLUMNS
    detail = markdown_table(cols, [[r.get(c, "") for c in cols] for r in summary])
    sections.append(("all methods", detail))
    md = "\n\n".join(f"## {h}\n\n{t}" for h, t in sections)
    (out / "table.md").write_text(f"# {title}\n\n{md}\n")
    figures = []
    rep = [r for r in records if "history" in r]
    if rep:
        pc, tol = rep[0]["preconditioner"], rep[0]["rtol"]
        chosen = [r for r in rep if r["preconditioner"] == pc and r["rtol"] == tol]
        f = convergence_figure(
            chosen,
            out / "convergence.png",
            f"{dataset} system {rep[0]['system']}, {pc}, rtol {tol:.0e}",
        )
        figures.append(f)
    for method in ("neurkitt", "oracle", "pca"):
        if method in methods:
            f = speedup_heatmap(summary, out / f"speedup_{method}.png", method, dataset)
            figures.append(f)
    if angles is not None and len(angles):
        figures.append(angle_figure(angles, out / "principal_angles.png"))
    figures = [f for f in figures if f is not None]
    write_html_report(out / "report.html", title, sections, figures, meta)
    write_json(out / "results.json", {"records": records, "summary": summary, "provenance": meta})
    return {"summary": summary, "figures": [str(f) for f in figures]}
