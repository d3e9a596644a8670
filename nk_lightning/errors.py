"""Exceptions that entry points turn into one-line messages and exit code 2."""


class NKError(Exception):
    """Base class for user-facing errors (bad input, bad store, bad checkpoint)."""


class ConfigError(NKError, ValueError):
    """An invalid configuration value; the message names the value."""


class StoreError(NKError):
    """A Zarr store that is missing, foreign, incomplete or does not match its schema."""


class StoreNotReady(StoreError):
    """The store does not exist yet or its generation is unfinished: generating it fixes it."""


class GroundTruthError(NKError):
    """An eigenpair failed its residual check; the message names the sample."""
