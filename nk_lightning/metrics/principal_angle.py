"""A torchmetrics Metric for principal angles whose DDP value equals the 1-process value."""

from __future__ import annotations

import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from .subspace import principal_angles

__all__ = ["PrincipalAngles"]


class PrincipalAngles(Metric):
    """Principal angles between predicted and true subspaces, accumulated over samples.

    States are sums (float64) plus the per-sample angles, reduced with ``sum`` / ``cat``, so
    with a sampler that neither pads nor drops (each sample seen exactly once across ranks) the
    synchronised value equals the single-process value, also for a validation set whose size
    is not divisible by the number of ranks.

    ``compute()`` returns a dict with

    - ``max``: mean over samples of the largest angle,
    - ``mean``: mean over samples and indices,
    - ``per_index``: ``(k,)`` mean of the ``j``-th smallest angle,
    - ``samples``: ``(N, k)`` all per-sample angles (for distributions).

    Parameters
    ----------
    n_angles : int
        Number of angles per sample (``k``).
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, n_angles: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n_angles = n_angles
        self.add_state("sum_max", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state(
            "sum_index", torch.zeros(n_angles, dtype=torch.float64), dist_reduce_fx="sum"
        )
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("samples", [], dist_reduce_fx="cat")

    def update(self, Q: torch.Tensor, V: torch.Tensor) -> None:
        """Add a batch: ``Q`` ``(B, n, k)`` predicted, ``V`` ``(B, n, k)`` true."""
        angles = principal_angles(Q, V)
        if angles.shape[-1] != self.n_angles:
            raise ValueError(f"expected {self.n_angles} angles, got {angles.shape[-1]}")
        self.sum_max += angles.amax(dim=-1).sum()
        self.sum_index += angles.sum(dim=0)
        self.count += angles.shape[0]
        self.samples.append(angles)

    def compute(self) -> dict[str, torch.Tensor]:
        n = self.count.clamp_min(1).double()
        per_index = self.sum_index / n
        # a list on one process, already one concatenated tensor after a DDP sync
        samples = self.samples
        if isinstance(samples, list):
            samples = dim_zero_cat(samples) if samples else torch.zeros(0, self.n_angles)
        return {
            "max": self.sum_max / n,
            "mean": per_index.mean(),
            "per_index": per_index,
            "samples": samples,
        }
