"""Subspace and solution predictors (pure torch; no Lightning)."""

from .backbones import BACKBONES, ConvNet, build_backbone
from .solution import SolutionPredictor
from .subspace import SubspacePredictor, orthonormalize

__all__ = [
    "BACKBONES",
    "ConvNet",
    "SolutionPredictor",
    "SubspacePredictor",
    "build_backbone",
    "orthonormalize",
]
