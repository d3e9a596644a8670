"""Dataset, shard-aware sampler and DataModule on a real tiny store."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nk_lightning.data import open_dataset
from nk_lightning.data.datamodule import SubspaceDataModule
from nk_lightning.data.dataset import SubspaceDataset
from nk_lightning.data.sampler import ShardAwareSampler
from nk_lightning.errors import ConfigError, StoreError

from .conftest import tiny_data_yaml


def write_config(tmp_path, store, **extra):
    return str(tiny_data_yaml(tmp_path / "data.yaml", store, **extra))


def test_dataset_returns_store_samples_across_shards(tiny_store):
    ds = SubspaceDataset(tiny_store, "train", n_vectors=4)
    arrays = open_dataset(tiny_store).split("train")
    batch = ds.__getitems__([9, 2, 3, 4])  # shards 2, 0, 0, 1
    for sample, i in zip(batch, [9, 2, 3, 4], strict=True):
        np.testing.assert_array_equal(sample["coef"].numpy(), arrays.coef[i])
        np.testing.assert_array_equal(sample["eigvecs"].numpy(), arrays.eigvecs[i][:, :4])
        assert sample["index"].item() == i
    with pytest.raises(IndexError):
        ds[10]
    systems = SubspaceDataset(tiny_store, "val", n_vectors=6, with_systems=True)[1]
    assert systems["A_data"].dtype == torch.float64 and systems["b"].shape == (144,)


def test_train_sampler_is_shard_local_disjoint_and_epoch_dependent():
    N, S, W = 23, 4, 2
    ds = list(range(N))
    parts = [
        ShardAwareSampler(ds, S, shuffle=True, seed=1, num_replicas=W, rank=r) for r in range(W)
    ]
    for s in parts:
        s.set_epoch(0)
    a, b = list(parts[0]), list(parts[1])
    assert len(a) == len(b) == N // W and not set(a) & set(b)
    same_shard = sum(x // S == y // S for x, y in zip(a, a[1:], strict=False))
    assert same_shard >= len(a) - 1 - N // S  # changes shard at most once per shard
    parts[0].set_epoch(1)
    assert list(parts[0]) != a
    parts[0].set_epoch(0)
    assert list(parts[0]) == a


@pytest.mark.parametrize("world", [1, 2, 3])
def test_eval_sampler_covers_each_sample_exactly_once(world):
    N = 7
    seen = []
    for r in range(world):
        seen += list(
            ShardAwareSampler(list(range(N)), 4, shuffle=False, num_replicas=world, rank=r)
        )
    assert sorted(seen) == list(range(N))


def test_datamodule_loaders_with_workers(tmp_path, tiny_store):
    dm = SubspaceDataModule(
        config=write_config(tmp_path, tiny_store), batch_size=4, num_workers=2, n_vectors=5
    )
    dm.prepare_data()
    dm.setup("fit")
    assert (dm.n_vectors, dm.in_channels, dm.grid) == (5, 1, 12)
    assert len(dm.input_stats["mean"]) == 1
    batches = list(dm.train_dataloader())
    assert len(batches) == 2 and batches[0]["eigvecs"].shape == (4, 144, 5)
    val = list(dm.val_dataloader())
    assert sum(b["coef"].shape[0] for b in val) == 5


def test_datamodule_errors(tmp_path, tiny_store):
    with pytest.raises(ConfigError, match="n_vectors=9 is larger than the k=6"):
        SubspaceDataModule(config=write_config(tmp_path, tiny_store), n_vectors=9)
    missing = SubspaceDataModule(
        config=write_config(tmp_path, tmp_path / "none.zarr"), generate=False
    )
    with pytest.raises(StoreError, match="generation is disabled"):
        missing.prepare_data()
    with pytest.raises(ConfigError, match="does not exist"):
        SubspaceDataModule(config=str(tmp_path / "nope.yaml"))
