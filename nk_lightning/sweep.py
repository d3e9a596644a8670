"""``python -m nk_lightning.sweep``: run a W&B-format grid sweep locally, without a W&B server.

Examples
--------
::

    python -m nk_lightning.sweep configs/ablations/fno_small.yaml --dry-run
    python -m nk_lightning.sweep configs/ablations/fno_small.yaml            # run + evaluate
    python -m nk_lightning.sweep configs/ablations/methods_small.yaml --parallel 2

Each run is ``python -m nk_lightning.fit`` with the run's ``--key=value`` arguments, logged as
its own offline W&B run in the group ``<sweep name>``. Re-running skips finished runs (and
continues interrupted ones from their last checkpoint). At the end every run's best
checkpoint is evaluated (``python -m nk_lightning.evaluate``) and ``summary.md``,
``summary.csv`` and ``summary.png`` are written to the sweep folder.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from .cli_utils import OneLineParser, run_main
from .errors import ConfigError
from .sweeps import evaluate_runs, load_sweep, run_status, run_sweep, write_summary

PROG = "python -m nk_lightning.sweep"


def build_parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("sweep", help="sweep YAML in the W&B format (method: grid)")
    p.add_argument("--out", help="sweep folder (default sweeps/<sweep name>)")
    p.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    p.add_argument("--parallel", type=int, default=1, help="runs at a time")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation of checkpoints")
    p.add_argument("--eval-split", default="test")
    p.add_argument("--eval-methods", nargs="+", default=["gmres", "neurkitt"])
    p.add_argument("--eval-preconditioners", nargs="+", default=["none"])
    p.add_argument(
        "--eval-tolerances",
        nargs="+",
        default=["1e-5"],
        help="the paper's ablation table uses 1e-5",
    )
    p.add_argument("--eval-max-systems", type=int, default=16)
    p.add_argument("--eval-reps", type=int, default=3)
    p.add_argument("--eval-workers", type=int, default=1)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        sweep = load_sweep(args.sweep)
        if args.parallel < 1:
            raise ConfigError(f"--parallel must be >= 1, got {args.parallel}")
        out = Path(args.out or Path("sweeps") / sweep.name)
        if args.dry_run:
            for i, (run, state) in enumerate(run_status(sweep, out)):
                print(f"{i + 1:3d}. [{state:7s}] {run.name}")
                print(f"     {shlex.join(run.argv)}")
            print(f"{len(sweep.runs)} runs; output folder {out}")
            return 0
        results = run_sweep(sweep, out, parallel=args.parallel)
        failed = [r for r in results if r["returncode"] != 0]
        if not args.no_eval:
            evaluate_runs(
                sweep,
                out,
                [
                    "--split",
                    args.eval_split,
                    "--methods",
                    *args.eval_methods,
                    "--preconditioners",
                    *args.eval_preconditioners,
                    "--tolerances",
                    *args.eval_tolerances,
                    "--max-systems",
                    str(args.eval_max_systems),
                    "--reps",
                    str(args.eval_reps),
                    "--workers",
                    str(args.eval_workers),
                ],
            )
        files = write_summary(sweep, out)
        print(files["md"].read_text())
        print(f"wrote {files['md']}, {files['csv']} and {files['png']}")
        if failed:
            print(
                f"{len(failed)} run(s) failed: " + ", ".join(r["name"] for r in failed),
                file=sys.stderr,
            )
            return 1
        return 0

    return run_main(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
