"""How well the fluctuation-driven initialisation hits its target: the realised membrane fluctuation per layer.

:func:`fluctuation_sigma` sets sigma_w with the continuous-time Campbell formula at the *input* rate nu for both
layers. The engine is discrete (``dt``) and the output layer's presynaptic spikes are the hidden layer's, at its
own rate, so the realised fluctuation differs from sigma_U. :func:`init_fluctuation` measures it on the network
exactly as the :class:`Trainer` initialises it, and :func:`discrete_fluctuation` predicts it.

The discrete PSP kernel. The engine's update (reset "same" or "next", without threshold) is::

    I[n+1] = lambda_s I[n] + w S[n],   U[n+1] = lambda_m U[n] + (1 - lambda_m) I[n],   U[0] = I[0] = 0

so one unit spike at step 0 gives ``I[n] = lambda_s^(n-1)`` (n >= 1) and, writing a = lambda_s, b = lambda_m,
``k[0] = k[1] = 0``, ``k[n] = (1 - b) (a^(n-1) - b^(n-1)) / (a - b)`` (n >= 2; the limit ``(1 - b) (n - 1) a^(n-2)``
at a = b). Summing geometric series::

    sum_n k[n]   = 1 / (1 - a)
    sum_n k[n]^2 = (1 - b) (1 + a b) / ((1 + b) (1 - a^2) (1 - a b))               (:func:`psp_kernel_sums`)

The pooled variance. U_i[n] = sum_j w_ij f_j[n] with f_j = k * S_j the filtered spike train of presynaptic neuron
j and w_ij independent, mean 0, variance sigma_w^2. For Bernoulli spikes with probability p per bin (independent
across bins), f_j has mean p sum k and variance p (1 - p) sum k^2, so, over weights and spikes::

    E[U^2] = N_pre sigma_w^2 E[f^2] = N_pre sigma_w^2 (p (1 - p) sum k^2  +  p^2 (sum k)^2)
             \\------ temporal: one neuron around its own mean --/   \\-- spread of the neurons' means --/

The first term is the variance over time of one neuron (in expectation over its weights), the fluctuation
Rossbroich et al. call sigma_U^2; the second is the variance across neurons of the mean drive
``p sum k sum_j w_ij``: fixed zero-mean weights give each neuron a non-zero mean. Pooled over neurons and time
(the grand mean is 0 up to O(1/n_neurons)), the variance is the sum. Correlations *between* presynaptic neurons do
not enter (the w_ij are independent), so the pooled formula holds for any spike trains with that E[f^2]; only the
temporal term assumes Bernoulli trains. In the limit dt -> 0 with p = nu dt, p (1 - p) sum k^2 -> nu eps_hat with
eps_hat = tau_syn^2 / (2 (tau_syn + tau_mem)): Campbell's formula of :func:`fluctuation_sigma`.

The measurement skips an initial transient of ``ceil(5 max(tau_mem, tau_syn) / dt)`` steps (U[0] = 0 and the mean
drive builds up with the slower time constant; after 5 of them it is within e^-5 < 1 % of stationary), at most half
the run, so that the window is never empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..lif import LIFParams
from ..params import count, interval, positive
from .config import TrainConfig
from .inputs import fluctuation_sigma

__all__ = ["FLUCTUATION_FIELDS", "TARGET_SIGMA_U", "InitFluctuation", "LayerFluctuation", "discrete_fluctuation",
           "fluctuation_config", "init_fluctuation", "psp_kernel", "psp_kernel_sums", "transient_steps"]

#: The trainer's target membrane fluctuation (Gygax & Zenke Methods 8.4.1: sigma_U = 1).
TARGET_SIGMA_U = 1.0

#: The settings :func:`init_fluctuation` depends on (the rest of a config is reset to defaults by
#: :func:`fluctuation_config`, so that a cache keyed by it does not recompute on a learning-rate change).
FLUCTUATION_FIELDS = ("network", "n_in", "n_hidden", "n_out", "n_steps", "trials", "beta_hid", "beta_out", "reset",
                      "dt", "tau_mem", "tau_syn", "input_rate", "seed")


def psp_kernel(params: LIFParams, n: int) -> np.ndarray:
    """k[0..n-1]: the free membrane U[m] after one unit-weight spike at step 0, by the closed form (float64)."""
    n = count("n", n, 1)
    a, b = params.lam_syn, params.lam_mem
    m = np.arange(n, dtype=np.float64) - 1.0  # k[n] = (1 - b) h[n - 1], h[m] = sum_{i<m} a^i b^(m-1-i)
    k = np.zeros(n)
    mm = m[2:]
    if a == b:
        k[2:] = -math.expm1(-params.dt / params.tau_mem) * mm * a ** (mm - 1.0)
    else:
        k[2:] = -math.expm1(-params.dt / params.tau_mem) * (a ** mm - b ** mm) / (a - b)
    return k


def psp_kernel_sums(params: LIFParams) -> tuple[float, float]:
    """(sum_n k[n], sum_n k[n]^2) of the engine's discrete PSP kernel (closed forms, see the module doc)."""
    a, b = params.lam_syn, params.lam_mem
    one_a = -math.expm1(-params.dt / params.tau_syn)  # 1 - a without cancellation
    one_b = -math.expm1(-params.dt / params.tau_mem)
    one_ab = -math.expm1(-params.dt / params.tau_syn - params.dt / params.tau_mem)
    one_aa = -math.expm1(-2.0 * params.dt / params.tau_syn)
    return 1.0 / one_a, one_b * (1.0 + a * b) / ((1.0 + b) * one_aa * one_ab)


