"""Conditions I-IV of a recurrent LIF layer at initialisation (Herranz-Celotti & Rouat Eq. 1, Appendix B).

The formulas one by one, the voltage range of B.6, the sharpness that meets CIV through Eq. 2 and a Monte
Carlo check of CII; :mod:`.calculator` combines them for one configuration.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize

from ..params import count, interval, positive
from ..shapes import Q_SPEC
from .eq2 import _range, sd_moment, sd_second_moment


def _n_rec(n_rec: Any) -> int:
    return count("n_rec", n_rec, 2)  # the conditions divide by n_rec - 1


def _decay(alpha_decay: Any) -> float:
    return interval("alpha_decay", alpha_decay, 0.0, 1.0, open_low=True, open_high=True)


def condition_i(n_rec: int, alpha_decay: float, thr: float, rate: float = 0.5) -> float:
    """CI, Mean[w_rec] that makes Mean[v] = 0 at firing rate ``rate`` (Eq. 18 solved; Eq. 20 at rate 1/2).

    From Eq. 18: 0 = p/(1-alpha) ((n_rec-1) m - thr) - thr  =>  m = thr (1 + (1-alpha)/p) / (n_rec-1),
    = (3 - 2 alpha) thr / (n_rec - 1) at p = 1/2 (Eq. 20). (Eq. 19 as printed misplaces a bracket.)
    """
    n, a, thr = _n_rec(n_rec), _decay(alpha_decay), positive("thr", thr)
    p = interval("rate", rate, 0.0, 1.0, open_low=True)
    return thr * (1.0 + (1.0 - a) / p) / (n - 1)


def condition_ii(n_rec: int, n_in: int, mean_z: float, var_z: float, var_w_in: float, mean_w_rec: float) -> float:
    """CII re-derived: Var[w_rec] with Var[W_rec x] = Var[W_in z] at p = 1/2, E[w_in] = 0.

    (n_rec-1) Var[w x] = n_in Var[w_in z] with Var[w x] = p E[w^2] - p^2 m^2 = (2 Var[w] + m^2)/4 and
    Var[w_in z] = (Var z + Mean z^2) Var[w_in] give Eq. 27-28:
    Var[w_rec] = 2 (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] - m^2/2 (Eq. 28 as printed is right).
    A negative value means no real variance meets CII.
    """
    n = _n_rec(n_rec)
    return 2.0 * (var_z + mean_z**2) * n_in / (n - 1) * var_w_in - 0.5 * mean_w_rec**2


def condition_ii_authors_code(n_rec: int, n_in: int, mean_z: float, var_z: float, var_w_in: float,
                              mean_w_rec: float) -> float:
    """CII as coded by the authors (LuCeHe/lif_stability, neural_models/lsnn.py): the factor 2 is dropped.

    var_rec = (input_var + input_mean^2) Var[W_in] n_in/(n_rec-1) - mean_rec^2/2, which makes the recurrent
    current variance half the input one.
    """
    n = _n_rec(n_rec)
    return (var_z + mean_z**2) * n_in / (n - 1) * var_w_in - 0.5 * mean_w_rec**2


def condition_iii(n_rec: int, alpha_decay: float, thr: float, min_w_rec: float, max_w_rec: float, xi: int = 0,
                  n_in: int = 0, max_w_in: float = 0.0, gamma_in: float = 0.0) -> float:
    """CIII, Eq. 44: gamma = Min[w]/((n_rec-1) Min[w] - thr) / Max[w] (1 - alpha - xi n_in Max[w_in] gamma_in).

    Re-derived from Eq. 42 (which rests on Max[X + Y] = Max X + Max Y and Max[w] Max[dy] = Min[w] Min[dy]).
    For symmetric weights (Min = -Max = -M) it is (1 - alpha - ...)/((n_rec-1) M + thr).
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    denom = ((n - 1) * min_w_rec - thr) * max_w_rec
    if denom == 0.0:
        raise ValueError("CIII is undefined: max_w_rec = 0 or (n_rec - 1) min_w_rec = thr")
    return min_w_rec / denom * (1.0 - a - xi * n_in * max_w_in * gamma_in)


