"""``python -m nk_lightning.generate``: build a subspace dataset store.

Examples
--------
Generate from a data config (the same file training points at)::

    python -m nk_lightning.generate --config configs/data/darcy_g64.yaml --workers 2

Everything on the command line::

    python -m nk_lightning.generate --pde darcy --grid 64 --k 20 --n-train 800 --n-val 64 \\
        --n-test 64 --workers 2 --seed 0 --out datasets/darcy_g64.zarr

Several machines filling one store (e.g. a SLURM array of 8 jobs)::

    python -m nk_lightning.generate --config configs/data/darcy_g400.yaml --shard $IDX/8

Re-running an interrupted command resumes it; completed shards are not recomputed.
"""

from __future__ import annotations

import sys

from .cli_utils import OneLineParser, run_main
from .data.generation import generate, parse_shard
from .data.spec import load_data_config
from .errors import ConfigError
from .pdes import available_pdes

PROG = "python -m nk_lightning.generate"


def build_parser() -> OneLineParser:
    """The argument parser (flags override the YAML given by ``--config``)."""
    p = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--config", help="data YAML (configs/data/*.yaml)")
    p.add_argument("--pde", help=f"one of {available_pdes()}")
    p.add_argument("--grid", type=int, help="interior grid points per side g (n = g^2)")
    p.add_argument("--k", type=int, help="number of smallest eigenpairs")
    p.add_argument("--n-train", type=int, dest="n_train")
    p.add_argument("--n-val", type=int, dest="n_val")
    p.add_argument("--n-test", type=int, dest="n_test")
    p.add_argument("--seed", type=int)
    p.add_argument("--rhs", help="right-hand side: ones (paper) or random")
    p.add_argument("--samples-per-shard", type=int, dest="samples_per_shard")
    p.add_argument(
        "--solutions",
        action="store_true",
        default=None,
        help="also store the exact solutions x = A^-1 b (solution-learning baselines)",
    )
    p.add_argument("--out", help="store path or fsspec URL")
    p.add_argument("--workers", type=int, help="generator processes")
    p.add_argument("--shard", help="i/N: generate only part i of N (multi-machine jobs)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing store that has other parameters",
    )
    p.add_argument("--no-progress", action="store_true", help="disable the progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.config is None and args.pde is None:
            raise ConfigError(
                "nothing to generate: give --config configs/data/<file>.yaml or --pde, --grid, "
                "--k, --n-train, --n-val, --n-test and --out"
            )
        cfg = load_data_config(
            args.config,
            pde=args.pde,
            grid=args.grid,
            k=args.k,
            n_train=args.n_train,
            n_val=args.n_val,
            n_test=args.n_test,
            seed=args.seed,
            rhs=args.rhs,
            samples_per_shard=args.samples_per_shard,
            solutions=args.solutions,
            out=args.out,
            workers=args.workers,
        )
        report = generate(
            cfg,
            shard=parse_shard(args.shard),
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
        state = "complete" if report.complete else "incomplete (other parts still running)"
        print(
            f"{report.path}: wrote {report.samples_written} samples "
            f"({report.samples_per_second:.1f}/s), {report.samples_skipped} already done; "
            f"store {state}"
        )
        return 0

    return run_main(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
