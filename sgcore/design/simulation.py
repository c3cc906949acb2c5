"""Does the theory hold? The recurrent LIF layer of Eq. 1 simulated with the calculator's and a naive init.

:func:`simulate_lif` is the layer's simulator (with a tangent propagated by Eq. 33); :func:`theory_check`
runs it for the calculator's initialisation and for Glorot uniform weights with gamma = s = 1.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..lif import spike
from ._numerics import _f_array
from .calculator import InitResult, init_conditions
from .conditions import _input_spikes
from .config import InitConfig


@dataclass(frozen=True)
class SimTrace:
    """Statistics through time of one simulated layer (over neurons and the batch)."""

    label: str
    firing_fraction: np.ndarray  # mean of x_t (CI wants 1/2)
    sd_max: np.ndarray  # max of sigma'(v_t)
    sd_second_moment: np.ndarray  # mean of sigma'(v_t)^2 (Eq. 2's quantity)
    sd_var: np.ndarray
    grad_max: np.ndarray  # max |dy_t/da| of a tangent propagated by Eq. 33 (CIII wants it constant)
    grad_var: np.ndarray  # Var[dy_t/da] (CIV wants it constant)
    y_observed: tuple[float, float]  # 0.5% and 99.5% quantiles of y over the second half of the run
    gamma: float
    sharpness: float
    mean_w_rec: float
    var_w_rec: float
    var_w_in: float


@dataclass(frozen=True)
class TheoryCheck:
    """The calculator's initialisation against the naive one (Glorot uniform, gamma = s = 1)."""

    t: np.ndarray
    calculator: SimTrace
    naive: SimTrace
    result: InitResult
    notes: tuple[str, ...]
    seconds: float

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The CSV download: both layers' firing fraction and gradient statistics through time."""
        c, n = self.calculator, self.naive
        return {"simulation": {"t": self.t, "firing_calculator": c.firing_fraction, "firing_naive": n.firing_fraction,
                               "grad_var_calculator": c.grad_var, "grad_var_naive": n.grad_var,
                               "grad_max_calculator": c.grad_max, "grad_max_naive": n.grad_max}}


def simulate_lif(w_rec: np.ndarray, w_in: np.ndarray, alpha_decay: float, thr: float, shape: str, gamma: float,
                 sharpness: float, q: float, z: np.ndarray, rng: np.random.Generator, label: str = "") -> SimTrace:
    """Run Eq. 1, y_t = alpha y_{t-1} + x_{t-1} W_rec + z_t W_in - thr x_{t-1}, x_t = H(y_t - thr), from y_0 = 0.

    H is :func:`sgcore.lif.spike` (H(0) = 0, the trainer's convention; with continuous weights a tie has
    probability zero).
    ``z`` has shape (T, batch, n_in). Alongside, a tangent d_t = dy_t/da starting from d_0 ~ N(0, 1) is
    propagated by Eq. 33 with xi = 0: d_t = alpha d_{t-1} + (sigma'_{t-1} d_{t-1}) W_rec - thr sigma'_{t-1} d_{t-1}.
    """
    n_steps, batch, _ = z.shape
    n = w_rec.shape[0]
    f = _f_array(shape, q)
    y = np.zeros((batch, n))
    x = np.zeros((batch, n))
    sd = np.zeros((batch, n))
    d = rng.standard_normal((batch, n))
    stats = np.zeros((6, n_steps))
    ys = []
    for t in range(n_steps):
        if t > 0:
            gd = sd * d
            d = alpha_decay * d + gd @ w_rec - thr * gd
            y = alpha_decay * y + x @ w_rec + z[t] @ w_in - thr * x
        else:
            y = z[0] @ w_in
        x = spike(y, thr)  # the one spike rule, H(0) = 0; y = thr exactly has probability zero here
        sd = gamma * f(sharpness * (y - thr))
        stats[:, t] = (x.mean(), sd.max(), np.mean(sd * sd), sd.var(), np.abs(d).max(), d.var())
        if 2 * t >= n_steps:
            ys.append(y)
    var_off = w_rec[~np.eye(n, dtype=bool)]
    y_q = np.quantile(np.stack(ys), [0.005, 0.995])
    return SimTrace(label, *stats, y_observed=(float(y_q[0]), float(y_q[1])), gamma=gamma, sharpness=sharpness,
                    mean_w_rec=float(var_off.mean()),
                    var_w_rec=float(var_off.var()), var_w_in=float(w_in.var()))


