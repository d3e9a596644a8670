"""The LightningDataModule: streams input fields and eigenvectors from a dataset store."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader

from ..errors import ConfigError, StoreError
from .dataset import SubspaceDataset
from .generation import ensure_dataset
from .sampler import ShardAwareSampler
from .spec import load_data_config
from .store import SubspaceStore, open_dataset

__all__ = ["SubspaceDataModule"]


class SubspaceDataModule(pl.LightningDataModule):
    """Data for subspace learning, described by a data YAML of ``configs/data/``.

    The store is the one ``python -m nk_lightning.generate --config <config>`` builds (the same
    file), so data generation and training cannot disagree. If it is missing, ``prepare_data``
    generates it (unless ``generate=False``); ``nk_lightning.fit`` does so before building the
    model so the model can be linked to the store's statistics.

    Parameters
    ----------
    config : str
        Data YAML path.
    path : str, optional
        Override of the store location (``out`` in the YAML).
    n_vectors : int, optional
        Eigenvectors to learn, ``<=`` the stored ``k`` (default: all of them).
    batch_size : int
        Training batch size per process.
    eval_batch_size : int, optional
        Validation/test batch size (default ``batch_size``).
    num_workers : int
        DataLoader worker processes (each opens the store itself).
    pin_memory : bool
        Pin host memory (useful with CUDA).
    persistent_workers : bool
        Keep workers alive between epochs (only with ``num_workers > 0``).
    generate : bool
        Generate the store if it is missing.
    seed : int
        Shuffling seed (combined with the epoch).
    with_solutions : bool
        Batches also carry the exact solutions ``x`` (solution learning, supervised).
    with_systems : bool
        Batches also carry ``A_data`` and ``b`` (solution learning with the residual loss).
    """

    def __init__(
        self,
        config: str = "configs/data/darcy_g64.yaml",
        path: str | None = None,
        n_vectors: int | None = None,
        batch_size: int = 16,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = True,
        generate: bool = True,
        seed: int = 0,
        with_solutions: bool = False,
        with_systems: bool = False,
    ) -> None:
        super().__init__()
        self.data_config = load_data_config(config, out=path)
        spec = self.data_config.spec
        if n_vectors is not None and (isinstance(n_vectors, bool) or n_vectors < 1):
            raise ConfigError(f"data.n_vectors must be a positive integer, got {n_vectors!r}")
        if n_vectors is not None and n_vectors > spec.k:
            raise ConfigError(
                f"data.n_vectors={n_vectors} is larger than the k={spec.k} eigenvectors stored "
                f"in {self.data_config.out!r}"
            )
        if batch_size < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {batch_size!r}")
        self.config_path = config
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers and num_workers > 0
        self.generate = generate
        self.seed = seed
        self.with_solutions = with_solutions
        self.with_systems = with_systems
        if with_solutions and not spec.solutions:
            raise ConfigError(
                f"data.with_solutions needs a store generated with solutions: true "
                f"({config!r} has none)"
            )
        self._n_vectors = n_vectors or spec.k
        self.datasets: dict[str, SubspaceDataset] = {}

    # -- what the model needs to know (linked by the CLI) ----------------------------------

    @property
    def spec(self):
        return self.data_config.spec

    @property
    def n_vectors(self) -> int:
        return self._n_vectors

    @property
    def in_channels(self) -> int:
        return len(self.spec.channels)

    @property
    def grid(self) -> int:
        return self.spec.grid

    @property
    def store_path(self) -> str:
        return self.data_config.out

    @cached_property
    def store(self) -> SubspaceStore:
        """The validated store (must exist: call :meth:`prepare_data` first)."""
        try:
            store = open_dataset(self.store_path)
        except StoreError as err:
            raise StoreError(f"{err} (data config {self.config_path!r})") from None
        if store.k < self.n_vectors:
            raise ConfigError(
                f"n_vectors={self.n_vectors} > k={store.k} stored in {self.store_path!r}"
            )
        return store

    @property
    def input_stats(self) -> dict[str, list[float]]:
        """Per-channel mean/std of the training inputs (from the store)."""
        norm = self.store.normalization
        return {"mean": list(norm["mean"]), "std": [max(s, 1e-12) for s in norm["std"]]}

    @property
    def info(self) -> dict[str, Any]:
        """Provenance recorded in the model's hyper-parameters."""
        return {
            "pde": self.spec.pde,
            "grid": self.grid,
            "store": self.store_path,
            "config": self.config_path,
            "spec": self.spec.identity(),
        }

    # -- Lightning hooks --------------------------------------------------------------------

    def prepare_data(self) -> None:
        ensure_dataset(self.data_config, allow_generate=self.generate)

    def setup(self, stage: str | None = None) -> None:
        self.store  # noqa: B018  (validates the store)
        for split in ("train", "val", "test"):
            if split not in self.datasets and self.spec.split_size(split) > 0:
                self.datasets[split] = SubspaceDataset(
                    self.store_path,
                    split,
                    self.n_vectors,
                    with_systems=self.with_systems,
                    with_solutions=self.with_solutions,
                )

    def _loader(self, split: str, train: bool) -> DataLoader:
        if split not in self.datasets:
            raise ConfigError(f"the {split} split of {self.store_path!r} is empty")
        ds = self.datasets[split]
        sampler = ShardAwareSampler(ds, ds.samples_per_shard, shuffle=train, seed=self.seed)
        return DataLoader(
            ds,
            batch_size=self.batch_size if train else self.eval_batch_size,
            sampler=sampler,
            drop_last=train,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
