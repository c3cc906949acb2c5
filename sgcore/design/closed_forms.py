"""Closed forms (derived here) of the gallery quantities of each registry shape: peak, area, int f^2, int v^2 f.

The one place where these shape facts are keyed by shape name; :mod:`.gallery` compares them with quadrature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from ..shapes import Q_SPEC, get_shape

_EULER_GAMMA = 0.5772156649015329

#: Closed forms (derived here, LaTeX) of the gallery quantities of each standard form f.
CLOSED_FORMS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "sigmoid": {"int_f_sq": r"16\int\sigma'(4v)^2 dv = 4\int_0^1 p(1-p)\,dp = 2/3",
                "tail_moment": r"\pi^2/48 \ (\text{logistic, scale } 1/4)"},
    "superspike": {"int_f_sq": r"\int (1+2|v|)^{-4} dv = 1/3", "tail_moment": r"\infty\ (v^2 f \to 1/4)"},
    "triangular": {"int_f_sq": r"2\int_0^1 (1-v)^2 dv = 2/3", "tail_moment": r"2\int_0^1 v^2(1-v) dv = 1/6"},
    "exponential": {"int_f_sq": r"\int e^{-4|v|} dv = 1/2", "tail_moment": r"2\int_0^\infty v^2 e^{-2v} dv = 1/2"},
    "gaussian": {"int_f_sq": r"\int e^{-2\pi v^2} dv = 1/\sqrt{2}", "tail_moment": r"1/(2\pi)"},
    "rectangular": {"int_f_sq": "1", "tail_moment": "1/12"},
    "q_pseudospike": {"int_f_sq": r"(q-1)/(2q-1)",
                      "tail_moment": r"\frac{(q-1)^2}{2(q-2)(q-3)}\ (q>3),\ \infty\ (q\le 3)"},
    "atan": {"int_f_sq": r"\frac{1}{\pi}\int\frac{du}{(1+u^2)^2} = 1/2", "tail_moment": r"\infty\ (v^2 f\to 1/\pi^2)"},
    "escape_exp": {"int_f_sq": r"e\int_0^\infty u e^{-2u} du = e/4",
                   "tail_moment": r"(\pi^2/6 + \gamma_E^2)/e^2\ (\text{Gumbel-min, scale } 1/e)"},
})


def closed_form(name: str, quantity: str, q: float = Q_SPEC.default) -> float:
    """Closed form of ``peak``, ``area``, ``int_f_sq`` or ``tail_moment`` (``inf`` when infinite)."""
    get_shape(name)
    q = Q_SPEC.validate(q)
    if quantity in ("peak", "area"):
        return 1.0
    if quantity == "int_f_sq":
        return {
            "sigmoid": 2.0 / 3.0, "superspike": 1.0 / 3.0, "triangular": 2.0 / 3.0, "exponential": 0.5,
            "gaussian": 1.0 / math.sqrt(2.0), "rectangular": 1.0, "q_pseudospike": (q - 1.0) / (2.0 * q - 1.0),
            "atan": 0.5, "escape_exp": math.e / 4.0,
        }[name]
    if quantity == "tail_moment":
        if name == "q_pseudospike":
            return (q - 1.0) ** 2 / (2.0 * (q - 2.0) * (q - 3.0)) if q > 3.0 else math.inf
        return {
            "sigmoid": math.pi**2 / 48.0, "superspike": math.inf, "triangular": 1.0 / 6.0, "exponential": 0.5,
            "gaussian": 1.0 / (2.0 * math.pi), "rectangular": 1.0 / 12.0, "atan": math.inf,
            "escape_exp": (math.pi**2 / 6.0 + _EULER_GAMMA**2) / math.e**2,
        }[name]
    raise ValueError(f"quantity must be one of peak, area, int_f_sq, tail_moment; got {quantity!r}")