def theory_check(cfg: InitConfig) -> TheoryCheck:
    """Simulate the layer (Herranz-Celotti & Rouat Eq. 1) initialised by the calculator and naively (Glorot
    uniform W_rec and W_in, gamma = s = 1).

    Calculator: W_rec uniform with the CI mean and CII variance, zero diagonal; W_in uniform with mean 0 and
    ``var_w_in``; gamma from CIII and s from CIV (s = 1 when CIV has no solution, as noted). Both layers see
    the same inputs (spikes with ``mean_z``/``var_z``, iid over time) and the same tangent seed.
    """
    t0 = time.perf_counter()
    res = init_conditions(cfg)
    n, n_in, a, thr = cfg.n_rec, cfg.n_in, cfg.alpha_decay, cfg.thr
    rng = np.random.default_rng(cfg.seed)
    z = _input_spikes(rng, (cfg.n_steps, cfg.batch, n_in), cfg.mean_z, cfg.var_z)
    notes: list[str] = list(res.notes)
    h = math.sqrt(3.0 * max(res.var_w_rec, 0.0))
    w_calc = rng.uniform(res.mean_w_rec_used - h, res.mean_w_rec_used + h, size=(n, n))
    np.fill_diagonal(w_calc, 0.0)
    hin = math.sqrt(3.0 * cfg.var_w_in)
    w_in_calc = rng.uniform(-hin, hin, size=(n_in, n))
    g_calc = res.gamma_for_sharpness
    if g_calc <= 0:
        g_calc = 1.0
        notes.append("simulation: the CIII dampening is <= 0, gamma = 1 used for the calculator's layer.")
    s_calc = res.sharpness
    if s_calc is None:
        s_calc = 1.0
        notes.append("simulation: no sharpness meets CIV, s = 1 used for the calculator's layer.")
    h_glorot_rec = math.sqrt(6.0 / (2 * n))
    w_naive = rng.uniform(-h_glorot_rec, h_glorot_rec, size=(n, n))
    np.fill_diagonal(w_naive, 0.0)
    h_glorot_in = math.sqrt(6.0 / (n_in + n))
    w_in_naive = rng.uniform(-h_glorot_in, h_glorot_in, size=(n_in, n))
    seed_tangent = int(rng.integers(2**32))
    calc = simulate_lif(w_calc, w_in_calc, a, thr, cfg.shape, g_calc, s_calc, cfg.q, z,
                        np.random.default_rng(seed_tangent), "calculator")
    naive = simulate_lif(w_naive, w_in_naive, a, thr, cfg.shape, 1.0, 1.0, cfg.q, z,
                         np.random.default_rng(seed_tangent), "naive (Glorot uniform, gamma = s = 1)")
    lo_obs, hi_obs = calc.y_observed
    if (hi_obs - lo_obs) < 0.5 * (res.y_max - res.y_min):
        notes.append(f"simulation: the calculator's layer visits y in [{lo_obs:.3g}, {hi_obs:.3g}] (0.5-99.5% "
                     f"quantiles), much narrower than the range [{res.y_min:.3g}, {res.y_max:.3g}] that Eq. 2 assumed "
                     f"for the sharpness.")
    if cfg.xi == 1:
        notes.append("simulation: the input is simulated as spikes; the gradient path into the layer below (xi = 1) "
                     "is not simulated.")
    return TheoryCheck(np.arange(cfg.n_steps), calc, naive, res, tuple(notes), time.perf_counter() - t0)
