"""Measure, during training, how much the predicted subspace speeds up the Krylov solver."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.distributed as dist
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_info, rank_zero_only

from ..evaluation.cases import EvalSettings
from ..evaluation.methods import MethodContext
from ..evaluation.pipeline import DEFAULT_METHODS, build_cases, select_indices
from ..evaluation.predict import predict_subspaces
from ..evaluation.runner import solve_case, validate_settings
from ..evaluation.summary import paper_table, summarize
from ..solvers import warmup

__all__ = ["SolverSpeedupCallback"]


class SolverSpeedupCallback(pl.Callback):
    """Every ``every_n_val_epochs`` validation epochs (and at the end of fit), solve a fixed
    subset of validation systems with GMRES(40), NeurKItt (current model), GCRO-DR without a
    network, the exact eigenvectors (oracle) and the PCA subspace, and log the speedups.

    Under DDP each rank solves its share of the systems; the records are gathered on every
    rank (one collective, outside rank-0-only code) and rank 0 logs. Skipped during the sanity
    check. Logged (at the logger's step axis):

    - scalars ``speedup/<method>/<pc>/<rtol>/{iterations,time}``, ``oracle_fraction`` and
      ``not_converged`` per method;
    - with W&B: the paper-style table ``solver/speedup_table``, the convergence plot of the
      first system (``solver/convergence_iterations``, ``solver/convergence_seconds``) and the
      principal angles per subspace index (``val/principal_angles`` table and bar chart);
    - with other loggers: the same tables as JSON and CSV files under
      ``<log_dir>/solver_speedup/``.

    Parameters
    ----------
    every_n_val_epochs : int
        Evaluate after every n-th validation epoch.
    n_systems : int
        Validation systems used (the first ones: a fixed subset).
    methods, preconditioners, tolerances : list
        What to compare (defaults: all five methods, no preconditioner, 1e-8).
    reps : int
        Solves per timing (median).
    at_fit_end : bool
        Also evaluate when fit ends (unless it just did).
    enabled : bool
        ``False`` turns the callback off (``--speedup.enabled false``).
    """

    def __init__(
        self,
        every_n_val_epochs: int = 10,
        n_systems: int = 8,
        methods: list[str] | None = None,
        preconditioners: list[str] | None = None,
        tolerances: list[float] | None = None,
        reps: int = 1,
        at_fit_end: bool = True,
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled
        self.settings = EvalSettings(
            methods=list(methods or DEFAULT_METHODS),
            preconditioners=list(preconditioners or ["none"]),
            tolerances=list(tolerances or [1e-8]),
            reps=reps,
        )
        validate_settings(self.settings)
        if every_n_val_epochs < 1 or n_systems < 1:
            raise ValueError("every_n_val_epochs and n_systems must be >= 1")
        self.every = every_n_val_epochs
        self.n_systems = n_systems
        self.at_fit_end = at_fit_end
        self._val_epochs = 0
        self._last_step = -1
        self._cases = None
        self._ctx: MethodContext | None = None
        self.seconds = 0.0
        self.history: list[dict[str, Any]] = []

    # -- setup ---------------------------------------------------------------------------------

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        from ..tasks import SubspaceModule

        if self.enabled and not isinstance(pl_module, SubspaceModule):
            rank_zero_info(
                f"{type(self).__name__}: {type(pl_module).__name__} predicts no "
                "subspace; the solver speedup evaluation is off"
            )
            self.enabled = False
        if not self.enabled or stage != "fit" or self._cases is not None:
            return
        dm = trainer.datamodule
        store = dm.store
        k = int(pl_module.hparams.n_vectors)
        indices = select_indices(len(store.split("val")), self.n_systems)
        self._cases = build_cases(store, "val", indices, None, None, k)
        self._coef = np.asarray(store.split("val").coef[: len(indices)], np.float32)
        self.settings.histories_for = indices[0] if indices else None
        U_pca = None
        if "pca" in self.settings.methods:
            from ..evaluation.pca import pca_basis

            U_pca = pca_basis(store, k)
        self._ctx = MethodContext(restart=self.settings.restart, k=k, U_pca=U_pca)
        self._dataset = f"{store.pde} g={store.grid}"
        warmup()

    # -- triggers --------------------------------------------------------------------------

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not self.enabled:
            return
        self._val_epochs += 1
        if self._val_epochs % self.every == 0:
            self.evaluate(trainer, pl_module)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.enabled and self.at_fit_end and self._last_step != trainer.global_step:
            self.evaluate(trainer, pl_module)

    # -- work ----------------------------------------------------------------------------------

    @staticmethod
    def _predict(pl_module: pl.LightningModule, cases, coef: np.ndarray) -> None:
        """Attach the current model's prediction for ``coef (len(cases), C, g, g)`` and its
        per-system latency to ``cases``."""
        if not cases:  # a DDP rank with no share of the systems
            return
        U, latency = predict_subspaces(pl_module, coef)
        for case, u, t in zip(cases, U, latency, strict=True):
            case.U_pred, case.inference_time = u, float(t)

    def evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> list[dict]:
        """Run the comparison now; returns the gathered records (on every rank)."""
        if self._cases is None:
            self.setup(trainer, pl_module, "fit")
        start = time.perf_counter()
        share = slice(trainer.global_rank, None, trainer.world_size)
        mine = self._cases[share]
        was_training = pl_module.training
        pl_module.eval()
        try:
            self._predict(pl_module, mine, self._coef[share])
        finally:
            pl_module.train(was_training)
        records = [r for case in mine for r in solve_case(case, self.settings, self._ctx)]
        for case in mine:
            case.U_pred = None
        if trainer.world_size > 1 and dist.is_available() and dist.is_initialized():
            gathered: list[Any] = [None] * trainer.world_size
            dist.all_gather_object(gathered, records)  # every rank takes part
            records = [r for part in gathered for r in part]
        self._last_step = trainer.global_step
        self.seconds += time.perf_counter() - start
        self._log(trainer, pl_module, records)
        return records

    @rank_zero_only
    def _log(self, trainer: pl.Trainer, pl_module: pl.LightningModule, records: list[dict]) -> None:
        """Rank 0 only; makes no collective calls."""
        summary = summarize(records)
        step = trainer.global_step
        metrics: dict[str, float] = {}
        for row in summary:
            if row["method"] == "gmres" or "time_speedup" not in row:
                continue
            key = f"speedup/{row['method']}/{row['preconditioner']}/{row['rtol']:.0e}"
            metrics[f"{key}/iterations"] = row["iteration_speedup"]
            metrics[f"{key}/time"] = row["time_speedup"]
            metrics[f"{key}/not_converged"] = float(row["not_converged"])
            if "oracle_fraction" in row and row["method"] != "oracle":
                metrics[f"{key}/oracle_fraction"] = row["oracle_fraction"]
        self.history.append({"step": step, "epoch": trainer.current_epoch, "metrics": metrics})
        table = paper_table(summary, "neurkitt", self._dataset)
        angles = getattr(pl_module, "last_val_angles", None)
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=step)
            if isinstance(logger, WandbLogger):
                self._log_wandb(logger, step, table, records, angles)
            elif logger.log_dir is not None:
                self._write_files(Path(logger.log_dir), step, table, records, summary)

    def _log_wandb(
        self,
        logger: WandbLogger,
        step: int,
        table: dict,
        records: list[dict],
        angles: torch.Tensor | None,
    ) -> None:
        import wandb

        payload: dict[str, Any] = {
            "solver/speedup_table": wandb.Table(columns=table["columns"], data=table["data"]),
            "trainer/global_step": step,
        }
        hist = [r for r in records if "history" in r]
        if hist:
            pc, tol = hist[0]["preconditioner"], hist[0]["rtol"]
            hist = [r for r in hist if r["preconditioner"] == pc and r["rtol"] == tol]
            keys = [r["method"] for r in hist]
            res = [r["history"]["residuals"] for r in hist]
            payload["solver/convergence_iterations"] = wandb.plot.line_series(
                xs=[list(range(len(y))) for y in res],
                ys=res,
                keys=keys,
                title=f"system {hist[0]['system']}: relative residual ({pc}, {tol:.0e})",
                xname="iteration",
            )
            payload["solver/convergence_seconds"] = wandb.plot.line_series(
                xs=[r["history"]["times"] for r in hist],
                ys=res,
                keys=keys,
                title=f"system {hist[0]['system']}: relative residual vs seconds",
                xname="seconds",
            )
        if angles is not None and len(angles):
            a = np.asarray(angles)
            rows = [[j + 1, float(v)] for j in range(a.shape[1]) for v in a[:, j]]
            payload["val/principal_angles"] = wandb.Table(columns=["index", "angle"], data=rows)
            means = wandb.Table(
                columns=["index", "mean_angle"],
                data=[[j + 1, float(a[:, j].mean())] for j in range(a.shape[1])],
            )
            payload["val/principal_angle_per_index"] = wandb.plot.bar(
                means, "index", "mean_angle", title="mean principal angle per index"
            )
        logger.experiment.log(payload)

    @staticmethod
    def _write_files(
        log_dir: Path, step: int, table: dict, records: list[dict], summary: list[dict]
    ) -> None:
        out = log_dir / "solver_speedup"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"step_{step:07d}.json").write_text(
            json.dumps({"step": step, "summary": summary, "records": records}, default=float)
        )
        lines = [",".join(table["columns"])] + [",".join(map(str, row)) for row in table["data"]]
        (out / f"step_{step:07d}_table.csv").write_text("\n".join(lines) + "\n")
