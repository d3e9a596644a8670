"""PDE families: symmetric positive definite, right pattern, the paper's stencil and order."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nk_lightning.pdes import (
    available_pdes,
    diffusion_matrix,
    gaussian_random_field,
    get_pde,
    grid_pattern,
)


def paper_ordered_diffusion(c: np.ndarray) -> np.ndarray:
    """Dense reference of the NeurKItt data scripts' matrix, written as a plain loop.

    Unknown (i, j) of the interior (full-grid indices 1..g) is numbered (j-1)*g + (i-1): the
    FIRST grid index runs fastest. Faces use arithmetic averages; scaled by (g+1)^2.
    """
    K = c.shape[0]
    g = K - 2
    A = np.zeros((g * g, g * g))

    def idx(i, j):
        return (j - 1) * g + (i - 1)

    for j in range(1, K - 1):
        for i in range(1, K - 1):
            r = idx(i, j)
            for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                face = 0.5 * (c[i, j] + c[i + di, j + dj])
                A[r, r] += face
                ii, jj = i + di, j + dj
                if 1 <= ii <= K - 2 and 1 <= jj <= K - 2:
                    A[r, idx(ii, jj)] -= face
    return A * (g + 1) ** 2


def test_grf_is_seeded_and_zero_mean():
    f1 = gaussian_random_field(np.random.default_rng(3), 20, 2.0, 3.0)
    f2 = gaussian_random_field(np.random.default_rng(3), 20, 2.0, 3.0)
    f3 = gaussian_random_field(np.random.default_rng(4), 20, 2.0, 3.0)
    np.testing.assert_array_equal(f1, f2)
    assert not np.allclose(f1, f3)
    assert f1.shape == (20, 20)
    assert abs(f1.mean()) < 1e-12  # the k = 0 mode is zero
    # odd sizes are supported (the paper's sampler only handles even sizes)
    assert gaussian_random_field(np.random.default_rng(0), 21, 2.5, 7.0).shape == (21, 21)


def test_grf_spectrum_decays_as_specified():
    """Average power of mode |k|=1 vs |k|=4 matches (4 pi^2 k^2 + tau^2)^-alpha."""
    alpha, tau, size = 2.0, 3.0, 32
    rng = np.random.default_rng(0)
    power = np.zeros((size, size))
    for _ in range(400):
        power += np.abs(np.fft.fft2(gaussian_random_field(rng, size, alpha, tau))) ** 2
    ratio = power[1, 0] / power[4, 0]
    expected = ((4 * np.pi**2 * 16 + tau**2) / (4 * np.pi**2 + tau**2)) ** alpha
    assert ratio == pytest.approx(expected, rel=0.25)


@pytest.mark.parametrize("name", ["darcy", "heat", "helmholtz"])
@pytest.mark.parametrize("g", [8, 13])
def test_matrix_is_spd_csr_with_shared_pattern(name, g):
    pde = get_pde(name)
    s = pde.sample(np.random.default_rng(g), g)
    A = s.A
    assert isinstance(A, sp.csr_array) and A.dtype == np.float64
    assert A.shape == (g * g, g * g) and A.nnz == 5 * g * g - 4 * g
    indptr, indices = grid_pattern(g)
    np.testing.assert_array_equal(A.indptr, indptr)
    np.testing.assert_array_equal(A.indices, indices)
    dense = A.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    np.linalg.cholesky(dense)  # raises unless positive definite
    assert s.coef.shape == (len(pde.channels), g, g) and s.coef.dtype == np.float32


def test_pattern_does_not_depend_on_the_sample():
    a = get_pde("heat").sample(np.random.default_rng(1), 10).A
    b = get_pde("heat").sample(np.random.default_rng(2), 10).A
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.allclose(a.data, b.data)


def test_darcy_equals_paper_matrix_of_transposed_field():
    rng = np.random.default_rng(7)
    a = np.exp(gaussian_random_field(rng, 11, 2.0, 3.0))  # g = 9, non-symmetric field
    ours = diffusion_matrix(a).toarray()
    np.testing.assert_allclose(ours, paper_ordered_diffusion(a.T), rtol=1e-14, atol=0)
    assert not np.allclose(ours, paper_ordered_diffusion(a))  # the orders really differ


def test_darcy_sample_matrix_is_diffusion_of_its_field():
    g = 10
    rng = np.random.default_rng(5)
    a = np.exp(gaussian_random_field(np.random.default_rng(5), g + 2, 2.0, 3.0))
    s = get_pde("darcy").sample(rng, g)
    np.testing.assert_allclose(s.A.toarray(), diffusion_matrix(a).toarray(), rtol=1e-14)
    np.testing.assert_allclose(s.coef[0], a[1:-1, 1:-1].astype(np.float32))


def test_heat_and_helmholtz_are_shifted_diffusion():
    g = 9
    heat = get_pde("heat").sample(np.random.default_rng(0), g)
    a_int, q = heat.coef.astype(np.float64)
    assert q.min() >= 0 and q.max() <= 1
    offdiag = heat.A - sp.diags_array(heat.A.diagonal())
    # the reaction term only changes the diagonal, in row-major node order
    rng = np.random.default_rng(0)
    a = np.exp(gaussian_random_field(rng, g + 2, 2.0, 3.0))
    darcy = diffusion_matrix(a)
    darcy_offdiag = darcy - sp.diags_array(darcy.diagonal())
    np.testing.assert_allclose(offdiag.toarray(), darcy_offdiag.toarray())
    np.testing.assert_allclose(heat.A.diagonal() - darcy.diagonal(), q.ravel(), rtol=1e-6)

    helm = get_pde("helmholtz").sample(np.random.default_rng(0), g)
    lap = diffusion_matrix(np.ones((g + 2, g + 2)))
    p = helm.coef[0].astype(np.float64).ravel()
    assert p.min() > 0
    np.testing.assert_allclose((helm.A - lap).toarray(), np.diag(p), rtol=1e-6, atol=1e-6)


def test_unknown_pde_and_parameter_are_named():
    with pytest.raises(ValueError, match="'poisson'"):
        get_pde("poisson")
    with pytest.raises(ValueError, match="'beta'"):
        get_pde("darcy").sample(np.random.default_rng(0), 8, {"beta": 1.0})
    assert available_pdes() == ["darcy", "heat", "helmholtz"]
