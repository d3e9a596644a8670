"""The Zarr v3 store of a subspace dataset: schema, writing by whole shards, and a validating
reader.

Layout (``N`` samples in a split, ``C`` input channels, ``n = g^2``, ``k`` eigenpairs)::

    <root>                       attrs: format, format_version, pde, grid, n, k, channels, seed,
                                        pde_params, spec, complete, normalization, ...
      A_indptr   (n + 1,)  int32   shared CSR row pointer of every matrix
      A_indices  (nnz,)    int32   shared CSR column indices
      train/ val/ test/
        coef       (N, C, g, g) float32   network input fields
        eigvecs    (N, n, k)    float32   eigenvectors of the k smallest eigenvalues
        eigvals    (N, k)       float64   ascending
        A_data     (N, nnz)     float64   CSR values (pattern above)
        b          (N, n)       float64   right-hand sides
        x          (N, n)       float64   exact solutions (only if generated with solutions)
        eig_residual (N,)       float64   largest relative eigen-residual of the sample
        shard_done (n_shards,)  uint8     1 once every array of that shard is written

Every array is chunked one sample per chunk and sharded along the sample axis with
``samples_per_shard`` samples per shard. A writer always writes whole shards (the shard is the
unit of safe concurrent writing in Zarr), then sets its ``shard_done`` flag, so an interrupted
run is resumed by redoing only shards without a flag.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
import zarr
from zarr.errors import ContainsArrayError

from .. import __version__
from ..errors import StoreError, StoreNotReady
from .spec import SPLITS, DatasetSpec

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SubspaceStore",
    "SplitArrays",
    "prepare_store",
    "write_shard",
    "shards_done",
    "finalize_store",
    "open_dataset",
    "store_exists",
    "consolidate",
]

FORMAT_NAME = "nk_lightning/subspace-dataset"
FORMAT_VERSION = 1
SAMPLE_ARRAYS = ("coef", "eigvecs", "eigvals", "A_data", "b", "eig_residual")


def _is_url(path: str) -> bool:
    return "://" in path


def _array_schema(spec: DatasetSpec) -> dict[str, tuple[tuple[int, ...], str]]:
    """Per-sample shape and dtype of each sample array."""
    g, n, k, C = spec.grid, spec.n, spec.k, len(spec.channels)
    schema = {
        "coef": ((C, g, g), "float32"),
        "eigvecs": ((n, k), "float32"),
        "eigvals": ((k,), "float64"),
        "A_data": ((spec.nnz,), "float64"),
        "b": ((n,), "float64"),
        "eig_residual": ((), "float64"),
    }
    if spec.solutions:
        schema["x"] = ((n,), "float64")
    return schema


def n_shards(spec: DatasetSpec, split: str) -> int:
    """Number of shards of ``split``."""
    S = spec.shard_size()
    return -(-spec.split_size(split) // S)


def shard_bounds(spec: DatasetSpec, split: str, shard: int) -> tuple[int, int]:
    """Sample range ``[start, stop)`` of a shard."""
    S = spec.shard_size()
    return shard * S, min((shard + 1) * S, spec.split_size(split))


def _open_group(path: str, mode: str, **kwargs: Any) -> zarr.Group:
    return zarr.open_group(path, mode=mode, **kwargs)


def store_exists(path: str) -> bool:
    """Whether ``path`` holds a Zarr group (of any origin)."""
    try:
        _open_group(path, "r")
        return True
    except (FileNotFoundError, zarr.errors.GroupNotFoundError, KeyError):
        return False


def _foreign_error(path: str) -> StoreError:
    return StoreError(f"output {path!r} exists and is not an nk_lightning dataset store")


def _read_root_attrs(path: str) -> dict[str, Any] | None:
    """Root attrs of our store at ``path``, ``None`` if nothing is there; raises if foreign."""
    if not _is_url(path) and os.path.exists(path) and not os.path.isdir(path):
        raise _foreign_error(path)
    if not store_exists(path):
        if not _is_url(path) and os.path.isdir(path) and os.listdir(path):
            raise _foreign_error(path)
        return None
    attrs = dict(_open_group(path, "r").attrs)
    if attrs.get("format") != FORMAT_NAME:
        raise _foreign_error(path)
    return attrs


def _describe_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return f"{key}: stored {old.get(key)!r}, requested {new.get(key)!r}"
    return "unknown difference"


def prepare_store(path: str, spec: DatasetSpec, *, overwrite: bool = False) -> zarr.Group:
    """Create the store for ``spec`` at ``path``, or open the matching existing one.

    Creation never deletes anything unless ``overwrite`` is set, and is idempotent, so several
    independent jobs (``--shard i/N``) may call it at the same time.

    Raises
    ------
    StoreError
        ``path`` holds something that is not one of our stores, or a store generated with
        different parameters (unless ``overwrite``).
    """
    identity = spec.identity()
    attrs = _read_root_attrs(path)
    if attrs is not None and not overwrite and attrs.get("spec") != identity:
        raise StoreError(
            f"store {path!r} was generated with different parameters "
            f"({_describe_difference(attrs.get('spec', {}), identity)}); "
            "use --overwrite to replace it"
        )
    if attrs is not None and overwrite:
        root = _open_group(path, "w")
    else:
        root = _open_group(path, "a")
    if attrs is None or overwrite:
        root.attrs.update(
            {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "pde": spec.pde,
                "grid": spec.grid,
                "n": spec.n,
                "k": spec.k,
                "nnz": spec.nnz,
                "channels": list(spec.channels),
                "seed": spec.seed,
                "rhs": spec.rhs,
                "pde_params": spec.resolved_params(),
                "samples_per_shard": spec.shard_size(),
                "splits": {s: spec.split_size(s) for s in SPLITS},
                "spec": identity,
                "complete": False,
                "generator": {"package": "nk_lightning", "version": __version__},
            }
        )
    _ensure_arrays(root, spec)
    return root


def _create(group: zarr.Group, name: str, **kwargs: Any) -> zarr.Array:
    """Create an array unless an identical one exists (another writer may have made it)."""
    try:
        return group.create_array(name, **kwargs)
    except ContainsArrayError:
        arr = group[name]
        if arr.shape != kwargs["shape"] or arr.dtype != np.dtype(kwargs["dtype"]):
            raise StoreError(f"array {arr.path!r} exists with another shape or dtype") from None
        return arr


def _ensure_arrays(root: zarr.Group, spec: DatasetSpec) -> None:
    from ..pdes import grid_pattern

    indptr, indices = grid_pattern(spec.grid)
    for name, values in (("A_indptr", indptr), ("A_indices", indices)):
        arr = _create(root, name, shape=values.shape, dtype="int32", chunks=values.shape)
        if not np.array_equal(arr[...], values):
            arr[...] = values
    S = spec.shard_size()
    for split in SPLITS:
        N = spec.split_size(split)
        grp = root.require_group(split)
        for name, (shape, dtype) in _array_schema(spec).items():
            _create(
                grp,
                name,
                shape=(N, *shape),
                dtype=dtype,
                chunks=(1, *shape),
                shards=(S, *shape),
                fill_value=0,
            )
        _create(
            grp,
            "shard_done",
            shape=(n_shards(spec, split),),
            dtype="uint8",
            chunks=(1,),
            fill_value=0,
        )


def write_shard(
    root: zarr.Group, spec: DatasetSpec, split: str, shard: int, data: dict[str, np.ndarray]
) -> None:
    """Write every sample array of one whole shard, then mark the shard done.

    Parameters
    ----------
    data : dict
        ``name -> array`` with the leading axis of length ``stop - start`` of the shard.
    """
    start, stop = shard_bounds(spec, split, shard)
    grp = root[split]
    for name in _array_schema(spec):
        values = data[name]
        if values.shape[0] != stop - start:
            raise ValueError(f"{name}: expected {stop - start} samples, got {values.shape[0]}")
        grp[name][start:stop] = values
    grp["shard_done"][shard] = 1


def shards_done(root: zarr.Group, split: str) -> np.ndarray:
    """Boolean completion flags of the shards of ``split``."""
    return root[split]["shard_done"][...].astype(bool)


def _channel_stats(root: zarr.Group, spec: DatasetSpec) -> dict[str, Any]:
    """Per-channel mean and standard deviation of ``coef`` over the first non-empty split
    (train unless it is empty), streamed shard by shard in float64."""
    split = next(s for s in SPLITS if spec.split_size(s) > 0)
    coef = root[split]["coef"]
    C = len(spec.channels)
    total, total_sq, count = np.zeros(C), np.zeros(C), 0
    lo, hi = np.full(C, np.inf), np.full(C, -np.inf)
    for shard in range(n_shards(spec, split)):
        start, stop = shard_bounds(spec, split, shard)
        x = coef[start:stop].astype(np.float64)
        total += x.sum(axis=(0, 2, 3))
        total_sq += (x**2).sum(axis=(0, 2, 3))
        lo, hi = np.minimum(lo, x.min(axis=(0, 2, 3))), np.maximum(hi, x.max(axis=(0, 2, 3)))
        count += x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    stats = {
        "split": split,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "min": lo.tolist(),
        "max": hi.tolist(),
    }
    bounds = [shard_bounds(spec, split, j) for j in range(n_shards(spec, split))]
    names = ["b", "x"] if spec.solutions else ["b"]
    for name in names:  # scales of the right-hand sides and solutions (solution learning)
        arr = root[split][name]
        sq = sum(float((arr[a:b] ** 2).sum()) for a, b in bounds)
        stats[f"{name}_rms"] = float(np.sqrt(sq / (spec.split_size(split) * spec.n)))
    return stats


def consolidate(path: str) -> None:
    with warnings.catch_warnings():
        # Consolidated metadata works in zarr-python 3 but is not yet part of the v3 spec.
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        zarr.consolidate_metadata(path)


def finalize_store(path: str, spec: DatasetSpec) -> bool:
    """Compute the input statistics and consolidate, once every shard is done.

    Returns
    -------
    bool
        Whether the store is now complete (False while shards are still missing).
    """
    root = _open_group(path, "r+", use_consolidated=False)
    if not all(shards_done(root, s).all() for s in SPLITS):
        return False
    root.attrs.update({"normalization": _channel_stats(root, spec), "complete": True})
    consolidate(path)
    return True


@dataclass(frozen=True)
class SplitArrays:
    """Lazy handles on the arrays of one split (``zarr.Array`` objects)."""

    coef: zarr.Array
    eigvecs: zarr.Array
    eigvals: zarr.Array
    A_data: zarr.Array
    b: zarr.Array
    eig_residual: zarr.Array
    x: zarr.Array | None = None
    """Exact solutions, present if the store was generated with ``solutions``."""

    def __len__(self) -> int:
        return self.coef.shape[0]


class SubspaceStore:
    """A validated, read-only view of a dataset store (see the module docstring).

    Use :func:`open_dataset` to create one.
    """

    def __init__(self, path: str, root: zarr.Group):
        self.path = path
        self.root = root
        self.attrs: dict[str, Any] = dict(root.attrs)

    @property
    def pde(self) -> str:
        return self.attrs["pde"]

    @property
    def grid(self) -> int:
        return int(self.attrs["grid"])

    @property
    def n(self) -> int:
        return int(self.attrs["n"])

    @property
    def k(self) -> int:
        return int(self.attrs["k"])

    @property
    def channels(self) -> list[str]:
        return list(self.attrs["channels"])

    @property
    def samples_per_shard(self) -> int:
        return int(self.attrs["samples_per_shard"])

    @property
    def normalization(self) -> dict[str, Any]:
        """Per-channel ``mean``/``std`` of the input fields (train split)."""
        return self.attrs["normalization"]

    @cached_property
    def spec(self) -> DatasetSpec:
        """The :class:`DatasetSpec` the store was generated from."""
        return DatasetSpec(**self.attrs["spec"])

    def split(self, name: str) -> SplitArrays:
        """Array handles of split ``name`` (``train``, ``val`` or ``test``)."""
        if name not in SPLITS:
            raise StoreError(f"unknown split {name!r}; choose one of {list(SPLITS)}")
        grp = self.root[name]
        arrays = {a: grp[a] for a in SAMPLE_ARRAYS}
        if self.spec.solutions:
            arrays["x"] = grp["x"]
        return SplitArrays(**arrays)

    @cached_property
    def pattern(self) -> tuple[np.ndarray, np.ndarray]:
        """The shared CSR ``(indptr, indices)``."""
        return self.root["A_indptr"][...], self.root["A_indices"][...]

    def matrix(self, data: np.ndarray) -> sp.csr_array:
        """Build the ``(n, n)`` CSR matrix of one sample from its ``A_data`` row."""
        indptr, indices = self.pattern
        return sp.csr_array((np.asarray(data, np.float64), indices, indptr), shape=(self.n, self.n))

    def system(self, split: str, i: int) -> tuple[sp.csr_array, np.ndarray]:
        """Matrix ``A`` and right-hand side ``b`` of sample ``i`` of ``split``."""
        arrays = self.split(split)
        return self.matrix(arrays.A_data[i]), np.asarray(arrays.b[i])


def open_dataset(path: str, *, require_complete: bool = True) -> SubspaceStore:
    """Open and validate a dataset store.

    Parameters
    ----------
    path : str
        Local path or fsspec URL.
    require_complete : bool
        Refuse stores whose generation has not finished.

    Raises
    ------
    StoreError
        One line naming what is wrong: missing path, foreign store, wrong format version,
        incomplete generation, or a missing or misshapen array.
    """
    path = str(path)
    if not store_exists(path):
        raise StoreNotReady(f"dataset store {path!r} does not exist")
    try:
        root = _open_group(path, "r")
    except Exception as err:  # noqa: BLE001  (any reader error means an unusable store)
        raise StoreError(f"cannot open dataset store {path!r}: {err}") from None
    attrs = dict(root.attrs)
    if attrs.get("format") != FORMAT_NAME:
        raise StoreError(f"{path!r} is not an nk_lightning dataset store (no format attribute)")
    if attrs.get("format_version") != FORMAT_VERSION:
        raise StoreError(
            f"store {path!r} has format_version {attrs.get('format_version')!r}, "
            f"this nk_lightning reads {FORMAT_VERSION}"
        )
    missing = [key for key in ("pde", "grid", "n", "k", "channels", "spec") if key not in attrs]
    if missing:
        raise StoreError(f"store {path!r} lacks root attribute {missing[0]!r}")
    if require_complete and not attrs.get("complete", False):
        raise StoreNotReady(
            f"store {path!r} is incomplete; re-run the generate command to finish it"
        )
    try:
        spec = DatasetSpec(**attrs["spec"])
    except (TypeError, ValueError) as err:
        raise StoreError(f"store {path!r} has an invalid spec attribute: {err}") from None
    expected = _array_schema(spec)
    for name, shape in (("A_indptr", (spec.n + 1,)), ("A_indices", (spec.nnz,))):
        _check_array(path, root, name, shape, "int32")
    for split in SPLITS:
        N = spec.split_size(split)
        for name, (shape, dtype) in expected.items():
            _check_array(path, root, f"{split}/{name}", (N, *shape), dtype)
    if require_complete and "normalization" not in attrs:
        raise StoreError(f"store {path!r} lacks the 'normalization' attribute")
    return SubspaceStore(path, root)


def _check_array(path: str, root: zarr.Group, name: str, shape: tuple, dtype: str) -> None:
    try:
        arr = root[name]
    except KeyError:
        raise StoreError(f"store {path!r} has no array {name!r}") from None
    if not isinstance(arr, zarr.Array):
        raise StoreError(f"store {path!r}: {name!r} is not an array")
    if tuple(arr.shape) != tuple(shape):
        raise StoreError(f"store {path!r}: {name!r} has shape {arr.shape}, expected {shape}")
    if arr.dtype != np.dtype(dtype):
        raise StoreError(f"store {path!r}: {name!r} has dtype {arr.dtype}, expected {dtype}")
