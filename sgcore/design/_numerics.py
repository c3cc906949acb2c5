"""Quadrature over the registry's standard forms f: fast evaluators of f and integrals of it, tails included.

Private helpers of the gallery, Eq. 2 and the simulation. :func:`_integrate` splits at the kinks of the
registry shapes and substitutes on ``|v| >= 1``, so power-law tails and very wide ranges stay accurate.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy import integrate

from ..shapes import NUMPY_OPS, get_shape

_TAIL_PROBES = (1e100, 1e50, 1e20)  # where the power-law decay of v^2 f is measured


def _quad(g: Callable[[float], float], a: float, b: float) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, err = integrate.quad(g, a, b, limit=400, epsabs=1e-14, epsrel=1e-11)
    return float(val), float(err)


def _outer(g: Callable[[float], float], lo: float, hi: float) -> tuple[float, float]:
    """int_lo^hi g for 1 <= lo < hi <= inf.

    To infinity: t = 1/v, and if g decays like a power v^-p (measured), the algebraic weight t^(p-2) is
    handed to QUADPACK (QAWS) so that even p -> 1+ converges; a long finite stretch: u = log v.
    """
    if math.isinf(hi):
        p = _decay_exponent(g, 1.0)
        if math.isfinite(p) and p > 1.0:
            t_min = max(1e-100, 10.0 ** (-250.0 / p))  # keeps g(1/t) and t^-p normal floats

            def h(t: float) -> float:  # smooth: tends to the tail's prefactor as t -> 0
                t = max(t, t_min)
                return g(1.0 / t) * t ** (-p)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", integrate.IntegrationWarning)
                val, err = integrate.quad(h, 0.0, 1.0 / lo, weight="alg", wvar=(p - 2.0, 0.0), limit=400,
                                          epsabs=1e-14, epsrel=1e-11)
            return float(val), float(err)
        return _quad(lambda t: g(1.0 / t) / (t * t) if t > 0 else 0.0, 0.0, 1.0 / lo)
    return _quad(lambda u: g(math.exp(u)) * math.exp(u), math.log(lo), math.log(hi))


def _integrate(g: Callable[[float], float], a: float, b: float) -> tuple[float, float]:
    """int_a^b g(v) dv for a <= b (either may be infinite): (value, error estimate).

    Splits at the kinks of the registry shapes (0, +-1/2, +-1) and treats |v| >= 1 by substitution,
    so power-law tails (q-PseudoSpike with q near 1) and very wide ranges are integrated accurately.
    A divergent integral (g ~ |v|^-p with p <= 1 towards an infinite end) gives inf.
    """
    if not a < b:
        return 0.0, 0.0
    for end, sign in ((b, 1.0), (a, -1.0)):
        if math.isinf(end) and _decay_exponent(g, sign) <= 1.0:
            return math.inf, 0.0
    cuts = sorted({a, b, *(p for p in (-1.0, -0.5, 0.0, 0.5, 1.0) if a < p < b)})
    total, error = 0.0, 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if lo >= 1.0:
            val, err = _outer(g, lo, hi)
        elif hi <= -1.0:
            val, err = _outer(lambda v: g(-v), -hi, -lo)
        else:
            val, err = _quad(g, lo, hi)
        total += val
        error += err
    return total, error


def _decay_exponent(g: Callable[[float], float], sign: float) -> float:
    """p with g(v) ~ |v|^-p as v -> sign * inf (inf: g decays faster than any power).

    Measured between |v| = V and 2V at the largest probe V in 1e100, 1e50, 1e20 where g is still a normal
    float; so far out, (1 + a V) and a V agree to every bit and a power law gives its exponent exactly.
    """
    for big in _TAIL_PROBES:
        g1, g2 = g(sign * big), g(sign * 2.0 * big)
        if min(g1, g2) > 1e-290 and math.isfinite(g1) and math.isfinite(g2):
            return -math.log(g2 / g1) / math.log(2.0) + 0.0
    return math.inf


def _shape_params(name: str, q: float) -> dict[str, float]:
    return get_shape(name).pick_params(q=q)


def _f_scalar(name: str, q: float) -> Callable[[float], float]:
    shp = get_shape(name)
    params = shp.shape_params(**_shape_params(name, q))
    f = shp._f  # the registry's formula without per-call validation (quadrature calls it thousands of times)

    def fn(v: float) -> float:
        return float(f(np.float64(v), NUMPY_OPS, **params))

    return fn


def _f_array(name: str, q: float) -> Callable[[np.ndarray], np.ndarray]:
    shp = get_shape(name)
    params = _shape_params(name, q)
    return lambda v: shp.f(v, **params)


