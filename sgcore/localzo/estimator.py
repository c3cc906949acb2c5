"""The LocalZO estimate G2 and its statistics, written once against any z-source.

Mukhoty et al. (2023): G2(u; z, delta) = |z|^alpha / (2 delta) if |u| <= |z| delta, else 0
(Eq. 8, averaged over m samples by Eq. 7), its expectation (Eq. 9), variance, the expected
back-propagation threshold E[max_k |z_k|] (Eq. 17) and Monte Carlo estimates. A z-source is a
:class:`~.distributions.ZDistribution` (weight c = 1) or a :class:`~.theorem3.Theorem3Target`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import positive
from .common import _check_alpha, _check_m
from .distributions import ZDistribution
from .theorem3 import Theorem3Target

__all__ = [
    "MonteCarlo",
    "ZSource",
    "bth_over_delta",
    "expected_surrogate",
    "g2_estimate",
    "monte_carlo",
    "pooled_mean",
    "sample_g2",
    "second_moment",
    "single_sample_variance",
]

#: What the estimators accept: |z|'s CDF, a sampler, tails E[|z|^p ; |z| >= a], emax and a weight c.
ZSource = ZDistribution | Theorem3Target


def g2_estimate(u: Any, z: Any, delta: float, alpha: int) -> np.ndarray:
    """LocalZO derivative (Eq. 7 with Eq. 8): mean over the last axis of G2(u; z_k, delta).

    ``u`` broadcasts against ``z[..., k]`` without its last axis.
    """
    delta = positive("delta", delta)
    alpha = _check_alpha(alpha)
    u = np.asarray(u, dtype=float)[..., None]
    az = np.abs(np.asarray(z, dtype=float))
    with np.errstate(divide="ignore"):
        val = np.where(np.abs(u) <= az * delta, az**alpha / (2.0 * delta), 0.0)
    return val.mean(axis=-1)


def expected_surrogate(src: ZSource, u: Any, delta: float, alpha: int) -> np.ndarray:
    """c * E_z[G2](u) = c (1/delta) int_{|u|/delta}^inf z^alpha lambda(z) dz (Eq. 9); c = 1 for a distribution."""
    a = np.abs(np.asarray(u, dtype=float)) / delta
    return src.weight * src.tail(a, alpha) / (2.0 * delta)


def second_moment(src: ZSource, u: Any, delta: float, alpha: int) -> np.ndarray:
    """E[(c G2)^2](u) for one sample of Mukhoty et al. Eq. 8: c^2 E[|z|^(2 alpha) ; |z| >= |u|/delta] / (4 delta^2)."""
    a = np.abs(np.asarray(u, dtype=float)) / delta
    return src.weight**2 * src.tail(a, 2 * alpha) / (4.0 * delta * delta)


def single_sample_variance(src: ZSource, u: Any, delta: float, alpha: int) -> np.ndarray:
    """Var[c G2](u) of one sample (+inf where the second moment diverges); divide by m for Eq. 7."""
    mean = expected_surrogate(src, u, delta, alpha)
    with np.errstate(invalid="ignore"):
        var = second_moment(src, u, delta, alpha) - mean * mean
    return np.where(np.isinf(mean), np.inf, np.maximum(var, 0.0))


def bth_over_delta(src: ZSource, m: int) -> float:
    """Expected back-propagation threshold over delta, E[max_k |z_k|] (Eq. 17, Table 1)."""
    return src.emax(m)


def sample_g2(src: ZSource, u: Any, delta: float, alpha: int, m: int, n: int,
              rng: np.random.Generator) -> np.ndarray:
    """``n`` independent LocalZO estimates c * (1/m) sum_k G2(u; z_k) per u: shape (n, len(u))."""
    u = np.atleast_1d(np.asarray(u, dtype=float))
    z = src.sample_abs((n, u.size, _check_m(m)), rng)
    return src.weight * g2_estimate(u[None, :], z, delta, alpha)


def pooled_mean(u: Any, abs_z: Any, delta: float, alpha: int, weight: float = 1.0) -> np.ndarray:
    """Mean of c G2(u; z) (Mukhoty et al. Eq. 8) over all samples |z| (one z-set shared by every u), in
    O((n + len(u)) log n): a Monte Carlo estimate of Eq. 9.

    Averaging N estimates of m samples each equals averaging G2 over the N m samples pooled.
    """
    a = np.sort(np.ravel(np.abs(np.asarray(abs_z, dtype=float))))
    with np.errstate(divide="ignore"):
        powers = a**alpha
    suffix = np.concatenate([np.cumsum(powers[::-1])[::-1], [0.0]])
    idx = np.searchsorted(a, np.abs(np.asarray(u, dtype=float)) / delta, side="left")
    return weight * suffix[idx] / (2.0 * delta * a.size)


@dataclass(frozen=True)
class MonteCarlo:
    """Mean and standard error of ``n`` independent LocalZO estimates at each u."""

    mean: np.ndarray
    stderr: np.ndarray
    n: int


def monte_carlo(src: ZSource, u: Any, delta: float, alpha: int, m: int, n: int,
                rng: np.random.Generator, chunk: int = 200_000) -> MonteCarlo:
    """Mean and standard error of ``n`` LocalZO estimates at each u (independent z per estimate)."""
    u = np.atleast_1d(np.asarray(u, dtype=float))
    total = np.zeros(u.size)
    total_sq = np.zeros(u.size)
    per = max(1, chunk // max(1, u.size * m))
    done = 0
    while done < n:
        k = min(per, n - done)
        est = sample_g2(src, u, delta, alpha, m, k, rng)
        total += est.sum(axis=0)
        total_sq += (est * est).sum(axis=0)
        done += k
    mean = total / n
    var = np.maximum(total_sq / n - mean * mean, 0.0) * n / max(n - 1, 1)
    return MonteCarlo(mean, np.sqrt(var / n), n)
