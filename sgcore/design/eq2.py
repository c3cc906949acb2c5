"""Eq. 2: moments E[sigma'^m] of the SD for y uniform on [y_min, y_max], and Appendix B's exponential form.

By quadrature for any registry shape, by Monte Carlo as a check, and in closed form for the exponential
(Eqs. 64-67 as printed and corrected, compared by :func:`eq2_check`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..params import count, finite, positive
from ..shapes import Q_SPEC, get_shape
from ._numerics import _f_scalar, _integrate
from .gallery import sd_curve


def _range(y_min: float, y_max: float) -> tuple[float, float]:
    lo, hi = finite("y_min", y_min), finite("y_max", y_max)
    if not lo < hi:
        raise ValueError(f"the voltage range must have finite y_min < y_max; got {y_min!r} and {y_max!r}")
    return lo, hi


def sd_moment(shape: str, m: int, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
              q: float = Q_SPEC.default) -> float:
    """E[sigma'(v)^m] for y ~ U[y_min, y_max], v = y - thr (paper Eq. 62-64), by quadrature.

    = gamma^m / (s (y_max - y_min)) int_{s (y_min - thr)}^{s (y_max - thr)} f(v)^m dv.
    """
    gamma, s = positive("gamma", gamma), positive("sharpness", sharpness)
    lo, hi = _range(y_min, y_max)
    m = count("m", m, 1)
    get_shape(shape)
    f = _f_scalar(shape, Q_SPEC.validate(q))
    val, _ = _integrate(lambda v: f(v) ** m, s * (lo - thr), s * (hi - thr))
    return gamma**m / (s * (hi - lo)) * val


def sd_second_moment(shape: str, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
                     q: float = Q_SPEC.default) -> float:
    """Paper Eq. 2: E[sigma'^2] = gamma^2 / (s (y_max - y_min)) int_{s(y_min-thr)}^{s(y_max-thr)} f^2."""
    return sd_moment(shape, 2, gamma, sharpness, thr, y_min, y_max, q)


#: Samples drawn at once by :func:`sd_moment_mc` (1e6: ~60 MB of temporaries; 1e7 in one draw peaked at 540 MB).
MC_BLOCK = 1_000_000


def sd_moment_mc(shape: str, m: int, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
                 q: float = Q_SPEC.default, n: int = 100_000, rng: np.random.Generator | None = None
                 ) -> tuple[float, float]:
    """Monte Carlo estimate of E[sigma'^m] with y ~ U[y_min, y_max] (Herranz-Celotti & Rouat Eq. 2 for m = 2):
    (mean, standard error).

    Drawn in blocks of :data:`MC_BLOCK` (the same stream as one draw of ``n``), whose means and sums of squared
    deviations are combined exactly (Chan et al.): memory stays bounded at any ``n``.
    """
    lo, hi = _range(y_min, y_max)
    rng = np.random.default_rng(0) if rng is None else rng
    n = int(n)
    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, n, MC_BLOCK):
        y = rng.uniform(lo, hi, size=min(MC_BLOCK, n - start))
        x = sd_curve(shape, y - thr, gamma, sharpness, q) ** m
        k, mu = x.size, float(x.mean())
        delta = mu - mean
        m2 += float(np.sum((x - mu) ** 2)) + delta * delta * count * k / (count + k)
        mean += delta * k / (count + k)
        count += k
    return mean, math.sqrt(m2 / (count - 1) / count)


def exponential_closed_form(m: int, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
                            printed: bool = True) -> float:
    """E[sigma'^m] of the exponential SD in closed form.

    ``printed=True``: Appendix B Eqs. 64-67 as printed, int_{v-}^{v+} e^{-2m|v|} dv =
    (2 - e^{-2m|v+|} - e^{-2m|v-|}) / (2m), which assumes v- < 0 < v+.
    ``printed=False``: the signed antiderivative G(v) = sign(v) (1 - e^{-2m|v|}) / (2m), valid for any range
    (the form the authors' code uses).
    """
    gamma, s = positive("gamma", gamma), positive("sharpness", sharpness)
    lo, hi = _range(y_min, y_max)
    vp, vm = s * (hi - thr), s * (lo - thr)
    if printed:
        integral = (2.0 - math.exp(-2 * m * abs(vp)) - math.exp(-2 * m * abs(vm))) / (2 * m)
    else:
        def big_g(v: float) -> float:
            return math.copysign(1.0, v) * (1.0 - math.exp(-2 * m * abs(v))) / (2 * m)
        integral = big_g(vp) - big_g(vm)
    return gamma**m / (s * (hi - lo)) * integral


@dataclass(frozen=True)
class Eq2Check:
    """Eq. 2 by quadrature vs Appendix B's printed closed form (exponential SD)."""

    integral: float  # quadrature of Eq. 2 / Eq. 64 (followed)
    printed: float  # Eqs. 65-67 as printed
    signed: float  # corrected closed form (signed antiderivative)
    agree: bool  # printed == integral (relative 1e-9)
    straddles: bool  # y_min < thr < y_max (where the printed form holds)
    rel_diff: float
    note: str


def eq2_check(gamma: float, sharpness: float, thr: float, y_min: float, y_max: float, m: int = 2) -> Eq2Check:
    """Compare Appendix B's closed form (Eqs. 65-67) with the integral it is meant to evaluate."""
    integral = sd_moment("exponential", m, gamma, sharpness, thr, y_min, y_max)
    printed = exponential_closed_form(m, gamma, sharpness, thr, y_min, y_max, printed=True)
    signed = exponential_closed_form(m, gamma, sharpness, thr, y_min, y_max, printed=False)
    rel = abs(printed - integral) / max(abs(integral), 1e-300)
    agree = rel < 1e-9
    straddles = y_min < thr < y_max
    if agree:
        note = "Eqs. 65-67 agree with the integral (the range contains the threshold)."
    else:
        note = (f"Eqs. 65-67 disagree with the integral: they add the integrals over [0, |v-|] and [0, |v+|], which "
                f"holds only if y_min < thr < y_max; here the range lies on one side of thr, the printed form gives "
                f"{printed:.6g} instead of {integral:.6g} (x{printed / integral:.3g}). The integral is followed.")
    return Eq2Check(integral, printed, signed, agree, straddles, rel, note)
