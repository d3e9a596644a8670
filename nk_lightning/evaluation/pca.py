"""The PCA baseline subspace: top-k principal directions of the training eigenvectors."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..data.store import SubspaceStore

__all__ = ["pca_basis", "randomized_range"]


def randomized_range(
    blocks, n: int, k: int, *, oversample: int = 10, power: int = 2, seed: int = 0
) -> np.ndarray:
    """Top-``k`` left singular vectors of ``Y = [Y_1, Y_2, ...]`` streamed block by block.

    Randomized subspace iteration (Halko, Martinsson, Tropp 2011, Alg. 4.4): each pass reads
    every block once, so ``Y`` (``n`` x all columns) is never formed.

    Parameters
    ----------
    blocks : callable
        ``blocks()`` returns a fresh iterator of ``(n, m_i)`` float arrays.
    n, k : int
    oversample, power : int
        Extra sketch columns and power iterations.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, k)``, orthonormal columns.
    """
    rng = np.random.default_rng(seed)
    p = k + oversample
    Z = np.zeros((n, p))
    for Y in blocks():  # Z = Y Omega
        Z += Y @ rng.standard_normal((Y.shape[1], p))
    Q = np.linalg.qr(Z)[0]
    for _ in range(power):  # Q <- orth(Y Y^T Q)
        Z = np.zeros((n, p))
        for Y in blocks():
            Z += Y @ (Y.T @ Q)
        Q = np.linalg.qr(Z)[0]
    G = np.zeros((p, p))  # B B^T with B = Q^T Y
    for Y in blocks():
        B = Q.T @ Y
        G += B @ B.T
    w, S = np.linalg.eigh(G)
    return Q @ S[:, np.argsort(w)[::-1][:k]]


def _cache_dir() -> Path:
    return Path(os.environ.get("NK_CACHE_DIR", Path.home() / ".cache" / "nk_lightning"))


def pca_basis(
    store: SubspaceStore, k: int, *, split: str = "train", cache: bool = True
) -> np.ndarray:
    """Orthonormal basis of the ``k`` principal directions of all training eigenvectors.

    The subspace spanned by the uncentred SVD of ``[V_1, ..., V_N]`` (the stored eigenvectors of
    every training system): one fixed subspace, no network (Trivedi et al., Sci. Rep. 9, 2019,
    use the same idea with solution snapshots). Cached on disk per dataset and ``k`` in
    ``$NK_CACHE_DIR`` (default ``~/.cache/nk_lightning``).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, k)``, float64.
    """
    key = hashlib.sha256(json.dumps([store.attrs["spec"], split, k], sort_keys=True).encode())
    path = _cache_dir() / "pca" / f"{key.hexdigest()[:24]}.npy"
    if cache and path.is_file():
        return np.load(path)
    arr = store.split(split)
    kk = min(k, store.k)
    S = store.samples_per_shard
    N = len(arr)
    if N == 0:
        raise ValueError(f"the {split} split is empty; the PCA baseline needs training data")

    def blocks():
        for start in range(0, N, S):
            V = arr.eigvecs[start : min(start + S, N)][..., :kk].astype(np.float64)
            yield V.transpose(1, 0, 2).reshape(store.n, -1)

    basis = randomized_range(blocks, store.n, k)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, basis)
        os.replace(tmp, path)
    return basis
