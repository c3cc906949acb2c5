"""An estimator's samples summarised against the exact gradient: bias, variance, cosines, a bias test and
convergence of the running mean (Gygax & Zenke 2024, Sec. 3.2, Fig. 3, S1).

:func:`estimator_stats` gives the mean, ||mean - g|| with a delta-method standard error and the noise floor
sqrt(trace S / K), the variance trace S, cosines with g (Fig. S1B compares single trials with the trial
mean), and a split-sample t-test of "bias = 0" (:func:`bias_test`); :func:`convergence` follows the same
quantities over nested prefixes of the samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .methods import RANDOM_ESTIMATORS
from .network import BinaryNet, unflatten_params

__all__ = ["BIAS_ALPHA", "BiasTest", "Convergence", "EstimatorStats", "bias_test", "convergence", "estimator_stats"]


#: Significance level of the bias test: an estimator is called biased when its p-value is below it.
BIAS_ALPHA = 0.01

def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity along the last axis; NaN where either vector is zero."""
    num = np.sum(a * b, axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    ok = den > 0
    return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


@dataclass(frozen=True)
class BiasTest:
    """Split-sample test of H0: E[estimate] = exact gradient (see :func:`bias_test`)."""

    t: float
    df: int
    p_value: float
    deterministic: bool


def _moments(samples: np.ndarray, exact: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Samples, mean, mean - exact and covariance (ddof = 1), shifted by the first sample so that
    identical samples give exactly their value and exactly zero covariance."""
    g = np.asarray(samples, dtype=np.float64)
    shifted = g - g[0]
    ms = shifted.mean(axis=0)
    c = shifted - ms
    cov = c.T @ c / (g.shape[0] - 1)
    m = g[0] + ms
    return g, m, m - exact, cov


def bias_test(samples: Any, exact: Any, *, random: bool = False) -> BiasTest:
    """Is the bias of the estimator distinguishable from zero?

    Split-sample projection t-test: the first half of the K samples fixes a direction
    v = (mean_1 - g) / ||mean_1 - g||; on the second half (independent of v) the projections
    v . (sample - g) have mean v . bias, zero under H0, and a one-sample two-sided t-test (scipy.stats.t,
    K2 - 1 degrees of freedom) gives the p-value. Assumptions: i.i.d. samples (REINFORCE's batch
    baseline leaves them uncorrelated, which suffices for the mean and variance used here) and a projected
    mean close to normal (CLT; rare-event estimators such as finite differences with common random
    numbers need enough flips). The test is robust to singular and ill-conditioned covariances (rare
    events, structural constraints such as dW_1[i, :] proportional to x), which break Hotelling's T^2
    here, at the price of half the samples' power.

    If all samples are equal (to 1e-10 of the gradient's scale, at least 1e-12), ``deterministic=True``:
    p = 1 if ||mean - g|| is within 1e-8 of that scale; otherwise p = 0 for a deterministic estimator,
    but NaN when ``random=True`` says that the estimator does vary and K was too small to see it (e.g.
    no spike flipped in any finite difference). Likewise t and p are NaN if the second half's projections
    do not vary at all although the samples do.
    """
    g = np.asarray(samples, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    k = g.shape[0]
    if k < 4 or g.ndim != 2 or g.shape[1] != exact.size:
        raise ValueError(f"samples must have shape (K >= 4, {exact.size}) for a bias test; got {g.shape}")
    scale = float(max(np.linalg.norm(exact), np.sqrt(np.mean(np.sum(g * g, axis=1))), 1e-12))
    if float(np.max(np.ptp(g, axis=0))) <= 1e-10 * scale:
        if float(np.linalg.norm(g.mean(axis=0) - exact)) <= 1e-8 * scale:
            return BiasTest(0.0, 0, 1.0, True)
        return BiasTest(math.nan, 0, math.nan, True) if random else BiasTest(math.inf, 0, 0.0, True)
    half = k // 2
    d1 = g[:half].mean(axis=0) - exact
    n1 = float(np.linalg.norm(d1))
    if n1 <= 1e-12 * scale:
        return BiasTest(0.0, k - half - 1, 1.0, False)
    proj = (g[half:] - exact) @ (d1 / n1)
    mean, sd = float(proj.mean()), float(proj.std(ddof=1))
    df = proj.size - 1
    if sd <= 1e-12 * scale:  # no variation left along v (rare events): nothing to test with
        return BiasTest(math.nan, df, math.nan, False)
    t = mean / (sd / math.sqrt(proj.size))
    return BiasTest(t, df, float(2.0 * stats.t.sf(abs(t), df)), False)


@dataclass(frozen=True, eq=False)
class EstimatorStats:
    """An estimator's K samples summarised against the exact gradient g.

    * ``mean`` (flat) and ``mean_weights`` / ``mean_biases`` (shaped like the parameters);
    * ``bias_norm`` = ||mean - g||; ``bias_norm_stderr`` by the delta method,
      sqrt(d' S d / K) / ||d|| with d = mean - g (sqrt(trace S / K) when d = 0);
    * ``noise_floor`` = sqrt(trace S / K): what ``bias_norm`` is for an unbiased estimator
      (E||mean - g||^2 = ||bias||^2 + trace Sigma / K); ``bias_norm_debiased`` =
      sqrt(max(||d||^2 - trace S / K, 0));
    * ``variance`` = trace S = sum of per-coordinate variances (ddof = 1) of a single sample;
    * ``cosine`` of the mean with g; ``sample_cosines`` (K,) of each sample with g (paper Fig. S1B
      compares single trials with the trial mean: ``sample_cosines_to_mean``);
    * ``test``: :class:`BiasTest` (split-sample projection t-test), ``p_value`` its p-value.
    """

    name: str
    samples: int
    mean: np.ndarray
    mean_weights: tuple[np.ndarray, ...]
    mean_biases: tuple[np.ndarray, ...]
    bias_norm: float
    bias_norm_stderr: float
    bias_norm_debiased: float
    noise_floor: float
    variance: float
    cosine: float
    sample_cosines: np.ndarray
    sample_cosines_to_mean: np.ndarray
    test: BiasTest

    @property
    def p_value(self) -> float:
        return self.test.p_value

    @property
    def verdict(self) -> str:
        """The bias test's answer in words: for samples without variation "biased (exact)" if p = 0, else
        "exact"; otherwise "too few events" when the test had nothing to test with (p is NaN), "biased" when
        p < :data:`BIAS_ALPHA`, else "not detected"."""
        p = self.p_value
        if self.test.deterministic:
            return "biased (exact)" if p == 0.0 else "exact"
        if not np.isfinite(p):
            return "too few events"
        return "biased" if p < BIAS_ALPHA else "not detected"


def estimator_stats(samples: Any, exact: Any, net: BinaryNet | Sequence[int] | None = None,
                    name: str = "", *, random: bool | None = None) -> EstimatorStats:
    """Summarise (K, n_params) ``samples`` against the flat exact gradient (see :class:`EstimatorStats`).
    ``net`` (or the sizes ``(n_in, *hidden)``) shapes the mean like the parameters. ``random`` (passed
    to :func:`bias_test`) defaults to whether ``name`` is one of :data:`RANDOM_ESTIMATORS`."""
    exact = np.asarray(exact, dtype=np.float64)
    g, m, d, cov = _moments(samples, exact)
    k = g.shape[0]
    if k < 4 or g.ndim != 2 or g.shape[1] != exact.size:
        raise ValueError(f"samples must have shape (K >= 4, {exact.size}); got {g.shape}")
    trace = float(np.trace(cov))
    dn = float(np.linalg.norm(d))
    floor = math.sqrt(max(trace, 0.0) / k)
    se = math.sqrt(max(float(d @ cov @ d), 0.0) / k) / dn if dn > 0 else floor
    weights, biases = unflatten_params(m, net) if net is not None else ((), ())
    return EstimatorStats(
        name=name, samples=k, mean=m, mean_weights=weights, mean_biases=biases, bias_norm=dn, bias_norm_stderr=se,
        bias_norm_debiased=math.sqrt(max(dn * dn - trace / k, 0.0)), noise_floor=floor, variance=trace,
        cosine=float(_cos(m, exact)), sample_cosines=_cos(g, exact), sample_cosines_to_mean=_cos(g, m),
        test=bias_test(g, exact, random=name in RANDOM_ESTIMATORS if random is None else random),
    )


@dataclass(frozen=True, eq=False)
class Convergence:
    """Bias, noise floor and cosine of the running mean over nested prefixes of the samples."""

    n: np.ndarray
    bias_norm: np.ndarray
    noise_floor: np.ndarray
    cosine: np.ndarray


def convergence(samples: Any, exact: Any, n: Sequence[int] | None = None) -> Convergence:
    """||mean_n - g||, sqrt(trace S_n / n) and cos(mean_n, g) for the first n samples, n in ``n``
    (default 10, 30, 100, 300, ... below K, and K)."""
    g = np.asarray(samples, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    k = g.shape[0]
    if n is None:
        grid = [v for v in (10, 30, 100, 300, 1000, 3000, 10_000, 30_000) if v < k]
        n = [*grid, k]
    ns = np.asarray(n, dtype=np.int64)
    if np.any(ns < 2) or np.any(ns > k):
        raise ValueError(f"prefix sizes must be in [2, {k}]; got {ns.tolist()}")
    shifted = g - g[0]  # shifted sums: exact for identical samples, and less cancellation
    uniq, back = np.unique(ns, return_inverse=True)  # sums over [0, n1), [n1, n2), ... then running totals
    head = shifted[:uniq[-1]]
    starts = np.concatenate([[0], uniq[:-1]])
    s1 = np.cumsum(np.add.reduceat(head, starts, axis=0), axis=0)[back]
    s2 = np.cumsum(np.add.reduceat(np.sum(head * head, axis=1), starts))[back]
    ms = s1 / ns[:, None]
    trace = (s2 - ns * np.sum(ms * ms, axis=1)) / (ns - 1)
    means = g[0] + ms
    return Convergence(ns, np.linalg.norm(means - exact, axis=1), np.sqrt(np.maximum(trace, 0.0) / ns),
                       _cos(means, exact))
