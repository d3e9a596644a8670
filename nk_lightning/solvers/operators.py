"""Turning user input (sparse matrix or LinearOperator, preconditioner name or object) into
counted operator applications, like scipy's ``make_system``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from .preconditioners import Preconditioner, make_preconditioner

__all__ = ["System", "blas_limit", "now"]

SIDES = ("left", "right")


class _Callable(Preconditioner):
    """Wraps a LinearOperator or callable ``r -> M^{-1} r`` as a Preconditioner."""

    name = "custom"

    def __init__(self, apply: Callable[[np.ndarray], np.ndarray], shape) -> None:
        self._apply = apply
        super().__init__(_Shape(shape))

    def _setup(self, A) -> None:
        pass

    def _solve(self, r: np.ndarray) -> np.ndarray:
        return np.asarray(self._apply(r), dtype=np.float64).reshape(-1)


class _Shape:
    def __init__(self, shape):
        self.shape = shape


class System:
    """A linear system ``A x = b`` with preconditioner ``M`` applied on ``side``.

    Counts every product with ``A`` and every application of ``M^{-1}``.

    Parameters
    ----------
    A : scipy sparse matrix, numpy array or LinearOperator
        Shape ``(n, n)``, real.
    b : numpy.ndarray
        Shape ``(n,)``.
    M : None, str, Preconditioner, LinearOperator or callable
        A name from :data:`~nk_lightning.solvers.preconditioners.PRECONDITIONERS`, a prebuilt
        preconditioner, or any operator applying ``M^{-1}``.
    side : {"left", "right"}
    blocks : int
        Row blocks for named ``bjacobi``, ``sor``, ``asm``.
    """

    def __init__(self, A, b, M=None, side: str = "left", blocks: int = 16) -> None:
        if side not in SIDES:
            raise ValueError(f"side must be 'left' or 'right', got {side!r}")
        self.side = side
        if sp.issparse(A):
            self.A = sp.csr_array(A, dtype=np.float64)
            self._matvec = self.A.__matmul__
            self._matmat = self.A.__matmul__
        elif isinstance(A, np.ndarray):
            self.A = np.asarray(A, dtype=np.float64)
            self._matvec = self._matmat = self.A.__matmul__
        elif isinstance(A, spla.LinearOperator):
            self.A = A
            self._matvec, self._matmat = A.matvec, A.matmat
        else:
            raise TypeError(f"A must be a sparse matrix, ndarray or LinearOperator, got {type(A)}")
        n = A.shape[0]
        if A.shape != (n, n):
            raise ValueError(f"A must be square, got shape {A.shape}")
        if np.iscomplexobj(A) if not isinstance(A, spla.LinearOperator) else A.dtype.kind == "c":
            raise TypeError("complex systems are not supported")
        b = np.asarray(b)
        if b.shape not in ((n,), (n, 1)):
            raise ValueError(f"b must have shape ({n},), got {b.shape}")
        if np.iscomplexobj(b):
            raise TypeError("complex right-hand sides are not supported")
        self.b = b.reshape(-1).astype(np.float64)
        if not np.all(np.isfinite(self.b)):
            raise ValueError("b contains NaN or Inf")
        self.n = n
        self.setup_time = 0.0
        if M is None or isinstance(M, str):
            name = "none" if M is None else M
            if name != "none" and not sp.issparse(A):
                raise ValueError(f"preconditioner {name!r} needs a sparse matrix A, got {type(A)}")
            self.M = make_preconditioner(name, self.A, blocks=blocks)
            self.setup_time = self.M.setup_time
        elif isinstance(M, Preconditioner):
            self.M = M
        elif isinstance(M, spla.LinearOperator):
            self.M = _Callable(M.matvec, (n, n))
        elif callable(M):
            self.M = _Callable(M, (n, n))
        else:
            raise TypeError(
                f"M must be a name, Preconditioner, LinearOperator or callable, got {M!r}"
            )
        if self.M.shape[0] != n:
            raise ValueError(f"preconditioner has size {self.M.shape[0]}, system has {n}")
        self.n_matvec = 0
        self.n_precond = 0
        self._precond_time0 = self.M.apply_time

    @property
    def precond_name(self) -> str:
        return self.M.name

    @property
    def precond_apply_time(self) -> float:
        return self.M.apply_time - self._precond_time0

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``A x`` for ``x`` of shape ``(n,)`` or ``(n, p)``."""
        if x.ndim == 1:
            self.n_matvec += 1
            return np.asarray(self._matvec(x), dtype=np.float64).reshape(-1)
        self.n_matvec += x.shape[1]
        return np.asarray(self._matmat(x), dtype=np.float64)

    def precond(self, r: np.ndarray) -> np.ndarray:
        """``M^{-1} r``."""
        self.n_precond += 1 if r.ndim == 1 else r.shape[1]
        return self.M.solve(r)

    def op(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The preconditioned operator: left ``(M^{-1} A v, None)``, right ``(A z, z)`` with
        ``z = M^{-1} v``."""
        if self.side == "left":
            return self.precond(self.matvec(v)), None
        z = self.precond(v)
        return self.matvec(z), z

    def residual(self, x: np.ndarray, x_is_zero: bool = False) -> np.ndarray:
        """The residual in the solver's space: left ``M^{-1}(b - A x)``, right ``b - A x``."""
        r = self.b.copy() if x_is_zero else self.b - self.matvec(x)
        return self.precond(r) if self.side == "left" else r

    def initial_guess(self, x0: np.ndarray | None) -> tuple[np.ndarray, bool]:
        """A float64 copy of ``x0`` (zeros if ``None``) and whether it is zero.

        Raises
        ------
        ValueError
            ``x0`` is not a finite vector of shape ``(n,)``.
        """
        if x0 is None:
            return np.zeros(self.n), True
        x = np.asarray(x0, dtype=np.float64).reshape(-1)
        if x.shape != (self.n,) or not np.all(np.isfinite(x)):
            raise ValueError(f"x0 must be a finite vector of shape ({self.n},)")
        return x.copy(), not np.any(x)

    def true_residual(self, x: np.ndarray) -> float:
        """``||b - A x|| / ||b||`` (not counted)."""
        bn = np.linalg.norm(self.b)
        r = self.b - np.asarray(self._matvec(x), dtype=np.float64).reshape(-1)
        return float(np.linalg.norm(r) / bn) if bn > 0 else float(np.linalg.norm(r))


def blas_limit(threads: int | None) -> contextlib.AbstractContextManager:
    """Limit BLAS to ``threads`` threads inside the ``with`` block (``None``: leave as is)."""
    if threads is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def now() -> float:
    """Monotonic clock used for all solver timings."""
    return time.perf_counter()
