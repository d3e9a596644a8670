"""The local sweep runner: grid expansion (W&B-compatible), skip/resume logic, end to end."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from nk_lightning.errors import ConfigError
from nk_lightning.sweep import main as sweep_main
from nk_lightning.sweeps import RunPaths, format_arg, load_sweep, run_status, run_sweep

from .conftest import REPO, offline_wandb_env, tiny_data_yaml


def test_small_fno_grid_expands_to_eight_runs():
    sweep = load_sweep(REPO / "configs" / "ablations" / "fno_small.yaml")
    assert sweep.name == "fno-small" and len(sweep.runs) == 8
    combos = {
        (r.params["model.n_layers"], r.params["model.n_modes"], r.params["model.width"])
        for r in sweep.runs
    }
    assert combos == {(a, b, c) for a in (2, 4) for b in (8, 12) for c in (16, 32)}
    first = sweep.runs[0]
    assert first.argv[:5] == [
        sys.executable,
        "-m",
        "nk_lightning.fit",
        "-c",
        "configs/ablations/base_small.yaml",
    ]
    assert first.argv[5:] == [
        "--model.n_layers=2",
        "--model.n_modes=8",
        "--model.width=16",
        "--seed_everything=0",
    ]
    assert len({r.name for r in sweep.runs}) == 8


def test_args_are_formatted_like_the_wandb_agent():
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

    params = {
        "model.width": 32,
        "model.n_modes": [8, 8],
        "model.orthonormalize": False,
        "config": "configs/ablations/variants/no_qr.yaml",
        "model.lr": 0.001,
    }
    ours = [f"--{k}={format_arg(v)}" for k, v in params.items()]
    theirs = create_sweep_command_args({"args": {k: {"value": v} for k, v in params.items()}})
    assert ours == theirs["args"]
    assert format_arg(None) == "null"  # W&B writes "None", which LightningCLI reads as a string


def test_method_ablation_uses_variant_configs_that_exist():
    sweep = load_sweep(REPO / "configs" / "ablations" / "methods_small.yaml")
    assert len(sweep.runs) == 8
    for run in sweep.runs:
        assert (REPO / run.params["config"]).is_file()
        assert f"--config={run.params['config']}" in run.argv


def test_run_names_depend_only_on_parameters(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "s",
                "method": "grid",
                "command": ["${interpreter}", "${args}"],
                "parameters": {"a": {"values": [1, 2]}, "b": {"value": 3}},
            }
        )
    )
    names = {r.params["a"]: r.name for r in load_sweep(path).runs}
    path.write_text(
        yaml.safe_dump(
            {
                "name": "s",
                "method": "grid",
                "command": ["${interpreter}", "${args}"],
                "parameters": {"a": {"values": [5, 2, 1]}, "b": {"value": 3}},
            }
        )
    )
    renamed = {r.params["a"]: r.name for r in load_sweep(path).runs}
    assert renamed[1] == names[1] and renamed[2] == names[2]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"method": "bayes", "parameters": {"a": {"values": [1]}}}, "grid only"),
        ({"parameters": {"a": {"min": 0, "max": 1}}}, "needs 'values' or 'value'"),
        (
            {
                "parameters": {"a": {"values": [1]}},
                "command": ["${interpreter}", "${args_no_hyphens}"],
            },
            "must contain ${args}",
        ),
        (
            {
                "parameters": {"a": {"values": [1]}},
                "command": ["${interpreter}", "${args}", "${args_json}"],
            },
            "not supported by the local runner",
        ),
    ],
)
def test_bad_sweep_files(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(
        ConfigError, match=message.replace("$", r"\$").replace("{", r"\{").replace("}", r"\}")
    ):
        load_sweep(path)


def test_finished_runs_are_skipped_and_partial_runs_resume(tmp_path, monkeypatch):
    sweep = load_sweep(REPO / "configs" / "ablations" / "fno_small.yaml")
    out = tmp_path / "sweep"
    done, partial = RunPaths(out, sweep.runs[0].name), RunPaths(out, sweep.runs[1].name)
    done.run_dir.mkdir(parents=True)
    done.done.write_text(json.dumps({"seconds": 1.0}))
    partial.ckpt_dir.mkdir(parents=True)
    (partial.ckpt_dir / "last.ckpt").write_bytes(b"")
    states = [s for _, s in run_status(sweep, out)]
    assert states[:2] == ["done", "partial"] and set(states[2:]) == {"pending"}

    launched = []

    class FakeProc:
        returncode = 3

    def fake_run(argv, **kwargs):
        launched.append(argv)
        assert kwargs["env"]["WANDB_RUN_GROUP"] == "fno-small"
        assert kwargs["env"]["WANDB_MODE"] in ("offline", "disabled", "online", "dryrun")
        return FakeProc()

    monkeypatch.setattr("nk_lightning.sweeps.runner.subprocess.run", fake_run)
    results = run_sweep(sweep, out, log=lambda *_: None)
    assert len(launched) == 7 and len(results) == 7  # the finished run is not launched again
    resumed = next(a for a in launched if f"--run_name={sweep.runs[1].name}" in a)
    assert f"--ckpt_path={partial.ckpt_dir / 'last.ckpt'}" in resumed
    assert not any(RunPaths(out, r.name).done.exists() for r in sweep.runs[1:])  # failed: no marker


def test_tiny_sweep_end_to_end_and_rerun_skips(tmp_path, tiny_store, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for var, value in offline_wandb_env(tmp_path / "wandb_home").items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("NK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    tiny_data_yaml(tmp_path / "data.yaml", tiny_store)
    (tmp_path / "base.yaml").write_text(
        yaml.safe_dump(
            {
                "trainer": {"max_epochs": 1, "enable_progress_bar": False},
                "speedup": {"enabled": False},
                "data": {"config": "data.yaml", "batch_size": 4},
                "model": {"n_modes": 4, "n_layers": 1},
            }
        )
    )
    (tmp_path / "tiny.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "method": "grid",
                "parameters": {"model.width": {"values": [4, 8]}},
                "command": [
                    "${env}",
                    "${interpreter}",
                    "-m",
                    "nk_lightning.fit",
                    "-c",
                    "base.yaml",
                    "${args}",
                ],
            }
        )
    )
    args = ["tiny.yaml", "--eval-max-systems", "2", "--eval-reps", "1", "--eval-tolerances", "1e-6"]
    assert sweep_main(["tiny.yaml", "--dry-run"]) == 0
    assert capsys.readouterr().out.count("[pending]") == 2
    assert sweep_main(args) == 0
    out = tmp_path / "sweeps" / "tiny"
    for name in ("summary.md", "summary.csv", "summary.png"):
        assert (out / name).stat().st_size > 0
    table = (out / "summary.md").read_text()
    assert table.count("tiny-width") == 2 and "iteration_speedup[none@1e-06]" in table
    runs = sorted((out / "runs").glob("tiny-*/wandb/offline-run-*"))
    assert len(runs) == 2  # one offline W&B run per configuration
    stamps = {p: p.stat().st_mtime for p in out.glob("runs/*/done.json")}
    capsys.readouterr()
    assert sweep_main(args) == 0
    assert "2 already done, 0 to run" in capsys.readouterr().out
    assert {p: p.stat().st_mtime for p in out.glob("runs/*/done.json")} == stamps


def test_malformed_sweep_yaml_is_one_line_exit_2(tmp_path, capsys):
    from nk_lightning.sweep import main

    path = tmp_path / "broken.yaml"
    path.write_text("parameters:\n  model.width: {values: [8, 16]\n")
    with pytest.raises(SystemExit) as info:
        main([str(path), "--dry-run"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "'" + str(path) + "' is not valid YAML" in err and len(err.splitlines()) == 1
