"""Dataset specification: what a store contains, read from ``configs/data/*.yaml``.

The same YAML file drives ``python -m nk_lightning.generate`` and the training DataModule, so
the two cannot disagree about the store they mean.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..pdes import available_pdes, get_pde
from ..yaml_io import load_yaml_mapping

__all__ = ["DatasetSpec", "DataConfig", "SPLITS", "load_data_config"]

SPLITS = ("train", "val", "test")
RHS_KINDS = ("ones", "random")
MIN_GRID = 8
SHARD_TARGET_BYTES = 64 * 2**20


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that determines a store's contents (sample ``i`` of a split depends only on
    ``(seed, split, i)`` and these fields).

    Attributes
    ----------
    pde : str
        PDE family name (``darcy``, ``heat``, ``helmholtz``).
    grid : int
        Interior points per side ``g``; ``n = g^2`` unknowns.
    k : int
        Number of smallest eigenpairs stored.
    n_train, n_val, n_test : int
        Split sizes.
    seed : int
        Base seed.
    rhs : str
        ``"ones"`` (the paper's ``b``) or ``"random"`` (standard normal, seeded per sample).
    pde_params : dict
        Generator parameter overrides (e.g. ``alpha``, ``tau``); defaults come from the family.
    samples_per_shard : int or None
        Samples per Zarr shard (the unit a writer owns); ``None`` picks at most 32 samples
        and about 64 MiB per shard.
    eig_tol : float
        ARPACK tolerance (0 = machine precision).
    solutions : bool
        Also store the exact solution ``x = A^{-1} b`` of every system (for solution-learning
        baselines), from the same factorisation.
    """

    pde: str
    grid: int
    k: int
    n_train: int
    n_val: int
    n_test: int
    seed: int = 0
    rhs: str = "ones"
    pde_params: dict[str, float] = field(default_factory=dict)
    samples_per_shard: int | None = None
    eig_tol: float = 0.0
    solutions: bool = False

    def __post_init__(self) -> None:
        self.validate()

    @property
    def n(self) -> int:
        """Number of unknowns ``g^2``."""
        return self.grid * self.grid

    @property
    def nnz(self) -> int:
        """Nonzeros of every matrix (5-point pattern)."""
        return 5 * self.grid * self.grid - 4 * self.grid

    @property
    def channels(self) -> tuple[str, ...]:
        """Names of the input fields stored in ``coef``."""
        return get_pde(self.pde).channels

    def split_size(self, split: str) -> int:
        """Number of samples in ``split``."""
        return {"train": self.n_train, "val": self.n_val, "test": self.n_test}[split]

    def shard_size(self) -> int:
        """Samples per shard (resolved)."""
        if self.samples_per_shard is not None:
            return self.samples_per_shard
        per_sample = (
            4 * self.n * self.k
            + 8 * (self.nnz + self.n)
            + 4 * self.n * len(self.channels)
            + 8 * self.n * self.solutions
        )
        return int(min(32, max(1, SHARD_TARGET_BYTES // per_sample)))

    def resolved_params(self) -> dict[str, float]:
        """Generator parameters with the family defaults filled in."""
        return get_pde(self.pde).params(self.pde_params)

    def identity(self) -> dict[str, Any]:
        """The JSON-able description stored in the root attrs and compared on resume."""
        d = dataclasses.asdict(self)
        d["pde_params"] = self.resolved_params()
        d["samples_per_shard"] = self.shard_size()
        d["eig_tol"] = float(self.eig_tol)
        if not self.solutions:  # stores made before the option existed keep their identity
            d.pop("solutions")
        return d

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad value."""
        if self.pde not in available_pdes():
            raise ConfigError(f"unknown pde {self.pde!r}; choose one of {available_pdes()}")
        _check_int("grid", self.grid, minimum=MIN_GRID)
        _check_int("k", self.k, minimum=1)
        if self.k >= self.n:
            raise ConfigError(f"k must be smaller than n = grid^2 = {self.n}, got k={self.k!r}")
        for name in ("n_train", "n_val", "n_test"):
            _check_int(name, getattr(self, name), minimum=0)
        if self.n_train + self.n_val + self.n_test == 0:
            raise ConfigError("all split sizes are 0: nothing to generate")
        _check_int("seed", self.seed, minimum=0)
        if self.rhs not in RHS_KINDS:
            raise ConfigError(f"unknown rhs {self.rhs!r}; choose one of {list(RHS_KINDS)}")
        if self.samples_per_shard is not None:
            _check_int("samples_per_shard", self.samples_per_shard, minimum=1)
        if not isinstance(self.solutions, bool):
            raise ConfigError(f"solutions must be true or false, got {self.solutions!r}")
        if not isinstance(self.eig_tol, int | float) or not 0 <= self.eig_tol < 1e-6:
            raise ConfigError(f"eig_tol must be in [0, 1e-6), got {self.eig_tol!r}")
        try:
            self.resolved_params()
        except ValueError as err:
            raise ConfigError(str(err)) from None


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """A data YAML: the dataset spec, where the store lives, and runtime options.

    Attributes
    ----------
    spec : DatasetSpec
    out : str
        Store location: a local path (relative paths resolve against the working directory)
        or an fsspec URL.
    workers : int
        Default number of generator processes.
    """

    spec: DatasetSpec
    out: str
    workers: int = 1


_SPEC_FIELDS = {f.name for f in dataclasses.fields(DatasetSpec)}
_RUNTIME_FIELDS = {"out", "workers"}


def load_data_config(path: str | Path | None, **overrides: Any) -> DataConfig:
    """Read a data YAML and apply overrides (``None`` values are ignored).

    Parameters
    ----------
    path : str or Path or None
        YAML file with the :class:`DatasetSpec` fields plus ``out`` and ``workers``. ``None``
        builds the config from ``overrides`` alone.
    **overrides
        Field values that replace the file's.

    Raises
    ------
    ConfigError
        Missing or malformed file, unknown key, missing required field, or an invalid value.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        raw.update(load_yaml_mapping(path, "data config"))
    raw.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(raw) - _SPEC_FIELDS - _RUNTIME_FIELDS)
    if unknown:
        raise ConfigError(f"unknown data config key {unknown[0]!r}")
    if "pde" in raw and raw["pde"] not in available_pdes():
        raise ConfigError(f"unknown pde {raw['pde']!r}; choose one of {available_pdes()}")
    missing = [f for f in ("pde", "grid", "k", "n_train", "n_val", "n_test") if f not in raw]
    if missing:
        raise ConfigError(f"data config is missing {missing[0]!r}")
    if "out" not in raw:
        raise ConfigError("data config is missing 'out' (where the store is written)")
    spec_kwargs = {k: v for k, v in raw.items() if k in _SPEC_FIELDS}
    spec_kwargs["pde_params"] = dict(spec_kwargs.get("pde_params") or {})
    workers = raw.get("workers", 1)
    _check_int("workers", workers, minimum=1)
    return DataConfig(spec=DatasetSpec(**spec_kwargs), out=str(raw["out"]), workers=workers)
