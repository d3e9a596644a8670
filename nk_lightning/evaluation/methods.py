"""The solver methods compared by the evaluation, by name.

Each method takes ``(case, M, rtol, ctx)`` with a prebuilt preconditioner ``M`` (so all methods
share one setup per system and preconditioner) and returns a
:class:`~nk_lightning.solvers.SolveResult` plus the extra seconds it spent outside the solver
(e.g. network inference) and an optional note (e.g. a fallback).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..solvers import SolveResult, cg, gauss_seidel, gcrodr, gmres
from ..solvers.operators import now
from .cases import SystemCase

__all__ = [
    "METHODS",
    "APPLIES_TO",
    "MethodContext",
    "MethodOutcome",
    "register_method",
    "NEEDS_SOLUTION",
]


@dataclass
class MethodContext:
    """Inputs shared by all systems: the PCA basis, the recycle dimension, the restart."""

    restart: int = 40
    k: int = 20
    U_pca: np.ndarray | None = None
    gs_maxiter: int = 10_000
    """Sweep cap of the Gauss-Seidel baseline (it reports non-convergence beyond)."""


@dataclass
class MethodOutcome:
    """A method's solve, the seconds it spent outside the solver, and a note (fallbacks).

    ``inference_time``: network inference; ``setup_time``: the method's own setup beyond the
    shared preconditioner (an LU factorisation, an AMG hierarchy).
    """

    result: SolveResult
    inference_time: float = 0.0
    note: str = ""
    setup_time: float = 0.0


Method = Callable[[SystemCase, object, float, MethodContext], MethodOutcome]
METHODS: dict[str, Method] = {}
APPLIES_TO: dict[str, frozenset[str] | None] = {}
"""Preconditioners a method runs with (``None``: all); others are skipped, not recorded."""
NEEDS_SOLUTION: set[str] = set()
"""Methods that need a predicted solution (``case.extras["x_pred"]``)."""
GMRES_FAMILY: set[str] = set()
"""Methods whose iterations are GMRES(40)/GCRO-DR Arnoldi steps in the same norm, so the share
of the oracle's iteration reduction is meaningful for them."""


def register_method(
    name: str,
    applies_to: set[str] | None = None,
    needs_solution: bool = False,
    gmres_family: bool = False,
) -> Callable[[Method], Method]:
    """Decorator adding a method to :data:`METHODS`.

    Parameters
    ----------
    applies_to : set of str, optional
        Preconditioners the method is run with (default: all of them). Methods without a
        preconditioner of ours (a direct solver, AMG, the network alone) use ``{"none"}``.
    needs_solution : bool
        The method uses a solution network's prediction.
    gmres_family : bool
        Its iterations are GMRES(m)/GCRO-DR(m, k) Arnoldi steps (comparable with the oracle).
    """

    def wrap(fn: Method) -> Method:
        METHODS[name] = fn
        APPLIES_TO[name] = None if applies_to is None else frozenset(applies_to)
        if needs_solution:
            NEEDS_SOLUTION.add(name)
        if gmres_family:
            GMRES_FAMILY.add(name)
        return fn

    return wrap


def _deflated(
    case: SystemCase,
    M,
    rtol: float,
    ctx: MethodContext,
    U,
    label: str,
    inference_time: float = 0.0,
    x0: np.ndarray | None = None,
    note: str = "",
) -> MethodOutcome:
    """GCRO-DR with a given subspace (from ``x0``, default zero); an unusable subspace
    (NaN/Inf) falls back to GMRES. ``note`` carries earlier fallbacks (e.g. of ``x0``)."""
    if U is None:
        raise ValueError(f"method {label!r} needs a subspace, none is available")
    if not np.all(np.isfinite(U)):
        res = gmres(case.A, case.b, x0, M=M, restart=ctx.restart, rtol=rtol)
        fell_back = f"{label}: non-finite subspace, fell back to GMRES"
        return MethodOutcome(res, inference_time, "; ".join(filter(None, [note, fell_back])))
    res = gcrodr(case.A, case.b, x0, U=U, M=M, m=ctx.restart, rtol=rtol)
    return MethodOutcome(res, inference_time, note)


@register_method("gmres", gmres_family=True)
def _gmres(case, M, rtol, ctx):
    """GMRES(40), the paper's baseline."""
    return MethodOutcome(gmres(case.A, case.b, M=M, restart=ctx.restart, rtol=rtol))


@register_method("gcrodr", gmres_family=True)
def _gcrodr(case, M, rtol, ctx):
    """GCRO-DR that discovers its own subspace (no network), same recycle dimension k."""
    return MethodOutcome(gcrodr(case.A, case.b, M=M, m=ctx.restart, k=ctx.k, rtol=rtol))


