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

from ..solvers import SolveResult, gcrodr, gmres
from .cases import SystemCase

__all__ = ["METHODS", "MethodContext", "MethodOutcome", "register_method"]


@dataclass
class MethodContext:
    """Inputs shared by all systems: the PCA basis, the recycle dimension, the restart."""

    restart: int = 40
    k: int = 20
    U_pca: np.ndarray | None = None


@dataclass
class MethodOutcome:
    result: SolveResult
    extra_time: float = 0.0
    note: str = ""


Method = Callable[[SystemCase, object, float, MethodContext], MethodOutcome]
METHODS: dict[str, Method] = {}


def register_method(name: str) -> Callable[[Method], Method]:
    """Decorator adding a method to :data:`METHODS`."""

    def wrap(fn: Method) -> Method:
        METHODS[name] = fn
        return fn

    return wrap


def _deflated(
    case: SystemCase, M, rtol: float, ctx: MethodContext, U, label: str, extra_time: float = 0.0
) -> MethodOutcome:
    """GCRO-DR with a given subspace; an unusable subspace (NaN/Inf) falls back to GMRES."""
    if U is None:
        raise ValueError(f"method {label!r} needs a subspace, none is available")
    if not np.all(np.isfinite(U)):
        res = gmres(case.A, case.b, M=M, restart=ctx.restart, rtol=rtol)
        return MethodOutcome(
            res, extra_time, note=f"{label}: non-finite subspace, fell back to GMRES"
        )
    res = gcrodr(case.A, case.b, U=U, M=M, m=ctx.restart, rtol=rtol)
    return MethodOutcome(res, extra_time)


@register_method("gmres")
def _gmres(case, M, rtol, ctx):
    """GMRES(40), the paper's baseline."""
    return MethodOutcome(gmres(case.A, case.b, M=M, restart=ctx.restart, rtol=rtol))


@register_method("gcrodr")
def _gcrodr(case, M, rtol, ctx):
    """GCRO-DR that discovers its own subspace (no network), same recycle dimension k."""
    return MethodOutcome(gcrodr(case.A, case.b, M=M, m=ctx.restart, k=ctx.k, rtol=rtol))


@register_method("neurkitt")
def _neurkitt(case, M, rtol, ctx):
    """GCRO-DR with the predicted subspace; its time includes the network's inference."""
    return _deflated(case, M, rtol, ctx, case.U_pred, "neurkitt", case.inference_time)


@register_method("oracle")
def _oracle(case, M, rtol, ctx):
    """GCRO-DR with the exact eigenvectors (the ceiling for a learned subspace)."""
    return _deflated(case, M, rtol, ctx, case.U_true, "oracle")


@register_method("pca")
def _pca(case, M, rtol, ctx):
    """GCRO-DR with one fixed subspace: the top-k PCA directions of the training eigenvectors."""
    return _deflated(case, M, rtol, ctx, ctx.U_pca, "pca")
