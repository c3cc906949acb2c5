"""The quadrature every z-source shares: tail integrals int_a^upper fn and E[max_k |z_k|] from |z|'s CDF."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import integrate


def _tail_quad(fn: Callable[[np.ndarray], np.ndarray], a: np.ndarray, upper: float) -> np.ndarray:
    """int_a^upper fn(z) dz for every a (vectorised adaptive quadrature, scipy quad_vec).

    Bounded ``upper``: z = a + (upper - a) tau on [0, 1]; unbounded: z = a + t on [0, inf).
    Each distinct value of ``a`` is integrated once.
    """
    a = np.asarray(a, dtype=float)
    uniq, inverse = np.unique(a, return_inverse=True)
    if uniq.size < a.size:
        return _tail_quad(fn, uniq, upper)[inverse].reshape(a.shape)
    out = np.zeros_like(a)
    live = a < upper
    if not np.any(live):
        return out
    al = a[live]
    if math.isfinite(upper):
        width = upper - al
        val, _ = integrate.quad_vec(lambda t: fn(al + width * t) * width, 0.0, 1.0, epsrel=1e-11, epsabs=0,
                                    norm="max")
    else:
        val, _ = integrate.quad_vec(lambda t: fn(al + t), 0.0, math.inf, epsrel=1e-11, epsabs=0, norm="max")
    out[live] = val
    return out


def _emax_quad(abs_cdf: Callable[[Any], np.ndarray], upper: float, m: int) -> float:
    """E[max of m copies] = int_0^upper 1 - F(t)^m dt for a non-negative variable with CDF ``abs_cdf``."""
    return _emax_quad_err(abs_cdf, upper, m)[0]


def _emax_quad_err(abs_cdf: Callable[[Any], np.ndarray], upper: float, m: int) -> tuple[float, float]:
    """(E[max of m copies], quad's estimate of its absolute error); see :func:`_emax_quad`."""
    fn = lambda t: 1.0 - float(abs_cdf(t)) ** m  # noqa: E731
    val, err = integrate.quad(fn, 0.0, upper, limit=200, epsabs=1e-13, epsrel=1e-12)
    return float(val), float(err)
