"""The sweep summary: one row per run with principal angle and solver speedups."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ..evaluation.summary import markdown_table  # noqa: E402
from .runner import RunPaths, run_status  # noqa: E402
from .spec import SweepSpec  # noqa: E402

__all__ = ["collect", "write_summary"]


def _n_params(ckpt: str) -> int:
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    return int(
        sum(
            t.numel() * (2 if t.is_complex() else 1)
            for t in state.values()
            if t.is_floating_point() or t.is_complex()
        )
    )


def collect(sweep: SweepSpec, out: Path) -> list[dict[str, Any]]:
    """Rows for finished runs: parameters, sizes, training time, angles and speedups."""
    rows = []
    for run, state in run_status(sweep, out):
        paths = RunPaths(out, run.name)
        row: dict[str, Any] = {"run": run.name, **run.params, "status": state}
        if state == "done":
            done = json.loads(paths.done.read_text())
            row["train_minutes"] = done["seconds"] / 60
            ckpt = torch.load(done["best_checkpoint"], map_location="cpu", weights_only=True)
            best = ckpt.get("nk_best", {})
            row["val_angle_mean"] = best.get("principal_angle_mean")
            row["val_angle_max"] = best.get("principal_angle_max")
            row["parameters"] = _n_params(done["best_checkpoint"])
        results = paths.eval_dir / "results.json"
        if results.is_file():
            payload = json.loads(results.read_text())
            inf = payload["provenance"].get("inference", {})
            row["test_angle_mean"] = inf.get("principal_angle_mean")
            row["test_angle_max"] = inf.get("principal_angle_max_mean")
            for s in payload["summary"]:
                if s["method"] == "neurkitt" and "iteration_speedup" in s:
                    tag = f"{s['preconditioner']}@{s['rtol']:.0e}"
                    row[f"iteration_speedup[{tag}]"] = s["iteration_speedup"]
                    row[f"time_speedup[{tag}]"] = s["time_speedup"]
        rows.append(row)
    return rows


def _short(value: Any) -> str:
    return Path(value).stem if str(value).endswith(".yaml") else str(value)


def write_summary(sweep: SweepSpec, out: Path) -> dict[str, Path]:
    """Write ``summary.md``, ``summary.csv`` and ``summary.png`` into ``out``."""
    rows = collect(sweep, out)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out.mkdir(parents=True, exist_ok=True)
    with (out / "summary.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    shown = [c for c in columns if c not in ("run", "status")]
    table = markdown_table(
        ["run", *shown], [[r.get("run", "")] + [r.get(c, "") for c in shown] for r in rows]
    )
    (out / "summary.md").write_text(f"# sweep {sweep.name}\n\n{table}\n")
    speed_key = next((c for c in columns if c.startswith("iteration_speedup[")), None)
    fig, ax = plt.subplots(figsize=(8, 5))
    plotted = [r for r in rows if r.get("test_angle_mean") is not None and speed_key in r]
    for r in plotted:
        ax.scatter(r["test_angle_mean"], r[speed_key])
        label = ",".join(
            f"{k.split('.')[-1]}={r[k] if not str(r[k]).endswith('.yaml') else Path(r[k]).stem}"
            for k in sweep.parameters
        )
        ax.annotate(label, (r["test_angle_mean"], r[speed_key]), fontsize=7)
    ax.set_xlabel("mean principal angle on the evaluation split [rad]")
    ax.set_ylabel(f"NeurKItt iteration speedup over GMRES ({speed_key})" if speed_key else "")
    ax.set_title(f"sweep {sweep.name}: {len(plotted)} evaluated runs")
    ax.grid(True, alpha=0.3)
    fig.savefig(out / "summary.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return {"md": out / "summary.md", "csv": out / "summary.csv", "png": out / "summary.png"}
