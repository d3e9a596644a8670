"""``python -m nk_lightning.evaluate``: solver speedups of a trained model on a whole split.

Examples
--------
::

    python -m nk_lightning.evaluate --ckpt checkpoints/<run>/best-epoch029.ckpt
    python -m nk_lightning.evaluate --ckpt ... --data configs/data/darcy_g64.yaml --split test \\
        --workers 2 --out outputs/eval_darcy64
    python -m nk_lightning.evaluate --ckpt ... --paper-grid --max-systems 16   # 7 PCs x 5 tols

Writes ``results.json`` (one record per system x method x preconditioner x tolerance, a summary
block and the provenance), ``table.md`` (the paper's table), PNG figures and ``report.html``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from .cli_utils import OneLineParser, run_main
from .data.groundtruth import factorize
from .data.spec import load_data_config
from .data.store import open_dataset
from .errors import ConfigError
from .evaluation.cases import EvalSettings
from .evaluation.methods import METHODS, NEEDS_SOLUTION, MethodContext
from .evaluation.pipeline import (
    DEFAULT_METHODS,
    PAPER_PRECONDITIONERS,
    PAPER_TOLERANCES,
    build_cases,
    select_indices,
    write_outputs,
)
from .evaluation.runner import run_cases, validate_settings
from .evaluation.summary import SUMMARY_COLUMNS, markdown_table

PROG = "python -m nk_lightning.evaluate"


def build_parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", required=True, help="checkpoint of python -m nk_lightning.fit")
    p.add_argument(
        "--solution-ckpt",
        help="SolutionModule checkpoint for warmstart, neurkitt+warmstart, direct_nn",
    )
    p.add_argument("--data", help="data YAML or store path/URL (default: the training store)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--out", help="output folder (default outputs/eval_<run>_<split>_<time>)")
    p.add_argument("--methods", nargs="+", default=DEFAULT_METHODS, help=f"from {sorted(METHODS)}")
    p.add_argument("--preconditioners", nargs="+", default=["none"])
    p.add_argument("--tolerances", nargs="+", type=float, default=[1e-8])
    p.add_argument(
        "--paper-grid",
        action="store_true",
        help="all 7 preconditioners x tolerances 1e-2, 1e-4, 1e-7, 1e-10, 1e-12",
    )
    p.add_argument("--max-systems", type=int, help="evaluate only the first N systems")
    p.add_argument("--reps", type=int, default=3, help="timings are medians of this many solves")
    p.add_argument("--workers", type=int, default=1, help="solver processes")
    p.add_argument("--blocks", type=int, default=16, help="emulated ranks of bjacobi/sor/asm")
    p.add_argument("--overwrite", action="store_true", help="replace results in --out")
    p.add_argument("--no-progress", action="store_true")
    return p


def _open_store(data: str | None, ckpt_info: dict):
    if data is None:
        path = (ckpt_info or {}).get("store")
        if not path:
            raise ConfigError("the checkpoint does not record its store; pass --data")
        return open_dataset(path)
    if data.endswith((".yaml", ".yml")):
        return open_dataset(load_data_config(data).out)
    return open_dataset(data)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        start = time.perf_counter()
        settings = EvalSettings(
            methods=list(dict.fromkeys(args.methods)),
            preconditioners=PAPER_PRECONDITIONERS if args.paper_grid else args.preconditioners,
            tolerances=PAPER_TOLERANCES if args.paper_grid else args.tolerances,
            reps=args.reps,
            blocks=args.blocks,
        )
        try:
            validate_settings(settings)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        needs_x = sorted(set(settings.methods) & NEEDS_SOLUTION)
        if needs_x and not args.solution_ckpt:
            raise ConfigError(f"methods {needs_x} need a solution network: pass --solution-ckpt")
        if args.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {args.workers}")
        if args.max_systems is not None and args.max_systems < 1:
            raise ConfigError(f"--max-systems must be >= 1, got {args.max_systems}")
        from .evaluation.predict import (
            check_compatible,
            load_checkpoint,
            predict_solutions,
            predict_subspaces,
        )
        from .metrics import principal_angles

        module = load_checkpoint(args.ckpt)
        store = _open_store(args.data, module.hparams.get("data_info") or {})
        check_compatible(module, store)
        split = store.split(args.split)
        if len(split) == 0:
            raise ConfigError(f"the {args.split} split of {store.path!r} is empty")
        out = Path(
            args.out
            or f"outputs/eval_{Path(args.ckpt).parent.name}_{args.split}_"
            f"{datetime.now():%Y%m%d-%H%M%S}"
        )
        if (out / "results.json").exists() and not args.overwrite:
            raise ConfigError(
                f"{str(out)!r} already holds results; use --overwrite or another --out"
            )
        k = int(module.hparams.n_vectors)
        indices = select_indices(len(split), args.max_systems)
        coef = split.coef[: len(indices)]
        U_pred, latency = predict_subspaces(module, coef)
        import torch

        V = torch.from_numpy(np.asarray(split.eigvecs[: len(indices)][..., :k]))
        angles = principal_angles(torch.from_numpy(U_pred), V).numpy()
        U_pca = None
        if "pca" in settings.methods:
            from .evaluation.pca import pca_basis

            U_pca = pca_basis(store, k)
        settings.histories_for = indices[0]
        cases = build_cases(store, args.split, indices, U_pred, latency, k)
        solution_meta = None
        if args.solution_ckpt:
            sol = load_checkpoint(args.solution_ckpt, kind="solution")
            check_compatible(sol, store, kind="solution")
            b_all = np.stack([c.b for c in cases])
            x_pred, x_latency = predict_solutions(sol, coef, b_all)
            for case, x, t in zip(cases, x_pred, x_latency, strict=True):
                case.extras["x_pred"], case.extras["x_inference_time"] = x, float(t)
                if split.x is not None:
                    case.extras["x_true"] = np.asarray(split.x[case.index])
                elif "direct_nn" in settings.methods:  # reference for the network's error
                    case.extras["x_true"] = factorize(case.A).solve(case.b)
            solution_meta = {
                "path": str(Path(args.solution_ckpt).resolve()),
                "loss": sol.hparams.loss,
                "latency_median_s": float(np.median(x_latency)),
            }
        ctx = MethodContext(restart=settings.restart, k=k, U_pca=U_pca)
        records = run_cases(
            cases, settings, ctx, workers=args.workers, progress=not args.no_progress
        )
        from .evaluation.report import provenance

        meta = provenance(
            checkpoint={
                "path": str(Path(args.ckpt).resolve()),
                "hparams": {k_: v for k_, v in dict(module.hparams).items() if k_ != "input_stats"},
            },
            store={
                "path": store.path,
                "split": args.split,
                "systems": len(indices),
                "spec": store.attrs["spec"],
            },
            settings={
                "methods": settings.methods,
                "preconditioners": settings.preconditioners,
                "tolerances": settings.tolerances,
                "reps": settings.reps,
                "restart": settings.restart,
                "blocks": settings.blocks,
                "workers": args.workers,
            },
            solution_network=solution_meta,
            inference={
                "latency_median_s": float(np.median(latency)),
                "principal_angle_mean": float(np.nanmean(angles)),
                "principal_angle_max_mean": float(np.nanmean(angles.max(axis=1))),
                "non_finite_predictions": int((~np.isfinite(angles).all(axis=1)).sum()),
            },
        )
        dataset = f"{store.pde} g={store.grid}"
        result = write_outputs(
            out,
            records,
            angles,
            meta,
            dataset,
            f"nk_lightning evaluation: {dataset}, {args.split} split",
        )
        cols = SUMMARY_COLUMNS
        print(markdown_table(cols, [[r.get(c, "") for c in cols] for r in result["summary"]]))
        bad = int((~np.isfinite(angles).all(axis=1)).sum())
        print(
            f"principal angles: mean {np.nanmean(angles):.4f} rad, max (mean over systems) "
            f"{np.nanmean(angles.max(axis=1)):.4f} rad ({bad} non-finite predictions); "
            f"inference {np.median(latency) * 1e3:.1f} ms/system; {len(indices)} systems in "
            f"{time.perf_counter() - start:.0f} s"
        )
        print(
            f"wrote {out}/results.json, table.md, report.html and {len(result['figures'])} figures"
        )
        return 0

    return run_main(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
