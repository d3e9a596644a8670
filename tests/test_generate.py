"""Generation: determinism across workers and shards, resume after kill, refusing to mix,
bad input (one line, exit code 2, nothing written)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from nk_lightning.data import open_dataset
from nk_lightning.data.generation import generate
from nk_lightning.data.spec import DataConfig, load_data_config
from nk_lightning.errors import StoreError
from nk_lightning.generate import main

from .conftest import PYTHON, REPO, make_store, tiny_spec

ARRAYS = ("coef", "eigvecs", "eigvals", "A_data", "b", "eig_residual")
SMALL = "--pde darcy --grid 12 --k 6 --n-train 2 --n-val 0 --n-test 0".split()


def assert_same_contents(a: str, b: str) -> None:
    ga, gb = zarr.open_group(a, mode="r"), zarr.open_group(b, mode="r")
    assert dict(ga.attrs) == dict(gb.attrs)
    for split in ("train", "val", "test"):
        for name in ARRAYS:
            np.testing.assert_array_equal(ga[split][name][...], gb[split][name][...])


def test_same_store_with_one_or_two_workers(tiny_store, tmp_path):
    two = make_store(tmp_path / "two.zarr", workers=2)
    assert_same_contents(tiny_store, two)


def test_shards_from_independent_jobs_fill_one_store(tiny_store, tmp_path):
    cfg = DataConfig(spec=tiny_spec(), out=str(tmp_path / "parts.zarr"))
    first = generate(cfg, shard=(0, 2), progress=False)
    assert not first.complete and first.samples_written > 0
    with pytest.raises(StoreError, match="incomplete"):
        open_dataset(cfg.out)
    second = generate(cfg, shard=(1, 2), progress=False)
    assert second.complete
    assert first.samples_written + second.samples_written == 18
    assert_same_contents(tiny_store, cfg.out)


def test_rerun_of_a_complete_store_does_nothing(tiny_store, tmp_path):
    import shutil

    path = tmp_path / "copy.zarr"
    shutil.copytree(tiny_store, path)
    report = generate(DataConfig(spec=tiny_spec(), out=str(path)), progress=False)
    assert report.samples_written == 0 and report.samples_skipped == 18 and report.complete


def _cli(args: list[str], env: dict, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "nk_lightning.generate", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


SLOW_ARGS = [
    "--pde",
    "darcy",
    "--grid",
    "24",
    "--k",
    "8",
    "--n-train",
    "60",
    "--n-val",
    "4",
    "--n-test",
    "4",
    "--samples-per-shard",
    "2",
    "--no-progress",
]


def _wait_for_some_shards(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            done = zarr.open_group(str(path), mode="r")["train"]["shard_done"][...]
            if done.sum() >= 3:
                return
        except Exception:  # noqa: BLE001  (store not created yet)
            pass
        time.sleep(0.05)
    raise AssertionError("generation made no progress")


@pytest.mark.parametrize(
    ("sig", "workers"), [(signal.SIGKILL, "1"), (signal.SIGINT, "2"), (signal.SIGTERM, "2")]
)
def test_resume_after_interruption_equals_uninterrupted_run(tmp_path, cli_env, sig, workers):
    path = tmp_path / "killed.zarr"
    proc = _cli(
        [*SLOW_ARGS, "--workers", workers, "--out", str(path)], cli_env, start_new_session=True
    )
    _wait_for_some_shards(path, proc)
    if sig == signal.SIGKILL:  # kill -9 the whole process group, workers included
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    done = zarr.open_group(str(path), mode="r")["train"]["shard_done"][...]
    assert 0 < done.sum() < len(done), "interrupt came too late to test resuming"

    resumed = _cli([*SLOW_ARGS, "--workers", "1", "--out", str(path)], cli_env)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert "already done" in out and "store complete" in out
    assert int(out.split("wrote ")[1].split()[0]) < 68  # completed shards were not redone

    reference = _cli([*SLOW_ARGS, "--workers", "2", "--out", str(tmp_path / "ref.zarr")], cli_env)
    assert reference.wait(timeout=120) == 0
    assert_same_contents(str(path), str(tmp_path / "ref.zarr"))


def test_refuses_to_mix_parameters_and_overwrite_replaces(tiny_store, tmp_path):
    import shutil

    path = tmp_path / "mix.zarr"
    shutil.copytree(tiny_store, path)
    base = [
        "--pde",
        "darcy",
        "--grid",
        "12",
        "--k",
        "6",
        "--n-train",
        "10",
        "--n-val",
        "5",
        "--n-test",
        "3",
        "--samples-per-shard",
        "4",
        "--no-progress",
        "--out",
        str(path),
    ]
    with pytest.raises(SystemExit) as info:
        main([*base[:-2], "--seed", "1", "--out", str(path)])
    assert info.value.code == 2
    assert main([*base, "--seed", "1", "--overwrite"]) == 0
    assert open_dataset(str(path)).attrs["seed"] == 1


BAD_INPUTS = [
    (["--pde", "poisson"], "'poisson'"),
    (["--grid", "7"], "grid must be >= 8, got 7"),
    (["--k", "144"], "got k=144"),
    (["--n-val", "-2"], "n_val must be >= 0, got -2"),
    (["--workers", "0"], "workers must be >= 1, got 0"),
    (["--shard", "2/2"], "'2/2'"),
    (["--grid", "x"], "invalid int value: 'x'"),
    (["--rhs", "zeros"], "'zeros'"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "never.zarr"
    args = [
        "--pde",
        "darcy",
        "--grid",
        "12",
        "--k",
        "6",
        "--n-train",
        "4",
        "--n-val",
        "2",
        "--n-test",
        "2",
        "--out",
        str(out),
        *extra,
    ]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_output_that_is_not_our_store_is_refused(tmp_path, capsys):
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious")
    for target in (foreign, foreign / "keep.txt"):
        with pytest.raises(SystemExit) as info:
            main(
                [
                    *SMALL,
                    "--out",
                    str(target),
                    "--overwrite",
                ]
            )
        assert info.value.code == 2
        assert "is not an nk_lightning dataset store" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.txt"]


def test_overwrite_with_shard_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(
            [
                *SMALL,
                "--out",
                str(tmp_path / "x.zarr"),
                "--overwrite",
                "--shard",
                "0/2",
            ]
        )
    assert "--overwrite cannot be combined with --shard" in capsys.readouterr().err
    assert not (tmp_path / "x.zarr").exists()


def test_config_file_and_overrides(tmp_path):
    yaml_path = tmp_path / "d.yaml"
    yaml_path.write_text(
        "pde: heat\ngrid: 16\nk: 5\nn_train: 3\nn_val: 1\nn_test: 1\n"
        "out: somewhere.zarr\npde_params: {tau: 4.0}\n"
    )
    cfg = load_data_config(yaml_path, grid=20, out=None)
    assert cfg.spec.grid == 20 and cfg.out == "somewhere.zarr"
    assert cfg.spec.resolved_params() == {"alpha": 2.0, "tau": 4.0}
    yaml_path.write_text(
        "pde: heat\ngrid: 16\nk: 5\nn_train: 3\nn_val: 1\nn_test: 1\nout: x.zarr\nbatch: 3\n"
    )
    with pytest.raises(ValueError, match="unknown data config key 'batch'"):
        load_data_config(yaml_path)


def test_shipped_data_configs_are_valid():
    configs = sorted((REPO / "configs" / "data").glob("*.yaml"))
    assert len(configs) >= 7
    for path in configs:
        cfg = load_data_config(path)
        assert cfg.out.startswith("datasets/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to generate: give --config"),
        (["--pde", "poisson"], "unknown pde 'poisson'"),
    ],
)
def test_incomplete_command_names_what_is_missing(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [("pde: darcy\ngrid: [64\n", "is not valid YAML (line 3)"), ("- darcy\n", "must be a mapping")],
)
def test_malformed_data_config_is_one_line_exit_2(tmp_path, capsys, content, message):
    cfg = tmp_path / "data.yaml"
    cfg.write_text(content)
    with pytest.raises(SystemExit) as info:
        main(["--config", str(cfg), "--out", str(tmp_path / "never.zarr")])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "never.zarr").exists()
