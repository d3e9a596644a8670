"""Shared fixtures: tiny real stores generated once per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nk_lightning.data.generation import generate
from nk_lightning.data.spec import DataConfig, DatasetSpec

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _clean_argv():
    """In-process CLI calls pass ``args=``; hide pytest's own flags from ``sys.argv``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", [sys.argv[0]])
        yield


def tiny_spec(**overrides) -> DatasetSpec:
    """A small Darcy spec: g=12 (n=144), k=6, a few samples per split, shards of 4."""
    kw = dict(pde="darcy", grid=12, k=6, n_train=10, n_val=5, n_test=3, seed=0, samples_per_shard=4)
    kw.update(overrides)
    return DatasetSpec(**kw)


def tiny_data_yaml(path: Path, store: str, **extra) -> Path:
    """Write the data YAML of the tiny spec (stored at ``store``) to ``path``."""
    import yaml

    spec = {
        "pde": "darcy",
        "grid": 12,
        "k": 6,
        "n_train": 10,
        "n_val": 5,
        "n_test": 3,
        "seed": 0,
        "samples_per_shard": 4,
        "out": str(store),
        **extra,
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def offline_wandb_env(home: Path) -> dict[str, str]:
    """Environment variables that keep W&B offline, quiet and inside ``home``."""
    env = {"WANDB_SILENT": "true", "WANDB_MODE": "offline"}
    for var in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        env[var] = str(home)
    return env


def make_store(path: Path, workers: int = 1, **overrides) -> str:
    cfg = DataConfig(spec=tiny_spec(**overrides), out=str(path))
    generate(cfg, workers=workers, progress=False)
    return str(path)


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> str:
    """A complete tiny Darcy store (read-only: do not modify in tests)."""
    return make_store(tmp_path_factory.mktemp("store") / "darcy.zarr")


@pytest.fixture
def cli_env() -> dict[str, str]:
    """Environment for running entry points in a subprocess from the repo root."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


PYTHON = sys.executable

TINY_MODEL_ARGS = [
    "--model.width",
    "8",
    "--model.n_modes",
    "4",
    "--model.n_layers",
    "2",
    "--trainer.enable_progress_bar",
    "false",
]
"""CLI arguments of a tiny, fast model for the Lightning tests."""


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_store) -> str:
    """A checkpoint trained for 2 tiny epochs on the tiny store (CSV logger, CPU)."""
    from nk_lightning.fit import main

    tmp = tmp_path_factory.mktemp("ckpt")
    cfg = tiny_data_yaml(tmp / "data.yaml", tiny_store)
    old = os.getcwd()
    saved = {k: os.environ.get(k) for k in ("WANDB_MODE", "NK_RUN_NAME")}
    os.environ["WANDB_MODE"] = "disabled"
    os.environ.pop("NK_RUN_NAME", None)
    os.chdir(tmp)
    try:
        args = ["--data.config", str(cfg), *TINY_MODEL_ARGS, "--data.batch_size", "4"]
        assert main([*args, "--trainer.max_epochs", "2", "--run_name", "tiny"]) == 0
    finally:
        os.chdir(old)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return str(tmp / "checkpoints" / "tiny" / "last.ckpt")
