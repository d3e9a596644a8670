"""Gauss-Seidel as a stationary solver (a classical baseline, not a preconditioner)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .operators import now
from .result import SolveResult

__all__ = ["gauss_seidel"]


def gauss_seidel(
    A,
    b: np.ndarray,
    x0: np.ndarray | None = None,
    *,
    rtol: float = 1e-5,
    atol: float = 0.0,
    maxiter: int = 10_000,
    check_every: int = 10,
) -> SolveResult:
    """Forward Gauss-Seidel sweeps ``x <- x + (D + L)^{-1} (b - A x)`` until
    ``||b - A x|| <= max(rtol ||b||, atol)`` or ``maxiter`` sweeps.

    The sweeps run in pyamg's compiled kernel; the residual is computed every
    ``check_every`` sweeps (one extra product with ``A``), so ``iterations`` may exceed the
    first sweep that met the tolerance by up to ``check_every - 1``.

    Parameters
    ----------
    A : scipy sparse matrix
        Shape ``(n, n)`` with a nonzero diagonal (converges for SPD ``A``).
    b : numpy.ndarray
    x0 : numpy.ndarray, optional
    rtol, atol : float
    maxiter : int
        Cap on the number of sweeps; beyond it the result reports non-convergence.
    check_every : int

    Returns
    -------
    SolveResult
        ``iterations`` = sweeps; ``residuals`` has one entry per check.
    """
    from pyamg.relaxation.relaxation import gauss_seidel as gs_sweep

    A = sp.csr_matrix(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    n = A.shape[0]
    x = np.zeros(n) if x0 is None else np.asarray(x0, dtype=np.float64).reshape(-1).copy()
    t0 = now()
    ref = float(np.linalg.norm(b)) or 1.0
    tau = max(rtol * ref, atol)
    rho = float(np.linalg.norm(b - A @ x))
    history, stamps, sweeps, n_matvec = [rho / ref], [0.0], 0, 1
    while rho > tau and sweeps < maxiter:
        step = min(check_every, maxiter - sweeps)
        gs_sweep(A, x, b, iterations=step, sweep="forward")
        sweeps += step
        rho = float(np.linalg.norm(b - A @ x))
        n_matvec += 1
        history.append(rho / ref)
        stamps.append(now() - t0)
    converged = rho <= tau
    return SolveResult(
        x=x,
        converged=converged,
        iterations=sweeps,
        n_matvec=n_matvec,
        n_precond=0,
        residuals=np.asarray(history),
        times=np.asarray(stamps),
        true_residual=rho / ref,
        setup_time=0.0,
        solve_time=now() - t0,
        method="gauss_seidel",
        preconditioner="none",
        side="none",
        rtol=rtol,
        true_precond_residual=rho / ref,
        n_cycles=1,
        reason="converged" if converged else "maxiter",
    )
