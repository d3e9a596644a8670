"""Subspace losses and metrics, and solution errors."""

from .principal_angle import PrincipalAngles
from .solution import batched_csr_matvec, relative_error, relative_residual
from .subspace import aligned_mse_loss, principal_angles, projection_loss

__all__ = [
    "PrincipalAngles",
    "aligned_mse_loss",
    "batched_csr_matvec",
    "principal_angles",
    "projection_loss",
    "relative_error",
    "relative_residual",
]
