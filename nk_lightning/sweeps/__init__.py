"""Local execution of W&B-format grid sweeps (ablations) without a W&B server."""

from .runner import RunPaths, evaluate_runs, run_status, run_sweep
from .spec import RunSpec, SweepSpec, format_arg, load_sweep
from .summary import collect, write_summary

__all__ = [
    "RunPaths",
    "RunSpec",
    "SweepSpec",
    "collect",
    "evaluate_runs",
    "format_arg",
    "load_sweep",
    "run_status",
    "run_sweep",
    "write_summary",
]
