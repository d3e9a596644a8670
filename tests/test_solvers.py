"""GMRES(m) and GCRO-DR: agreement with scipy, equivalences, the NeurKItt claims with exact
eigenvectors, convergence honesty, non-symmetric systems, robustness to a bad U."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nk_lightning.data.groundtruth import smallest_eigenpairs
from nk_lightning.pdes import get_pde
from nk_lightning.solvers import PRECONDITIONERS, gcrodr, gmres, make_preconditioner


def darcy(g: int, seed: int = 0) -> sp.csr_array:
    return get_pde("darcy").sample(np.random.default_rng(seed), g).A


def convection_diffusion(g: int, beta: float = 40.0) -> sp.csr_array:
    """-Laplace u + beta (u_x + u_y), first-order upwind, on a g x g grid: non-symmetric."""
    h = 1.0 / (g + 1)
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(g, g)) / h**2
    D = sp.diags_array([-1.0, 1.0], offsets=[-1, 0], shape=(g, g)) / h
    I = sp.eye_array(g)
    return sp.csr_array(sp.kron(I, T) + sp.kron(T, I) + beta * (sp.kron(I, D) + sp.kron(D, I)))


@pytest.fixture(scope="module")
def d32():
    A = darcy(32)
    return A, np.ones(A.shape[0])


# -- agreement with scipy ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["none", "jacobi", "ilu"])
def test_residual_history_matches_scipy_gmres(d32, name):
    A, b = d32
    M = make_preconditioner(name, A)
    ours = gmres(A, b, M=M, restart=40, rtol=1e-8)
    hist = []
    spla.gmres(
        A,
        b,
        M=M.as_linear_operator(),
        restart=40,
        rtol=1e-8,
        maxiter=10_000,
        callback=hist.append,
        callback_type="pr_norm",
    )
    # scipy divides the preconditioned estimate by ||b||, we by ||M^-1 b||
    scale = np.linalg.norm(M(b)) / np.linalg.norm(b)
    first = min(80, len(hist), ours.iterations)  # the first two cycles
    np.testing.assert_allclose(ours.residuals[1 : first + 1] * scale, hist[:first], rtol=1e-6)
    if name == "none":  # identical conventions (inner and outer tests coincide)
        assert abs(ours.iterations - len(hist)) <= 0.02 * len(hist)


def test_iteration_count_matches_scipy_on_nonsymmetric():
    A = convection_diffusion(30)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    ours = gmres(A, b, restart=30, rtol=1e-9)
    hist = []
    x, info = spla.gmres(
        A, b, restart=30, rtol=1e-9, maxiter=10_000, callback=hist.append, callback_type="pr_norm"
    )
    assert info == 0 and ours.converged
    assert abs(ours.iterations - len(hist)) <= 0.02 * len(hist)
    np.testing.assert_allclose(ours.x, x, rtol=1e-6, atol=1e-9 * np.abs(x).max())


# -- equivalences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "side"), [("none", "left"), ("jacobi", "left"), ("ilu", "left"), ("sor", "right")]
)
def test_gcrodr_without_recycling_is_gmres_iterate_by_iterate(d32, name, side):
    A, b = d32
    ref = gmres(A, b, M=name, side=side, restart=40, rtol=1e-9)
    got = gcrodr(A, b, M=name, side=side, m=40, k=0, rtol=1e-9)
    np.testing.assert_array_equal(got.residuals, ref.residuals)
    np.testing.assert_array_equal(got.x, ref.x)
    assert got.iterations == ref.iterations and got.recycle_dim == 0


def test_fixed_and_recycled_exact_space_agree(d32):
    """An exact invariant subspace is kept by the harmonic Ritz update."""
    A, b = d32
    V = sla.eigh(A.toarray())[1][:, :10]
    res = gcrodr(A, b, U=V, rtol=1e-10)
    assert res.converged and res.recycle_dim == 10
    assert res.n_cycles > 1  # at least one recycle update happened
    assert sla.subspace_angles(V, res.U).max() < 1e-6


# -- NeurKItt claims with the exact eigenvectors -----------------------------------------


@pytest.fixture(scope="module")
def darcy128():
    A = darcy(128)
    n = A.shape[0]
    V = smallest_eigenpairs(A, 20, v0=np.ones(n)).eigvecs
    b = np.ones(n)
    return A, b, V, gmres(A, b, rtol=1e-8), gcrodr(A, b, rtol=1e-8)


def test_exact_eigenvectors_beat_gmres_and_recycling_alone(darcy128):
    A, b, V, plain, recycle_only = darcy128
    oracle = gcrodr(A, b, U=V, rtol=1e-8)
    assert oracle.converged and plain.converged and recycle_only.converged
    assert oracle.iterations < recycle_only.iterations
    # measured 7.7x here (7.2x-7.7x over 8 Darcy samples): the 8x target is not met
    # and this guard is the measured level, not the target (see the closing note of issue 3)
    assert plain.iterations / oracle.iterations >= 7.5


@pytest.mark.xfail(strict=True, reason="target of issue 3 not reached: measured 7.7x, not 8x")
def test_exact_eigenvectors_give_8x_fewer_iterations(darcy128):
    A, b, V, plain, _ = darcy128
    assert plain.iterations / gcrodr(A, b, U=V, rtol=1e-8).iterations >= 8


def _rotate(V: np.ndarray, W: np.ndarray, angle: float) -> np.ndarray:
    """Rotate span(V) by ``angle`` towards the orthonormal W (all principal angles = angle)."""
    return V * np.cos(angle) + W * np.sin(angle)


def test_rotated_eigenvectors_degrade_gracefully(darcy128):
    A, b, V, _, recycle_only = darcy128
    n = A.shape[0]
    W = np.random.default_rng(1).standard_normal((n, V.shape[1]))
    W = np.linalg.qr(W - V @ (V.T @ W))[0]
    its = [gcrodr(A, b, U=V, rtol=1e-8).iterations]
    for angle in (0.01, 0.03, 0.1, 0.3, 1.0):
        U = _rotate(V, W, angle)
        assert sla.subspace_angles(U, V).max() == pytest.approx(angle, rel=1e-6)
        res = gcrodr(A, b, U=U, rtol=1e-8)
        assert res.converged
        its.append(res.iterations)
        assert res.iterations <= 1.10 * recycle_only.iterations
    assert its[1] < recycle_only.iterations  # a small error still helps
    assert all(a <= b * 1.05 for a, b in zip(its, its[1:], strict=False))  # monotone-ish


# -- convergence honesty -----------------------------------------------------------------


@pytest.mark.parametrize("rtol", [1e-2, 1e-4, 1e-7, 1e-10, 1e-12])
@pytest.mark.parametrize(("name", "side"), [("none", "left"), ("ilu", "left"), ("jacobi", "right")])
def test_reported_convergence_holds_for_the_recomputed_residual(d32, rtol, name, side):
    A, b = d32
    V = smallest_eigenpairs(A, 8, v0=np.ones(A.shape[0])).eigvecs
    for res in (
        gmres(A, b, M=name, side=side, rtol=rtol),
        gcrodr(A, b, M=name, side=side, rtol=rtol),
        gcrodr(A, b, U=V, M=name, side=side, rtol=rtol),
    ):
        assert res.converged, res.summary()
        assert res.true_precond_residual <= rtol
        if name == "none" or side == "right":  # the solver's norm is the true norm
            assert res.true_residual <= rtol * (1 + 1e-6)
        assert res.residuals[-1] <= rtol * 1.0000001 or res.true_precond_residual <= rtol


@pytest.mark.parametrize("method", ["gmres", "gcrodr", "gcrodr_U"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_nonsymmetric_convection_diffusion(method, side):
    A = convection_diffusion(24)
    n = A.shape[0]
    b = np.random.default_rng(1).standard_normal(n)
    x_ref = spla.spsolve(A.tocsc(), b)
    if method == "gmres":
        res = gmres(A, b, M="ilu", side=side, rtol=1e-10)
    elif method == "gcrodr":
        res = gcrodr(A, b, M="ilu", side=side, rtol=1e-10, k=10)
    else:  # right eigenvectors of the smallest eigenvalues of the non-symmetric A
        w, V = sla.eig(A.toarray())
        U = np.real(V[:, np.argsort(np.abs(w))[:10]])
        res = gcrodr(A, b, U=U, M="ilu", side=side, rtol=1e-10)
    assert res.converged, res.summary()
    assert res.true_precond_residual <= 1e-10
    np.testing.assert_allclose(res.x, x_ref, atol=1e-6 * np.abs(x_ref).max())


def test_non_convergence_is_reported_honestly(d32):
    A, b = d32
    res = gmres(A, b, rtol=1e-12, maxiter=50)
    assert not res.converged and res.reason == "maxiter" and res.iterations == 50
    assert res.true_precond_residual > 1e-12


# -- the result record ---------------------------------------------------------------------


def test_result_fields_and_accounting(d32):
    A, b = d32
    res = gmres(A, b, M="jacobi", rtol=1e-8, restart=20)
    assert res.residuals.shape == res.times.shape == (res.iterations + 1,)
    assert res.residuals[0] == pytest.approx(1.0) and np.all(np.diff(res.times) >= 0)
    # one product per Arnoldi step plus one true residual per restart (the first is free)
    assert res.n_matvec == res.iterations + res.n_cycles
    assert res.n_precond == res.iterations + res.n_cycles + 1
    assert res.setup_time > 0 and res.solve_time > 0 and res.total_time > res.solve_time
    M = make_preconditioner("jacobi", A)
    assert gmres(A, b, M=M, rtol=1e-8).setup_time == 0.0  # prebuilt: paid elsewhere
    seen = []
    gmres(A, b, rtol=1e-3, callback=seen.append)
    assert seen and seen[-1] <= 1e-3


def test_accepts_linear_operators_and_callables(d32):
    A, b = d32
    op = spla.aslinearoperator(A)
    ref = gmres(A, b, rtol=1e-8)
    res = gmres(op, b, rtol=1e-8)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-10)
    d = A.diagonal()
    res = gcrodr(op, b, M=lambda r: r / d, rtol=1e-8)
    assert res.converged and res.preconditioner == "custom"
    with pytest.raises(ValueError, match="needs a sparse matrix"):
        gmres(op, b, M="ilu")


def test_zero_rhs_and_nonzero_initial_guess(d32):
    A, b = d32
    res = gmres(A, np.zeros_like(b))
    assert res.converged and not np.any(res.x) and res.iterations == 0
    x_true = spla.spsolve(A.tocsc(), b)
    res = gcrodr(A, b, x0=x_true + 1e-3, rtol=1e-10)
    assert res.converged
    np.testing.assert_allclose(res.x, x_true, rtol=1e-7)


# -- robustness to a poor U ----------------------------------------------------------------


def test_float32_rank_deficient_and_poor_U(d32):
    A, b = d32
    n = A.shape[0]
    V = smallest_eigenpairs(A, 10, v0=np.ones(n)).eigvecs
    good = gcrodr(A, b, U=V, rtol=1e-9)
    f32 = gcrodr(A, b, U=V.astype(np.float32), rtol=1e-9)
    assert f32.converged and f32.iterations <= good.iterations + 2
    dup = np.hstack([V[:, :5], V[:, :5] * 3.0])  # rank 5
    res = gcrodr(A, b, U=dup, rtol=1e-9)
    assert res.converged and res.recycle_dim == 10  # recycling refills k after cycle 1
    rand = np.random.default_rng(0).standard_normal((n, 10))
    baseline = gcrodr(A, b, k=10, rtol=1e-9)
    res = gcrodr(A, b, U=rand, rtol=1e-9)
    assert res.converged and res.iterations <= 1.2 * baseline.iterations


def test_zero_U_falls_back_to_gmres_with_a_warning(d32):
    A, b = d32
    with pytest.warns(RuntimeWarning, match="falling back to GMRES"):
        res = gcrodr(A, b, U=np.zeros((A.shape[0], 5)), rtol=1e-9)
    ref = gmres(A, b, rtol=1e-9)
    np.testing.assert_array_equal(res.residuals, ref.residuals)


@pytest.mark.parametrize(
    ("U", "message"),
    [
        (np.full((1024, 4), np.nan), "NaN"),
        (np.ones((1000, 4)), r"shape \(n, k\) = \(1024, k\)"),
        (np.ones((1024, 2, 2)), "shape"),
    ],
)
def test_bad_U_raises_clear_errors(d32, U, message):
    A, b = d32
    with pytest.raises(ValueError, match=message):
        gcrodr(A, b, U=U)


def test_bad_arguments(d32):
    A, b = d32
    with pytest.raises(ValueError, match="side"):
        gmres(A, b, side="both")
    with pytest.raises(ValueError, match="k must satisfy"):
        gcrodr(A, b, k=40, m=40)
    with pytest.raises(ValueError, match="shape"):
        gmres(A, b[:-1])
    with pytest.raises(ValueError, match="unknown preconditioner"):
        gmres(A, b, M="multigrid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gcrodr(A, b, U=np.ones((A.shape[0], 1)), rtol=1e-6)  # a constant vector is fine
    assert set(PRECONDITIONERS) == {"none", "jacobi", "bjacobi", "sor", "asm", "icc", "ilu"}
