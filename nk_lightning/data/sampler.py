"""A distributed sampler that keeps batches shard-local and never pads."""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

__all__ = ["ShardAwareSampler"]


class ShardAwareSampler(DistributedSampler):
    """Order samples shard by shard and give each rank one contiguous part.

    - ``shuffle=True`` (training): each epoch permutes the shards and the samples inside each
      shard (seeded by ``seed + epoch``, identical on every rank), so consecutive samples, and
      hence a batch, come from one or two shards. Every rank gets ``N // world_size`` samples
      (the remainder is left out for that epoch, as ``DistributedSampler(drop_last=True)``),
      so all ranks run the same number of steps.
    - ``shuffle=False`` (evaluation): the natural order is split into contiguous parts of sizes
      ``N // W`` or ``N // W + 1``: every sample is seen exactly once across ranks, nothing is
      repeated, so a metric reduced by sums is exact.

    Being a ``DistributedSampler``, Lightning keeps it under DDP and calls ``set_epoch``.

    Parameters
    ----------
    dataset : Dataset
        Has ``__len__``.
    samples_per_shard : int
    shuffle : bool
    seed : int
    num_replicas, rank : int, optional
        Default: from the initialised process group, else 1 and 0.
    """

    def __init__(
        self,
        dataset,
        samples_per_shard: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        if num_replicas is None:
            num_replicas = (
                dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
            )
        if rank is None:
            rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        super().__init__(
            dataset,
            num_replicas=num_replicas,
            rank=rank,
            shuffle=shuffle,
            seed=seed,
            drop_last=shuffle,
        )
        self.samples_per_shard = samples_per_shard
        N, W = len(dataset), num_replicas
        if shuffle:
            self.num_samples = N // W
            self.start = rank * self.num_samples
        else:
            self.num_samples = N // W + int(rank < N % W)
            self.start = rank * (N // W) + min(rank, N % W)
        self.total_size = N

    def _order(self) -> torch.Tensor:
        N, S = self.total_size, self.samples_per_shard
        if not self.shuffle:
            return torch.arange(N)
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        n_shards = -(-N // S)
        parts = []
        for shard in torch.randperm(n_shards, generator=g).tolist():
            lo, hi = shard * S, min((shard + 1) * S, N)
            parts.append(lo + torch.randperm(hi - lo, generator=g))
        return torch.cat(parts)

    def __iter__(self) -> Iterator[int]:
        order = self._order()[self.start : self.start + self.num_samples]
        return iter(order.tolist())

    def __len__(self) -> int:
        return self.num_samples
