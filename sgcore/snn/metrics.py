"""Distances between spike rasters and spike-count statistics (Gygax & Zenke Methods 8.4.1-8.4.2): L2, van
Rossum with its alpha kernel, Fano factors."""

from __future__ import annotations

import numpy as np

from ..lif import LIFParams
from ..params import count

__all__ = ["alpha_kernel", "fano_factor", "l2_distance", "van_rossum_distance"]


def alpha_kernel(n: int, params: LIFParams | None = None) -> np.ndarray:
    """alpha(k dt) = (exp(-t/tau_syn) - exp(-t/tau_mem)) / (1 - tau_mem/tau_syn) for k = 0..n-1 (Methods 8.4.1).

    Written as exp(-t/tau_m) (t/tau_m) expm1(x)/x, x = t (tau_s - tau_m) / (tau_s tau_m), which is exact and
    stays finite when tau_mem = tau_syn (then alpha(t) = (t/tau) exp(-t/tau)).
    """
    params = params or LIFParams()
    tm, ts = params.tau_mem, params.tau_syn
    t = np.arange(count("n", n), dtype=np.float64) * params.dt
    x = t * (ts - tm) / (ts * tm)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(x == 0.0, 1.0, np.expm1(x) / np.where(x == 0.0, 1.0, x))
    return np.exp(-t / tm) * (t / tm) * ratio


def _trials_and_target(output: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``output`` as (trials, n_out, n_steps) and ``target`` as (n_out, n_steps), float64, shapes checked."""
    out = np.asarray(output, dtype=np.float64)
    tgt = np.asarray(target, dtype=np.float64)
    if out.ndim == 2:
        out = out[None]
    if out.shape[1:] != tgt.shape:
        raise ValueError(f"output {out.shape[1:]} and target {tgt.shape} must have the same (n_out, n_steps)")
    return out, tgt


def l2_distance(output: np.ndarray, target: np.ndarray) -> float:
    """L2 loss as trained (Gygax & Zenke Methods 8.4.1): sum over neurons and steps of (S - S^)^2, averaged over
    trials.

    ``output``: (n_out, n_steps) or (trials, n_out, n_steps); ``target``: (n_out, n_steps). Divide by
    n_out * n_steps for the fraction of wrong bins.
    """
    out, tgt = _trials_and_target(output, target)
    return float(np.sum((out - tgt[None]) ** 2) / out.shape[0])


def van_rossum_distance(output: np.ndarray, target: np.ndarray, params: LIFParams | None = None) -> float:
    """van Rossum distance 1/2 int ((alpha * S^) - (alpha * S))^2 ds (Methods 8.4.1), averaged over trials.

    Discretised causally inside the simulated window: (alpha * x)[n] = sum_{k <= n} alpha((n - k) dt) x[k]
    (alpha(0) = 0) and the integral is sum_n (...)^2 dt with dt in ms; summed over neurons. Shapes as in
    :func:`l2_distance`.
    """
    out, tgt = _trials_and_target(output, target)
    params = params or LIFParams()
    n = tgt.shape[-1]
    kern = alpha_kernel(n, params)
    toeplitz = np.tril(kern[np.subtract.outer(np.arange(n), np.arange(n)).clip(0)])
    diff = tgt[None] - out  # (trials, neurons, steps)
    filt = diff @ toeplitz.T
    return float(0.5 * params.dt * np.sum(filt * filt) / out.shape[0])


def fano_factor(spikes: np.ndarray, window: int = 1) -> float:
    """Mean Fano factor of binary trial rasters ``spikes`` of shape (trials, n_steps) or (trials, n_steps, n).

    window = 1 (the issue's recipe): per 1-step bin (and neuron) variance over trials (ddof = 0) divided by
    the mean, averaged over the bins in which at least one trial spiked. For binary bins this is 1 - mean,
    at most 1. window = w > 1 (paper Methods 8.4.2): the same on the w-step moving average of each trial
    ('valid' windows), i.e. 1/w times the Fano factor of the spike count in the window. NaN if no bin has
    a spike.
    """
    arr = np.asarray(spikes, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"spikes must have shape (trials, n_steps) or (trials, n_steps, n); got {arr.shape}")
    window = count("window", window, 1, arr.shape[1])
    if window > 1:
        csum = np.concatenate([np.zeros_like(arr[:, :1]), np.cumsum(arr, axis=1)], axis=1)
        arr = (csum[:, window:] - csum[:, :-window]) / window
    mean = arr.mean(axis=0)
    var = arr.var(axis=0)
    live = mean > 0
    if not np.any(live):
        return float("nan")
    return float(np.mean(var[live] / mean[live]))


def _fano_binary(counts: np.ndarray, trials: int) -> float:
    """Window-1 Fano factor from spike counts over trials per bin: mean of 1 - m over bins with m > 0."""
    live = counts > 0
    k = int(np.count_nonzero(live))
    if k == 0:
        return float("nan")
    return float(1.0 - counts[live].sum(dtype=np.float64) / (trials * k))
