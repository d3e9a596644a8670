"""Lightning callbacks."""

from .progress import ProgressBar
from .solver_speedup import SolverSpeedupCallback

__all__ = ["ProgressBar", "SolverSpeedupCallback"]
