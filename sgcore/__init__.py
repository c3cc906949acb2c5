"""sgcore: the compute library behind Surrogate Gradient Explorer (no Streamlit inside).

Public API, re-exported explicitly. Torch-based parts (:func:`spike_fn`) are imported on first
use so that the analytic pages start without loading torch.
"""

from __future__ import annotations

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
