"""Subspace predictors (pure torch; no Lightning)."""

from .backbones import BACKBONES, ConvNet, build_backbone
from .subspace import SubspacePredictor, orthonormalize

__all__ = ["BACKBONES", "ConvNet", "SubspacePredictor", "build_backbone", "orthonormalize"]
