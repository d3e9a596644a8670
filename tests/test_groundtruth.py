"""Ground-truth eigenpairs: correct, checked, deterministic, failing loudly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from nk_lightning.data.groundtruth import eigen_residuals, smallest_eigenpairs
from nk_lightning.errors import GroundTruthError
from nk_lightning.pdes import get_pde


@pytest.mark.parametrize("name", ["darcy", "heat", "helmholtz"])
def test_eigenpairs_match_dense_solver_and_pass_the_check(name):
    A = get_pde(name).sample(np.random.default_rng(1), 14).A
    res = smallest_eigenpairs(A, 8, v0=np.ones(A.shape[0]))
    w, V = sla.eigh(A.toarray())
    np.testing.assert_allclose(res.eigvals, w[:8], rtol=1e-10)
    assert np.all(np.diff(res.eigvals) > 0)
    assert sla.subspace_angles(res.eigvecs, V[:, :8]).max() < 1e-8
    assert res.residual <= 1e-8
    np.testing.assert_allclose(eigen_residuals(A, res.eigvals, res.eigvecs).max(), res.residual)
    np.testing.assert_allclose(res.eigvecs.T @ res.eigvecs, np.eye(8), atol=1e-10)
    # deterministic sign: the largest-magnitude entry of each column is positive
    rows = np.abs(res.eigvecs).argmax(axis=0)
    assert np.all(res.eigvecs[rows, np.arange(8)] > 0)


def test_failed_residual_check_names_the_sample():
    A = get_pde("darcy").sample(np.random.default_rng(0), 10).A
    with pytest.raises(GroundTruthError, match="train sample 3: eigenpair .* relative residual"):
        smallest_eigenpairs(A, 4, v0=np.ones(100), residual_limit=1e-30, label="train sample 3")


def test_singular_matrix_fails_loudly():
    A = sp.csr_array(np.diag([0.0, 1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(GroundTruthError, match="singular"):
        smallest_eigenpairs(A, 2, v0=np.ones(5), label="bad")


def test_k_out_of_range():
    A = get_pde("darcy").sample(np.random.default_rng(0), 8).A
    with pytest.raises(ValueError, match="64"):
        smallest_eigenpairs(A, 64)
