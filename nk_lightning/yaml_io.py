"""Reading the project's YAML files (data configs, sweep files) with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["load_yaml_mapping"]


def load_yaml_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` (empty file: ``{}``).

    Parameters
    ----------
    what : str
        Names the file in errors, e.g. ``"data config"``.

    Raises
    ------
    ConfigError
        The file is missing, is not valid YAML, or does not hold a mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} {str(path)!r} does not exist")
    try:
        loaded = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"{what} {str(path)!r} is not valid YAML{line}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{what} {str(path)!r} must be a mapping")
    return loaded