@register_method("neurkitt", gmres_family=True)
def _neurkitt(case, M, rtol, ctx):
    """GCRO-DR with the predicted subspace; its time includes the network's inference."""
    return _deflated(case, M, rtol, ctx, case.U_pred, "neurkitt", case.inference_time)


@register_method("oracle", gmres_family=True)
def _oracle(case, M, rtol, ctx):
    """GCRO-DR with the exact eigenvectors (the ceiling for a learned subspace)."""
    return _deflated(case, M, rtol, ctx, case.U_true, "oracle")


@register_method("pca", gmres_family=True)
def _pca(case, M, rtol, ctx):
    """GCRO-DR with one fixed subspace: the top-k PCA directions of the training eigenvectors."""
    return _deflated(case, M, rtol, ctx, ctx.U_pca, "pca")


# -- baselines of issue 7: solution networks and classical solvers ---------------------------


def _x_pred(case: SystemCase) -> tuple[np.ndarray, float]:
    if "x_pred" not in case.extras:
        raise ValueError("this method needs a solution network's prediction (--solution-ckpt)")
    return case.extras["x_pred"], float(case.extras.get("x_inference_time", 0.0))


def _finite_or_zero(x: np.ndarray) -> tuple[np.ndarray | None, str]:
    if np.all(np.isfinite(x)):
        return x, ""
    return None, "non-finite predicted solution, started from zero"


@register_method("warmstart", needs_solution=True, gmres_family=True)
def _warmstart(case, M, rtol, ctx):
    """GMRES(40) from the solution network's prediction as initial guess."""
    x0, t = _x_pred(case)
    x0, note = _finite_or_zero(x0)
    return MethodOutcome(gmres(case.A, case.b, x0, M=M, restart=ctx.restart, rtol=rtol), t, note)


@register_method("neurkitt+warmstart", needs_solution=True, gmres_family=True)
def _neurkitt_warmstart(case, M, rtol, ctx):
    """GCRO-DR with the predicted subspace and the predicted solution as initial guess."""
    x0, t = _x_pred(case)
    x0, note = _finite_or_zero(x0)
    return _deflated(
        case, M, rtol, ctx, case.U_pred, "neurkitt+warmstart", t + case.inference_time, x0, note
    )


def _true_residual(case: SystemCase, x: np.ndarray) -> float:
    """``||b - A x|| / ||b||``; infinite for a non-finite ``x``."""
    if not np.all(np.isfinite(x)):
        return float("inf")
    return float(np.linalg.norm(case.b - case.A @ x)) / (float(np.linalg.norm(case.b)) or 1.0)


def _unpreconditioned_result(
    x: np.ndarray,
    residual: float,
    method: str,
    rtol: float,
    *,
    converged: bool,
    reason: str,
    residuals: np.ndarray,
    times: np.ndarray,
    iterations: int = 0,
    n_matvec: int = 0,
    setup_time: float = 0.0,
    solve_time: float = 0.0,
) -> SolveResult:
    """The :class:`SolveResult` of a method that runs outside our Krylov solvers and without a
    preconditioner, so its solver norm is the true residual ``residual``."""
    return SolveResult(
        x=x,
        converged=converged,
        iterations=iterations,
        n_matvec=n_matvec,
        n_precond=0,
        residuals=residuals,
        times=times,
        true_residual=residual,
        setup_time=setup_time,
        solve_time=solve_time,
        method=method,
        rtol=rtol,
        true_precond_residual=residual,
        reason=reason,
    )


@register_method("direct_nn", applies_to={"none"}, needs_solution=True)
def _direct_nn(case, M, rtol, ctx):
    """The solution network alone: no solver. "Converged" means its residual meets rtol."""
    x, t = _x_pred(case)
    finite = bool(np.all(np.isfinite(x)))
    residual = _true_residual(case, x)
    res = _unpreconditioned_result(
        x,
        residual,
        "direct_nn",
        rtol,
        converged=residual <= rtol,
        reason="direct" if finite else "non-finite",
        residuals=np.array([residual]),
        times=np.array([0.0]),
        n_matvec=1,
    )
    x_true = case.extras.get("x_true")
    if x_true is not None and finite:
        res.info["record_extras"] = {
            "relative_error": float(np.linalg.norm(x - x_true) / np.linalg.norm(x_true))
        }
    return MethodOutcome(res, t, "" if finite else "non-finite prediction")


