"""The seven preconditioners against dense reference computations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nk_lightning.pdes import get_pde
from nk_lightning.solvers import gmres
from nk_lightning.solvers.preconditioners import (
    PRECONDITIONERS,
    make_preconditioner,
    restrict_to_blocks,
    row_blocks,
)


def dense_ilu0(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Textbook ILU(0) on the nonzero pattern of a dense matrix (KIJ order)."""
    n = D.shape[0]
    pattern, LU = D != 0, D.astype(float).copy()
    for i in range(1, n):
        for k in range(i):
            if pattern[i, k]:
                LU[i, k] /= LU[k, k]
                for j in range(k + 1, n):
                    if pattern[i, j]:
                        LU[i, j] -= LU[i, k] * LU[k, j]
    return np.tril(LU, -1) + np.eye(n), np.triu(LU)


def dense_ic0(D: np.ndarray) -> np.ndarray:
    n = D.shape[0]
    L = np.tril(D).astype(float)
    pattern = L != 0
    for i in range(n):
        for k in range(i):
            if pattern[i, k]:
                L[i, k] = (D[i, k] - L[i, :k] @ L[k, :k]) / L[k, k]
        L[i, i] = np.sqrt(D[i, i] - L[i, :i] @ L[i, :i])
    return L


@pytest.fixture(scope="module")
def darcy():
    return get_pde("darcy").sample(np.random.default_rng(0), 12).A


@pytest.fixture(scope="module")
def nonsymmetric():
    rng = np.random.default_rng(3)
    R = sp.random(70, 70, density=0.08, random_state=4, format="csr")
    return sp.csr_array(
        R + R.T * 0.3 + sp.eye(70) * 6.0 + sp.diags_array(rng.random(69), offsets=1)
    )


def test_row_blocks_follow_petsc():
    np.testing.assert_array_equal(row_blocks(10, 3), [0, 4, 7, 10])
    np.testing.assert_array_equal(np.diff(row_blocks(16384, 16)), [1024] * 16)
    with pytest.raises(ValueError, match="blocks"):
        row_blocks(4, 5)


def test_ilu0_general_pattern_matches_dense_reference(nonsymmetric):
    L, U = dense_ilu0(nonsymmetric.toarray())
    M = make_preconditioner("ilu", nonsymmetric)
    r = np.random.default_rng(0).standard_normal(70)
    np.testing.assert_allclose(M(r), np.linalg.solve(L @ U, r), rtol=1e-12)


def test_ic0_matches_dense_reference_and_equals_ilu0_on_5_point(darcy):
    L = dense_ic0(darcy.toarray())
    r = np.random.default_rng(1).standard_normal(darcy.shape[0])
    icc, ilu = make_preconditioner("icc", darcy), make_preconditioner("ilu", darcy)
    np.testing.assert_allclose(icc(r), np.linalg.solve(L @ L.T, r), rtol=1e-12)
    assert icc.shift == 0.0
    # for symmetric 5-point matrices IC(0) = ILU(0) in exact arithmetic (U = D L^T)
    np.testing.assert_allclose(icc(r), ilu(r), rtol=1e-12)


def test_block_jacobi_sor_and_asm_match_their_definitions(darcy):
    D = darcy.toarray()
    n = D.shape[0]
    r = np.random.default_rng(2).standard_normal(n)
    blocks = 4
    bounds = row_blocks(n, blocks)
    Ab = restrict_to_blocks(darcy, bounds).toarray()
    # bjacobi: ILU(0) of each diagonal block
    L, U = dense_ilu0(Ab)
    np.testing.assert_allclose(
        make_preconditioner("bjacobi", darcy, blocks=blocks)(r),
        np.linalg.solve(L @ U, r),
        rtol=1e-12,
    )
    # sor: symmetric Gauss-Seidel on each block, M = (D+L) D^-1 (D+U)
    Dg = np.diag(np.diag(Ab))
    M_sgs = (Dg + np.tril(Ab, -1)) @ np.linalg.inv(Dg) @ (Dg + np.triu(Ab, 1))
    np.testing.assert_allclose(
        make_preconditioner("sor", darcy, blocks=blocks)(r),
        np.linalg.solve(M_sgs, r),
        rtol=1e-12,
    )
    # asm: restricted additive Schwarz, overlap 1, ILU(0) per overlapping subdomain
    expected = np.zeros(n)
    g = 12
    for b in range(blocks):
        s, e = bounds[b], bounds[b + 1]
        omega = np.arange(max(s - g, 0), min(e + g, n))  # overlap 1 in natural order
        Ls, Us = dense_ilu0(D[np.ix_(omega, omega)])
        z = np.linalg.solve(Ls @ Us, r[omega])
        owned = (omega >= s) & (omega < e)
        expected[omega[owned]] = z[owned]
    np.testing.assert_allclose(
        make_preconditioner("asm", darcy, blocks=blocks)(r), expected, rtol=1e-12
    )


def test_one_block_reduces_to_global_ilu_and_sgs(darcy):
    r = np.random.default_rng(5).standard_normal(darcy.shape[0])
    ilu = make_preconditioner("ilu", darcy)(r)
    np.testing.assert_allclose(make_preconditioner("bjacobi", darcy, blocks=1)(r), ilu, rtol=1e-13)
    np.testing.assert_allclose(make_preconditioner("asm", darcy, blocks=1)(r), ilu, rtol=1e-13)


@pytest.mark.parametrize("name", PRECONDITIONERS[1:])
def test_every_preconditioner_reduces_gmres_iterations_on_darcy(name):
    A = get_pde("darcy").sample(np.random.default_rng(4), 32).A
    b = np.ones(A.shape[0])
    plain = gmres(A, b, rtol=1e-8)
    pre = gmres(A, b, M=name, rtol=1e-8)
    assert pre.converged and plain.converged
    assert pre.iterations < plain.iterations
    assert pre.setup_time > 0 and pre.preconditioner == name


def test_icc_and_ilu_agree_on_darcy():
    A = get_pde("darcy").sample(np.random.default_rng(6), 32).A
    b = np.ones(A.shape[0])
    icc, ilu = gmres(A, b, M="icc", rtol=1e-10), gmres(A, b, M="ilu", rtol=1e-10)
    assert abs(icc.iterations - ilu.iterations) <= 1
    np.testing.assert_allclose(icc.x, ilu.x, rtol=1e-8)


def test_2d_application_and_timing(darcy):
    M = make_preconditioner("ilu", darcy)
    X = np.random.default_rng(0).standard_normal((darcy.shape[0], 3))
    Y = M(X)
    np.testing.assert_allclose(Y[:, 1], M(X[:, 1]))
    assert M.n_applies == 4 and M.apply_time > 0


def test_bad_preconditioner_input():
    with pytest.raises(ValueError, match="unknown preconditioner 'amg'"):
        make_preconditioner("amg", sp.eye_array(4, format="csr"))
    with pytest.raises(ValueError, match="row 0 has no diagonal entry"):
        make_preconditioner("ilu", sp.csr_array(np.array([[0.0, 1.0], [1.0, 1.0]])))
    with pytest.raises(ValueError, match="zero pivot in row 1"):  # 1 - 1 * 1 = 0
        make_preconditioner("ilu", sp.csr_array(np.array([[1.0, 1.0], [1.0, 1.0]])))
    # icc shifts on a non-positive pivot instead of failing (PETSc's Manteuffel shift)
    indefinite = sp.csr_array(np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.5], [0.0, 0.5, 3.0]]))
    assert make_preconditioner("icc", indefinite).shift > 0
