"""Subspace losses and metrics."""

from .principal_angle import PrincipalAngles
from .subspace import aligned_mse_loss, principal_angles, projection_loss

__all__ = ["PrincipalAngles", "aligned_mse_loss", "principal_angles", "projection_loss"]
