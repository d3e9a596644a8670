"""``python -m nk_lightning.fit`` end to end on CPU: real Lightning runs on a tiny store."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest
import torch
import yaml

from nk_lightning.fit import main
from nk_lightning.tasks import SubspaceModule

from .conftest import PYTHON, REPO, TINY_MODEL_ARGS, offline_wandb_env, tiny_data_yaml

TINY = [*TINY_MODEL_ARGS, "--data.batch_size", "4", "--trainer.log_every_n_steps", "1"]


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_store):
    """Run in a temporary directory with W&B fully offline and local."""
    for var, value in offline_wandb_env(tmp_path / "wandb_home").items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("NK_RUN_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path, str(tiny_data_yaml(tmp_path / "data.yaml", tiny_store))


def test_fit_end_to_end_writes_checkpoints_logs_and_summary(workdir, capsys):
    tmp, cfg = workdir
    assert (
        main(["--data.config", cfg, *TINY, "--trainer.max_epochs", "2", "--run_name", "smoke"]) == 0
    )
    out = capsys.readouterr().out
    assert "best val principal angle: mean" in out and "checkpoints/smoke/best-epoch" in out
    ckpts = sorted(p.name for p in (tmp / "checkpoints" / "smoke").iterdir())
    assert "last.ckpt" in ckpts and any(c.startswith("best-epoch") for c in ckpts)
    runs = list((tmp / "runs" / "smoke" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("run-*.wandb"))
    config = yaml.safe_load((tmp / "runs" / "smoke" / "config.yaml").read_text())
    assert config["model"]["class_path"] == "nk_lightning.tasks.SubspaceModule"
    assert config["model"]["init_args"]["width"] == 8 and config["data"]["config"] == cfg
    assert "n_vectors" not in config["model"]["init_args"]  # linked from the data
    # the checkpoint alone rebuilds the model, input normalisation included
    ckpt = torch.load(tmp / "checkpoints" / "smoke" / "last.ckpt", weights_only=True)
    hp = ckpt["hyper_parameters"]
    assert (hp["grid"], hp["n_vectors"], hp["in_channels"]) == (12, 6, 1) and hp["input_stats"]
    model = SubspaceModule.load_from_checkpoint(tmp / "checkpoints" / "smoke" / "last.ckpt")
    Q = model(torch.ones(2, 1, 12, 12))
    assert Q.shape == (2, 144, 6)
    assert "wandb_run_id" in ckpt and ckpt["nk_best"]["principal_angle_mean"] > 0


def test_resume_continues_the_global_step(workdir):
    tmp, cfg = workdir
    args = ["--data.config", cfg, *TINY, "--run_name", "resume"]
    assert main([*args, "--trainer.max_epochs", "1"]) == 0
    last = tmp / "checkpoints" / "resume" / "last.ckpt"
    first = torch.load(last, weights_only=False)
    assert main([*args, "--trainer.max_epochs", "2", "--ckpt_path", str(last)]) == 0
    second = torch.load(last, weights_only=False)
    assert first["epoch"] == 0 and second["epoch"] == 1
    assert second["global_step"] == 2 * first["global_step"] > 0
    assert second["wandb_run_id"] == first["wandb_run_id"]  # one W&B run across the resume
    runs = sorted((tmp / "runs" / "resume" / "wandb").glob("offline-run-*"))
    assert len(runs) == 2 and all(first["wandb_run_id"] in r.name for r in runs)
    sched = second["lr_schedulers"][0]
    assert sched["last_epoch"] == second["global_step"]


def test_csv_fallback_when_wandb_is_disabled(workdir, monkeypatch):
    tmp, cfg = workdir
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert (
        main(["--data.config", cfg, *TINY, "--trainer.max_epochs", "1", "--run_name", "csv"]) == 0
    )
    with (tmp / "runs" / "csv" / "csv" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    keys = set(rows[0])
    assert {
        "train/loss_step",
        "val/principal_angle_mean",
        "val/principal_angle_max",
        "train/samples_per_sec",
    } <= keys
    assert any(r["val/principal_angle_mean"] for r in rows)


def test_same_seed_gives_the_same_training(workdir):
    tmp, cfg = workdir
    states = []
    for run in ("a", "b"):
        assert (
            main(
                [
                    "--data.config",
                    cfg,
                    *TINY,
                    "--trainer.max_epochs",
                    "1",
                    "--run_name",
                    run,
                    "--trainer.logger",
                    "pytorch_lightning.loggers.CSVLogger",
                    "--trainer.logger.save_dir",
                    f"runs/{run}",
                ]
            )
            == 0
        )
        ckpt = torch.load(tmp / "checkpoints" / run / "last.ckpt", weights_only=False)
        states.append(ckpt["state_dict"])
    assert states[0].keys() == states[1].keys()
    for name, tensor in states[0].items():
        torch.testing.assert_close(states[1][name], tensor, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model.widht", "3"], "widht"),
        (["--data.n_vectors", "9"], "n_vectors=9 is larger than the k=6"),
        (["--data.path", "missing.zarr", "--data.generate", "false"], "generation is disabled"),
        (["--data.path", "foreign"], "not an nk_lightning dataset store"),
        (["--data.config", "nowhere.yaml"], "'nowhere.yaml' does not exist"),
    ],
)
def test_bad_input_is_one_clear_line_and_leaves_no_checkpoint_dir(workdir, capsys, extra, message):
    tmp, cfg = workdir
    (tmp / "foreign").mkdir()
    (tmp / "foreign" / "notes.txt").write_text("not a store")
    with pytest.raises(SystemExit) as info:
        main(["--data.config", cfg, *TINY, *extra])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp / "checkpoints").exists() and not (tmp / "runs").exists()


def test_print_config(workdir, capsys):
    _, cfg = workdir
    with pytest.raises(SystemExit) as info:
        main(["--data.config", cfg, "--model.width", "24", "--print_config"])
    assert info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["init_args"]["width"] == 24 and printed["seed_everything"] == 0


def _last_logged(path: Path, key: str) -> float:
    with path.open() as f:
        rows = [r for r in csv.DictReader(f) if r.get(key)]
    return float(rows[-1][key])


def test_ddp_with_two_cpu_ranks_matches_single_process_validation(workdir, cli_env):
    """2 gloo ranks, 5 validation samples (uneven split): one run, and the validation metric
    equals a single-process validation of the saved weights."""
    tmp, cfg = workdir
    env = {**cli_env, "WANDB_MODE": "disabled", "WANDB_SILENT": "true"}
    env.pop("NK_RUN_NAME", None)
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "nk_lightning.fit",
            "--data.config",
            cfg,
            *TINY,
            "--run_name",
            "ddp",
            "--trainer.max_epochs",
            "1",
            "--trainer.accelerator",
            "cpu",
            "--trainer.devices",
            "2",
            "--trainer.strategy",
            "ddp",
        ],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("finished in") == 1  # summary from rank 0 only
    assert "distributed_backend=gloo" in proc.stderr + proc.stdout
    logged = _last_logged(tmp / "runs" / "ddp" / "csv" / "metrics.csv", "val/principal_angle_mean")

    import pytorch_lightning as pl

    from nk_lightning.data.datamodule import SubspaceDataModule

    model = SubspaceModule.load_from_checkpoint(tmp / "checkpoints" / "ddp" / "last.ckpt")
    dm = SubspaceDataModule(config=cfg, batch_size=4)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    (single,) = trainer.validate(model, datamodule=dm, verbose=False)
    assert logged == pytest.approx(single["val/principal_angle_mean"], rel=1e-6)


def test_fno_update_with_complex_weights_is_the_same_under_ddp(tmp_path):
    """Regression guard (neuraloperator#88, pytorch#158753): 2 ranks x batch 4 == 1 x batch 8."""
    script = tmp_path / "ddp_fno.py"
    script.write_text(DDP_FNO_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [PYTHON, str(script), str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    one = torch.load(tmp_path / "single.pt", weights_only=False)
    two = torch.load(tmp_path / "ddp.pt", weights_only=False)
    complex_seen = False
    for name, p in one.items():
        if name == "_metadata":  # neuraloperator's init kwargs
            continue
        torch.testing.assert_close(two[name], p, rtol=1e-5, atol=1e-7)
        complex_seen |= p.is_complex() and bool((p.imag != 0).any())
    assert complex_seen


DDP_FNO_SCRIPT = r"""
import os, socket, sys
import torch, torch.distributed as dist, torch.multiprocessing as mp
from nk_lightning.models import build_backbone

def make():
    torch.manual_seed(0)
    return build_backbone("fno", in_channels=1, out_channels=3, width=8, n_modes=4, n_layers=2,
                          norm=None)

def step(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(x) - y).square().mean()
    loss.backward()
    opt.step()

def worker(rank, port, out, x, y):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    model = torch.nn.parallel.DistributedDataParallel(make())
    step(model, x[4 * rank:4 * rank + 4], y[4 * rank:4 * rank + 4])
    if rank == 0:
        torch.save(model.module.state_dict(), os.path.join(out, "ddp.pt"))
    dist.destroy_process_group()

if __name__ == "__main__":
    out = sys.argv[1]
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 1, 12, 12, generator=g), torch.randn(8, 3, 12, 12, generator=g)
    model = make()
    step(model, x, y)
    torch.save(model.state_dict(), os.path.join(out, "single.pt"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    mp.spawn(worker, args=(port, out, x, y), nprocs=2)
"""