def condition_iv(n_rec: int, alpha_decay: float, thr: float, e_w_rec_sq: float, xi: int = 0, n_in: int = 0,
                 e_w_in_sq: float = 0.0, e_sd_in_sq: float = 0.0) -> float:
    """CIV, Eq. 57: E[sigma'^2] = (1 - alpha^2 - xi n_in E[w_in^2] E[sigma'_in^2]) / ((n_rec-1) E[w_rec^2] + thr^2).

    The layer-below term carries E[sigma'_in^2] (Eq. 55-57); the main text prints E[sigma'_in].
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    return (1.0 - a * a - xi * n_in * e_w_in_sq * e_sd_in_sq) / ((n - 1) * e_w_rec_sq + thr * thr)


def condition_iv_residual(sharpness: float, shape: str, gamma: float, n_rec: int, alpha_decay: float, thr: float,
                          e_w_rec_sq: float, y_min: float, y_max: float, q: float = Q_SPEC.default, xi: int = 0,
                          n_in: int = 0, e_w_in_sq: float = 0.0, e_sd_in_sq: float = 0.0,
                          cross_term: bool = False) -> float:
    """Residual of Eq. 56 at sharpness s: alpha^2 + ((n-1) E[w^2] + thr^2) E[sigma'^2] + xi ... - 1.

    ``cross_term=True`` adds -2 alpha thr E[sigma'], the covariance of the leak (alpha dy) and reset
    (-thr sigma' dy) paths of the same neuron that Eq. 47 drops.
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    e2 = sd_second_moment(shape, gamma, sharpness, thr, y_min, y_max, q)
    res = a * a + ((n - 1) * e_w_rec_sq + thr * thr) * e2 + xi * n_in * e_w_in_sq * e_sd_in_sq - 1.0
    if cross_term:
        res -= 2.0 * a * thr * sd_moment(shape, 1, gamma, sharpness, thr, y_min, y_max, q)
    return res


def voltage_range(n_rec: int, n_in: int, alpha_decay: float, thr: float, min_w_rec: float, max_w_rec: float,
                  min_w_in: float, max_w_in: float, z_max: float = 1.0) -> tuple[float, float]:
    """Appendix B.6, Eqs. 72 and 74 (b = 0): the ensemble extremes of the voltage at initialisation.

    y_max = ((n_rec-1) max(Max w_rec, 0) + n_in z_max max(Max w_in, 0)) / (1 - alpha),
    y_min = ((n_rec-1) min(Min w_rec, 0) + n_in z_max min(Min w_in, 0) - thr) / (1 - alpha).
    The clipping at 0 corrects Eq. 72/74, which take Max[w x] = Max[w] for x in {0, 1} (true only if Max[w] >= 0).
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    hi = ((n - 1) * max(max_w_rec, 0.0) + n_in * z_max * max(max_w_in, 0.0)) / (1.0 - a)
    lo = ((n - 1) * min(min_w_rec, 0.0) + n_in * z_max * min(min_w_in, 0.0) - thr) / (1.0 - a)
    return lo, hi


_S_FLOAT_RANGE = (1e-300, 1e300)  # how far the sharpness bracket may grow (s, s L and 1/(s L) stay finite)
_S_EXPAND = math.log(100.0)  # each step outside s_bounds multiplies or divides s by 100


def sharpness_for(target: float, shape: str, gamma: float, thr: float, y_min: float, y_max: float,
                  q: float = Q_SPEC.default, s_bounds: tuple[float, float] = (1e-6, 1e6)) -> float | None:
    """The sharpness s with E[sigma'^2](s) = target (Eq. 2), by brentq on log s; None if there is none.

    E[sigma'^2] runs from gamma^2 f(0)^2 = gamma^2 (s -> 0) down to 0 (s -> inf) for any range, so a root
    exists iff 0 < target < gamma^2 (the registry's f peaks at 1). ``s_bounds`` is scanned for the first
    sign change; without one the bracket grows geometrically (x100 per step) towards 0 and/or towards large s,
    as the end values point, until the sign changes or s leaves [1e-300, 1e300] (q-PseudoSpike with q -> 1+
    needs s ~ 1e-7 or less).
    """
    gamma = positive("gamma", gamma)
    lo, hi = _range(y_min, y_max)
    if not (math.isfinite(target) and target > 0):
        return None
    g = lambda log_s: sd_second_moment(shape, gamma, math.exp(log_s), thr, lo, hi, q) - target  # noqa: E731

    def root(x0: float, x1: float) -> float:
        return float(math.exp(optimize.brentq(g, min(x0, x1), max(x0, x1), xtol=1e-12, rtol=1e-12)))

    grid = np.linspace(math.log(s_bounds[0]), math.log(s_bounds[1]), 25)
    vals = [g(x) for x in grid]
    for x0, x1, v0, v1 in zip(grid[:-1], grid[1:], vals[:-1], vals[1:], strict=True):
        if v0 == 0.0:
            return float(math.exp(x0))
        if v0 * v1 < 0:
            return root(x0, x1)
    if vals[-1] == 0.0:
        return float(math.exp(grid[-1]))
    if target >= gamma * gamma:  # E[sigma'^2] < gamma^2 sup f^2 = gamma^2: no root anywhere
        return None
    for x, v, step, end in ((float(grid[0]), vals[0], -_S_EXPAND, math.log(_S_FLOAT_RANGE[0])),
                            (float(grid[-1]), vals[-1], _S_EXPAND, math.log(_S_FLOAT_RANGE[1]))):
        if (v < 0) != (step < 0):  # E - target has this end's sign at the limit too: no crossing outside
            continue
        while (x - end) * step < 0:
            x_new = max(x + step, end) if step < 0 else min(x + step, end)
            v_new = g(x_new)
            if not math.isfinite(v_new):
                break
            if v_new == 0.0:
                return float(math.exp(x_new))
            if v * v_new < 0:
                return root(x, x_new)
            x, v = x_new, v_new
    return None


def current_variances(n_rec: int, n_in: int, mean_w_rec: float, var_w_rec: float, mean_z: float, var_z: float,
                      var_w_in: float, alpha_decay: float = 0.9, n_samples: int = 20_000, n_steps: int = 60,
                      rng: np.random.Generator | None = None) -> dict[str, float]:
    """Monte Carlo check of CII in the linear regime (what Eq. 21-27 compute).

    Draws W_rec uniform with the given mean/variance (zero diagonal), x ~ Bernoulli(1/2), W_in uniform with
    mean 0 and ``var_w_in``, z spike-like with ``mean_z``/``var_z``; returns the variances of the currents
    (W_rec x)_i and (W_in z)_i and of a linear membrane y_t = alpha y_{t-1} + c_t driven by each current alone
    (weights and activity redrawn every step, as the ensemble of Appendix B assumes), whose stationary
    variance is Var[c] / (1 - alpha^2).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    var_w_rec, var_w_in = interval("var_w_rec", var_w_rec, 0.0), interval("var_w_in", var_w_in, 0.0)
    h_rec, h_in = math.sqrt(3.0 * var_w_rec), math.sqrt(3.0 * var_w_in)

    def rec_current(size: int) -> np.ndarray:
        w = rng.uniform(mean_w_rec - h_rec, mean_w_rec + h_rec, size=(size, n - 1))
        return (w * (rng.random((size, n - 1)) < 0.5)).sum(axis=1)

    def in_current(size: int) -> np.ndarray:
        w = rng.uniform(-h_in, h_in, size=(size, n_in))
        return (w * _input_spikes(rng, (size, n_in), mean_z, var_z)).sum(axis=1)

    c_rec, c_in = rec_current(n_samples), in_current(n_samples)
    batch = max(n_samples // 10, 100)
    y_rec, y_in = np.zeros(batch), np.zeros(batch)
    for _ in range(n_steps):
        y_rec = a * y_rec + rec_current(batch)
        y_in = a * y_in + in_current(batch)
    return {"var_rec_current": float(c_rec.var(ddof=1)), "var_in_current": float(c_in.var(ddof=1)),
            "var_rec_membrane": float(y_rec.var(ddof=1)), "var_in_membrane": float(y_in.var(ddof=1)),
            "n_samples": n_samples, "membrane_samples": batch}


def _input_spikes(rng: np.random.Generator, size: tuple[int, ...], mean_z: float, var_z: float) -> np.ndarray:
    """Inputs with the given mean and variance: spikes of amplitude c = mean + var/mean at rate mean/c.

    (Bernoulli(1/2) for mean 1/2, var 1/4.) A constant when var_z = 0; Gaussian when mean_z <= 0.
    """
    if var_z == 0.0:
        return np.full(size, float(mean_z))
    if mean_z <= 0.0:
        return rng.normal(mean_z, math.sqrt(var_z), size=size)
    c = mean_z + var_z / mean_z
    return c * (rng.random(size) < mean_z / c)
