"""Preconditioned conjugate gradients for symmetric positive definite systems."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .operators import System, blas_limit, now
from .result import SolveResult

__all__ = ["cg"]


def cg(
    A,
    b: np.ndarray,
    x0: np.ndarray | None = None,
    *,
    M=None,
    rtol: float = 1e-5,
    atol: float = 0.0,
    maxiter: int | None = None,
    callback: Callable[[float], None] | None = None,
    blocks: int = 16,
    blas_threads: int | None = 1,
) -> SolveResult:
    """Solve an SPD system with preconditioned CG (Hestenes-Stiefel; Saad, Alg. 9.1).

    Stops when the recurrence residual ``||r_k|| <= max(rtol ||b||, atol)`` (the true,
    unpreconditioned norm, as ``scipy.sparse.linalg.cg``) and the recomputed residual agrees;
    otherwise it restarts from the recomputed residual. ``M`` must be symmetric positive
    definite (``none``, ``jacobi``, ``sor``, ``icc``, and ``ilu``/``bjacobi`` on symmetric
    5-point matrices; not ``asm``, whose restricted form is not symmetric). A non-positive
    curvature ``p^T A p <= 0`` stops with ``reason="breakdown"`` (``A`` or ``M`` not SPD).

    Parameters
    ----------
    A, b, x0, M, rtol, atol, callback, blocks, blas_threads
        As for :func:`~nk_lightning.solvers.gmres`.
    maxiter : int, optional
        Largest number of CG iterations (default ``n``).

    Returns
    -------
    SolveResult
        ``iterations`` = CG steps (one product with ``A`` and one ``M^{-1}`` each).

    Examples
    --------
    >>> import numpy as np
    >>> from nk_lightning.pdes import diffusion_matrix
    >>> A = diffusion_matrix(np.ones((18, 18)))
    >>> res = cg(A, np.ones(256), rtol=1e-10, M="icc")
    >>> res.converged, bool(res.true_residual <= 1e-10)
    (True, True)
    """
    sys = System(A, b, M, side="right", blocks=blocks)  # side only selects the true norm
    maxiter = sys.n if maxiter is None else int(maxiter)
    x, x_is_zero = sys.initial_guess(x0)
    with blas_limit(blas_threads):
        t0 = now()
        ref = float(np.linalg.norm(sys.b)) or 1.0
        tau = max(rtol * ref, atol)
        r = sys.b.copy() if x_is_zero else sys.b - sys.matvec(x)
        history, stamps = [np.linalg.norm(r) / ref], [0.0]
        iterations, reason, converged = 0, "maxiter", False
        restarts = 0
        while True:
            z = sys.precond(r)
            p = z.copy()
            rz = float(r @ z)
            rho = float(np.linalg.norm(r))
            while rho > tau and iterations < maxiter:
                q = sys.matvec(p)
                curvature = float(p @ q)
                if not curvature > 0:
                    reason = "breakdown"
                    break
                alpha = rz / curvature
                x += alpha * p
                r -= alpha * q
                iterations += 1
                rho = float(np.linalg.norm(r))
                history.append(rho / ref)
                stamps.append(now() - t0)
                if callback is not None:
                    callback(rho / ref)
                if rho <= tau:
                    break
                z = sys.precond(r)
                rz_new = float(r @ z)
                p = z + (rz_new / rz) * p
                rz = rz_new
            if reason == "breakdown":
                break
            r = sys.b - sys.matvec(x)  # verify with the recomputed residual
            rho = float(np.linalg.norm(r))
            if rho <= tau:
                converged, reason = True, "converged"
                break
            if iterations >= maxiter or restarts >= 5:
                reason = "maxiter" if iterations >= maxiter else "stagnation"
                break
            restarts += 1
        solve_time = now() - t0
    return SolveResult(
        x=x,
        converged=converged,
        iterations=iterations,
        n_matvec=sys.n_matvec,
        n_precond=sys.n_precond,
        residuals=np.asarray(history),
        times=np.asarray(stamps),
        true_residual=sys.true_residual(x),
        setup_time=sys.setup_time,
        solve_time=solve_time,
        method="cg",
        preconditioner=sys.precond_name,
        side="none",
        rtol=rtol,
        true_precond_residual=rho / ref,
        n_cycles=restarts + 1,
        reason=reason,
        precond_apply_time=sys.precond_apply_time,
    )
