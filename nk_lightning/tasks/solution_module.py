"""LightningModule for the solution-learning baselines: predict ``x`` of ``A x = b``."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torchmetrics import MeanMetric

from ..metrics import relative_error, relative_residual
from ..models import SolutionPredictor, build_backbone
from .base import TaskModule

__all__ = ["SolutionModule"]


class SolutionModule(TaskModule):
    """Train the same backbone to predict the solution of ``A x = b`` from the PDE fields.

    Two ways of training, as in the survey of neural linear solvers the project started from:

    - ``loss="supervised"``: relative squared error to the stored exact solutions (generate the
      store with ``--solutions``; the DataModule needs ``with_solutions: true``);
    - ``loss="residual"``: relative squared residual ``||A x - b||^2 / ||b||^2`` computed with
      the stored sparse ``A`` by a batched sparse product (``with_systems: true``).

    The prediction serves as GMRES's initial guess (``warmstart``), combined with the predicted
    subspace (``neurkitt+warmstart``), or alone (``direct_nn``) in the evaluation. The
    data-dependent arguments are linked from the DataModule like those of
    :class:`~nk_lightning.tasks.SubspaceModule` (``n_vectors`` is only recorded).

    Parameters
    ----------
    n_vectors, in_channels, grid, input_stats, data_info
        Linked from the data (``data_info`` carries ``rhs``, ``x_rms`` and ``b_rms``).
    backbone, width, n_modes, n_layers, norm
        As for the subspace model.
    loss : {"supervised", "residual"}
    lr, weight_decay, scheduler
        Adam and the per-step cosine schedule.
    """

    def __init__(
        self,
        n_vectors: int = 20,
        in_channels: int = 1,
        grid: int = 64,
        input_stats: dict[str, list[float]] | None = None,
        data_info: dict[str, Any] | None = None,
        backbone: Literal["fno", "cnn"] = "fno",
        width: int = 32,
        n_modes: int = 16,
        n_layers: int = 4,
        norm: Literal["instance_norm", "group_norm"] | None = None,
        loss: Literal["supervised", "residual"] = "supervised",
        lr: float = 1e-3,
        weight_decay: float = 1e-6,
        scheduler: Literal["cosine", "constant"] = "cosine",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        info = data_info or {}
        stats = self._input_stats(input_stats, in_channels)
        rhs_input = info.get("rhs") == "random"
        self.model = SolutionPredictor(
            build_backbone(
                backbone,
                in_channels=in_channels + int(rhs_input),
                out_channels=1,
                width=width,
                n_modes=n_modes,
                n_layers=n_layers,
                norm=norm,
            ),
            stats["mean"],
            stats["std"],
            output_scale=info.get("x_rms") or 1.0,
            rhs_input=rhs_input,
            rhs_scale=info.get("b_rms") or 1.0,
        )
        self.val_loss = MeanMetric()
        self.val_error = MeanMetric()
        self.val_residual = MeanMetric()
        self._pattern: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, coef: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, C, g, g)`` fields (and ``b (B, n)``) -> ``x (B, n)``."""
        return self.model(coef, b)

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        if dm is None:
            return
        need = "with_solutions" if self.hparams.loss == "supervised" else "with_systems"
        if not getattr(dm, need, False):
            raise ValueError(f"SolutionModule(loss={self.hparams.loss!r}) needs data.{need}: true")
        if self.hparams.loss == "supervised" and not dm.spec.solutions:
            raise ValueError(
                f"the store {dm.store_path!r} has no exact solutions; generate it "
                "with --solutions (solutions: true) or train with loss: residual"
            )
        indptr, indices = dm.store.pattern
        self._pattern = (
            torch.as_tensor(indptr, dtype=torch.long),
            torch.as_tensor(indices, dtype=torch.long),
        )

    def _step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = self(batch["coef"], batch.get("b"))
        out: dict[str, torch.Tensor] = {"x": x}
        if "x" in batch:
            out["error"] = relative_error(x, batch["x"])
        if "A_data" in batch and self._pattern is not None:
            indptr, indices = (t.to(x.device) for t in self._pattern)
            out["residual"] = relative_residual(indptr, indices, batch["A_data"], x, batch["b"])
        key = "error" if self.hparams.loss == "supervised" else "residual"
        out["loss"] = out[key].square().mean()
        return out

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        out = self._step(batch)
        self.log(
            "train/loss",
            out["loss"],
            on_step=True,
            on_epoch=True,
            prog_bar=True,
            batch_size=batch["coef"].shape[0],
            sync_dist=True,
        )
        return out["loss"]

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        out = self._step(batch)
        B = batch["coef"].shape[0]
        self.val_loss.update(out["loss"], weight=B)
        if "error" in out:
            self.val_error.update(out["error"].mean(), weight=B)
        if "residual" in out:
            self.val_residual.update(out["residual"].mean(), weight=B)

    def on_validation_epoch_end(self) -> None:
        metrics = {"val/loss": self.val_loss.compute().float()}
        if self.val_error.update_count:
            metrics["val/relative_error"] = self.val_error.compute().float()
        if self.val_residual.update_count:
            metrics["val/relative_residual"] = self.val_residual.compute().float()
        for m in (self.val_loss, self.val_error, self.val_residual):
            m.reset()
        self.log_dict(metrics, sync_dist=True)
        if not self.trainer.sanity_checking:
            loss = float(metrics["val/loss"])
            if not self.best or loss < self.best["val/loss"]:
                self.best = {k: float(v) for k, v in metrics.items()}
                self.best["epoch"] = int(self.current_epoch)

    def best_summary(self) -> str:
        if not self.best:
            return ""
        parts = [f"{k} {v:.4g}" for k, v in self.best.items() if k != "epoch"]
        return f"best {', '.join(parts)} (epoch {self.best['epoch']})"
