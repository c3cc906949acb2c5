"""What the network is given: frozen Poisson input, the fluctuation-driven initial weight scale
(Rossbroich et al. 2022) and the procedural default target raster (Gygax & Zenke Fig. 6)."""

from __future__ import annotations

import math

import numpy as np

from ..lif import LIFParams
from ..params import count, interval, positive

__all__ = ["default_target", "fluctuation_sigma", "poisson_input"]


def poisson_input(n_in: int, n_steps: int, rate_hz: float, dt: float, seed: int) -> np.ndarray:
    """Frozen Poisson input (Gygax & Zenke Sec. 5, Methods 8.4.1): (n_steps, n_in) float32 of 0/1,
    P(spike in a bin) = rate_hz * dt / 1000 (dt in ms)."""
    n_in, n_steps = count("n_in", n_in, 1), count("n_steps", n_steps, 1)
    p = min(1.0, interval("rate_hz", rate_hz, 0.0) * positive("dt", dt) / 1000.0)
    rng = np.random.default_rng(seed)
    return (rng.random((n_steps, n_in)) < p).astype(np.float32)


def fluctuation_sigma(n_pre: int, params: LIFParams | None = None, nu: float = 50.0, sigma_u: float = 1.0) -> float:
    """Fluctuation-driven init (Rossbroich et al. 2022): sigma_w = sigma_U / sqrt(N_pre nu eps_hat).

    ``eps_hat = tau_syn^2 / (2 (tau_syn + tau_mem))`` (seconds) is the integral of the squared PSP kernel of a
    unit weight; by Campbell's theorem N_pre Poisson inputs at rate nu then give Var[U] = sigma_U^2.
    """
    params = params or LIFParams()
    n_pre, nu, sigma_u = count("n_pre", n_pre, 1), positive("nu", nu), positive("sigma_u", sigma_u)
    ts, tm = params.tau_syn / 1000.0, params.tau_mem / 1000.0
    eps_hat = ts * ts / (2.0 * (ts + tm))
    return float(sigma_u / math.sqrt(n_pre * nu * eps_hat))


def default_target(n_out: int = 200, n_steps: int = 189, density: float = 0.25) -> np.ndarray:
    """Procedural target raster (n_out, n_steps) of 0/1: dithered diagonal bands with solid cores.

    Grey level g = clip(a + cos(2 pi (2 i / n_out - 2 n / n_steps)), 0, 1) with the offset a chosen (bisection)
    so that mean(g) = ``density``, then ordered (Bayer 8x8) dithering. Like a dithered photograph, the raster has
    saturated regions (g = 1) and soft edges: with an L2 loss a rate code only pays where g > 1/2, so a target
    without such regions can be learnt only through precise spike timing.
    """
    density = interval("density", density, 0.0, 1.0, open_low=True, open_high=True)
    n_out, n_steps = count("n_out", n_out, 1), count("n_steps", n_steps, 1)
    i = np.arange(n_out)[:, None]
    n = np.arange(n_steps)[None, :]
    band = np.cos(2.0 * np.pi * (2.0 * i / n_out - 2.0 * n / n_steps))
    lo, hi = -1.0, 1.0
    for _ in range(50):
        a = 0.5 * (lo + hi)
        lo, hi = (lo, a) if np.clip(a + band, 0.0, 1.0).mean() > density else (a, hi)
    grey = np.clip(0.5 * (lo + hi) + band, 0.0, 1.0)
    b = np.array([[0, 2], [3, 1]])
    for _ in range(2):
        b = np.block([[4 * b, 4 * b + 2], [4 * b + 3, 4 * b + 1]])
    thresh = ((b + 0.5) / b.size)[i % 8, n % 8]
    return (grey > thresh).astype(np.float32)
