"""The result type shared by every solver."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SolveResult"]


@dataclass
class SolveResult:
    """Outcome of one linear solve.

    Attributes
    ----------
    x : numpy.ndarray
        Approximate solution, shape ``(n,)``.
    converged : bool
        Whether the stopping test held for the recomputed (not only the estimated) residual.
    iterations : int
        Arnoldi steps (PETSc's ``its``): the ``k`` products that build ``C = Op U`` and the true
        residual recomputed at each restart are not counted.
    n_matvec, n_precond : int
        Products with ``A`` and applications of ``M^{-1}``, everything included.
    residuals : numpy.ndarray
        Relative residual norm in the solver's norm (left: ``||M^{-1} r|| / ||M^{-1} b||``;
        right/none: ``||r|| / ||b||``); entry 0 is the residual entering the first Arnoldi
        step, entry ``i`` the estimate after ``i`` iterations. Shape ``(iterations + 1,)``.
    times : numpy.ndarray
        Seconds since the solve started (after preconditioner setup) at which each entry of
        ``residuals`` was reached. Same shape.
    true_residual : float
        Final ``||b - A x|| / ||b||``, recomputed.
    setup_time : float
        Seconds spent building the preconditioner inside this call (0 for a prebuilt one).
    solve_time : float
        Seconds of the solve proper.
    """

    x: np.ndarray
    converged: bool
    iterations: int
    n_matvec: int
    n_precond: int
    residuals: np.ndarray
    times: np.ndarray
    true_residual: float
    setup_time: float
    solve_time: float
    method: str = ""
    preconditioner: str = "none"
    side: str = "left"
    rtol: float = 0.0
    true_precond_residual: float = float("nan")
    """Final residual in the solver's norm, recomputed from ``x`` (what convergence means)."""
    n_cycles: int = 0
    recycle_dim: int = 0
    """Recycled-space dimension ``k`` in use at the end (0 for GMRES)."""
    reason: str = ""
    """``converged``, ``maxiter``, ``stagnation`` or ``breakdown``."""
    precond_apply_time: float = 0.0
    """Seconds spent applying ``M^{-1}`` during the solve (part of ``solve_time``)."""
    U: np.ndarray | None = None
    """GCRO-DR: the recycle space at the end, shape ``(n, recycle_dim)`` (x-space), e.g. to
    recycle into the next system; ``None`` for GMRES."""
    info: dict = field(default_factory=dict)

    @property
    def total_time(self) -> float:
        """``setup_time + solve_time``."""
        return self.setup_time + self.solve_time

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"{self.method}[{self.preconditioner},{self.side}] {self.reason}: "
            f"{self.iterations} its, residual {self.true_precond_residual:.2e} "
            f"(true {self.true_residual:.2e}), {self.solve_time * 1e3:.1f} ms"
        )
