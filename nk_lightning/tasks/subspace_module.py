"""LightningModule for NeurKItt's subspace prediction: model, loss, metrics, optimisation."""

from __future__ import annotations

import time
from typing import Any, Literal

import torch
from torchmetrics import MeanMetric

from ..metrics import PrincipalAngles, aligned_mse_loss, projection_loss
from ..models import SubspacePredictor, build_backbone
from .base import TaskModule

__all__ = ["SubspaceModule"]

LossName = Literal["projection", "projection_squared", "aligned_mse"]


class SubspaceModule(TaskModule):
    """Train a backbone + QR to predict the invariant subspace of the ``k`` smallest eigenvalues.

    The data-dependent arguments (``n_vectors``, ``in_channels``, ``grid``, ``input_stats``,
    ``data_info``) are linked from the DataModule by ``python -m nk_lightning.fit`` and stored
    with the other hyper-parameters, so ``SubspaceModule.load_from_checkpoint(path)`` rebuilds
    the model, its input normalisation included, without any YAML.

    Parameters
    ----------
    n_vectors, in_channels, grid : int
        Subspace dimension ``k``, input fields ``C``, grid points per side ``g``.
    input_stats : dict, optional
        ``{"mean": [...], "std": [...]}`` per input channel (default: identity).
    data_info : dict, optional
        Provenance of the training store (pde, path, spec).
    backbone : {"fno", "cnn"}
        FNO (NeurKItt) or a plain CNN (ablation "without FNO").
    width, n_modes, n_layers : int
        Hidden channels, Fourier modes per dimension, layers.
    norm : {"instance_norm", "group_norm"} or None
        Normalisation inside the backbone.
    orthonormalize : bool
        QR the prediction (NeurKItt); ``False`` is the "without QR" ablation.
    loss : {"projection", "projection_squared", "aligned_mse"}
        ``sum_j ||v_j - Q Q^T v_j||`` (the paper), its squared Frobenius form, or MSE to the
        sign-aligned eigenvectors (ablation "without projection loss").
    lr, weight_decay : float
        Adam parameters.
    scheduler : {"cosine", "constant"}
        Per-step cosine annealing to 0 over the whole run (the paper), or constant.
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
        orthonormalize: bool = True,
        loss: LossName = "projection",
        lr: float = 1e-3,
        weight_decay: float = 1e-6,
        scheduler: Literal["cosine", "constant"] = "cosine",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        stats = self._input_stats(input_stats, in_channels)
        self.model = SubspacePredictor(
            build_backbone(
                backbone,
                in_channels=in_channels,
                out_channels=n_vectors,
                width=width,
                n_modes=n_modes,
                n_layers=n_layers,
                norm=norm,
            ),
            n_vectors,
            stats["mean"],
            stats["std"],
            orthonormalize=orthonormalize,
        )
        self.val_loss = MeanMetric()
        self.val_angles = PrincipalAngles(n_vectors)
        self.test_loss = MeanMetric()
        self.test_angles = PrincipalAngles(n_vectors)
        self.last_val_angles: torch.Tensor | None = None
        self._epoch_start, self._epoch_samples = 0.0, 0

    def forward(self, coef: torch.Tensor) -> torch.Tensor:
        """``(B, C, g, g)`` raw fields -> ``(B, g*g, k)`` predicted basis."""
        return self.model(coef)

    def loss_fn(self, Q: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        if self.hparams.loss == "projection":
            return projection_loss(Q, V)
        if self.hparams.loss == "projection_squared":
            return projection_loss(Q, V, squared=True)
        return aligned_mse_loss(Q, V)

    def model_step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        Q = self(batch["coef"])
        return Q, self.loss_fn(Q, batch["eigvecs"])

    # -- training ----------------------------------------------------------------------------

    def on_train_epoch_start(self) -> None:
        self._epoch_start, self._epoch_samples = time.perf_counter(), 0

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        _, loss = self.model_step(batch)
        self.log(
            "train/loss",
            loss,
            on_step=True,
            on_epoch=True,
            prog_bar=True,
            batch_size=batch["coef"].shape[0],
            sync_dist=True,
        )
        self._epoch_samples += batch["coef"].shape[0]
        return loss

    def on_train_epoch_end(self) -> None:
        seconds = time.perf_counter() - self._epoch_start
        if seconds > 0:
            rate = self._epoch_samples * self.trainer.world_size / seconds
            self.log("train/samples_per_sec", rate, sync_dist=True)

    # -- evaluation ----------------------------------------------------------------------------

    def _eval_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        Q, loss = self.model_step(batch)
        getattr(self, f"{stage}_loss").update(loss, weight=batch["coef"].shape[0])
        getattr(self, f"{stage}_angles").update(Q, batch["eigvecs"])

    def _eval_epoch_end(self, stage: str) -> tuple[dict[str, torch.Tensor], dict]:
        """Compute and reset the ``stage`` metrics; the logged scalars and the angles.

        ``compute()`` synchronises the states (a collective): every rank calls it.
        """
        loss_metric, angle_metric = getattr(self, f"{stage}_loss"), getattr(self, f"{stage}_angles")
        angles, loss = angle_metric.compute(), loss_metric.compute()
        angle_metric.reset()
        loss_metric.reset()
        metrics = {
            f"{stage}/loss": loss.float(),
            f"{stage}/principal_angle_max": angles["max"].float(),
            f"{stage}/principal_angle_mean": angles["mean"].float(),
        }
        return metrics, angles

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        metrics, angles = self._eval_epoch_end("val")
        self.log_dict(metrics, sync_dist=True)  # identical on all ranks: the mean is exact
        if self.trainer.sanity_checking:
            return
        self.last_val_angles = angles["samples"].cpu()
        mean, worst = float(angles["mean"]), float(angles["max"])
        if not self.best or mean < self.best["principal_angle_mean"]:
            self.best = {
                "principal_angle_mean": mean,
                "principal_angle_max": worst,
                "epoch": int(self.current_epoch),
            }

    def best_summary(self) -> str:
        """One line for the end-of-fit summary."""
        if not self.best:
            return ""
        return (
            f"best val principal angle: mean {self.best['principal_angle_mean']:.4f} rad, "
            f"max {self.best['principal_angle_max']:.4f} rad (epoch {self.best['epoch']})"
        )

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        metrics, _ = self._eval_epoch_end("test")
        self.log_dict(metrics, sync_dist=True)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self(batch["coef"])
