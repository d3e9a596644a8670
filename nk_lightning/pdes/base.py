"""The interface every PDE family implements, and the registry of families."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

__all__ = ["PDEFamily", "PDESample", "register", "get_pde", "available_pdes"]


@dataclass(frozen=True)
class PDESample:
    """One linear system drawn from a PDE family.

    Attributes
    ----------
    coef : numpy.ndarray
        Network input fields on the interior nodes, shape ``(C, g, g)``, float32.
    A : scipy.sparse.csr_array
        System matrix, shape ``(g^2, g^2)``, float64, symmetric positive definite.
    """

    coef: np.ndarray
    A: sp.csr_array


class PDEFamily(ABC):
    """A parametric family of discretised PDE operators on a ``g x g`` interior grid.

    Subclasses set ``name``, ``channels`` (names of the input fields, in ``coef`` order) and
    ``defaults`` (generator parameters with their default values), and implement
    :meth:`draw`.
    """

    name: ClassVar[str]
    channels: ClassVar[tuple[str, ...]]
    defaults: ClassVar[dict[str, float]]

    def params(self, overrides: dict[str, float] | None = None) -> dict[str, float]:
        """Return the generator parameters: defaults updated with ``overrides``."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"unknown parameter {unknown[0]!r} for pde {self.name!r}; "
                f"known: {sorted(self.defaults)}"
            )
        return {**self.defaults, **{k: float(v) for k, v in overrides.items()}}

    def sample(
        self, rng: np.random.Generator, grid: int, params: dict[str, float] | None = None
    ) -> PDESample:
        """Draw one system on a ``grid x grid`` interior grid.

        Parameters
        ----------
        rng : numpy.random.Generator
            The only source of randomness.
        grid : int
            Interior points per side ``g``; the system has ``n = g^2`` unknowns.
        params : dict, optional
            Generator parameter overrides (see ``defaults``).
        """
        return self.draw(rng, int(grid), **self.params(params))

    @abstractmethod
    def draw(self, rng: np.random.Generator, grid: int, **params: float) -> PDESample:
        """Draw one system with fully resolved parameters."""


_REGISTRY: dict[str, PDEFamily] = {}


def register(cls: type[PDEFamily]) -> type[PDEFamily]:
    """Class decorator adding a family to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls()
    return cls


def available_pdes() -> list[str]:
    """Names of the registered PDE families."""
    return sorted(_REGISTRY)


def get_pde(name: str) -> PDEFamily:
    """Look up a PDE family by name, with a one-line error for unknown names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown pde {name!r}; choose one of {available_pdes()}") from None
