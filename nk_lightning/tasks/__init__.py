"""LightningModules (the Lightning layer)."""

from .subspace_module import SubspaceModule

__all__ = ["SubspaceModule"]
