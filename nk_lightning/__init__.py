"""nk_lightning: Neural Krylov iteration (NeurKItt) with PyTorch Lightning.

Subpackages
-----------
pdes        PDE matrix families (numpy/scipy only).
data        Dataset generation, the Zarr store, and the Lightning DataModule.
solvers     GMRES(m), GCRO-DR and PETSc-style preconditioners (numpy/scipy only).
models      Subspace predictors (pure torch).
metrics     Projection loss and principal angles (torch, torchmetrics).
tasks       LightningModules.
callbacks   Lightning callbacks (solver speedup evaluation).
evaluation  Solver benchmarks shared by the callback and ``python -m nk_lightning.evaluate``.
"""

__version__ = "0.1.0"
