"""``python -m nk_lightning.fit``: train a subspace predictor with LightningCLI.

Examples
--------
::

    python -m nk_lightning.fit                                  # configs/default.yaml
    python -m nk_lightning.fit -c configs/heat.yaml --model.width 64
    python -m nk_lightning.fit --print_config
    python -m nk_lightning.fit --trainer.devices 4 --trainer.strategy ddp
    python -m nk_lightning.fit -c runs/<run>/config.yaml --ckpt_path checkpoints/<run>/last.ckpt \\
        --trainer.max_epochs 60                                 # resume

If the dataset of the data config does not exist it is generated first. At the end a summary
with the best validation principal angles and the checkpoint paths is printed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from jsonargparse import ArgumentError, Namespace
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.cli import LightningCLI, SaveConfigCallback
from pytorch_lightning.loggers import WandbLogger

from .callbacks import SolverSpeedupCallback
from .cli_utils import fail, run_main
from .data.datamodule import SubspaceDataModule
from .data.generation import ensure_dataset
from .data.spec import load_data_config

PROG = "python -m nk_lightning.fit"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yaml"
RUN_ENV = "NK_RUN_NAME"


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}} -> {"a.b": 1}`` (the dotted keys of the CLI and of W&B sweeps)."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


class ConfigToLogger(SaveConfigCallback):
    """Saves ``config.yaml`` in the run directory and sends the flattened config to W&B.

    ``save_config`` runs on global rank 0 only and makes no collective calls.
    """

    def save_config(self, trainer, pl_module, stage: str) -> None:
        flat = flatten(self.config.as_dict())
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.experiment.config.update(flat, allow_val_change=True)


class NKCLI(LightningCLI):
    """LightningCLI with the data -> model links, dataset generation and run directories."""

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument(
            "--ckpt_path",
            type=str | None,
            default=None,
            help="resume from this checkpoint (weights, optimizer, scheduler, step)",
        )
        parser.add_argument(
            "--run_name",
            type=str | None,
            default=None,
            help="run directory name (default: <pde>_g<grid>_<timestamp>)",
        )
        parser.add_argument(
            "--checkpoint_dir",
            type=str,
            default="checkpoints",
            help="checkpoints go to <checkpoint_dir>/<run_name>/",
        )
        parser.add_argument(
            "--log_dir",
            type=str,
            default="runs",
            help="logger output goes to <log_dir>/<run_name>/",
        )
        parser.add_lightning_class_args(SolverSpeedupCallback, "speedup")
        for source, target in (
            ("data.n_vectors", "model.n_vectors"),
            ("data.in_channels", "model.in_channels"),
            ("data.grid", "model.grid"),
            ("data.input_stats", "model.input_stats"),
            ("data.info", "model.data_info"),
        ):
            parser.link_arguments(
                source, target.replace("model.", "model.init_args."), apply_on="instantiate"
            )

    def before_instantiate_classes(self) -> None:
        cfg = self.config
        data_cfg = load_data_config(cfg.data.config, out=cfg.data.path)
        ensure_dataset(data_cfg, allow_generate=cfg.data.generate)
        resume = _read_checkpoint_meta(cfg.ckpt_path) if cfg.ckpt_path else {}
        inherited = os.environ.get(RUN_ENV) if _is_launched_child() else None
        run = (
            cfg.run_name
            or inherited
            or resume.get("run_name")
            or (f"{data_cfg.spec.pde}_g{data_cfg.spec.grid}_{datetime.now():%Y%m%d-%H%M%S}")
        )
        os.environ[RUN_ENV] = run  # Lightning's DDP re-launches this command per rank
        cfg.run_name = run
        self._configure_logger(cfg, run, resume.get("wandb_run_id"))
        if cfg.trainer.get("enable_progress_bar") is False and cfg.trainer.get("callbacks"):
            cfg.trainer.callbacks = [
                cb
                for cb in cfg.trainer.callbacks
                if not str(getattr(cb, "class_path", "")).endswith("ProgressBar")
            ]

    def _configure_logger(self, cfg: Namespace, run: str, wandb_id: str | None) -> None:
        logger = cfg.trainer.get("logger")
        if not isinstance(logger, Namespace) or not str(logger.class_path).endswith("WandbLogger"):
            return
        save_dir = str(Path(cfg.log_dir) / run)
        if importlib.util.find_spec("wandb") is None or os.environ.get("WANDB_MODE") == "disabled":
            cfg.trainer.logger = Namespace(
                class_path="pytorch_lightning.loggers.CSVLogger",
                init_args=Namespace(save_dir=save_dir, name="csv", version=""),
            )
            return
        args = logger.init_args
        if args.get("save_dir") in (None, "."):  # WandbLogger defaults to the CWD
            args.save_dir = save_dir
        args.name = args.get("name") or run
        if wandb_id and not args.get("id"):
            args.id = wandb_id  # keep one W&B run across resumptions

    def after_instantiate_classes(self) -> None:
        super().after_instantiate_classes()
        run_dir = Path(self.config.checkpoint_dir) / self.config.run_name
        for cb in self.trainer.callbacks:
            if isinstance(cb, ModelCheckpoint) and cb.dirpath is None:
                cb.dirpath = os.path.realpath(run_dir)


def _finish_wandb(trainer) -> None:
    """Close the W&B run (Lightning does not), so a later fit in this process starts its own."""
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger) and logger._experiment is not None:
            logger.experiment.finish()


def _is_launched_child() -> bool:
    """Whether this process is a non-zero rank started by a launcher (Lightning DDP, torchrun)."""
    return any(os.environ.get(var, "0") != "0" for var in ("LOCAL_RANK", "RANK", "NODE_RANK"))


def _read_checkpoint_meta(path: str) -> dict[str, Any]:
    import torch

    from .errors import ConfigError

    if not Path(path).is_file():
        raise ConfigError(f"checkpoint {path!r} does not exist")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    return {"wandb_run_id": ckpt.get("wandb_run_id"), "run_name": Path(path).resolve().parent.name}


def _summary(cli: NKCLI, seconds: float) -> str:
    model, trainer = cli.model, cli.trainer
    ckpt = trainer.checkpoint_callback
    minutes, secs = divmod(int(round(seconds)), 60)
    parts = [f"{PROG} finished in {minutes}m{secs:02d}s ({trainer.current_epoch} epochs)"]
    best = model.best_summary() if hasattr(model, "best_summary") else ""
    if best:
        parts.append(best)
    if ckpt is not None:
        parts.append(f"best checkpoint: {ckpt.best_model_path or '-'}")
        parts.append(f"last checkpoint: {ckpt.last_model_path or '-'}")
    for cb in trainer.callbacks:
        if isinstance(cb, SolverSpeedupCallback) and cb.enabled and cb.history:
            last = cb.history[-1]["metrics"]
            nk = {k.split("/")[-1]: v for k, v in last.items() if k.startswith("speedup/neurkitt/")}
            if nk:
                parts.append(
                    "solver speedup of the last evaluation (neurkitt vs gmres, "
                    f"{cb.settings.preconditioners[0]}, {cb.settings.tolerances[0]:.0e}): "
                    f"iterations x{nk.get('iterations', float('nan')):.2f}, "
                    f"time x{nk.get('time', float('nan')):.2f}"
                )
            parts.append(
                f"solver speedup callback: {cb.seconds:.1f} s "
                f"({100 * cb.seconds / max(seconds, 1e-9):.1f}% of the run)"
            )
    for logger in trainer.loggers:
        parts.append(f"logs: {logger.save_dir} ({type(logger).__name__})")
    return "\n  ".join(parts)


def main(args: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    start = time.perf_counter()

    def body() -> int:
        try:
            cli = NKCLI(
                pl.LightningModule,
                SubspaceDataModule,
                subclass_mode_model=True,
                run=False,
                args=args,
                save_config_callback=ConfigToLogger,
                save_config_kwargs={"overwrite": True},
                parser_kwargs={
                    "default_config_files": [str(DEFAULT_CONFIG)],
                    "prog": PROG,
                    "exit_on_error": False,
                },
            )
        except ArgumentError as err:
            fail(PROG, " ".join(str(err).split()))
        try:
            cli.trainer.fit(cli.model, datamodule=cli.datamodule, ckpt_path=cli.config.ckpt_path)
            if cli.trainer.is_global_zero:
                print(_summary(cli, time.perf_counter() - start), flush=True)
        finally:
            _finish_wandb(cli.trainer)
        return 0

    return run_main(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
