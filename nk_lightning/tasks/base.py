"""What every nk_lightning LightningModule shares: optimiser, schedule, checkpoint hooks."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch

__all__ = ["TaskModule"]


class TaskModule(pl.LightningModule):
    """Base of :class:`SubspaceModule` and :class:`SolutionModule`.

    Subclasses call ``save_hyperparameters()`` with ``lr``, ``weight_decay`` and ``scheduler``
    among them, and keep their best validation metrics in ``self.best`` (saved with every
    checkpoint).
    """

    def __init__(self) -> None:
        super().__init__()
        self.best: dict[str, float] = {}

    @staticmethod
    def _input_stats(
        input_stats: dict[str, list[float]] | None, in_channels: int
    ) -> dict[str, list[float]]:
        """The store's per-channel ``mean``/``std`` (identity if none), checked against
        ``in_channels``."""
        stats = input_stats or {"mean": [0.0] * in_channels, "std": [1.0] * in_channels}
        if len(stats["mean"]) != in_channels:
            raise ValueError(
                f"input_stats has {len(stats['mean'])} channels, expected {in_channels}"
            )
        return stats

    def configure_optimizers(self) -> dict[str, Any]:
        """Adam; ``scheduler="cosine"`` anneals per step to 0 over the run (the paper)."""
        opt = torch.optim.Adam(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        if self.hparams.scheduler == "constant":
            return {"optimizer": opt}
        steps = max(1, int(self.trainer.estimated_stepping_batches))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # neuraloperator's FNO adds its init kwargs (functions included) under an unprefixed
        # "_metadata" key even as a submodule; the hyper-parameters rebuild the backbone, and
        # without it the checkpoint loads with torch.load(weights_only=True) and strict keys.
        checkpoint["state_dict"].pop("_metadata", None)
        checkpoint["nk_best"] = dict(self.best)
        from pytorch_lightning.loggers import WandbLogger

        for logger in self.loggers:
            if isinstance(logger, WandbLogger) and logger._experiment is not None:
                checkpoint["wandb_run_id"] = logger.version  # resume into the same W&B run

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.best = dict(checkpoint.get("nk_best", {}))
