"""Reading a W&B sweep YAML and expanding its grid into runs."""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from ..errors import ConfigError
from ..yaml_io import load_yaml_mapping

__all__ = ["SweepSpec", "RunSpec", "load_sweep", "format_arg"]

SUPPORTED_MACROS = ("${env}", "${interpreter}", "${program}", "${args}")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its parameters (dotted CLI keys) and the fit command.

    Attributes
    ----------
    name : str
        ``<sweep>-<readable params>-<hash>``; the hash of the parameters identifies the run, so
        editing the grid does not rename (or redo) runs that stay in it.
    params : dict
        ``{"model.width": 32, ...}``.
    argv : list of str
        The command without the runner's own additions.
    """

    name: str
    params: dict[str, Any]
    argv: list[str]


@dataclass
class SweepSpec:
    """A grid sweep in the W&B format (``method: grid``, ``parameters``, ``command``)."""

    name: str
    path: Path
    metric: dict[str, Any]
    parameters: dict[str, list[Any]]
    command: list[str]
    program: str = "nk_lightning/fit.py"
    runs: list[RunSpec] = field(default_factory=list)


def format_arg(value: Any) -> str:
    """A parameter value exactly as ``wandb agent`` writes it into ``--key=value`` (Python
    ``str``: ``False``, ``[8, 8]``), which LightningCLI parses, except ``None``: W&B writes
    ``None``, which LightningCLI reads as a string, so the local runner writes ``null``."""
    return "null" if value is None else str(value)


def _slug(params: dict[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        leaf = key.split(".")[-1]
        if leaf == "config":
            value = Path(str(value)).stem
        parts.append(f"{leaf}{format_arg(value)}".replace("/", "_").replace(" ", ""))
    slug = "-".join(parts)
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in slug)[:60]


def _expand(command: list[str], program: str, params: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for token in command:
        if token == "${env}":
            continue
        if token == "${interpreter}":
            argv.append(sys.executable)
        elif token == "${program}":
            argv.append(program)
        elif token == "${args}":
            argv += [f"--{k}={format_arg(v)}" for k, v in params.items()]
        elif "${" in token:
            raise ConfigError(
                f"macro {token!r} is not supported by the local runner (supported: "
                f"{', '.join(SUPPORTED_MACROS)}); LightningCLI needs --key=value arguments"
            )
        else:
            argv.append(token)
    return argv


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep YAML and expand its grid (cartesian product in file order).

    Raises
    ------
    ConfigError
        Missing or malformed file, a method other than ``grid``, a parameter without ``values``/``value``,
        a command without ``${args}`` or with an unsupported macro.
    """
    path = Path(path)
    raw = load_yaml_mapping(path, "sweep file")
    method = raw.get("method", "grid")
    if method != "grid":
        raise ConfigError(
            f"the local runner expands method: grid only, got {method!r}; use "
            "wandb sweep/agent for random or bayes"
        )
    params_raw = raw.get("parameters") or {}
    if not params_raw:
        raise ConfigError(f"sweep {str(path)!r} has no parameters")
    parameters: dict[str, list[Any]] = {}
    for key, spec in params_raw.items():
        if isinstance(spec, dict) and "values" in spec:
            if not spec["values"]:
                raise ConfigError(f"parameter {key!r} has an empty values list")
            parameters[key] = list(spec["values"])
        elif isinstance(spec, dict) and "value" in spec:
            parameters[key] = [spec["value"]]
        else:
            raise ConfigError(f"parameter {key!r} needs 'values' or 'value' for a grid sweep")
    command = raw.get("command") or ["${env}", "${interpreter}", "${program}", "${args}"]
    if "${args}" not in command:
        raise ConfigError("the sweep command must contain ${args}")
    sweep = SweepSpec(
        name=str(raw.get("name") or path.stem),
        path=path,
        metric=raw.get("metric") or {},
        parameters=parameters,
        command=[str(c) for c in command],
        program=str(raw.get("program", "nk_lightning/fit.py")),
    )
    keys = list(parameters)
    for combo in itertools.product(*(parameters[k] for k in keys)):
        params = dict(zip(keys, combo, strict=True))
        digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8]
        sweep.runs.append(
            RunSpec(
                name=f"{sweep.name}-{_slug(params)}-{digest}",
                params=params,
                argv=_expand(sweep.command, sweep.program, params),
            )
        )
    return sweep
