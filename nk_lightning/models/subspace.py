"""The NeurKItt subspace predictor: input fields -> orthonormal basis of a k-dim subspace."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SubspacePredictor", "orthonormalize"]


def orthonormalize(X: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Orthonormal basis of the column span of ``X`` by QR, guarded against rank loss.

    The columns are scaled to unit norm (QR is invariant to that up to ``R``), and a fixed
    multiple ``eps`` of the orthonormal "basis" ``E = [e_1, ..., e_k]`` spread over the grid is
    added, so ``R`` stays invertible and the QR gradient stays finite even when the network
    emits (nearly) dependent or zero columns. Signs are fixed so that ``diag(R) > 0``, which
    makes the map continuous. Computed in the input dtype (float32 in training).

    Parameters
    ----------
    X : torch.Tensor
        Shape ``(B, n, k)``, ``n >= k``.
    eps : float
        Regularisation relative to unit-norm columns.

    Returns
    -------
    torch.Tensor
        ``Q``, shape ``(B, n, k)`` with ``Q^T Q = I``.
    """
    B, n, k = X.shape
    X = X / X.norm(dim=1, keepdim=True).clamp_min(1e-12)
    E = torch.zeros(n, k, dtype=X.dtype, device=X.device)
    idx = torch.arange(k, device=X.device)
    E[(idx * n) // k, idx] = 1.0
    Q, R = torch.linalg.qr(X + eps * E)
    signs = torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return Q * signs.unsqueeze(-2)


class SubspacePredictor(nn.Module):
    """Backbone + reshape + QR: predicts ``k`` orthonormal vectors of length ``n = g^2``.

    The raw input fields are normalised with the stored per-channel statistics (buffers, so a
    checkpoint carries them), the backbone produces ``k`` channels on the ``g x g`` grid, and
    each channel is flattened in row-major order (node ``(i, j)`` -> entry ``i*g + j``, the
    order of the matrix unknowns).

    Parameters
    ----------
    backbone : torch.nn.Module
        ``(B, C, g, g) -> (B, k, g, g)``.
    n_vectors : int
        ``k``.
    input_mean, input_std : sequence of float
        Per-channel statistics of the training inputs (length ``C``).
    orthonormalize : bool
        Apply the guarded QR (NeurKItt). ``False`` returns the raw vectors (the "without QR"
        ablation: the solver orthonormalises).
    """

    def __init__(
        self,
        backbone: nn.Module,
        n_vectors: int,
        input_mean,
        input_std,
        orthonormalize: bool = True,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.n_vectors = n_vectors
        self.orthonormalize = orthonormalize
        self.register_buffer("input_mean", torch.as_tensor(input_mean, dtype=torch.float32))
        self.register_buffer("input_std", torch.as_tensor(input_std, dtype=torch.float32))

    def features(self, coef: torch.Tensor) -> torch.Tensor:
        """Raw backbone output, shape ``(B, n, k)`` (row-major flattening)."""
        x = (coef - self.input_mean.view(1, -1, 1, 1)) / self.input_std.view(1, -1, 1, 1)
        y = self.backbone(x)
        B, k, H, W = y.shape
        if k != self.n_vectors:
            raise RuntimeError(f"backbone produced {k} channels, expected {self.n_vectors}")
        return y.reshape(B, k, H * W).transpose(1, 2)

    def forward(self, coef: torch.Tensor) -> torch.Tensor:
        """Predict the subspace basis.

        Parameters
        ----------
        coef : torch.Tensor
            Raw input fields, shape ``(B, C, g, g)``.

        Returns
        -------
        torch.Tensor
            Shape ``(B, g*g, k)``; orthonormal columns unless ``orthonormalize=False``.
        """
        X = self.features(coef)
        return orthonormalize(X) if self.orthonormalize else X
