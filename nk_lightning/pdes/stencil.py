"""Five-point finite-volume diffusion stencil on the unit square, assembled without loops.

Unknowns are the ``g x g`` interior nodes of a ``(g+2) x (g+2)`` grid with spacing
``h = 1/(g+1)``, numbered row-major (the last grid index runs fastest): node ``(i, j)`` is
unknown ``i * g + j``. The same ordering is used for right-hand sides, eigenvectors and the
network output everywhere in nk_lightning.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp

__all__ = ["diffusion_matrix", "grid_pattern", "with_diagonal"]


@lru_cache(maxsize=16)
def _layout(g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR structure of the 5-point stencil and a mask of present (node, slot) pairs.

    Slots per node, in increasing column order: north ``(i-1, j)``, west ``(i, j-1)``,
    centre, east ``(i, j+1)``, south ``(i+1, j)``.
    """
    i, j = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
    present = np.stack([i > 0, j > 0, np.ones_like(i, bool), j < g - 1, i < g - 1], axis=-1)
    node = i * g + j
    cols = np.stack([node - g, node - 1, node, node + 1, node + g], axis=-1)
    counts = present.reshape(g * g, 5).sum(axis=1)
    indptr = np.zeros(g * g + 1, dtype=np.int32)
    np.cumsum(counts, out=indptr[1:])
    indices = cols[present].astype(np.int32)
    for arr in (indptr, indices, present):
        arr.flags.writeable = False
    return indptr, indices, present


def grid_pattern(g: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the shared CSR ``(indptr, indices)`` of every matrix on a ``g x g`` grid.

    Parameters
    ----------
    g : int
        Interior grid points per side.

    Returns
    -------
    indptr : numpy.ndarray
        Shape ``(g*g + 1,)``, int32.
    indices : numpy.ndarray
        Shape ``(nnz,)``, int32, with ``nnz = 5 g^2 - 4 g``; sorted within each row.
    """
    indptr, indices, _ = _layout(g)
    return indptr, indices


def diffusion_matrix(a: np.ndarray) -> sp.csr_array:
    """Assemble ``-div(a grad u)`` with zero Dirichlet boundary conditions.

    Face coefficients are arithmetic averages of the two adjacent nodal values of ``a``; the
    matrix is scaled by ``(g+1)^2 = 1/h^2``. This is the stencil, averaging and scaling of the
    NeurKItt data generators, with the row-major unknown ordering described in the module
    docstring (the paper's code numbers the first grid index fastest, so our matrix for ``a``
    equals its matrix for ``a.T``).

    Parameters
    ----------
    a : numpy.ndarray
        Nodal coefficient on the full ``(g+2, g+2)`` grid including the boundary ring,
        positive.

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(g^2, g^2)``, float64, symmetric, positive definite for positive ``a``, with the
        sparsity pattern :func:`grid_pattern` ``(g)``.

    Examples
    --------
    >>> import numpy as np
    >>> A = diffusion_matrix(np.ones((6, 6)))
    >>> A.shape, float(A[0, 0]), float(A[0, 1])
    ((16, 16), 100.0, -25.0)
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 3:
        raise ValueError(f"coefficient must be a square (g+2, g+2) array, got shape {a.shape}")
    g = a.shape[0] - 2
    ax = 0.5 * (a[:-1, 1:-1] + a[1:, 1:-1])  # faces between full rows I and I+1, (g+1, g)
    ay = 0.5 * (a[1:-1, :-1] + a[1:-1, 1:])  # faces between full columns J and J+1, (g, g+1)
    north, south = ax[:-1], ax[1:]
    west, east = ay[:, :-1], ay[:, 1:]
    slots = np.stack([-north, -west, north + south + west + east, -east, -south], axis=-1)
    indptr, indices, present = _layout(g)
    data = slots[present] * float((g + 1) ** 2)
    return sp.csr_array((data, indices, indptr), shape=(g * g, g * g))


def with_diagonal(A: sp.csr_array, d: np.ndarray) -> sp.csr_array:
    """Return ``A + diag(d)`` for a matrix with the 5-point pattern, keeping the pattern.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Output of :func:`diffusion_matrix`, shape ``(n, n)``.
    d : numpy.ndarray
        Diagonal values, any shape with ``n`` elements, taken in row-major order.
    """
    g = int(round(np.sqrt(A.shape[0])))
    _, _, present = _layout(g)
    slot = np.zeros(present.shape, dtype=np.float64)
    slot[..., 2] = np.asarray(d, dtype=np.float64).reshape(g, g)
    data = A.data + slot[present]
    return sp.csr_array((data, A.indices, A.indptr), shape=A.shape)
