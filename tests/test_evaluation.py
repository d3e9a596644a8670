"""Evaluation: methods, accounting, summaries, the evaluate command and the callback."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from nk_lightning.data import open_dataset
from nk_lightning.evaluate import main as evaluate_main
from nk_lightning.evaluation import EvalSettings, MethodContext, paper_table, run_cases, summarize
from nk_lightning.evaluation.pca import pca_basis
from nk_lightning.evaluation.pipeline import build_cases

from .conftest import PYTHON, TINY_MODEL_ARGS, make_store, offline_wandb_env, tiny_data_yaml

REQUIRED = {
    "system",
    "method",
    "preconditioner",
    "rtol",
    "iterations",
    "time",
    "converged",
    "true_residual",
    "setup_time",
    "inference_time",
    "solve_time",
}


@pytest.fixture(scope="module")
def cases(tiny_store):
    store = open_dataset(tiny_store)
    V = store.split("val").eigvecs[...]
    rng = np.random.default_rng(0)
    U_pred = V + 0.05 * rng.standard_normal(V.shape)  # a decent, imperfect "prediction"
    return store, build_cases(
        store, "val", list(range(5)), U_pred.astype(np.float32), np.full(5, 1e-3), k=6
    )


def test_all_methods_on_all_systems(cases, tmp_path, monkeypatch):
    monkeypatch.setenv("NK_CACHE_DIR", str(tmp_path))
    store, cs = cases
    settings = EvalSettings(
        methods=["gmres", "neurkitt", "gcrodr", "oracle", "pca"],
        preconditioners=["none", "ilu"],
        tolerances=[1e-4, 1e-8],
        reps=2,
        histories_for=0,
    )
    ctx = MethodContext(k=6, U_pca=pca_basis(store, 6))
    records = run_cases(cs, settings, ctx, progress=False)
    assert len(records) == 5 * 5 * 2 * 2
    for r in records:
        assert REQUIRED <= set(r)
        assert r["converged"] and r["precond_residual"] <= r["rtol"]
        assert r["time"] == pytest.approx(r["setup_time"] + r["inference_time"] + r["solve_time"])
        assert (r["inference_time"] > 0) == (r["method"] == "neurkitt")
    by = {(r["system"], r["method"], r["preconditioner"], r["rtol"]): r for r in records}
    for i in range(5):
        g, o = by[(i, "gmres", "none", 1e-8)], by[(i, "oracle", "none", 1e-8)]
        assert o["iterations"] < g["iterations"]
        # the same preconditioner setup is charged to every method of a system
        assert (
            by[(i, "neurkitt", "ilu", 1e-8)]["setup_time"]
            == by[(i, "gmres", "ilu", 1e-8)]["setup_time"]
        )
    assert sum("history" in r for r in records) == 5 * 2 * 2  # system 0 only


def test_parallel_workers_give_the_same_counts(cases):
    _, cs = cases
    settings = EvalSettings(methods=["gmres", "oracle"], reps=1)
    ctx = MethodContext(k=6)
    serial = run_cases(cs, settings, ctx, progress=False)
    parallel = run_cases(cs, settings, ctx, workers=2, progress=False)
    key = lambda r: (r["system"], r["method"])  # noqa: E731
    assert [(key(r), r["iterations"]) for r in sorted(serial, key=key)] == [
        (key(r), r["iterations"]) for r in sorted(parallel, key=key)
    ]


def test_nan_prediction_falls_back_to_gmres_and_is_counted(cases):
    _, cs = cases
    bad = [c for c in cs[:2]]
    saved = [c.U_pred for c in bad]
    try:
        for c in bad:
            c.U_pred = np.full_like(c.U_pred, np.nan)
        records = run_cases(
            bad,
            EvalSettings(methods=["gmres", "neurkitt"], reps=1),
            MethodContext(k=6),
            progress=False,
        )
    finally:
        for c, u in zip(bad, saved, strict=True):
            c.U_pred = u
    nk = [r for r in records if r["method"] == "neurkitt"]
    assert all(r["converged"] and "fell back to GMRES" in r["fallback"] for r in nk)
    row = next(r for r in summarize(records) if r["method"] == "neurkitt")
    assert row["fallbacks"] == 2


def test_summary_arithmetic_and_paper_table():
    recs = []
    for system, (g_its, n_its, o_its) in enumerate([(100, 20, 10), (300, 40, 30)]):
        for method, its, t in (
            ("gmres", g_its, 1.0),
            ("neurkitt", n_its, 0.5),
            ("oracle", o_its, 0.25),
        ):
            recs.append(
                {
                    "system": system,
                    "method": method,
                    "preconditioner": "none",
                    "rtol": 1e-8,
                    "iterations": its,
                    "time": t * (system + 1),
                    "solve_time": t,
                    "setup_time": 0.0,
                    "inference_time": 0.0,
                    "converged": True,
                }
            )
    rows = {r["method"]: r for r in summarize(recs)}
    assert rows["neurkitt"]["iteration_speedup"] == pytest.approx(200 / 30)
    assert rows["neurkitt"]["time_speedup"] == pytest.approx(2.0)
    assert rows["neurkitt"]["oracle_fraction"] == pytest.approx((200 - 30) / (200 - 20))
    table = paper_table(list(rows.values()), "neurkitt", "toy")
    assert table == {
        "columns": ["dataset", "preconditioner", "1e-08"],
        "data": [["toy", "none", "2.00 / 6.67"]],
    }


def test_pca_basis_is_orthonormal_cached_and_matches_the_svd(tiny_store, tmp_path, monkeypatch):
    monkeypatch.setenv("NK_CACHE_DIR", str(tmp_path))
    store = open_dataset(tiny_store)
    P = pca_basis(store, 4)
    np.testing.assert_allclose(P.T @ P, np.eye(4), atol=1e-10)
    Y = store.split("train").eigvecs[..., :4].astype(np.float64).transpose(1, 0, 2).reshape(144, -1)
    exact = np.linalg.svd(Y, full_matrices=False)[0][:, :4]
    import scipy.linalg as sla

    assert sla.subspace_angles(P, exact).max() < 1e-6
    assert len(list((tmp_path / "pca").glob("*.npy"))) == 1
    np.testing.assert_array_equal(pca_basis(store, 4), P)


def test_evaluate_command_end_to_end(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "eval"
    assert (
        evaluate_main(
            [
                "--ckpt",
                tiny_checkpoint,
                "--out",
                str(out),
                "--split",
                "test",
                "--preconditioners",
                "none",
                "jacobi",
                "--tolerances",
                "1e-4",
                "1e-8",
                "--reps",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    payload = json.loads((out / "results.json").read_text())
    assert len(payload["records"]) == 3 * 5 * 2 * 2
    assert REQUIRED <= set(payload["records"][0])
    assert {"summary", "provenance"} <= set(payload)
    prov = payload["provenance"]
    assert prov["machine"]["cpu_count"] and prov["versions"]["numpy"]
    assert prov["checkpoint"]["path"].endswith("last.ckpt") and prov["store"]["systems"] == 3
    for name in (
        "table.md",
        "report.html",
        "convergence.png",
        "speedup_neurkitt.png",
        "principal_angles.png",
    ):
        assert (out / name).stat().st_size > 0, name
    assert "time x / iterations x" in (out / "table.md").read_text()
    assert "data:image/png;base64" in (out / "report.html").read_text()
    assert "| neurkitt | none | 1e-08 |" in capsys.readouterr().out


def _nan_checkpoint(src: str, dst: Path) -> str:
    ckpt = torch.load(src, weights_only=True)
    for name, t in ckpt["state_dict"].items():
        if name.endswith("weight") and t.is_floating_point():
            t.fill_(float("nan"))
    torch.save(ckpt, dst)
    return str(dst)


def test_nan_checkpoint_is_recorded_not_fatal(tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("NK_CACHE_DIR", str(tmp_path / "cache"))
    bad = _nan_checkpoint(tiny_checkpoint, tmp_path / "nan.ckpt")
    out = tmp_path / "eval"
    assert (
        evaluate_main(
            [
                "--ckpt",
                bad,
                "--out",
                str(out),
                "--methods",
                "gmres",
                "neurkitt",
                "--reps",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    rows = json.loads((out / "results.json").read_text())["summary"]
    nk = next(r for r in rows if r["method"] == "neurkitt")
    assert nk["fallbacks"] == 3 and nk["not_converged"] == 0


@pytest.mark.parametrize("case", ["grid", "k", "no_matrices", "pc", "ckpt", "overwrite"])
def test_evaluate_bad_input(tiny_checkpoint, tiny_store, tmp_path, capsys, case):
    args = [
        "--ckpt",
        tiny_checkpoint,
        "--out",
        str(tmp_path / "eval"),
        "--reps",
        "1",
        "--no-progress",
    ]
    if case == "grid":
        args += ["--data", make_store(tmp_path / "g10.zarr", grid=10)]
        message = "trained on grid 12"
    elif case == "k":
        args += ["--data", make_store(tmp_path / "k3.zarr", k=3)]
        message = "k=6 vectors, the store holds only k=3"
    elif case == "no_matrices":
        path = tmp_path / "nomat.zarr"
        shutil.copytree(tiny_store, path)
        shutil.rmtree(path / "test" / "A_data")
        from nk_lightning.data.store import consolidate

        consolidate(str(path))
        args += ["--data", str(path)]
        message = "has no array 'test/A_data'"
    elif case == "pc":
        args += ["--preconditioners", "multigrid"]
        message = "unknown preconditioner 'multigrid'"
    elif case == "ckpt":
        args[1] = str(tmp_path / "missing.ckpt")
        message = "does not exist"
    else:
        (tmp_path / "eval").mkdir()
        (tmp_path / "eval" / "results.json").write_text("{}")
        message = "already holds results"
    with pytest.raises(SystemExit) as info:
        evaluate_main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    if case != "overwrite":
        assert not (tmp_path / "eval" / "results.json").exists()


def _fit_with_callback(tmp_path, cfg_path, extra, env):
    cmd = [
        PYTHON,
        "-m",
        "nk_lightning.fit",
        "--data.config",
        str(cfg_path),
        *TINY_MODEL_ARGS,
        "--data.batch_size",
        "2",
        "--trainer.max_epochs",
        "2",
        "--speedup.every_n_val_epochs",
        "1",
        "--speedup.n_systems",
        "5",
        "--run_name",
        "cb",
        *extra,
    ]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def cb_env(tmp_path, cli_env, tiny_store):
    env = {
        **cli_env,
        **offline_wandb_env(tmp_path / "wandb_home"),
        "NK_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("NK_RUN_NAME", None)
    return env, tiny_data_yaml(tmp_path / "data.yaml", tiny_store)


def test_callback_writes_csv_tables_and_skips_the_sanity_check(tmp_path, cb_env):
    env, cfg = cb_env
    proc = _fit_with_callback(tmp_path, cfg, [], {**env, "WANDB_MODE": "disabled"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted((tmp_path / "runs" / "cb" / "csv" / "solver_speedup").glob("step_*.json"))
    assert len(files) == 2  # after each of the 2 validation epochs, none for the sanity check
    payload = json.loads(files[-1].read_text())
    assert {r["system"] for r in payload["records"]} == set(range(5))
    assert {r["method"] for r in payload["records"]} == {
        "gmres",
        "neurkitt",
        "gcrodr",
        "oracle",
        "pca",
    }
    import csv

    with (tmp_path / "runs" / "cb" / "csv" / "metrics.csv").open() as f:
        keys = set(next(csv.DictReader(f)))
    assert "speedup/neurkitt/none/1e-08/iterations" in keys
    assert "speedup/neurkitt/none/1e-08/oracle_fraction" in keys


def test_callback_logs_wandb_tables_offline(tmp_path, cb_env):
    env, cfg = cb_env
    proc = _fit_with_callback(tmp_path, cfg, [], {**env, "WANDB_MODE": "offline"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp_path / "runs" / "cb" / "wandb").glob("offline-run-*")
    media = run / "files" / "media" / "table"
    tables = list((media / "solver").glob("speedup_table_*.table.json"))
    assert len(tables) == 2
    content = json.loads(tables[0].read_text())
    assert content["columns"] == ["dataset", "preconditioner", "1e-08"]
    assert content["data"][0][:2] == ["darcy g=12", "none"] and " / " in content["data"][0][2]
    assert list((media / "solver").glob("convergence_iterations_*.table.json"))
    assert list((media / "val").glob("principal_angles_*.table.json"))


def test_callback_under_ddp_gathers_all_systems(tmp_path, cb_env):
    env, cfg = cb_env
    proc = _fit_with_callback(
        tmp_path,
        cfg,
        ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"],
        {**env, "WANDB_MODE": "disabled"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted((tmp_path / "runs" / "cb" / "csv" / "solver_speedup").glob("step_*.json"))
    assert len(files) == 2
    systems = [
        r["system"] for r in json.loads(files[-1].read_text())["records"] if r["method"] == "gmres"
    ]
    assert sorted(systems) == list(range(5))  # rank 0 solved 0, 2, 4 and rank 1 solved 1, 3


def test_trainer_test_logs_the_angles_of_the_test_split(tiny_checkpoint, tiny_store, tmp_path):
    import pytorch_lightning as pl

    from nk_lightning.data.datamodule import SubspaceDataModule
    from nk_lightning.evaluation.predict import load_checkpoint
    from nk_lightning.metrics import principal_angles

    module = load_checkpoint(tiny_checkpoint)
    dm = SubspaceDataModule(config=str(tiny_data_yaml(tmp_path / "d.yaml", tiny_store)))
    trainer = pl.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    (logged,) = trainer.test(module, datamodule=dm, verbose=False)
    split = open_dataset(tiny_store).split("test")
    with torch.no_grad():
        Q = module(torch.from_numpy(np.asarray(split.coef[:], np.float32)))
    angles = principal_angles(Q, torch.from_numpy(np.asarray(split.eigvecs[:], np.float32)))
    assert logged["test/principal_angle_mean"] == pytest.approx(float(angles.mean()), rel=1e-5)
    expected_max = float(angles.amax(dim=1).mean())
    assert logged["test/principal_angle_max"] == pytest.approx(expected_max, rel=1e-5)
    assert logged["test/loss"] > 0
