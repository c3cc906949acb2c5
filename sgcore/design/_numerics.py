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
        elif lo == 0.0:
            val, err = _from_peak(g, hi)
        elif hi == 0.0:
            val, err = _from_peak(lambda v: g(-v), -lo)
        else:
            val, err = _quad(g, lo, hi)
        total += val
        error += err
    return total, error


def _from_peak(g: Callable[[float], float], length: float) -> tuple[float, float]:
    """int_0^length g for 0 < length <= 1, where g may peak at v = 0 far more narrowly than ``length``.

    The registry shapes peak at 0; q-PseudoSpike's peak is (q - 1)/2 wide, and for q - 1 below ~1e-7 QUADPACK's
    first Kronrod nodes (~1e-3 length from the ends) see only its tail: it returned int f^2 < 0 for q = 1 + 1e-7.
    A peak narrower than length/1000 (g below half its value at 0 there) is measured (width w with
    g(w) >= g(0)/2, down to 1e-300) and integrated as int_0^w g plus int g(e^u) e^u du over [log w, log length],
    where power-law flanks are smooth and O(1) wide. Wider peaks keep the plain quadrature (numbers unchanged).
    """
    g0 = g(0.0)
    w = 1e-3 * length
    if not (math.isfinite(g0) and g0 > 0.0) or abs(g(w)) >= 0.5 * g0:
        return _quad(g, 0.0, length)
    while w > 1e-300 and abs(g(w)) < 0.5 * g0:
        w *= 0.25
    head, e_head = _quad(g, 0.0, w)
    body, e_body = _quad(lambda u: g(math.exp(u)) * math.exp(u), math.log(w), math.log(length))
    return head + body, e_head + e_body


def _decay_exponent(g: Callable[[float], float], sign: float) -> float:
    """p with g(v) ~ |v|^-p as v -> sign * inf (inf: g decays faster than any power).

    Measured between |v| = V and 2V at the largest probe V in 1e100, 1e50, 1e20 where g is still a normal
    float; so far out, (1 + a V) and a V agree to every bit and a power law gives its exponent exactly. Near
    p = 1 (q-PseudoSpike's area as q -> 1+) the tail is ~1/(p - 1), so p - 1 is measured from v g(v) over V to
    2^64 V, which gives p to the last bit (from log g over 2V, p - 1 = 1e-9 came out ~2e-7 wrong).
    """
    for big in _TAIL_PROBES:
        g1, g2 = g(sign * big), g(sign * 2.0 * big)
        if min(g1, g2) > 1e-290 and math.isfinite(g1) and math.isfinite(g2):
            p = -math.log(g2 / g1) / math.log(2.0)
            if abs(p - 1.0) < 1e-3:  # tail integrals go like 1/(p - 1): measure p - 1 itself, over 2^64
                g3 = g(sign * big * 2.0**64)
                if 1e-290 < g3 < math.inf:  # v g(v) ~ v^(1 - p): its ratio is near 1, so p - 1 keeps its bits
                    p = 1.0 - math.log(g3 / g1 * 2.0**64) / (64.0 * math.log(2.0))
            return p + 0.0
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


