"""What one evaluated system carries: the matrix, the right-hand side and the subspaces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["SystemCase", "EvalSettings"]


@dataclass
class SystemCase:
    """One linear system and everything the methods may use.

    Attributes
    ----------
    index : int
        Sample index in its split.
    A : scipy.sparse.csr_array
        Shape ``(n, n)``.
    b : numpy.ndarray
        Shape ``(n,)``.
    U_pred : numpy.ndarray or None
        Network prediction, ``(n, k)`` (any dtype; may contain NaN, which is handled).
    U_true : numpy.ndarray or None
        Stored exact eigenvectors, ``(n, k)``.
    inference_time : float
        Seconds of the network's inference for this system (batch of one).
    extras : dict
        Further per-system inputs of other methods (e.g. a predicted solution).
    """

    index: int
    A: sp.csr_array
    b: np.ndarray
    U_pred: np.ndarray | None = None
    U_true: np.ndarray | None = None
    inference_time: float = 0.0
    extras: dict = field(default_factory=dict)


@dataclass
class EvalSettings:
    """How to run the comparison.

    Attributes
    ----------
    methods : list of str
        Names from :data:`~nk_lightning.evaluation.methods.METHODS`.
    preconditioners : list of str
    tolerances : list of float
    reps : int
        Timings are the median of this many solves (iteration counts are deterministic).
    restart : int
        GMRES restart and GCRO-DR ``m`` (the paper: 40).
    blocks : int
        Emulated MPI ranks of the block preconditioners (the paper: 16).
    histories_for : int or None
        System index whose residual histories are kept (for convergence plots).
    """

    methods: list[str]
    preconditioners: list[str] = field(default_factory=lambda: ["none"])
    tolerances: list[float] = field(default_factory=lambda: [1e-8])
    reps: int = 3
    restart: int = 40
    blocks: int = 16
    histories_for: int | None = None
