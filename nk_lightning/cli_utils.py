"""Small helpers shared by the command-line entry points."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from .errors import NKError

__all__ = ["OneLineParser", "run_main", "fail"]


def fail(prog: str, message: str, code: int = 2) -> NoReturn:
    """Print ``prog: error: message`` on one line to stderr and exit."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    raise SystemExit(code)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, f"{message} (see --help)")


def run_main(prog: str, body: Callable[[], int | None]) -> int:
    """Run ``body`` and turn user-facing errors into one line and exit code 2;
    Ctrl-C exits with 130."""
    try:
        return int(body() or 0)
    except NKError as err:
        fail(prog, str(err))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
