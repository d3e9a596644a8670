"""Writing an evaluation to disk: results.json, table.md, PNG figures and report.html."""

from __future__ import annotations

import base64
import html
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["provenance", "write_html_report", "write_json"]


def provenance(**extra: Any) -> dict[str, Any]:
    """Machine, package versions and anything passed (store, checkpoint, settings)."""
    versions = {}
    for pkg in (
        "nk_lightning",
        "numpy",
        "scipy",
        "numba",
        "torch",
        "pytorch-lightning",
        "neuraloperator",
        "zarr",
        "pyamg",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "versions": versions,
        **extra,
    }


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write JSON atomically (never a half-written file)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=float))
    os.replace(tmp, path)
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'


def _md_table_to_html(md: str) -> str:
    lines = [ln for ln in md.strip().splitlines() if not set(ln) <= set("|-: ")]
    rows = [[html.escape(c.strip()) for c in ln.strip("|").split("|")] for ln in lines]
    if not rows:
        return ""
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html_report(
    path: str | Path,
    title: str,
    sections: list[tuple[str, str]],
    figures: list[Path],
    meta: dict[str, Any],
) -> Path:
    """A self-contained HTML page: Markdown tables, embedded PNGs and the provenance."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, md in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>{_md_table_to_html(md)}")
    for fig in figures:
        parts.append(f"<h2>{html.escape(fig.stem.replace('_', ' '))}</h2>{_img(fig)}")
    parts.append(
        f"<h2>provenance</h2><pre>{html.escape(json.dumps(meta, indent=1, default=str))}</pre>"
    )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )
    path = Path(path)
    path.write_text(page)
    return path
