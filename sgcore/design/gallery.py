"""The gallery: peak, area, int f^2 and tail moment of every registry shape (quadrature beside closed forms).

Also the SD curves ``gamma f(s v)`` (Herranz-Celotti & Rouat Sec. 2.2) that the other modules evaluate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import optimize

from ..params import positive
from ..shapes import Q_SPEC, SHAPES, get_shape
from ._numerics import _decay_exponent, _f_array, _f_scalar, _integrate
from .closed_forms import CLOSED_FORMS, closed_form


@dataclass(frozen=True)
class ShapeMoments:
    """Gallery numbers of one standard form f (quadrature) and their closed forms."""

    name: str
    label: str
    q: float | None  # the shape's own parameter q where it declares one (q-PseudoSpike), else None
    peak: float
    argmax: float
    area: float
    int_f_sq: float
    tail_moment: float  # int v^2 f; inf when infinite
    tail_finite: bool
    tail_exponent: float  # v^2 f ~ |v|^-tail_exponent far out (inf: faster than any power); finite iff > 1
    quad_error: float  # sum of quadrature error estimates
    closed: Mapping[str, float]
    closed_latex: Mapping[str, str]


@lru_cache(maxsize=256)
def _moments(name: str, q: float) -> ShapeMoments:
    f = _f_scalar(name, q)
    grid = np.linspace(-4.0, 4.0, 8001)
    vals = _f_array(name, q)(grid)
    i = int(np.argmax(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(lambda v: -f(v), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-12})
    argmax, peak = (float(res.x), -float(res.fun)) if -res.fun >= vals[i] else (float(grid[i]), float(vals[i]))
    if f(0.0) >= peak * (1.0 - 1e-12):  # flat or cusped tops: report v = 0
        argmax, peak = 0.0, max(f(0.0), peak)
    area, e1 = _integrate(f, -math.inf, math.inf)
    sq, e2 = _integrate(lambda v: f(v) ** 2, -math.inf, math.inf)
    vsq = lambda v: v * v * f(v)  # noqa: E731
    exponent = min(_decay_exponent(vsq, 1.0), _decay_exponent(vsq, -1.0))
    finite = exponent > 1.0
    if finite:
        tail, e3 = _integrate(vsq, -math.inf, math.inf)
    else:
        tail, e3 = math.inf, 0.0
    shp = get_shape(name)
    closed = {k: closed_form(name, k, q) for k in ("peak", "area", "int_f_sq", "tail_moment")}
    return ShapeMoments(name=name, label=shp.label, q=shp.pick_params(q=q).get("q"), peak=peak,
                        argmax=argmax, area=area, int_f_sq=sq, tail_moment=tail, tail_finite=finite,
                        tail_exponent=exponent, quad_error=e1 + e2 + e3, closed=MappingProxyType(closed),
                        closed_latex=CLOSED_FORMS[name])


def shape_moments(name: str, q: float = Q_SPEC.default) -> ShapeMoments:
    """Gallery numbers of one registry shape's standard form f (Herranz-Celotti & Rouat Sec. 2.2, Table S1): peak,
    area, int f^2 and the tail moment (q only matters for shapes that declare it)."""
    q = Q_SPEC.validate(q)
    return _moments(name, get_shape(name).pick_params(q=q).get("q", Q_SPEC.default))


def gallery(q: float = Q_SPEC.default) -> tuple[ShapeMoments, ...]:
    """Gallery numbers (:func:`shape_moments`) of every registry shape, in registry order (``q`` for
    q-PseudoSpike)."""
    return tuple(shape_moments(name, q) for name in SHAPES)


def sd_curve(shape: str, v: Any, gamma: float = 1.0, sharpness: float = 1.0, q: float = Q_SPEC.default) -> np.ndarray:
    """SD(v) = gamma f(s v) on centred voltages ``v`` (Herranz-Celotti Sec. 2.2)."""
    gamma, sharpness = positive("gamma", gamma), positive("sharpness", sharpness)
    get_shape(shape)
    q = Q_SPEC.validate(q)
    return gamma * _f_array(shape, q)(sharpness * np.asarray(v, dtype=float))


def sd_curves(v: Any, gamma: float = 1.0, sharpness: float = 1.0, q: float = Q_SPEC.default,
              shapes: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """SD curves gamma f(s v) (Herranz-Celotti & Rouat Sec. 2.2) of several shapes (default: the whole registry)
    on one grid."""
    return {name: sd_curve(name, v, gamma, sharpness, q) for name in (shapes or tuple(SHAPES))}
