"""Issue 7 baselines: CG, Gauss-Seidel, LU, AMG-CG, the solution network and its methods."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from nk_lightning.data import open_dataset
from nk_lightning.evaluate import main as evaluate_main
from nk_lightning.evaluation import EvalSettings, MethodContext, run_cases
from nk_lightning.evaluation.pipeline import build_cases
from nk_lightning.fit import main as fit_main
from nk_lightning.metrics import batched_csr_matvec, relative_residual
from nk_lightning.pdes import get_pde
from nk_lightning.solvers import cg, gauss_seidel

from .conftest import REPO, TINY_MODEL_ARGS, make_store, tiny_data_yaml


@pytest.fixture(scope="module")
def darcy24():
    A = get_pde("darcy").sample(np.random.default_rng(2), 24).A
    return A, np.ones(A.shape[0])


@pytest.mark.parametrize("M", ["none", "jacobi", "icc", "sor"])
def test_cg_converges_and_matches_scipy(darcy24, M):
    A, b = darcy24
    res = cg(A, b, M=M, rtol=1e-10)
    assert res.converged and res.true_residual <= 1e-10
    np.testing.assert_allclose(res.x, spla.spsolve(A.tocsc(), b), rtol=1e-7)
    if M == "none":
        its = []
        spla.cg(A, b, rtol=1e-10, callback=lambda xk: its.append(1), maxiter=10_000)
        assert abs(res.iterations - len(its)) <= 2


def test_cg_reports_breakdown_on_indefinite_matrices():
    A = sp.csr_array(np.diag([1.0, -2.0, 3.0, 4.0]))
    res = cg(A, np.ones(4), rtol=1e-10)
    assert not res.converged and res.reason == "breakdown"


def test_gauss_seidel_converges_or_reports_its_cap():
    A = get_pde("darcy").sample(np.random.default_rng(0), 8).A
    b = np.ones(64)
    res = gauss_seidel(A, b, rtol=1e-6, maxiter=5000)
    assert res.converged and res.true_residual <= 1e-6
    capped = gauss_seidel(A, b, rtol=1e-12, maxiter=20)
    assert not capped.converged and capped.iterations == 20 and capped.reason == "maxiter"


def test_store_with_solutions(tmp_path, tiny_store):
    path = make_store(tmp_path / "x.zarr", solutions=True)
    ds = open_dataset(path)
    assert ds.spec.solutions and "x_rms" in ds.normalization and "b_rms" in ds.normalization
    arr = ds.split("val")
    A, b = ds.system("val", 2)
    np.testing.assert_allclose(A @ arr.x[2], b, rtol=0, atol=1e-9 * np.linalg.norm(b))
    # the same systems as the store without solutions, whose identity is unchanged
    plain = open_dataset(tiny_store)
    np.testing.assert_array_equal(plain.split("val").A_data[2], arr.A_data[2])
    assert "solutions" not in plain.attrs["spec"]


def test_batched_sparse_product_and_residual(tiny_store):
    ds = open_dataset(tiny_store)
    indptr, indices = (torch.as_tensor(t, dtype=torch.long) for t in ds.pattern)
    data = torch.as_tensor(ds.split("train").A_data[:3])
    x = torch.randn(3, 144, dtype=torch.float64)
    got = batched_csr_matvec(indptr, indices, data, x)
    for i in range(3):
        np.testing.assert_allclose(got[i].numpy(), ds.matrix(data[i].numpy()) @ x[i].numpy())
    b = torch.as_tensor(ds.split("train").b[:3])
    exact = torch.as_tensor(
        np.stack([spla.spsolve(ds.matrix(data[i].numpy()).tocsc(), b[i].numpy()) for i in range(3)])
    )
    assert relative_residual(indptr, indices, data, exact, b).max() < 1e-10


@pytest.fixture(scope="module")
def solution_setup(tmp_path_factory, tiny_store):
    tmp = tmp_path_factory.mktemp("sol")
    store = make_store(tmp / "x.zarr", solutions=True)
    cfg = tiny_data_yaml(tmp / "data.yaml", store, solutions=True)
    return tmp, cfg


@pytest.mark.parametrize("loss", ["supervised", "residual"])
def test_solution_module_trains_with_both_losses(solution_setup, monkeypatch, loss):
    tmp, cfg = solution_setup
    monkeypatch.chdir(tmp)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.delenv("NK_RUN_NAME", raising=False)
    args = [
        "-c",
        str(REPO / "configs" / "solution.yaml"),
        "--data.config",
        str(cfg),
        *TINY_MODEL_ARGS,
    ]
    args += ["--model.loss", loss, "--data.batch_size", "4", "--trainer.max_epochs", "2"]
    assert fit_main([*args, "--run_name", loss]) == 0
    ckpt = torch.load(tmp / "checkpoints" / loss / "last.ckpt", weights_only=True)
    assert ckpt["hyper_parameters"]["loss"] == loss
    assert (
        ckpt["nk_best"]["val/relative_error"] > 0 and ckpt["nk_best"]["val/relative_residual"] > 0
    )
    from nk_lightning.tasks import SolutionModule

    model = SolutionModule.load_from_checkpoint(tmp / "checkpoints" / loss / "last.ckpt")
    assert model(torch.ones(2, 1, 12, 12)).shape == (2, 144)


def test_evaluate_with_every_baseline(solution_setup, tiny_checkpoint, tmp_path, monkeypatch):
    tmp, _ = solution_setup
    sol = tmp / "checkpoints" / "supervised" / "last.ckpt"
    if not sol.is_file():
        pytest.skip("needs test_solution_module_trains_with_both_losses[supervised]")
    monkeypatch.setenv("NK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "eval"
    methods = [
        "gmres",
        "neurkitt",
        "warmstart",
        "neurkitt+warmstart",
        "direct_nn",
        "lu",
        "cg",
        "gauss_seidel",
        "amg_cg",
    ]
    store = tmp / "x.zarr"
    assert (
        evaluate_main(
            [
                "--ckpt",
                tiny_checkpoint,
                "--solution-ckpt",
                str(sol),
                "--data",
                str(store),
                "--methods",
                *methods,
                "--preconditioners",
                "none",
                "asm",
                "--tolerances",
                "1e-6",
                "--reps",
                "1",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    records = json.loads((out / "results.json").read_text())["records"]
    seen = {(r["method"], r["preconditioner"]) for r in records}
    for m in methods:
        assert (m, "none") in seen
    assert ("cg", "asm") not in seen and ("lu", "asm") not in seen  # not applicable
    assert ("warmstart", "asm") in seen
    for r in records:
        if r["method"] in ("lu", "amg_cg", "cg"):  # they stop on the true residual
            assert r["converged"] and r["true_residual"] <= 1e-6
        if r["method"] == "gmres":  # left preconditioning: the preconditioned residual
            assert r["converged"] and r["precond_residual"] <= 1e-6
        if r["method"] == "direct_nn":
            assert r["iterations"] == 0 and "relative_error" in r and r["inference_time"] > 0
        if r["method"] == "lu":
            assert r["setup_time"] > 0 and r["inference_time"] == 0
    assert "| direct_nn |" in (out / "table.md").read_text()


def test_solution_methods_need_a_solution_checkpoint(tiny_checkpoint, tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate_main(
            [
                "--ckpt",
                tiny_checkpoint,
                "--methods",
                "gmres",
                "warmstart",
                "--out",
                str(tmp_path / "e"),
            ]
        )
    assert "need a solution network: pass --solution-ckpt" in capsys.readouterr().err


def _records_by_key(cases, methods):
    """Records of ``methods`` with none and ilu at 1e-8, keyed by (system, method, pc)."""
    settings = EvalSettings(
        methods=methods, preconditioners=["none", "ilu"], tolerances=[1e-8], reps=1
    )
    records = run_cases(cases, settings, MethodContext(k=6), progress=False)
    return {(r["system"], r["method"], r["preconditioner"]): r for r in records}


def test_classical_methods_on_cases(tiny_store):
    store = open_dataset(tiny_store)
    cases = build_cases(store, "val", [0, 1], None, None, k=6)
    by = _records_by_key(cases, ["gmres", "lu", "cg", "amg_cg", "gauss_seidel"])
    assert (0, "lu", "ilu") not in by and (0, "cg", "ilu") in by
    for i in (0, 1):
        assert by[(i, "amg_cg", "none")]["iterations"] < by[(i, "cg", "none")]["iterations"]
        assert by[(i, "cg", "ilu")]["iterations"] < by[(i, "cg", "none")]["iterations"]
        assert by[(i, "gauss_seidel", "none")]["converged"]


def test_gcrot_methods_count_like_gcrodr(cases_with_prediction):
    cases = cases_with_prediction
    by = _records_by_key(cases, ["gmres", "gcrot", "neurkitt_gcrot"])
    assert (0, "gcrot", "ilu") not in by  # true-residual norm: only without a preconditioner
    for i in range(len(cases)):
        seeded, plain = by[(i, "neurkitt_gcrot", "none")], by[(i, "gcrot", "none")]
        assert seeded["converged"] and plain["converged"]
        assert seeded["true_residual"] <= 1e-8
        assert seeded["iterations"] < plain["iterations"]
        assert seeded["n_matvec"] == seeded["iterations"] + 6  # + the k products C = A U
        assert seeded["inference_time"] > 0 and plain["inference_time"] == 0


@pytest.fixture
def cases_with_prediction(tiny_store):
    store = open_dataset(tiny_store)
    V = store.split("val").eigvecs[:3]
    noisy = V + 0.02 * np.random.default_rng(0).standard_normal(V.shape)
    return build_cases(store, "val", [0, 1, 2], noisy.astype(np.float32), np.full(3, 1e-3), k=6)
