"""Benchmark the Krylov solvers (single-threaded BLAS for ours and scipy alike).

1. Time per iteration of our GMRES(40) against ``scipy.sparse.linalg.gmres(restart=40)`` on
   the same Darcy systems, no preconditioner (both run a fixed number of iterations).
2. Our GCRO-DR(40, 20) with the exact 20 smallest eigenvectors against
   ``scipy.sparse.linalg.gcrotmk(..., CU=[(None, u) ...])`` with the same vectors, same
   tolerance: iterations/matvecs, total time, final true residual.
3. The oracle table (the ceiling for a learned subspace): GCRO-DR with the exact eigenvectors
   against GMRES(40) for the 7 preconditioners x 5 tolerances, cells "time x / iterations x"
   (time = preconditioner setup + solve, the same setup on both sides), medians of ``--reps``.

Usage: ``python benchmarks/solvers.py [--grids 128 256] [--table-grid 128] [--reps 3]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from nk_lightning.data.groundtruth import smallest_eigenpairs
from nk_lightning.pdes import get_pde
from nk_lightning.solvers import PRECONDITIONERS, gcrodr, gmres, make_preconditioner

TOLERANCES = (1e-2, 1e-4, 1e-7, 1e-10, 1e-12)


def system(g: int, seed: int = 0):
    rng = np.random.default_rng([7, g, seed])
    A = get_pde("darcy").sample(rng, g).A
    return A, np.ones(A.shape[0]), rng


def bench_gmres(grids, reps, iters):
    print(
        f"== GMRES(40) time per iteration, {iters} iterations, no preconditioner, median of {reps}"
    )
    for g in grids:
        A, b, _ = system(g)
        ours, theirs = [], []
        for _ in range(reps):
            res = gmres(A, b, restart=40, rtol=1e-30, maxiter=iters)
            ours.append(res.solve_time / res.iterations)
            count = []
            t = time.perf_counter()
            spla.gmres(
                A,
                b,
                restart=40,
                rtol=1e-30,
                maxiter=iters // 40,
                callback=count.append,
                callback_type="pr_norm",
            )
            theirs.append((time.perf_counter() - t) / len(count))
        o, s = np.median(ours), np.median(theirs)
        print(
            f"g={g:4d} n={g * g:6d}: ours {o * 1e3:.3f} ms/it | scipy {s * 1e3:.3f} ms/it | "
            f"ratio ours/scipy {o / s:.2f}"
        )


def bench_gcrotmk(grids, reps, rtol=1e-8, k=20):
    print(
        f"== GCRO-DR(40,{k}) vs scipy gcrotmk(CU=exact eigenvectors), rtol {rtol}, median of {reps}"
    )
    for g in grids:
        A, b, rng = system(g)
        V = smallest_eigenpairs(A, k, v0=rng.standard_normal(A.shape[0])).eigvecs
        ours, theirs = [], []
        for _ in range(reps):
            res = gcrodr(A, b, U=V, m=40, rtol=rtol)
            ours.append(res.total_time)
            CU = [(None, V[:, j].copy()) for j in range(k)]
            count = [0]

            def mv(x, count=count, A=A):
                count[0] += 1
                return A @ x

            op = spla.LinearOperator(A.shape, matvec=mv, dtype=float)
            t = time.perf_counter()
            x, info = spla.gcrotmk(op, b, rtol=rtol, m=20, k=k, CU=CU, maxiter=100_000)
            theirs.append(time.perf_counter() - t)
        r_s = np.linalg.norm(b - A @ x) / np.linalg.norm(b)
        print(
            f"g={g:4d}: ours {np.median(ours) * 1e3:8.1f} ms ({res.iterations} its, "
            f"{res.n_matvec} matvecs, residual {res.true_residual:.1e}) | gcrotmk "
            f"{np.median(theirs) * 1e3:8.1f} ms ({count[0]} matvecs, info {info}, residual "
            f"{r_s:.1e}) | time ratio ours/scipy {np.median(ours) / np.median(theirs):.2f}"
        )


def bench_table(g, reps, k=20):
    A, b, rng = system(g)
    V = smallest_eigenpairs(A, k, v0=rng.standard_normal(A.shape[0])).eigvecs
    print(
        f"== oracle table: Darcy g={g}, GCRO-DR(40,{k}) with the exact eigenvectors vs "
        f"GMRES(40), left PC, b = ones; cells: time x / iterations x "
        f"(time = PC setup + solve, median of {reps})"
    )
    header = "| preconditioner | " + " | ".join(f"{t:.0e}" for t in TOLERANCES) + " |"
    print(header)
    print("|" + "---|" * (len(TOLERANCES) + 1))
    for name in PRECONDITIONERS:
        make_preconditioner(name, A)  # compile kernels before timing
        cells = []
        for rtol in TOLERANCES:
            t_g, t_o = [], []
            for _ in range(reps):
                M = make_preconditioner(name, A)
                rg = gmres(A, b, M=M, rtol=rtol)
                ro = gcrodr(A, b, U=V, M=M, rtol=rtol)
                t_g.append(M.setup_time + rg.solve_time)
                t_o.append(M.setup_time + ro.solve_time)
            flag = "" if rg.converged and ro.converged else " (!)"
            cells.append(
                f"{np.median(t_g) / np.median(t_o):.1f} / "
                f"{rg.iterations / max(ro.iterations, 1):.1f}{flag}"
            )
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("(!) = a solver did not converge within maxiter = n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grids", type=int, nargs="+", default=[128, 256])
    p.add_argument("--table-grid", type=int, default=128)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--iters", type=int, default=400)
    p.add_argument("--skip-table", action="store_true")
    args = p.parse_args()
    make_preconditioner("ilu", get_pde("darcy").sample(np.random.default_rng(0), 8).A)
    with threadpool_limits(limits=1, user_api="blas"):
        bench_gmres(args.grids, args.reps, args.iters)
        bench_gcrotmk(args.grids, args.reps)
        if not args.skip_table:
            bench_table(args.table_grid, args.reps)


if __name__ == "__main__":
    main()
