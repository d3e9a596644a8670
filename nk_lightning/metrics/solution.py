"""Losses and errors for networks that predict the solution ``x`` of ``A x = b`` (torch)."""

from __future__ import annotations

import torch

__all__ = ["batched_csr_matvec", "relative_residual", "relative_error"]


def batched_csr_matvec(
    indptr: torch.Tensor, indices: torch.Tensor, data: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """``A_b x_b`` for a batch of matrices sharing one CSR pattern (differentiable in ``x``).

    Parameters
    ----------
    indptr : torch.Tensor
        ``(n + 1,)`` integer row pointer.
    indices : torch.Tensor
        ``(nnz,)`` integer column indices.
    data : torch.Tensor
        ``(B, nnz)`` values, one row per matrix.
    x : torch.Tensor
        ``(B, n)``.

    Returns
    -------
    torch.Tensor
        ``(B, n)``.
    """
    n = indptr.numel() - 1
    rows = torch.repeat_interleave(
        torch.arange(n, device=x.device), torch.diff(indptr).to(x.device)
    )
    products = data.to(x.dtype) * x[:, indices.to(x.device)]
    return torch.zeros_like(x).index_add_(1, rows, products)


def relative_residual(indptr, indices, data, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``||A_b x_b - b_b|| / ||b_b||`` per sample, shape ``(B,)``."""
    r = batched_csr_matvec(indptr, indices, data, x) - b.to(x.dtype)
    return r.norm(dim=-1) / b.to(x.dtype).norm(dim=-1).clamp_min(1e-30)


def relative_error(x: torch.Tensor, x_true: torch.Tensor) -> torch.Tensor:
    """``||x - x*|| / ||x*||`` per sample, shape ``(B,)``."""
    x_true = x_true.to(x.dtype)
    return (x - x_true).norm(dim=-1) / x_true.norm(dim=-1).clamp_min(1e-30)
