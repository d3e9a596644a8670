"""PNG figures of an evaluation (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["convergence_figure", "speedup_heatmap", "angle_figure"]

STYLE = {"gmres": "k-", "gcrodr": "C1--", "neurkitt": "C0-", "oracle": "C2:", "pca": "C3-."}


def convergence_figure(records: list[dict], path: str | Path, title: str = "") -> Path | None:
    """Relative residual against iterations and against seconds, one line per method.

    ``records`` are those of one system, preconditioner and tolerance that carry a
    ``history``. Returns ``None`` if none does.
    """
    recs = [r for r in records if "history" in r]
    if not recs:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for r in recs:
        h = r["history"]
        style = STYLE.get(r["method"], "-")
        axes[0].semilogy(np.arange(len(h["residuals"])), h["residuals"], style, label=r["method"])
        axes[1].semilogy(h["times"], h["residuals"], style, label=r["method"])
    axes[0].set_xlabel("iteration")
    axes[1].set_xlabel("seconds (preconditioner setup and inference included)")
    for ax in axes:
        ax.set_ylabel("relative residual")
        ax.axhline(recs[0]["rtol"], color="grey", lw=0.8)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def speedup_heatmap(
    summary: list[dict], path: str | Path, method: str = "neurkitt", title: str = ""
) -> Path | None:
    """Time and iteration speedup of ``method`` over GMRES, preconditioner x tolerance."""
    rows = [r for r in summary if r["method"] == method and "time_speedup" in r]
    if not rows:
        return None
    pcs = list(dict.fromkeys(r["preconditioner"] for r in rows))  # summary order
    tols = sorted({r["rtol"] for r in rows}, reverse=True)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.3 * len(tols), 1.2 + 0.55 * len(pcs) + 1))
    for ax, key, label in zip(
        axes, ("time_speedup", "iteration_speedup"), ("time", "iterations"), strict=True
    ):
        grid = np.full((len(pcs), len(tols)), np.nan)
        for r in rows:
            grid[pcs.index(r["preconditioner"]), tols.index(r["rtol"])] = r[key]
        im = ax.imshow(np.log2(grid), cmap="RdYlGn", vmin=-2, vmax=2, aspect="auto")
        for i in range(len(pcs)):
            for j in range(len(tols)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}x", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(tols)), [f"{t:.0e}" for t in tols])
        ax.set_yticks(range(len(pcs)), pcs)
        ax.set_title(f"{method} / gmres: {label} speedup")
        ax.set_xlabel("tolerance")
    fig.colorbar(im, ax=axes, label="log2 speedup", shrink=0.8)
    fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def angle_figure(angles: np.ndarray, path: str | Path, title: str = "") -> Path | None:
    """Distribution of principal angles per subspace index (box plot), ``angles`` ``(N, k)``."""
    angles = np.asarray(angles)
    angles = angles[np.isfinite(angles).all(axis=1)] if angles.ndim == 2 else angles
    if angles.size == 0:
        return None
    fig, ax = plt.subplots(figsize=(max(5, 0.35 * angles.shape[1] + 2), 3.5))
    ax.boxplot(angles, showfliers=True)
    ax.set_xlabel("principal angle index (ascending)")
    ax.set_ylabel("angle [rad]")
    ax.set_title(title or "principal angles between predicted and true subspaces")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
