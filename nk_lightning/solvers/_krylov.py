"""The restarted, augmented Arnoldi driver behind :func:`gmres` and :func:`gcrodr`.

One cycle runs Arnoldi on ``(I - C C^T) Op`` from the current residual, with modified
Gram-Schmidt against ``[C, V_j]`` stored as rows of one C-contiguous array (a compiled kernel
that reads each basis vector once), Givens rotations on the ``(s+1) x s`` Hessenberg block only,
happy-breakdown detection, and the minimal-residual update over ``x + span([U, V_s])``. With no
recycled space (``k = 0``) a cycle is exactly a GMRES(m) cycle.

Notation follows ../shared/SOLVERS.md and Parks et al. (2006): ``m`` is the maximal subspace
dimension including the ``k`` recycled vectors, ``s = m - k`` new Arnoldi vectors per cycle,
``Op U = C`` and ``C^T C = I``. Left preconditioning works in ``x``-space
(``Op = M^{-1} A``); right preconditioning uses the flexible form (``z_j = M^{-1} v_j`` is
stored, ``A [U, Z] = [C, V] G``) so that ``U`` stays an ``x``-space basis, as a network predicts
it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ._arnoldi_kernels import givens_update, mgs_orthogonalize
from .harmonic_ritz import harmonic_ritz_basis
from .operators import System, blas_limit, now
from .result import SolveResult

EPS = np.finfo(np.float64).eps
BREAKDOWN = 1e-14
"""Happy breakdown when the new Arnoldi vector's norm falls below this fraction of ``||Op v||``."""
RANK_TOL_U = 1e-10
RANK_TOL_C = 1e-12
REORTH_C = 1e-10
STAGNATION = 0.999


@dataclass
class _Recycled:
    """The recycled pair as rows: ``U`` (k, n) in x-space and ``C = Op U`` (k, n), orthonormal."""

    U: np.ndarray
    C: np.ndarray

    @property
    def k(self) -> int:
        return self.C.shape[0]


@dataclass
class _Cycle:
    steps: int
    converged: bool
    breakdown: bool
    H: np.ndarray  # unrotated (steps+1, steps)
    B: np.ndarray  # unrotated (k, steps)


