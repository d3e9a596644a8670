"""Functional subspace losses and principal angles (torch; differentiable where stated)."""

from __future__ import annotations

import math

import torch

__all__ = ["projection_loss", "principal_angles", "aligned_mse_loss"]


def projection_loss(Q: torch.Tensor, V: torch.Tensor, *, squared: bool = False) -> torch.Tensor:
    """NeurKItt's projection loss between a predicted basis and the true eigenvectors.

    ``sum_j ||v_j - Q Q^T v_j||_2`` per sample (``squared=True``: ``||V - Q Q^T V||_F^2``),
    averaged over the batch.

    Parameters
    ----------
    Q : torch.Tensor
        Predicted orthonormal basis, shape ``(B, n, k)``.
    V : torch.Tensor
        True eigenvectors, shape ``(B, n, K)`` (``K`` may differ from ``k``).

    Returns
    -------
    torch.Tensor
        Scalar.
    """
    if Q.shape[:2] != V.shape[:2]:
        raise ValueError(f"Q {tuple(Q.shape)} and V {tuple(V.shape)} must share (batch, n)")
    residual = V - Q @ (Q.transpose(-2, -1) @ V)
    if squared:
        return residual.square().sum(dim=(-2, -1)).mean()
    return residual.norm(dim=-2).sum(dim=-1).mean()


def aligned_mse_loss(X: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Mean squared error to the eigenvectors after per-column sign alignment (an ablation:
    a non-projection loss). Columns of ``X`` are compared with the same-index columns of ``V``;
    each column's sign is chosen to minimise its error.

    Parameters
    ----------
    X, V : torch.Tensor
        Shape ``(B, n, k)``; ``V`` has unit columns.
    """
    X = X / X.norm(dim=-2, keepdim=True).clamp_min(1e-12)
    sign = torch.sign((X * V).sum(dim=-2, keepdim=True)).detach()
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    return (X * sign - V).square().sum(dim=-2).mean()


def principal_angles(Q: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Principal angles between ``span(Q)`` and ``span(V)``, per sample, ascending.

    Both bases are orthonormalised in float64 first. Angles below ``pi/4`` come from the
    singular values of ``V - Q Q^T V`` (sines) and the others from those of ``Q^T V`` (cosines),
    as ``scipy.linalg.subspace_angles`` does, so small angles are accurate to round-off rather
    than to ``sqrt(eps)``. Not meant for gradients.

    Parameters
    ----------
    Q, V : torch.Tensor
        Shape ``(B, n, k)`` and ``(B, n, K)``.

    Returns
    -------
    torch.Tensor
        Shape ``(B, min(k, K))``, float64, radians in ``[0, pi/2]``, ascending; NaN for a
        sample whose input contains NaN or Inf.
    """
    if Q.ndim != 3 or V.ndim != 3 or Q.shape[:2] != V.shape[:2]:
        raise ValueError(f"expected (batch, n, k) tensors, got {tuple(Q.shape)}, {tuple(V.shape)}")
    finite = torch.isfinite(Q).all(dim=(1, 2)) & torch.isfinite(V).all(dim=(1, 2))
    if not bool(finite.all()):
        out = torch.full(
            (Q.shape[0], min(Q.shape[-1], V.shape[-1])),
            float("nan"),
            dtype=torch.float64,
            device=Q.device,
        )
        if bool(finite.any()):
            out[finite] = principal_angles(Q[finite], V[finite])
        return out
    Qa = torch.linalg.qr(Q.detach().double()).Q
    Qb = torch.linalg.qr(V.detach().double()).Q
    if Qa.shape[-1] < Qb.shape[-1]:
        Qa, Qb = Qb, Qa
    M = Qa.transpose(-2, -1) @ Qb
    cos = torch.linalg.svdvals(M).clamp(0.0, 1.0)  # descending -> angles ascending
    sin = torch.linalg.svdvals(Qb - Qa @ M).clamp(0.0, 1.0).flip(-1)  # ascending
    angles = torch.where(cos > math.sqrt(0.5), torch.arcsin(sin), torch.arccos(cos))
    return angles
