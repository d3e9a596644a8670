"""Network predictions for evaluation: load a checkpoint, check it against a store, predict."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..data.store import SubspaceStore
from ..errors import ConfigError

__all__ = ["load_checkpoint", "check_compatible", "predict_subspaces", "predict_solutions"]


def load_checkpoint(path: str | Path, kind: str = "subspace"):
    """Load a module (CPU, eval mode) from a checkpoint of ``python -m nk_lightning.fit``.

    Parameters
    ----------
    kind : {"subspace", "solution"}
        :class:`~nk_lightning.tasks.SubspaceModule` or
        :class:`~nk_lightning.tasks.SolutionModule`.
    """
    from ..tasks import SolutionModule, SubspaceModule

    cls = {"subspace": SubspaceModule, "solution": SolutionModule}[kind]
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint {str(path)!r} does not exist")
    try:
        module = cls.load_from_checkpoint(path, map_location="cpu")
    except Exception as err:  # noqa: BLE001  (any failure to load is the user's bad input)
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ConfigError(
            f"cannot load checkpoint {str(path)!r}: {type(err).__name__}: {first}"
        ) from None
    return module.eval()


def check_compatible(module, store: SubspaceStore, kind: str = "subspace") -> None:
    """Raise :class:`ConfigError` if the model's grid, channels or k do not fit the store."""
    hp = module.hparams
    if hp.grid != store.grid:
        raise ConfigError(
            f"checkpoint was trained on grid {hp.grid}, the store {store.path!r} "
            f"has grid {store.grid}"
        )
    if hp.in_channels != len(store.channels):
        raise ConfigError(
            f"checkpoint expects {hp.in_channels} input channels, the store has "
            f"{len(store.channels)} ({store.pde})"
        )
    if kind == "subspace" and hp.n_vectors > store.k:
        raise ConfigError(
            f"checkpoint predicts k={hp.n_vectors} vectors, the store holds only "
            f"k={store.k} eigenvectors"
        )


@torch.no_grad()
def predict_subspaces(
    module, coef: np.ndarray, *, timing_reps: int = 3, batch_size: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Predict ``U`` for every system and measure the per-system inference latency.

    Parameters
    ----------
    coef : numpy.ndarray
        Input fields, ``(N, C, g, g)``.
    timing_reps : int
        Latency per system is the median of this many batch-of-one forward passes (after one
        warm-up pass); predictions themselves are computed in batches.

    Returns
    -------
    U : numpy.ndarray
        ``(N, n, k)`` float32.
    latency : numpy.ndarray
        ``(N,)`` seconds (batch of one, this process's threads).
    """
    x = torch.from_numpy(np.asarray(coef, dtype=np.float32))
    out = [module(x[i : i + batch_size]).float().numpy() for i in range(0, len(x), batch_size)]
    U = np.concatenate(out) if out else np.zeros((0,))
    module(x[:1])  # warm-up
    latency = np.empty(len(x))
    for i in range(len(x)):
        times = []
        for _ in range(timing_reps):
            t = time.perf_counter()
            module(x[i : i + 1])
            times.append(time.perf_counter() - t)
        latency[i] = np.median(times)
    return U, latency


@torch.no_grad()
def predict_solutions(
    module, coef: np.ndarray, b: np.ndarray, *, timing_reps: int = 3, batch_size: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Predict ``x`` for every system with a solution network, and its latency per system.

    Parameters
    ----------
    coef : numpy.ndarray
        ``(N, C, g, g)``.
    b : numpy.ndarray
        ``(N, n)`` right-hand sides (used if the network takes ``b`` as input).

    Returns
    -------
    x : numpy.ndarray
        ``(N, n)`` float64.
    latency : numpy.ndarray
        ``(N,)`` seconds, batch of one, median of ``timing_reps``.
    """
    c = torch.from_numpy(np.asarray(coef, dtype=np.float32))
    bb = torch.from_numpy(np.asarray(b, dtype=np.float32))
    x = np.concatenate(
        [
            module(c[i : i + batch_size], bb[i : i + batch_size]).double().numpy()
            for i in range(0, len(c), batch_size)
        ]
    )
    module(c[:1], bb[:1])
    latency = np.empty(len(c))
    for i in range(len(c)):
        times = []
        for _ in range(timing_reps):
            t = time.perf_counter()
            module(c[i : i + 1], bb[i : i + 1])
            times.append(time.perf_counter() - t)
        latency[i] = np.median(times)
    return x, latency
