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
def _predict_timed(
    module, inputs: tuple[np.ndarray, ...], timing_reps: int, batch_size: int
) -> tuple[torch.Tensor, np.ndarray]:
    """Run ``module(*inputs)`` in batches on the module's device, then time it per system.

    Latency per system is the median of ``timing_reps`` batch-of-one forward passes after one
    warm-up pass (CUDA is synchronised around each timed pass). Returns the outputs
    concatenated on the CPU and the ``(N,)`` latencies in seconds.
    """
    device = getattr(module, "device", torch.device("cpu"))
    xs = [torch.from_numpy(np.asarray(a, dtype=np.float32)).to(device) for a in inputs]
    n = len(xs[0])

    def run(lo: int, hi: int) -> torch.Tensor:
        return module(*(x[lo:hi] for x in xs))

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    out = torch.cat([run(i, i + batch_size).cpu() for i in range(0, n, batch_size)])
    run(0, 1)  # warm-up (kernels, caches)
    latency = np.empty(n)
    for i in range(n):
        times = []
        for _ in range(timing_reps):
            sync()
            t = time.perf_counter()
            run(i, i + 1)
            sync()
            times.append(time.perf_counter() - t)
        latency[i] = np.median(times)
    return out, latency


def predict_subspaces(
    module, coef: np.ndarray, *, timing_reps: int = 3, batch_size: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Predict ``U`` for every system and measure the per-system inference latency.

    Parameters
    ----------
    coef : numpy.ndarray
        Input fields, ``(N, C, g, g)``, ``N >= 1``.
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
    U, latency = _predict_timed(module, (coef,), timing_reps, batch_size)
    return U.float().numpy(), latency


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
    x, latency = _predict_timed(module, (coef, b), timing_reps, batch_size)
    return x.double().numpy(), latency
