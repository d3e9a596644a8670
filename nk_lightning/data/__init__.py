"""Datasets: specification, ground truth, the Zarr store and its generation.

This package imports no torch; the Lightning DataModule lives in
:mod:`nk_lightning.data.datamodule` and is imported explicitly.
"""

from .groundtruth import EigenResult, smallest_eigenpairs
from .spec import SPLITS, DataConfig, DatasetSpec, load_data_config
from .store import SplitArrays, SubspaceStore, open_dataset

__all__ = [
    "SPLITS",
    "DataConfig",
    "DatasetSpec",
    "EigenResult",
    "SplitArrays",
    "SubspaceStore",
    "load_data_config",
    "open_dataset",
    "smallest_eigenpairs",
]
