"""Solver benchmarks shared by ``python -m nk_lightning.evaluate`` and the training callback.

Compares, on the same systems and with the same preconditioner setup, GMRES(40) (the paper's
baseline), NeurKItt (GCRO-DR with the predicted subspace, inference time included), GCRO-DR
without a network, GCRO-DR with the exact eigenvectors (the ceiling) and GCRO-DR with a fixed
PCA subspace (a data-driven baseline without a network).
"""

from .cases import EvalSettings, SystemCase
from .methods import METHODS, MethodContext, register_method
from .runner import run_cases, solve_case, validate_settings
from .summary import markdown_table, paper_table, summarize

__all__ = [
    "METHODS",
    "EvalSettings",
    "MethodContext",
    "SystemCase",
    "markdown_table",
    "paper_table",
    "register_method",
    "run_cases",
    "solve_case",
    "summarize",
    "validate_settings",
]
