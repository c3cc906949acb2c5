"""sgcore: the compute library behind Surrogate Gradient Explorer (no Streamlit inside).

Public API, re-exported explicitly. Torch-based parts (:func:`spike_fn`) are imported on first
use so that the analytic pages start without loading torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .escape import (
    ESCAPE_FAMILIES,
    ESCAPE_PARAMS,
    EscapeConfig,
    EscapeNoise,
    EscapePoints,
    EscapeView,
    escape_points,
    escape_view,
)
from .params import ParamSpec, parse_query, validate_all
from .shapes import (
    H0,
    SCALINGS,
    SHAPES,
    SurrogateShape,
    dampening,
    get_shape,
    heaviside,
    sharpness,
    surrogate_derivative,
)

_DISTRIBUTION = "surrogate-gradient-explorer"  # the name pip installs sgcore (and the app) under


def _version() -> str:
    """The installed distribution's version; from a checkout that was never installed, pyproject.toml's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:
        pass
    import tomllib

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return "0+unknown"
    if project.get("name") != _DISTRIBUTION or "version" not in project:
        return "0+unknown"
    return str(project["version"])


#: The package's version (PEP 440): the installed distribution's metadata, or a checkout's ``pyproject.toml``.
__version__: str = _version()

__all__ = [
    "ESCAPE_FAMILIES",
    "ESCAPE_PARAMS",
    "EscapeConfig",
    "EscapeNoise",
    "EscapePoints",
    "EscapeView",
    "H0",
    "ParamSpec",
    "SCALINGS",
    "SHAPES",
    "SurrogateShape",
    "dampening",
    "escape_points",
    "escape_view",
    "get_shape",
    "heaviside",
    "parse_query",
    "sharpness",
    "spike_fn",
    "surrogate_derivative",
    "surrogate_derivative_torch",
    "validate_all",
]

_LAZY = {"spike_fn", "surrogate_derivative_torch"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import spike

        return getattr(spike, name)
    raise AttributeError(f"module 'sgcore' has no attribute {name!r}")
