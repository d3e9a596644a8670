"""A torch Dataset over one split of a store, reading shard-locally in batches."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .store import SplitArrays, open_dataset

__all__ = ["SubspaceDataset"]


class SubspaceDataset(Dataset):
    """Samples ``{"coef", "eigvecs", "index"}`` (and optionally ``"A_data"``, ``"b"``) of a split.

    The store is opened lazily in each process (after a fork or spawn the handle is reopened,
    and pickling drops it). ``__getitems__`` serves a whole batch with one read per touched
    shard and array (contiguous range within the shard), so a batch drawn by
    :class:`~nk_lightning.data.sampler.ShardAwareSampler` costs one or two store round trips
    instead of one per sample.

    Parameters
    ----------
    path : str
        Store path or URL.
    split : str
        ``train``, ``val`` or ``test``.
    n_vectors : int
        Eigenvectors returned per sample (the first ``n_vectors`` of the stored ``k``).
    with_systems : bool
        Also return the matrix values ``A_data (nnz,)`` and ``b (n,)`` (float64).
    with_solutions : bool
        Also return the exact solution ``x (n,)`` (float64; the store must have them).
    """

    def __init__(
        self,
        path: str,
        split: str,
        n_vectors: int,
        with_systems: bool = False,
        with_solutions: bool = False,
    ):
        self.path, self.split, self.n_vectors = path, split, n_vectors
        self.with_systems = with_systems
        self.with_solutions = with_solutions
        self._arrays: SplitArrays | None = None
        self._pid: int | None = None
        arrays = self.arrays
        self.length = len(arrays)
        self.samples_per_shard = int(arrays.coef.shards[0])

    @property
    def arrays(self) -> SplitArrays:
        """Array handles, (re)opened in the current process."""
        if self._arrays is None or self._pid != os.getpid():
            self._arrays = open_dataset(self.path).split(self.split)
            self._pid = os.getpid()
        return self._arrays

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_arrays"], state["_pid"] = None, None
        return state

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, torch.Tensor]]:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.length):
            raise IndexError(f"index out of range for split {self.split!r} of size {self.length}")
        arrays, k = self.arrays, self.n_vectors
        out: list[dict[str, torch.Tensor] | None] = [None] * idx.size
        shards = idx // self.samples_per_shard
        for shard in np.unique(shards):
            positions = np.flatnonzero(shards == shard)
            lo, hi = int(idx[positions].min()), int(idx[positions].max()) + 1
            block = {
                "coef": arrays.coef[lo:hi],
                "eigvecs": arrays.eigvecs[lo:hi][..., :k],
            }
            if self.with_systems:
                block["A_data"] = arrays.A_data[lo:hi]
                block["b"] = arrays.b[lo:hi]
            if self.with_solutions:
                if arrays.x is None:
                    raise ValueError(f"store {self.path!r} has no exact solutions")
                block["x"] = arrays.x[lo:hi]
            for p in positions:
                row = int(idx[p]) - lo
                sample = {
                    name: torch.from_numpy(np.ascontiguousarray(v[row]))
                    for name, v in block.items()
                }
                sample["index"] = torch.tensor(int(idx[p]))
                out[p] = sample
        return out  # type: ignore[return-value]
