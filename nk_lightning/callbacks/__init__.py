"""Lightning callbacks."""

from .progress import ProgressBar

__all__ = ["ProgressBar"]
