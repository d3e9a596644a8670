"""LightningModules (the Lightning layer)."""

from .solution_module import SolutionModule
from .subspace_module import SubspaceModule

__all__ = ["SolutionModule", "SubspaceModule"]