def discrete_fluctuation(n_pre: int, sigma_w: float, p: float, params: LIFParams) -> tuple[float, float]:
    """Predicted (pooled, temporal) std of the free membrane: N_pre Bernoulli(p) inputs, weights N(0, sigma_w^2).

    pooled^2 = N_pre sigma_w^2 (p (1 - p) sum k^2 + p^2 (sum k)^2), temporal^2 = N_pre sigma_w^2 p (1 - p) sum k^2
    (stationary; see the module doc).
    """
    n_pre, sigma_w = count("n_pre", n_pre, 1), positive("sigma_w", sigma_w)
    p = interval("p", p, 0.0, 1.0)
    s1, s2 = psp_kernel_sums(params)
    temporal = n_pre * sigma_w**2 * p * (1.0 - p) * s2
    return math.sqrt(temporal + n_pre * sigma_w**2 * p * p * s1 * s1), math.sqrt(temporal)


def transient_steps(cfg: TrainConfig) -> int:
    """Steps skipped before measuring: ceil(5 max(tau_mem, tau_syn) / dt), at most n_steps // 2."""
    return min(math.ceil(5.0 * max(cfg.tau_mem, cfg.tau_syn) / cfg.dt), cfg.n_steps // 2)


@dataclass(frozen=True)
class LayerFluctuation:
    """One layer at initialisation. Stds are of U (threshold 1), rates in Hz, ``p`` per bin.

    ``free_std``: pooled over neurons (and trials) and the steps after the transient, of the free membrane (same
    presynaptic spikes, no threshold or reset); ``free_temporal_std``: sqrt of the mean over neurons of each
    neuron's variance over those steps (what sigma_U targets; a finite window of L steps biases it low by about
    the kernel's correlation time / L); ``spiking_std``: pooled, of the actual spiking membrane.
    ``predicted_std`` / ``predicted_temporal_std``: :func:`discrete_fluctuation` at the realised ``p``.
    """

    layer: str
    n_pre: int
    sigma_w: float
    presynaptic_rate_hz: float
    p: float
    predicted_std: float
    predicted_temporal_std: float
    free_std: float
    free_temporal_std: float
    spiking_std: float


@dataclass(frozen=True)
class InitFluctuation:
    """The realised membrane fluctuation of both layers of a freshly initialised network (:func:`init_fluctuation`).

    ``python -m sgcore train`` prints its ``CLI_FIELDS`` as ``init_fluctuation``.
    """

    CLI_FIELDS: ClassVar[tuple[str, ...]] = ("target", "transient_steps", "window_steps", "hidden", "output")
    target: float
    transient_steps: int
    window_steps: int
    hidden: LayerFluctuation
    output: LayerFluctuation

    @property
    def layers(self) -> tuple[LayerFluctuation, LayerFluctuation]:
        return self.hidden, self.output


def fluctuation_config(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` with every setting :func:`init_fluctuation` does not depend on at its default (a cache key)."""
    return TrainConfig(**{name: getattr(cfg, name) for name in FLUCTUATION_FIELDS})


def _free(c: np.ndarray, lam: float) -> np.ndarray:
    """U[n+1] = lam U[n] + c[n], U[0] = 0, along axis 0 (float64)."""
    u = np.zeros(c.shape, dtype=np.float64)
    for n in range(c.shape[0] - 1):
        np.multiply(u[n], lam, out=u[n + 1])
        u[n + 1] += c[n]
    return u


def _stds(u: np.ndarray, start: int) -> tuple[float, float]:
    """(pooled std, sqrt of the mean per-neuron temporal variance) of (T, ..., N) over steps >= start."""
    w = u[start:].reshape(u.shape[0] - start, -1)
    return float(np.std(w)), float(math.sqrt(np.mean(np.var(w, axis=0))))


def init_fluctuation(cfg: TrainConfig) -> InitFluctuation:
    """Measure the membrane fluctuation of ``cfg``'s network as :class:`Trainer` initialises it.

    Same weights and frozen input as ``Trainer(cfg, ...)`` and its first epoch's forward pass (the escape noise of
    a stochastic network from the same generator, all ``cfg.batch`` trials, float32 like the trainer). The hidden
    layer's presynaptic rate is the frozen input's, the output layer's the hidden layer's realised one (spiking
    dynamics). ``sigma_w`` is the trainer's :func:`fluctuation_sigma` (nu = input_rate), the target sigma_U = 1.
    At the defaults it takes a few milliseconds (one forward pass). It measures the fluctuation-driven weights
    (``init`` is not among :data:`FLUCTUATION_FIELDS`), whatever ``cfg.init`` chooses.
    """
    from .trainer import Trainer  # the trainer is the one source of the initial weights and input

    if not isinstance(cfg, TrainConfig):
        raise TypeError("cfg must be a TrainConfig")
    cfg = fluctuation_config(cfg)
    tr = Trainer(cfg, np.zeros((cfg.n_out, cfg.n_steps), dtype=np.float32), history_cap=1)
    eng = tr._engine  # the trainer's own float32 buffers: the same spikes and noise as its first epoch
    eng.forward(tr.w1, tr.w2, None, np.random.default_rng([cfg.seed, 2]))
    lif, start = cfg.lif, transient_steps(cfg)
    layers = []
    for name, n_pre, c, spikes_in, layer in (("hidden", cfg.n_in, eng.ch_shared, eng.x, eng.hid),
                                             ("output", cfg.n_hidden, eng.out.c, eng.hid.S, eng.out)):
        p = float(np.mean(spikes_in[:-1], dtype=np.float64))  # spikes at steps 0..T-2 are those that reach U
        sigma_w = fluctuation_sigma(n_pre, lif, cfg.input_rate)
        pred, pred_t = discrete_fluctuation(n_pre, sigma_w, p, lif) if p > 0 else (0.0, 0.0)
        free, free_t = _stds(_free(c, lif.lam_mem), start)
        spiking, _ = _stds(layer.U, start)
        layers.append(LayerFluctuation(name, n_pre, sigma_w, p * 1000.0 / cfg.dt, p, pred, pred_t, free, free_t,
                                       spiking))
    return InitFluctuation(TARGET_SIGMA_U, start, cfg.n_steps - start, *layers)