class KrylovSolver:
    """State of one solve; ``run`` performs it and returns a :class:`SolveResult`."""

    def __init__(
        self,
        system: System,
        x0: np.ndarray | None,
        *,
        m: int,
        k: int,
        rtol: float,
        atol: float,
        maxiter: int | None,
        callback: Callable[[float], None] | None,
        method: str,
        blas_threads: int | None = 1,
    ) -> None:
        n = system.n
        if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 1:
            raise ValueError(f"restart length m must be a positive integer, got {m!r}")
        if not 0 <= k < m:
            raise ValueError(f"recycle dimension k must satisfy 0 <= k < m = {m}, got {k!r}")
        if not (np.isfinite(rtol) and rtol >= 0) or not (np.isfinite(atol) and atol >= 0):
            raise ValueError(f"rtol and atol must be finite and >= 0, got {rtol!r}, {atol!r}")
        self.sys, self.m, self.k_target = system, int(m), int(k)
        self.blas_threads = blas_threads
        self.rtol, self.atol, self.callback, self.method = rtol, atol, callback, method
        self.maxiter = n if maxiter is None else int(maxiter)
        if self.maxiter < 0:
            raise ValueError(f"maxiter must be >= 0, got {maxiter!r}")
        self.x, self.x_is_zero = system.initial_guess(x0)
        self.basis = np.empty((self.m + 1, n))  # rows [0, k) = C, then V
        self.Z = np.empty((self.m, n)) if system.side == "right" else None
        self.recycled: _Recycled | None = None
        self.iterations = 0
        self.history: list[float] = []
        self.stamps: list[float] = []
        self.reason = "maxiter"
        self.n_cycles = 0

    # -- bookkeeping -------------------------------------------------------------------------

    def _record(self, rho: float) -> None:
        rel = rho / self.ref
        self.history.append(rel)
        self.stamps.append(now() - self.t0)
        if self.callback is not None and len(self.history) > 1:
            self.callback(rel)

    # -- initial deflation with a given U (Parks et al. 2006, sec. 2.4) ----------------------

    def set_initial_space(self, U: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Orthonormalise ``U``, form ``C = Op U``, and deflate the residual; returns the new
        residual (``x`` is updated in place)."""
        n = self.sys.n
        U = np.asarray(U)
        if U.ndim == 1:
            U = U[:, None]
        if U.ndim != 2 or U.shape[0] != n:
            raise ValueError(f"U must have shape (n, k) = ({n}, k), got {U.shape}")
        if not np.all(np.isfinite(U)):
            raise ValueError("U contains NaN or Inf")
        U = U.astype(np.float64)[:, : self.k_target]
        if U.shape[1] == 0 or not np.any(U):
            return self._no_space(r, "U is empty or zero")
        # rank-revealing QR of U itself: drop (nearly) dependent columns
        Qu, Ru, _ = sla.qr(U, mode="economic", pivoting=True)
        rank = int(np.sum(np.abs(np.diag(Ru)) > RANK_TOL_U * abs(Ru[0, 0])))
        U = Qu[:, :rank]
        if self.sys.side == "left":
            Ct = self.sys.precond(self.sys.matvec(U))
        else:  # right, flexible x-space form: Z_U = U, C~ = A U
            Ct = self.sys.matvec(U)
        # pivoted Householder QR of C~: Ct Pi = Q R, keep numerically independent columns
        Q, R, piv = sla.qr(Ct, mode="economic", pivoting=True)
        rank = int(np.sum(np.abs(np.diag(R)) > RANK_TOL_C * abs(R[0, 0]))) if R.size else 0
        if rank == 0:
            return self._no_space(r, "Op U has numerical rank 0")
        C = Q[:, :rank]
        U = sla.solve_triangular(R[:rank, :rank], U[:, piv[:rank]].T, trans="T")
        self.recycled = _Recycled(U=np.ascontiguousarray(U), C=np.ascontiguousarray(C.T))
        # deflate: minimal residual over x0 + span(U); two CGS passes
        for _ in range(2):
            alpha = self.recycled.C @ r
            r = r - self.recycled.C.T @ alpha
            self.x += self.recycled.U.T @ alpha
        self.x_is_zero = False
        return r

    def _no_space(self, r: np.ndarray, why: str) -> np.ndarray:
        warnings.warn(
            f"{self.method}: {why}; falling back to GMRES({self.m})", RuntimeWarning, stacklevel=4
        )
        self.k_target = 0
        self.recycled = None
        return r

    # -- one Arnoldi cycle ---------------------------------------------------------------

    def _cycle(self, r: np.ndarray, beta: float) -> _Cycle:
        sys, basis = self.sys, self.basis
        kk = 0 if self.recycled is None else self.recycled.k
        if kk:
            basis[:kk] = self.recycled.C
        s = self.m - kk
        V = basis[kk:]
        V[0] = r / beta
        H = np.zeros((s + 1, s))
        Rot = np.zeros((s + 1, s))
        B = np.zeros((kk, s))
        cs, sn = np.zeros(s), np.zeros(s)
        g = np.zeros(s + 1)
        g[0] = beta
        coeffs = np.empty(self.m + 1)
        steps, converged, breakdown = 0, False, False
        for j in range(s):
            if self.iterations >= self.maxiter:
                break
            w, z = sys.op(V[j])
            if z is not None:
                self.Z[j] = z
            norm_w, h = mgs_orthogonalize(basis, kk + j + 1, w, coeffs)
            B[:, j] = coeffs[:kk]
            H[: j + 1, j] = coeffs[kk : kk + j + 1]
            H[j + 1, j] = h
            breakdown = h <= BREAKDOWN * norm_w
            if not breakdown:
                np.divide(w, h, out=V[j + 1])
            rho = givens_update(H, Rot, cs, sn, g, j)
            self.iterations += 1
            steps = j + 1
            self._record(rho)
            if rho <= self.tau or breakdown:
                converged = True
                break
        if steps:
            y = self._small_solve(Rot[:steps, :steps], g[:steps])
            Y = self.Z[:steps] if sys.side == "right" else V[:steps]
            self.x += Y.T @ y
            if kk:
                y_u = beta * (self.recycled.C @ V[0]) - B[:, :steps] @ y
                self.x += self.recycled.U.T @ y_u
            self.x_is_zero = False
        return _Cycle(steps, converged, breakdown, H[: steps + 1, :steps], B[:, :steps])

    @staticmethod
    def _small_solve(R: np.ndarray, g: np.ndarray) -> np.ndarray:
        d = np.abs(np.diag(R))
        if np.all(d > EPS * max(d.max(), 1e-300)):
            return sla.solve_triangular(R, g)
        return np.linalg.lstsq(R, g, rcond=None)[0]

    # -- recycle update at restart (Parks et al. 2006, strategy A) ------------------------

    def _update_recycled(self, cyc: _Cycle) -> None:
        """Replace (U, C) by the harmonic Ritz pair of ``Op [U~, Y_s] = [C, V_{s+1}] G``.

        ``U~ = U D`` with ``D = diag(1/||u_i||)``; ``Y_s`` is ``V_s`` (left) or ``Z_s`` (right).
        The scaling is folded into the small matrices so no ``n``-sized copy is made.
        """
        s = cyc.steps
        kk = 0 if self.recycled is None else self.recycled.k
        W = self.basis[: kk + s + 1]  # [C, V_{s+1}]
        Ys = self.Z[:s] if self.sys.side == "right" else self.basis[kk : kk + s]
        G = np.zeros((kk + s + 1, kk + s))
        G[kk:, kk:] = cyc.H
        WtY = np.zeros((kk + s + 1, kk + s))
        if kk:
            U = self.recycled.U
            d = 1.0 / np.linalg.norm(U, axis=1)
            G[:kk, :kk] = np.diag(d)
            G[:kk, kk:] = cyc.B
            WtY[:, :kk] = (W @ U.T) * d
        if self.sys.side == "right":  # flexible form: W^T Z has no structure to exploit
            WtY[:, kk:] = W @ Ys.T
        else:  # C^T V_s = 0 and V_{s+1}^T V_s = [I; 0]
            WtY[kk : kk + s, kk:] = np.eye(s)
        P = harmonic_ritz_basis(G, WtY, min(self.k_target, kk + s - 1), max_k=self.m - 1)
        if P.shape[1] == 0:
            return
        Q, R, piv = sla.qr(G @ P, mode="economic", pivoting=True)
        rank = int(np.sum(np.abs(np.diag(R)) > RANK_TOL_C * abs(R[0, 0])))
        if rank == 0:
            return  # keep the old (U, C) one more cycle
        Q, R, P = Q[:, :rank], R[:rank, :rank], P[:, piv[:rank]]
        C = Q.T @ W
        coef = sla.solve_triangular(R, P.T, trans="T")  # (P R^-1)^T, shape (rank, kk + s)
        U_new = coef[:, kk:] @ Ys
        if kk:
            U_new += (coef[:, :kk] * d) @ U
        CCt = C @ C.T
        if np.abs(CCt - np.eye(rank)).max() > REORTH_C:
            # C has drifted from orthonormal over the cycles (it inherits the old C): one
            # Cholesky-QR pass, C <- L^{-1} C and U <- L^{-1} U, keeps Op U = C.
            L = np.linalg.cholesky(CCt)
            C = sla.solve_triangular(L, C, lower=True)
            U_new = sla.solve_triangular(L, U_new, lower=True)
        self.recycled = _Recycled(U=np.ascontiguousarray(U_new), C=np.ascontiguousarray(C))

    # -- driver --------------------------------------------------------------------------

    def run(self, U: np.ndarray | None = None) -> SolveResult:
        """Solve; BLAS is limited to ``blas_threads`` threads meanwhile (``None``: as is)."""
        with blas_limit(self.blas_threads):
            return self._run(U)

    def _run(self, U: np.ndarray | None) -> SolveResult:
        sys = self.sys
        self.t0 = now()
        bhat = sys.residual(np.zeros(sys.n), x_is_zero=True) if sys.side == "left" else sys.b
        self.ref = float(np.linalg.norm(bhat))
        if self.ref == 0.0:  # b = 0 (or M^-1 b = 0): x = 0 is the solution
            self.x[:] = 0.0
            self.ref = 1.0
            self._record(0.0)
            self.reason = "converged"
            return self._result(True)
        self.tau = max(self.rtol * self.ref, self.atol)
        r = (
            bhat.copy()
            if (self.x_is_zero and sys.side == "left")
            else sys.residual(self.x, self.x_is_zero)
        )
        if U is not None and self.k_target > 0:
            r = self.set_initial_space(U, r)
        rho = float(np.linalg.norm(r))
        self._record(rho)
        cycle_starts: list[float] = []
        converged = False
        while True:
            if rho <= self.tau:
                converged = True
                self.reason = "converged"
                break
            if self.iterations >= self.maxiter:
                self.reason = "maxiter"
                break
            cycle_starts.append(rho)
            if len(cycle_starts) > 3 and all(
                cycle_starts[-i] > STAGNATION * cycle_starts[-i - 1] for i in (1, 2, 3)
            ):
                self.reason = "stagnation"
                break
            cyc = self._cycle(r, rho)
            self.n_cycles += 1
            if cyc.steps == 0:
                break
            if not cyc.converged and self.k_target > 0:
                self._update_recycled(cyc)
            r = sys.residual(self.x)  # the true residual at every restart
            rho = float(np.linalg.norm(r))
            if cyc.breakdown and rho > self.tau:
                self.reason = "breakdown"
                break
        return self._result(converged, rho)

    def _result(self, converged: bool, rho: float = 0.0) -> SolveResult:
        sys = self.sys
        solve_time = now() - self.t0
        return SolveResult(
            x=self.x,
            converged=converged,
            iterations=self.iterations,
            n_matvec=sys.n_matvec,
            n_precond=sys.n_precond,
            residuals=np.asarray(self.history),
            times=np.asarray(self.stamps),
            true_residual=sys.true_residual(self.x),
            setup_time=sys.setup_time,
            solve_time=solve_time,
            method=self.method,
            preconditioner=sys.precond_name,
            side=sys.side,
            rtol=self.rtol,
            true_precond_residual=rho / self.ref,
            n_cycles=self.n_cycles,
            recycle_dim=0 if self.recycled is None else self.recycled.k,
            reason=self.reason,
            precond_apply_time=sys.precond_apply_time,
            U=None if self.recycled is None else self.recycled.U.T,
        )