@register_method("lu", applies_to={"none"})
def _lu(case, M, rtol, ctx):
    """Sparse direct solve (SuperLU, symmetric minimum-degree ordering): setup = factorisation,
    solve = the two triangular solves."""
    from ..data.groundtruth import factorize

    t = now()
    lu = factorize(case.A)
    setup = now() - t
    t = now()
    x = lu.solve(case.b)
    solve = now() - t
    residual = _true_residual(case, x)
    res = _unpreconditioned_result(
        x,
        residual,
        "lu",
        rtol,
        converged=residual <= rtol,
        reason="direct",
        residuals=np.array([1.0, residual]),
        times=np.array([0.0, setup + solve]),
        setup_time=setup,
        solve_time=solve,
    )
    return MethodOutcome(res, setup_time=setup)


@register_method("cg", applies_to={"none", "jacobi", "bjacobi", "sor", "icc", "ilu"})
def _cg(case, M, rtol, ctx):
    """Preconditioned CG with the same (symmetric) preconditioner; not with asm, whose
    restricted form is not symmetric."""
    return MethodOutcome(cg(case.A, case.b, M=M, rtol=rtol))


@register_method("gauss_seidel", applies_to={"none"})
def _gauss_seidel(case, M, rtol, ctx):
    """Forward Gauss-Seidel as a stationary solver, capped at ``ctx.gs_maxiter`` sweeps."""
    return MethodOutcome(gauss_seidel(case.A, case.b, rtol=rtol, maxiter=ctx.gs_maxiter))


@register_method("amg_cg", applies_to={"none"})
def _amg_cg(case, M, rtol, ctx):
    """CG preconditioned by one V-cycle of pyamg's smoothed aggregation AMG (setup timed)."""
    import pyamg

    t = now()
    ml = pyamg.smoothed_aggregation_solver(case.A.tocsr(), symmetry="symmetric")
    amg = ml.aspreconditioner(cycle="V")
    setup = now() - t
    res = cg(case.A, case.b, M=amg, rtol=rtol)
    res.preconditioner = "amg"
    return MethodOutcome(res, setup_time=setup)


# -- GCROT(m,k): the same subspace in a stronger Krylov method (scipy) --------------------


def _gcrotmk(
    case: SystemCase,
    rtol: float,
    U: np.ndarray | None,
    inference_time: float,
    m: int = 20,
    k: int = 20,
) -> MethodOutcome:
    """scipy's GCROT(m,k) (Hicken & Zingg 2010), optionally seeded with ``CU = U``.

    It stops on the true residual ``||b - A x|| <= rtol ||b||``, the norm of GMRES without a
    preconditioner, so it is run with ``none`` only. ``iterations`` counts products with
    ``A`` minus the ``k`` that form ``C = A U`` (as GCRO-DR's count leaves them out).
    """
    import scipy.sparse.linalg as spla

    count = [0]

    def matvec(x):
        count[0] += 1
        return case.A @ x

    op = spla.LinearOperator(case.A.shape, matvec=matvec, dtype=np.float64)
    CU = None
    note = ""
    if U is not None:
        if np.all(np.isfinite(U)):
            CU = [(None, np.asarray(U[:, j], dtype=np.float64).copy()) for j in range(U.shape[1])]
        else:
            note = "non-finite subspace, GCROT without it"
    n_seed = len(CU) if CU else 0  # gcrotmk extends and truncates CU in place
    history: list[float] = []
    t = now()
    x, info = spla.gcrotmk(
        op,
        case.b,
        rtol=rtol,
        m=m,
        k=k,
        CU=CU,
        maxiter=case.A.shape[0],
        callback=lambda xk: history.append(_true_residual(case, xk)),
    )
    solve = now() - t
    residual = _true_residual(case, x)
    res = _unpreconditioned_result(
        x,
        residual,
        "gcrotmk",
        rtol,
        converged=info == 0 and residual <= rtol * (1 + 1e-9),
        reason="converged" if info == 0 else "maxiter",
        residuals=np.array([1.0, *history]),
        times=np.linspace(0.0, solve, len(history) + 1),
        iterations=count[0] - n_seed,
        n_matvec=count[0],
        solve_time=solve,
    )
    return MethodOutcome(res, inference_time, note)


@register_method("gcrot", applies_to={"none"})
def _gcrot(case, M, rtol, ctx):
    """scipy GCROT(20, 20) without a subspace: recycling by a stronger method, no network."""
    return _gcrotmk(case, rtol, None, 0.0)


@register_method("neurkitt_gcrot", applies_to={"none"})
def _neurkitt_gcrot(case, M, rtol, ctx):
    """scipy GCROT(20, k) seeded with the predicted subspace (inference time included)."""
    return _gcrotmk(case, rtol, case.U_pred, case.inference_time, k=max(ctx.k, 1))
