"""A progress bar that reads well both in a terminal and in log files."""

from __future__ import annotations

import sys

from pytorch_lightning.callbacks import TQDMProgressBar

__all__ = ["ProgressBar"]


class ProgressBar(TQDMProgressBar):
    """Lightning's TQDM bar; when stdout is not a terminal (nohup, SLURM, CI logs) it
    refreshes every ``log_refresh_rate`` batches and leaves one line per epoch instead of a
    stream of carriage returns.

    Parameters
    ----------
    refresh_rate : int
        Batches between refreshes in a terminal.
    log_refresh_rate : int
        Batches between refreshes when writing to a file or pipe.
    """

    def __init__(self, refresh_rate: int = 10, log_refresh_rate: int = 200) -> None:
        interactive = sys.stdout.isatty()
        super().__init__(
            refresh_rate=refresh_rate if interactive else log_refresh_rate, leave=not interactive
        )
