"""Fast feed-forward LIF network trainer: spike-train matching (Gygax & Zenke 2024, Fig. 6).

A network ``n_in -> n_hidden -> n_out`` of current-based LIF neurons (Gygax & Zenke Methods 8.1,
Eqs. 21-22) learns to turn frozen Poisson input into a target raster. Discrete time, ``n = 0..T-1``::

    I[n+1] = lambda_s I[n] + W S_in[n]
    U[n+1] = lambda_m U[n] (1 - S[n]) + (1 - lambda_m) I[n]          reset "same" (Methods 8.4.1)
    U[n+1] = (lambda_m U[n] + (1 - lambda_m) I[n]) (1 - S[n])        reset "next" (Eq. 21)
    S[n]   = H(U[n] - theta)                                          deterministic (Eq. 15)
    S[n]   ~ Ber(sigma(beta (U[n] - theta)))                          stochastic (Eqs. 16-17)

with ``lambda = exp(-dt / tau)``, ``U[0] = I[0] = 0`` and ``H(0) = 0`` (a spike needs ``U > theta``). The
stochastic neuron is simulated as a noisy threshold (Methods Eq. 25): ``S = H(U - theta - logit(r) / beta)``
with ``r ~ U(0, 1)``, which is exactly ``Ber(sigma(beta (U - theta)))``.

Speed (what makes an epoch cheap, see ``bench/bench_train.py``):

* a layer's input currents for all steps are one matmul: the synaptic filter is linear, so the input
  spikes are filtered first (``I[n] = W Pf[n]``, ``Pf[n+1] = lambda_s Pf[n] + S_in[n]``); the hidden layer's
  filtered input is frozen, hence computed once, and shared by all trials;
* the membrane recurrence is a NumPy loop of four small in-place ufuncs per step on preallocated
  float32 buffers (NumPy's per-call overhead is ~3x lower than torch's at these sizes);
* the backward pass is written out (no autograd): surrogate derivatives for all steps at once, then the
  membrane adjoint ``gU[n] = gS[n] SD[n] + A[n] gU[n+1]`` (a linear recurrence whether or not the reset is
  back-propagated, ``A`` is precomputed), one reverse synaptic filter, and one matmul per weight matrix;
* the matmuls (the only torch calls, besides the SD of registry shapes without a NumPy kernel) go through
  torch, imported on first use (configs, presets, :func:`lif_trace` and the metrics do not load it); the
  library never changes thread settings. Callers should run ``torch.set_num_threads(1)``: these
  matmuls gain little from a second thread, and on a loaded 2-core machine OpenMP threads waiting for each
  other made epochs 10-40x slower in our measurements.

Surrogate derivatives (Table 2 and Section 5): the deterministic network uses SuperSpike
``h(x) = 1 / (beta |x| + 1)^2`` (registry ``superspike``, peak scaling, i.e. the fast-sigmoid derivative scaled
by 1/beta), beta = 10. The stochastic network uses the derivative of its escape noise, ``sigma'_beta(x) =
beta sigma(beta x) (1 - sigma(beta x))`` (registry ``sigmoid``, density scaling, peak beta/4), with beta_SG = 10
in both layers as Table 2 lists it; ``match_escape=True`` uses each layer's own escape steepness instead
(hidden beta_hid, output beta_out).

Losses (Methods 8.4.1; see :func:`l2_distance` and :func:`van_rossum_distance` for the normalisation):
training minimises the L2 loss ``(1/N) sum_i sum_n (S_i[n] - S^_i[n])^2``, whose ``N`` the paper does not
define. We take ``N`` = the number of trials (the paper's mini-batch size is 1 and the stochastic update is
the average over 10 trials), i.e. the number of wrong bins per trial. With the per-bin mean instead, the
paper's plain gradient descent at eta = 1e-5..1e-4 (Table 2) would barely move the weights in 5000 epochs.

Backward methods: ``sg`` (any registry shape and scaling), ``localzo`` (the LocalZO estimate
``mean_k |z_k|^alpha / (2 delta) 1[|U - theta| <= delta |z_k|]``, Mukhoty et al. Eqs. 7-8, in place of the SD)
and ``sparsegrad`` (the SD kept only where ``|U - theta| < B_th``). The same derivative is used in the reset
term when the reset is back-propagated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ..lif import LIF_PARAMS, LIFParams, LIFState, escape_threshold_inplace, lif_step
from ..localzo import ALPHAS, DISTRIBUTIONS
from ..params import DeclaredConfig, ParamSpec, lookup
from ..shapes import SHAPES, dampening, get_shape

__all__ = [
    "BACKWARDS",
    "BackwardMethod",
    "HISTORY_CAP",
    "LIF_PARAMS",
    "LIF_TRACE_PARAMS",
    "LIFParams",
    "PRESETS",
    "PRESET_EPOCHS",
    "TRAIN_PARAMS",
    "History",
    "LastPass",
    "TrainConfig",
    "Trainer",
    "alpha_kernel",
    "default_target",
    "fano_factor",
    "fluctuation_sigma",
    "forward_backward",
    "l2_distance",
    "lif_trace",
    "poisson_input",
    "preset",
    "register_backward",
    "registered_backward",
    "train",
    "unregister_backward",
    "van_rossum_distance",
]

#: History entries kept per list before the history is decimated (see :class:`History`).
HISTORY_CAP = 2000


# ---------------------------------------------------------------------------------------------
# neuron parameters and the single-neuron trace
# ---------------------------------------------------------------------------------------------
LIF_TRACE_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("weight", "Weight", 0.5, symbol="w", domain=(-1e3, 1e3), slider=(-2.0, 5.0), step=0.05,
              help="Weight of the single input."),
    ParamSpec("input_period", "Input period", 1, kind="int", domain=(1, 10_000), slider=(1, 50), step=1,
              unit="steps", help="The input spikes at steps 0, p, 2p, ..."),
    ParamSpec("steps", "Steps", 40, kind="int", domain=(1, 10_000), slider=(5, 400), step=1,
              help="Number of simulated steps."),
    replace(LIF_PARAMS[4]),
)


def lif_trace(weight: float, input_period: int, steps: int, reset: str = "same",
              params: LIFParams | None = None) -> dict[str, list]:
    """One deterministic LIF neuron driven by one input that spikes every ``input_period`` steps from step 0.

    Returns ``spike_steps`` (steps n with S[n] = 1), ``membrane`` (U[n]) and ``current`` (I[n]) for
    n = 0..steps-1: a float64 loop over :func:`sgcore.lif.lif_step` (the reference the engine is tested against).
    ``reset`` overrides ``params.reset``.
    """
    spec = {s.name: s for s in LIF_TRACE_PARAMS}
    weight = spec["weight"].validate(weight)
    input_period = spec["input_period"].validate(input_period)
    steps = spec["steps"].validate(steps)
    params = replace(params or LIFParams(), reset=spec["reset"].validate(reset))
    state = LIFState(0.0, 0.0)
    membrane, current, spikes = [], [], []
    for n in range(steps):
        membrane.append(float(state.u))
        current.append(float(state.i))
        s, state = lif_step(state, weight if n % input_period == 0 else 0.0, params)
        if s:
            spikes.append(n)
    return {"spike_steps": spikes, "membrane": membrane, "current": current}


def poisson_input(n_in: int, n_steps: int, rate_hz: float, dt: float, seed: int) -> np.ndarray:
    """Frozen Poisson input: (n_steps, n_in) float32 of 0/1, P(spike in a bin) = rate_hz * dt / 1000 (dt in ms)."""
    if int(n_in) < 1 or int(n_steps) < 1:
        raise ValueError(f"n_in and n_steps must be integers >= 1; got {n_in!r}, {n_steps!r}")
    if not (math.isfinite(rate_hz) and rate_hz >= 0 and math.isfinite(dt) and dt > 0):
        raise ValueError(f"rate_hz must be >= 0 and dt > 0; got {rate_hz!r}, {dt!r}")
    p = min(1.0, rate_hz * dt / 1000.0)
    rng = np.random.default_rng(seed)
    return (rng.random((int(n_steps), int(n_in))) < p).astype(np.float32)


def fluctuation_sigma(n_pre: int, params: LIFParams | None = None, nu: float = 50.0, sigma_u: float = 1.0) -> float:
    """Fluctuation-driven init (Rossbroich et al. 2022): sigma_w = sigma_U / sqrt(N_pre nu eps_hat).

    ``eps_hat = tau_syn^2 / (2 (tau_syn + tau_mem))`` (seconds) is the integral of the squared PSP kernel of a
    unit weight; by Campbell's theorem N_pre Poisson inputs at rate nu then give Var[U] = sigma_U^2.
    """
    params = params or LIFParams()
    if int(n_pre) < 1 or not nu > 0 or not sigma_u > 0:
        raise ValueError(f"n_pre must be >= 1, nu and sigma_u > 0; got {n_pre!r}, {nu!r}, {sigma_u!r}")
    ts, tm = params.tau_syn / 1000.0, params.tau_mem / 1000.0
    eps_hat = ts * ts / (2.0 * (ts + tm))
    return float(sigma_u / math.sqrt(n_pre * nu * eps_hat))


# ---------------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------------
def alpha_kernel(n: int, params: LIFParams | None = None) -> np.ndarray:
    """alpha(k dt) = (exp(-t/tau_syn) - exp(-t/tau_mem)) / (1 - tau_mem/tau_syn) for k = 0..n-1 (Methods 8.4.1).

    Written as exp(-t/tau_m) (t/tau_m) expm1(x)/x, x = t (tau_s - tau_m) / (tau_s tau_m), which is exact and
    stays finite when tau_mem = tau_syn (then alpha(t) = (t/tau) exp(-t/tau)).
    """
    params = params or LIFParams()
    tm, ts = params.tau_mem, params.tau_syn
    t = np.arange(int(n), dtype=np.float64) * params.dt
    x = t * (ts - tm) / (ts * tm)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(x == 0.0, 1.0, np.expm1(x) / np.where(x == 0.0, 1.0, x))
    return np.exp(-t / tm) * (t / tm) * ratio


def l2_distance(output: np.ndarray, target: np.ndarray) -> float:
    """L2 loss as trained: sum over neurons and steps of (S - S^)^2, averaged over trials.

    ``output``: (n_out, n_steps) or (trials, n_out, n_steps); ``target``: (n_out, n_steps). Divide by
    n_out * n_steps for the fraction of wrong bins.
    """
    out = np.asarray(output, dtype=np.float64)
    tgt = np.asarray(target, dtype=np.float64)
    if out.ndim == 2:
        out = out[None]
    if out.shape[1:] != tgt.shape:
        raise ValueError(f"output {out.shape[1:]} and target {tgt.shape} must have the same (n_out, n_steps)")
    return float(np.sum((out - tgt[None]) ** 2) / out.shape[0])


def van_rossum_distance(output: np.ndarray, target: np.ndarray, params: LIFParams | None = None) -> float:
    """van Rossum distance 1/2 int ((alpha * S^) - (alpha * S))^2 ds (Methods 8.4.1), averaged over trials.

    Discretised causally inside the simulated window: (alpha * x)[n] = sum_{k <= n} alpha((n - k) dt) x[k]
    (alpha(0) = 0) and the integral is sum_n (...)^2 dt with dt in ms; summed over neurons. Shapes as in
    :func:`l2_distance`.
    """
    out = np.asarray(output, dtype=np.float64)
    tgt = np.asarray(target, dtype=np.float64)
    if out.ndim == 2:
        out = out[None]
    if out.shape[1:] != tgt.shape:
        raise ValueError(f"output {out.shape[1:]} and target {tgt.shape} must have the same (n_out, n_steps)")
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
    window = int(window)
    if not 1 <= window <= arr.shape[1]:
        raise ValueError(f"window must be an integer in [1, {arr.shape[1]}]; got {window!r}")
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


def default_target(n_out: int = 200, n_steps: int = 189, density: float = 0.25) -> np.ndarray:
    """Procedural target raster (n_out, n_steps) of 0/1: dithered diagonal bands with solid cores.

    Grey level g = clip(a + cos(2 pi (2 i / n_out - 2 n / n_steps)), 0, 1) with the offset a chosen (bisection)
    so that mean(g) = ``density``, then ordered (Bayer 8x8) dithering. Like a dithered photograph, the raster has
    saturated regions (g = 1) and soft edges: with an L2 loss a rate code only pays where g > 1/2, so a target
    without such regions can be learnt only through precise spike timing.
    """
    if not 0.0 < density < 1.0:
        raise ValueError(f"density must be in (0, 1); got {density!r}")
    i = np.arange(int(n_out))[:, None]
    n = np.arange(int(n_steps))[None, :]
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


# ---------------------------------------------------------------------------------------------
# backward methods: one registry record each
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BackwardMethod:
    """A backward method of the trainer: what replaces dS/dU at v = U - theta in the explicit backward pass.

    ``estimate(v, cfg, *, beta, z, rng, scratch)`` overwrites ``v`` ((T, B, N), the engine's dtype) in place
    with the estimate, >= 0 with zeros +0.0 (the active fraction counts non-zero bit patterns). ``beta`` is the
    SD steepness of the layer, ``z`` fixed LocalZO samples (tests) or None, ``scratch`` two arrays like ``v``.
    ``params``: the TrainConfig fields it reads besides the SD (the training page shows them);
    ``uses_shape``: it uses the SD shape and steepness; ``temporaries``: (T, B, N) temporaries it allocates
    (for :meth:`Trainer.estimate_bytes`).
    """

    name: str
    label: str
    estimate: Callable[..., None] = field(repr=False)
    params: tuple[str, ...] = ()
    uses_shape: bool = True
    temporaries: int = 1
    reference: str = ""


def _sg_estimate(v: np.ndarray, cfg: TrainConfig, *, beta: float, z: Any, rng: np.random.Generator,
                 scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """v <- SD(v) = gamma f(s v) of the registry shape (Gygax & Zenke Eq. 1 and Table 2)."""
    _sd_inplace(v, scratch[1], cfg.shape, beta, cfg.scale)


def _sparsegrad_estimate(v: np.ndarray, cfg: TrainConfig, *, beta: float, z: Any, rng: np.random.Generator,
                         scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """v <- SD(v) 1[|v| < B_th] (SparseGrad)."""
    tmp = scratch[0]
    np.abs(v, out=tmp)
    mask = tmp < v.dtype.type(cfg.sparse_threshold)
    _sd_inplace(v, scratch[1], cfg.shape, beta, cfg.scale)
    v *= mask


def _localzo_estimate(v: np.ndarray, cfg: TrainConfig, *, beta: float, z: np.ndarray | None,
                      rng: np.random.Generator, scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """v <- mean_k |z_k|^alpha / (2 delta) 1[|v| <= delta |z_k|] (LocalZO, Mukhoty et al. Eqs. 7-8)."""
    f = v.dtype.type
    delta, m, alpha = cfg.localzo_delta, cfg.localzo_m, int(cfg.localzo_alpha)
    absv, tmp2 = scratch
    np.abs(v, out=absv)
    v.fill(0.0)
    mask = np.empty(absv.shape, dtype=bool)
    for k in range(m):
        zk = z[k] if z is not None else _sample_abs_z(cfg.localzo_dist, absv.shape, rng, v.dtype)
        np.multiply(zk, f(delta), out=tmp2)
        np.less_equal(absv, tmp2, out=mask)  # active: |U - theta| <= delta |z_k|
        if alpha == 1:
            np.multiply(zk, mask, out=tmp2)
        else:
            with np.errstate(divide="ignore", over="ignore"):
                np.power(zk, f(alpha), out=tmp2)
            np.putmask(tmp2, ~mask, 0.0)
        v += tmp2
    v *= f(1.0 / (2.0 * delta * m))


_BACKWARDS: dict[str, BackwardMethod] = {
    b.name: b for b in (
        BackwardMethod("sg", "Surrogate derivative", _sg_estimate,
                       reference="Gygax & Zenke Eq. 1, Table 2"),
        BackwardMethod("localzo", "LocalZO estimate", _localzo_estimate,
                       params=("localzo_dist", "localzo_delta", "localzo_m"), uses_shape=False, temporaries=5,
                       reference="Mukhoty et al. Eqs. 7-8"),
        BackwardMethod("sparsegrad", "SD truncated at B_th", _sparsegrad_estimate, params=("sparse_threshold",),
                       reference="SparseGrad: the SD kept where |U - theta| < B_th"),
    )
}
_BUILT_IN_BACKWARDS = frozenset(_BACKWARDS)
#: Read-only registry name -> :class:`BackwardMethod` (a live view: :func:`register_backward` adds to it).
BACKWARDS: Mapping[str, BackwardMethod] = MappingProxyType(_BACKWARDS)


def register_backward(method: BackwardMethod) -> BackwardMethod:
    """Add a backward method: TrainConfig, the Trainer and the training page offer it at once.

    A name already registered raises ``ValueError``. Register at start-up (the registry is process-wide).
    """
    if not isinstance(method, BackwardMethod):
        raise TypeError(f"register_backward takes a BackwardMethod; got {type(method).__name__}")
    if method.name in _BACKWARDS:
        raise ValueError(f"backward method {method.name!r} is already registered")
    _BACKWARDS[method.name] = method
    return method


def unregister_backward(name: str) -> BackwardMethod:
    """Remove a backward method added by :func:`register_backward` (the built-in ones stay)."""
    if name in _BUILT_IN_BACKWARDS:
        raise ValueError(f"backward method {name!r} is built in and cannot be removed")
    return _BACKWARDS.pop(lookup(BACKWARDS, name, "backward").name)


@contextmanager
def registered_backward(*methods: BackwardMethod) -> Iterator[tuple[BackwardMethod, ...]]:
    """Register ``methods`` for the duration of a ``with`` block (tests, notebooks), then remove them."""
    done: list[str] = []
    try:
        for method in methods:
            done.append(register_backward(method).name)
        yield methods
    finally:
        for name in reversed(done):
            _BACKWARDS.pop(name, None)


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
_SIZE_CAP = 400
_STEP_CAP = 400
_TRIAL_CAP = 32

TRAIN_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("network", "Network", "deterministic", kind="choice", choices=("deterministic", "stochastic"),
              help="deterministic: Heaviside spikes; stochastic: sigmoid escape noise, gradients averaged over "
                   "trials."),
    ParamSpec("n_in", "Input neurons", 200, kind="int", domain=(1, _SIZE_CAP), slider=(10, _SIZE_CAP), step=10,
              help="Frozen Poisson inputs."),
    ParamSpec("n_hidden", "Hidden neurons", 200, kind="int", domain=(1, _SIZE_CAP), slider=(10, _SIZE_CAP), step=10),
    ParamSpec("n_out", "Output neurons", 200, kind="int", domain=(1, _SIZE_CAP), slider=(10, _SIZE_CAP), step=10,
              help="Rows of the target raster."),
    ParamSpec("n_steps", "Time steps", 189, kind="int", domain=(2, _STEP_CAP), slider=(20, _STEP_CAP), step=1,
              help="Columns of the target raster (the paper's 198 is a typo for 189)."),
    ParamSpec("trials", "Trials", 10, kind="int", domain=(1, _TRIAL_CAP), slider=(1, _TRIAL_CAP), step=1,
              help="Stochastic network: trials simulated in a batch; the update is their average."),
    ParamSpec("lr", "Learning rate", 1e-4, symbol=r"\eta", domain=(0.0, 10.0), open_low=True, slider=(1e-6, 0.1),
              step=1e-6, help="Output-layer learning rate (hidden layer: lr * hidden_lr_factor)."),
    ParamSpec("hidden_lr_factor", "Hidden / output learning rate", 0.1, domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 10.0), step=0.01, help="eta_hid / eta_out (paper: 0.1 deterministic, 1 stochastic)."),
    ParamSpec("optimizer", "Optimizer", "gd", kind="choice", choices=("gd", "adam"),
              help="gd: plain gradient descent (the paper); adam: Adam (beta1 0.9, beta2 0.999, eps 1e-8)."),
    ParamSpec("backward", "Backward pass", "sg", kind="choice", choices=BACKWARDS,
              help="sg: surrogate derivative; localzo: LocalZO estimate; sparsegrad: SD truncated at B_th."),
    ParamSpec("shape", "SD shape", "superspike", kind="choice", choices=SHAPES,
              help="Surrogate-derivative shape from the registry (sg and sparsegrad)."),
    ParamSpec("scale", "SD scaling", "auto", kind="choice", choices=("auto", "density", "peak"),
              help="auto = the shape's paper convention (superspike: peak 1/(beta|u|+1)^2; sigmoid: density "
                   "beta sigma (1 - sigma))."),
    ParamSpec("beta_sg", "SD steepness", 10.0, symbol=r"\beta_{SG}", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 100.0), step=0.5, help="Steepness of the surrogate derivative (Table 2: 10)."),
    ParamSpec("match_escape", "SD steepness = escape noise", False, kind="bool",
              help="Stochastic network: each layer's SD uses its escape-noise steepness (beta_hid, beta_out) "
                   "instead of beta_sg."),
    ParamSpec("beta_hid", "Escape noise, hidden", 10.0, symbol=r"\beta_{hid}", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 200.0), step=1.0, help="Steepness of the hidden layer's sigmoid escape noise."),
    ParamSpec("beta_out", "Escape noise, output", 100.0, symbol=r"\beta_{out}", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 200.0), step=1.0, help="Steepness of the output layer's sigmoid escape noise."),
    ParamSpec("localzo_dist", "LocalZO z distribution", "normal", kind="choice", choices=tuple(DISTRIBUTIONS),
              help="Unit-variance distribution of z."),
    ParamSpec("localzo_delta", "LocalZO delta", 0.1, symbol=r"\delta", domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 2.0), step=0.01, help="Active where |U - theta| <= delta |z|."),
    ParamSpec("localzo_m", "LocalZO samples", 1, kind="int", symbol="m", domain=(1, 20), slider=(1, 20), step=1,
              help="Samples z_k averaged per neuron and step (Eq. 7)."),
    ParamSpec("localzo_alpha", "LocalZO exponent", "1", kind="choice", symbol=r"\alpha",
              choices=tuple(str(a) for a in ALPHAS), help="|z|^alpha in Eq. 8."),
    ParamSpec("sparse_threshold", "SparseGrad threshold", 0.5, symbol="B_{th}", domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 2.0), step=0.01, help="SD kept where |U - theta| < B_th."),
    ParamSpec("reset", "Reset", "same", kind="choice", choices=("same", "next"),
              help="same: reset within the step (the paper's spike-train task); next: Eq. 21."),
    ParamSpec("backprop_reset", "Back-propagate through the reset", False, kind="bool",
              help="Keep the derivative of the reset factor (1 - S) (stochAD); off is common practice."),
    ParamSpec("dt", "Time step", 1.0, symbol=r"\Delta t", domain=(0.0, 100.0), open_low=True, slider=(0.1, 5.0),
              step=0.1, unit="ms"),
    ParamSpec("tau_mem", "Membrane time constant", 10.0, symbol=r"\tau_{mem}", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 100.0), step=0.5, unit="ms"),
    ParamSpec("tau_syn", "Synaptic time constant", 5.0, symbol=r"\tau_{syn}", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 50.0), step=0.5, unit="ms"),
    ParamSpec("input_rate", "Input rate", 50.0, symbol=r"\nu", domain=(0.0, 1000.0), open_low=True, slider=(1.0, 200.0),
              step=1.0,
              unit="Hz", help="Rate of the frozen Poisson input (and nu of the initialisation)."),
    ParamSpec("fano_window", "Fano window", 1, kind="int", domain=(1, 50), slider=(1, 20), step=1, unit="steps",
              help="1: per-step bins (the issue's recipe); 10: the paper's moving average."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seeds the input, the weights and the escape noise."),
)


@dataclass(frozen=True)
class TrainConfig(DeclaredConfig):
    """A validated training configuration; defaults are the paper's deterministic network (Tables 2-3)."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = TRAIN_PARAMS
    network: str = "deterministic"
    n_in: int = 200
    n_hidden: int = 200
    n_out: int = 200
    n_steps: int = 189
    trials: int = 10
    lr: float = 1e-4
    hidden_lr_factor: float = 0.1
    optimizer: str = "gd"
    backward: str = "sg"
    shape: str = "superspike"
    scale: str = "auto"
    beta_sg: float = 10.0
    match_escape: bool = False
    beta_hid: float = 10.0
    beta_out: float = 100.0
    localzo_dist: str = "normal"
    localzo_delta: float = 0.1
    localzo_m: int = 1
    localzo_alpha: str = "1"
    sparse_threshold: float = 0.5
    reset: str = "same"
    backprop_reset: bool = False
    dt: float = 1.0
    tau_mem: float = 10.0
    tau_syn: float = 5.0
    input_rate: float = 50.0
    fano_window: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.localzo_alpha, int) and not isinstance(self.localzo_alpha, bool):
            object.__setattr__(self, "localzo_alpha", str(self.localzo_alpha))
        super().__post_init__()
        if self.fano_window > self.n_steps:
            raise ValueError(f"fano_window must be an integer in [1, n_steps = {self.n_steps}]; "
                             f"got {self.fano_window}")

    @property
    def lif(self) -> LIFParams:
        return LIFParams(dt=self.dt, tau_mem=self.tau_mem, tau_syn=self.tau_syn, theta=1.0, reset=self.reset,
                         detach_reset=not self.backprop_reset)

    @property
    def batch(self) -> int:
        """Trials simulated per epoch (1 for the deterministic network)."""
        return self.trials if self.network == "stochastic" else 1

    @classmethod
    def preset(cls, name: str, network: str = "deterministic", **overrides: Any) -> TrainConfig:
        return preset(name, network, **overrides)


#: Presets: ``PRESETS[name][network]`` holds the TrainConfig overrides.
#: "paper": Gygax & Zenke Fig. 6, Tables 2-3 (200-200-200, 189 steps, plain gradient descent, deterministic
#: SuperSpike beta 10 with eta_hid 1e-5 / eta_out 1e-4, stochastic sigma'(beta 10) SD with escape noise
#: beta_hid 10 / beta_out 100, eta 1e-5, 10 trials; 5000 epochs in the paper).
#: "quick": the paper's network and SDs with Adam (lr 2e-3, both layers), tuned so that both networks visibly
#: learn the 25%-density :func:`default_target` in PRESET_EPOCHS["quick"] = 600 epochs. Measured (1 thread):
#: deterministic L2 10557 -> 4220, van Rossum 48904 -> 2402 in 1.6 s; stochastic L2 10623 -> 5223,
#: van Rossum 48780 -> 7921, output Fano 0.75 -> 0.35 in 9.3 s.
_PAPER: dict[str, dict[str, Any]] = {
    "deterministic": dict(network="deterministic", n_in=200, n_hidden=200, n_out=200, n_steps=189, trials=1,
                          lr=1e-4, hidden_lr_factor=0.1, optimizer="gd", backward="sg", shape="superspike",
                          scale="auto", beta_sg=10.0, reset="same", backprop_reset=False, input_rate=50.0),
    "stochastic": dict(network="stochastic", n_in=200, n_hidden=200, n_out=200, n_steps=189, trials=10,
                       lr=1e-5, hidden_lr_factor=1.0, optimizer="gd", backward="sg", shape="sigmoid",
                       scale="auto", beta_sg=10.0, match_escape=False, beta_hid=10.0, beta_out=100.0,
                       reset="same", backprop_reset=False, input_rate=50.0),
}

PRESETS: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "paper": _PAPER,
    "quick": {net: {**values, "lr": 2e-3, "hidden_lr_factor": 1.0, "optimizer": "adam"}
              for net, values in _PAPER.items()},
}

#: Epochs the presets are meant to run for (the paper trained 5000).
PRESET_EPOCHS: Mapping[str, int] = {"paper": 5000, "quick": 600}


def preset(name: str, network: str = "deterministic", **overrides: Any) -> TrainConfig:
    """The TrainConfig of preset ``name`` ("paper" or "quick") for ``network``, with ``overrides`` applied."""
    table = lookup(PRESETS, name, "preset")
    values = dict(lookup(table, network, "network"))
    values.update(overrides)
    return TrainConfig(**values)


# ---------------------------------------------------------------------------------------------
# surrogate derivatives on whole (T, B, N) arrays, in place
# ---------------------------------------------------------------------------------------------
def _sd_inplace(v: np.ndarray, tmp: np.ndarray, shape: str, beta: float, scale: str) -> None:
    """Overwrite ``v`` (= U - theta) with SD(v) = gamma f(s v) of a registry shape (``tmp``: scratch)."""
    shp = get_shape(shape)
    s = shp.sharpness(beta)
    g = dampening(shape, beta, None if scale == "auto" else scale)
    shp.sd_inplace(v, s, g)  # the shape's own fast kernel where it declares one


@dataclass(frozen=True)
class _Noise:
    """Externally fixed randomness (tests): uniforms r (T, B, N) per layer and |z| (m, T, B, N) per layer."""

    uniform_hid: np.ndarray | None = None
    uniform_out: np.ndarray | None = None
    z_hid: np.ndarray | None = None
    z_out: np.ndarray | None = None


def _sample_abs_z(dist: str, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """|z| for a unit-variance LocalZO distribution (fast NumPy samplers for the closed-form ones)."""
    if dist == "normal":
        return np.abs(rng.standard_normal(shape, dtype=np.float32)).astype(dtype, copy=False)
    if dist == "uniform":
        return (rng.random(shape, dtype=np.float32) * np.float32(math.sqrt(3.0))).astype(dtype, copy=False)
    if dist == "laplace":
        return (rng.standard_exponential(shape, dtype=np.float32) * np.float32(math.sqrt(0.5))).astype(
            dtype, copy=False)
    return np.asarray(lookup(DISTRIBUTIONS, dist, "localzo_dist").sample_abs(shape, rng), dtype=dtype)


# ---------------------------------------------------------------------------------------------
# the engine: buffers, forward, explicit backward
# ---------------------------------------------------------------------------------------------
def _count_nonzero(a: np.ndarray) -> int:
    """Non-zero entries of a float array whose zeros are all +0.0 (counted on the bit patterns: 5x faster)."""
    return int(np.count_nonzero(a.view(np.int32 if a.dtype == np.float32 else np.int64)))


def _mm(out: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float) -> None:
    """out = alpha * a @ b through torch (2-D, any strides; out contiguous). torch is imported on first use."""
    import torch

    ot = torch.from_numpy(out)
    torch.addmm(ot, torch.from_numpy(a) if isinstance(a, np.ndarray) else a,
                torch.from_numpy(b) if isinstance(b, np.ndarray) else b, beta=0.0, alpha=alpha, out=ot)


class _Layer:
    """Buffers and per-step views of one LIF layer with (T, B, N) state."""

    def __init__(self, T: int, B: int, N: int, dtype: np.dtype) -> None:
        self.T, self.B, self.N = T, B, N
        z = lambda *s: np.zeros(s, dtype=dtype)  # noqa: E731
        self.c = z(T, B, N)  # (1 - lambda_m) I[n]
        self.U = z(T, B, N)
        self.K = np.zeros((T, B, N), dtype=bool)  # keep = 1 - S
        self.S = z(T, B, N)
        self.sd = z(T, B, N)
        self.theta = self.sd  # (noisy) threshold per step: only needed until the backward pass computes sd
        self.A = z(T, B, N)
        self.gU = z(T, B, N)
        self.tmp = z(T, B, N)
        self.row = z(B, N)
        self.lam = z(B, N)
        self.Uv, self.Kv, self.cv, self.thv = list(self.U), list(self.K), list(self.c), list(self.theta)
        self.Sv, self.Av, self.gUv = list(self.S), list(self.A), list(self.gU)

    def arrays(self) -> list[np.ndarray]:
        return [self.c, self.U, self.K, self.S, self.sd, self.A, self.gU, self.tmp, self.row, self.lam]


class _Engine:
    """One configuration's simulation buffers: ``forward``, ``loss_grad`` (+ ``fano``), ``backward``.

    Arrays are (T, B, N) = (steps, trials, neurons), C-contiguous, so that each step is one contiguous (B, N)
    block and the matmuls see (T * B, N) matrices. Per-step loops iterate over precomputed lists of views.
    """

    def __init__(self, cfg: TrainConfig, x: np.ndarray, target: np.ndarray, dtype: Any = np.float32) -> None:
        self.dtype = np.dtype(dtype)
        self.f = self.dtype.type  # scalars of the buffer dtype keep NumPy on its fast same-type loops
        self.T, self.B = cfg.n_steps, cfg.batch
        self.Nin, self.Nh, self.No = cfg.n_in, cfg.n_hidden, cfg.n_out
        T, B, dt = self.T, self.B, self.dtype
        self.hid = _Layer(T, B, self.Nh, dt)
        self.out = _Layer(T, B, self.No, dt)
        self.x = np.ascontiguousarray(x, dtype=dt)
        self.pfx = np.zeros((T, self.Nin), dtype=dt)  # filtered input (frozen)
        self.target = np.ascontiguousarray(target.T, dtype=dt)[:, None, :]  # (T, 1, No)
        self.ch_shared = np.zeros((T, self.Nh), dtype=dt)  # hidden currents: the same in every trial
        self.chv = list(self.ch_shared[:, None, :])
        self.pfh = np.zeros((T, B, self.Nh), dtype=dt)  # filtered hidden spikes
        self.gpfh = np.zeros((T, B, self.Nh), dtype=dt)
        self.gsh = np.zeros((T, B, self.Nh), dtype=dt)
        self.gso = np.zeros((T, B, self.No), dtype=dt)
        self.g1 = np.zeros((self.Nh, self.Nin), dtype=dt)
        self.g2 = np.zeros((self.No, self.Nh), dtype=dt)
        self.gch = np.zeros((T - 1, self.Nh), dtype=dt)
        self.ys, self.ym = self.out.sd, self.out.A  # van Rossum filters (free until the backward pass)
        self.lam_s_h = np.zeros((B, self.Nh), dtype=dt)
        self.lam_s_o = np.zeros((B, self.No), dtype=dt)
        self.lam_m_o = np.zeros((B, self.No), dtype=dt)
        self.pfhv, self.gshv, self.gpfhv = list(self.pfh), list(self.gsh), list(self.gpfh)
        self.ysv, self.ymv, self.gsov = list(self.ys), list(self.ym), list(self.gso)
        self.configure(cfg)
        for n in range(T - 1):  # Pf[n+1] = lambda_s Pf[n] + x[n]
            np.multiply(self.pfx[n], self.f(self.lam_s), out=self.pfx[n + 1])
            self.pfx[n + 1] += self.x[n]
        self.active = 0.0

    def configure(self, cfg: TrainConfig) -> None:
        """Take new settings that change neither array sizes nor the time constants."""
        self.cfg = cfg
        lif = cfg.lif
        self.lam_m, self.lam_s = lif.lam_mem, lif.lam_syn
        self.k_m = 1.0 - self.lam_m
        for arr, val in ((self.hid.lam, self.lam_m), (self.out.lam, self.lam_m), (self.lam_s_h, self.lam_s),
                         (self.lam_s_o, self.lam_s), (self.lam_m_o, self.lam_m)):
            arr.fill(val)

    def arrays(self) -> list[np.ndarray]:
        return [self.x, self.pfx, self.target, self.ch_shared, self.pfh, self.gpfh, self.gsh, self.gso, self.g1,
                self.g2, self.gch, self.lam_s_h, self.lam_s_o, self.lam_m_o, *self.hid.arrays(),
                *self.out.arrays()]

    # -- forward ------------------------------------------------------------------------------
    def _thresholds(self, layer: _Layer, beta: float, uniform: np.ndarray | None, rng: np.random.Generator) -> None:
        """Stochastic network: theta + F^{-1}(r) / s (:func:`sgcore.lif.escape_threshold_inplace`, sigmoid
        family), so that U > threshold iff r < sigma(beta (U - theta)); deterministic: theta."""
        th, tmp = layer.theta, layer.tmp
        if self.cfg.network == "deterministic":
            th.fill(1.0)
            return
        if uniform is None:
            rng.random(out=th, dtype=th.dtype)
        else:
            np.copyto(th, uniform)
        escape_threshold_inplace(th, tmp, beta, 1.0, "sigmoid")

    def _membrane(self, layer: _Layer, c_views: list[np.ndarray]) -> None:
        """The LIF recurrence, four in-place ufuncs per step; K = keep = (U <= threshold), S = 1 - K."""
        U, K, th, lam = layer.Uv, layer.Kv, layer.thv, layer.lam
        le, mul, add = np.less_equal, np.multiply, np.add
        if self.cfg.reset == "same":  # U[n+1] = lambda_m U[n] keep[n] + c[n]
            for n in range(self.T - 1):
                u, k, un = U[n], K[n], U[n + 1]
                le(u, th[n], out=k)
                mul(u, k, out=un)
                mul(un, lam, out=un)
                add(un, c_views[n], out=un)
        else:  # U[n+1] = (lambda_m U[n] + c[n]) keep[n]
            for n in range(self.T - 1):
                u, k, un = U[n], K[n], U[n + 1]
                le(u, th[n], out=k)
                mul(u, lam, out=un)
                add(un, c_views[n], out=un)
                mul(un, k, out=un)
        le(U[-1], th[-1], out=K[-1])
        np.copyto(layer.S, layer.K)
        np.subtract(self.f(1.0), layer.S, out=layer.S)

    def forward(self, w1: np.ndarray, w2: np.ndarray, noise: _Noise | None, rng: np.random.Generator) -> None:
        cfg, T, B = self.cfg, self.T, self.B
        noise = noise or _Noise()
        # hidden layer: one small matmul, currents shared by all trials
        _mm(self.ch_shared, self.pfx, w1.T, self.k_m)
        self._thresholds(self.hid, cfg.beta_hid, noise.uniform_hid, rng)
        self._membrane(self.hid, self.chv)
        # output layer: filter the hidden spikes, then one matmul for all steps and trials
        P, S, lam_s = self.pfhv, self.hid.Sv, self.lam_s_h
        for n in range(T - 1):
            np.multiply(P[n], lam_s, out=P[n + 1])
            np.add(P[n + 1], S[n], out=P[n + 1])
        _mm(self.out.c.reshape(T * B, self.No), self.pfh.reshape(T * B, self.Nh), w2.T, self.k_m)
        self._thresholds(self.out, cfg.beta_out, noise.uniform_out, rng)
        self._membrane(self.out, self.out.cv)

    # -- metrics ------------------------------------------------------------------------------
    def loss_grad(self) -> tuple[float, float]:
        """L2 (wrong bins per trial) and van Rossum distance; leaves S - S^ in ``self.gso``.

        dL2/dS = (2 / B) (S - S^); the factor 2 / B is applied in the output layer's matmuls (``backward``).
        """
        T, B, cfg = self.T, self.B, self.cfg
        g = self.gso
        np.subtract(self.out.S, self.target, out=g)  # S - S^ in {-1, 0, 1}
        l2 = round(float(np.vdot(g, g))) / B  # an exact count (integers < 2^24)
        if abs(cfg.tau_syn - cfg.tau_mem) > 1e-3 * min(cfg.tau_syn, cfg.tau_mem):
            # alpha * d = (y_s - y_m) / (1 - tau_m / tau_s) for d = S - S^, y_x[n] = lambda_x y_x[n-1] + d[n]
            Ys, Ym, ls, lm, G = self.ysv, self.ymv, self.lam_s_o, self.lam_m_o, self.gsov
            mul, add = np.multiply, np.add
            np.copyto(Ys[0], G[0])
            np.copyto(Ym[0], G[0])
            for n in range(1, T):
                mul(Ys[n - 1], ls, out=Ys[n])
                add(Ys[n], G[n], out=Ys[n])
                mul(Ym[n - 1], lm, out=Ym[n])
                add(Ym[n], G[n], out=Ym[n])
            np.subtract(self.ys, self.ym, out=self.ys)
            scale = 1.0 / (1.0 - cfg.tau_mem / cfg.tau_syn)
            vr = 0.5 * cfg.dt * scale * scale * float(np.vdot(self.ys, self.ys)) / B
        else:  # (nearly) equal time constants: Toeplitz matrix of the exact kernel
            kern = alpha_kernel(T, cfg.lif)
            toe = np.tril(kern[np.subtract.outer(np.arange(T), np.arange(T)).clip(0)]).astype(self.dtype)
            filt = toe @ g.reshape(T, -1)
            vr = 0.5 * cfg.dt * float(np.vdot(filt, filt)) / B
        return float(l2), vr

    def fano(self) -> tuple[float, float]:
        """Mean Fano factor of the hidden and output layers over this pass's trials (see :func:`fano_factor`)."""
        w, B = self.cfg.fano_window, self.B
        if w > 1:
            return (fano_factor(self.hid.S.transpose(1, 0, 2), w), fano_factor(self.out.S.transpose(1, 0, 2), w))
        res = []
        for layer in (self.hid, self.out):
            counts = layer.S.sum(axis=1)  # spikes over trials per (step, neuron)
            live = np.count_nonzero(counts)
            # binary bins: var / mean = 1 - mean; mean over the bins with a spike
            res.append(float(1.0 - counts.sum(dtype=np.float64) / (B * live)) if live else math.nan)
        return res[0], res[1]

    # -- backward -----------------------------------------------------------------------------
    def _sd(self, layer: _Layer, beta_layer: float, z: np.ndarray | None, rng: np.random.Generator) -> int:
        """layer.sd = the backward method's dS/dU at U - theta; returns its number of non-zero entries.

        Scratch: layer.tmp and layer.A.
        """
        cfg = self.cfg
        np.subtract(layer.U, self.f(1.0), out=layer.sd)
        beta = beta_layer if (cfg.match_escape and cfg.network == "stochastic") else cfg.beta_sg
        BACKWARDS[cfg.backward].estimate(layer.sd, cfg, beta=beta, z=z, rng=rng, scratch=(layer.tmp, layer.A))
        return _count_nonzero(layer.sd)  # every estimate here is >= 0 with zeros +0.0

    def _adjoint(self, layer: _Layer, gS: np.ndarray, c: np.ndarray) -> None:
        """gU[n] = gS[n] SD[n] + A[n] gU[n+1] (reverse loop); then gU[1:] (x keep[:-1] for 'next') = dL/dc.

        A = lambda_m (1 - S) with a detached reset; back-propagating through it adds - lambda_m U SD ('same')
        or - (lambda_m U + c) SD ('next').
        """
        cfg, T, f = self.cfg, self.T, self.f
        sd, A, gU = layer.sd, layer.A, layer.gU
        np.multiply(gS, sd, out=gU)
        lam = self.lam_m
        np.multiply(layer.K, f(lam), out=A)  # lambda_m (1 - S)
        if cfg.backprop_reset:
            tmp = layer.tmp
            if cfg.reset == "same":
                np.multiply(layer.U, sd, out=tmp)
                tmp *= f(lam)
            else:
                np.multiply(layer.U, f(lam), out=tmp)
                tmp += c
                tmp *= sd
            A -= tmp
        Av, gv, row = layer.Av, layer.gUv, layer.row
        mul, add = np.multiply, np.add
        for n in range(T - 2, -1, -1):
            mul(Av[n], gv[n + 1], out=row)
            add(gv[n], row, out=gv[n])
        if cfg.reset == "next":
            np.multiply(gU[1:], layer.K[:-1], out=gU[1:])

    def backward(self, w2: np.ndarray, noise: _Noise | None, rng: np.random.Generator) -> None:
        """Explicit backward pass of the trained L2 loss: weight gradients in g1, g2; active fraction."""
        cfg, T, B = self.cfg, self.T, self.B
        noise = noise or _Noise()
        hid, out = self.hid, self.out
        active = self._sd(out, cfg.beta_out, noise.z_out, rng)
        self._adjoint(out, self.gso, out.c)
        # out.gU[1:] is dL/dc_out[n] (n = 0..T-2) up to the factor 2 / B of dL/dS_out (see loss_grad)
        gco = out.gU[1:].reshape((T - 1) * B, self.No)
        k = self.k_m * 2.0 / B
        _mm(self.g2, gco.T, self.pfh[:-1].reshape((T - 1) * B, self.Nh), k)
        # hidden spikes: dL/dPf_h = (1 - lambda_m) gc @ W2, then the reverse synaptic filter
        _mm(self.gpfh[:-1].reshape((T - 1) * B, self.Nh), gco, w2, k)
        G, Gp, lam_s = self.gshv, self.gpfhv, self.lam_s_h
        self.gsh[T - 1].fill(0.0)
        for k in range(T - 2, -1, -1):
            np.multiply(G[k + 1], lam_s, out=G[k])
            np.add(G[k], Gp[k + 1], out=G[k])
        active += self._sd(hid, cfg.beta_hid, noise.z_hid, rng)
        self._adjoint(hid, self.gsh, self.ch_shared[:, None, :])
        if B == 1:
            gch = hid.gU[1:, 0]
        else:
            np.sum(hid.gU[1:], axis=1, out=self.gch)
            gch = self.gch
        _mm(self.g1, gch.T, self.pfx[:-1], self.k_m)
        self.active = active / float(T * B * (self.Nh + self.No))


# ---------------------------------------------------------------------------------------------
# functional entry point (tests, inspection)
# ---------------------------------------------------------------------------------------------
def forward_backward(cfg: TrainConfig, w1: np.ndarray, w2: np.ndarray, x: np.ndarray, target: np.ndarray, *,
                     uniforms: tuple[np.ndarray, np.ndarray] | None = None,
                     z: tuple[np.ndarray, np.ndarray] | None = None, dtype: Any = np.float64,
                     seed: int = 0) -> dict[str, Any]:
    """One forward and explicit backward pass; returns loss, gradients and the recorded state.

    ``w1`` (n_hidden, n_in), ``w2`` (n_out, n_hidden), ``x`` (n_steps, n_in), ``target`` (n_out, n_steps).
    ``uniforms`` = (r_hid, r_out) of shape (T, B, N): the escape noise spikes iff r < sigma(beta (U - theta)).
    ``z`` = (|z|_hid, |z|_out) of shape (m, T, B, N) for LocalZO. Returns ``l2``, ``van_rossum``, ``grad_w1``,
    ``grad_w2`` (of the trained L2 loss), ``active_fraction`` and (T, B, N) arrays ``U_hid``, ``S_hid``,
    ``U_out``, ``S_out``, ``sd_hid``, ``sd_out``.
    """
    eng = _Engine(cfg, np.asarray(x), np.asarray(target), dtype)
    noise = _Noise(*(uniforms or (None, None)), *(z or (None, None)))
    rng = np.random.default_rng(seed)
    w1 = np.ascontiguousarray(w1, dtype=eng.dtype)
    w2 = np.ascontiguousarray(w2, dtype=eng.dtype)
    eng.forward(w1, w2, noise, rng)
    rec = {"U_hid": eng.hid.U.copy(), "S_hid": eng.hid.S.copy(), "U_out": eng.out.U.copy(),
           "S_out": eng.out.S.copy()}
    l2, vr = eng.loss_grad()
    eng.backward(w2, noise, rng)
    rec.update(l2=l2, van_rossum=vr, grad_w1=eng.g1.copy(), grad_w2=eng.g2.copy(),
               active_fraction=eng.active, sd_hid=eng.hid.sd.copy(), sd_out=eng.out.sd.copy())
    return rec


# ---------------------------------------------------------------------------------------------
# trainer
# ---------------------------------------------------------------------------------------------
_HISTORY_KEYS = ("epoch", "l2", "van_rossum", "fano_hidden", "fano_output", "active_fraction", "seconds")


@dataclass
class History:
    """Per-epoch records (parallel lists), measured on the forward pass *before* that epoch's update.

    ``epoch[k]`` is the epoch number (0-based) of record k, ``seconds[k]`` the cumulative training wall time
    after it, ``fano_*`` NaN for the deterministic network. At most ``cap`` records are kept: when full, every
    other record is dropped (the newest is always kept) and from then on only every ``stride``-th epoch is
    recorded, so the lists always span the whole run at a resolution of ``stride`` epochs.
    """

    cap: int = HISTORY_CAP
    stride: int = 1
    epoch: list[int] = field(default_factory=list)
    l2: list[float] = field(default_factory=list)
    van_rossum: list[float] = field(default_factory=list)
    fano_hidden: list[float] = field(default_factory=list)
    fano_output: list[float] = field(default_factory=list)
    active_fraction: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def __getitem__(self, key: str) -> list:
        if key not in _HISTORY_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __len__(self) -> int:
        return len(self.epoch)

    def wants(self, epoch: int) -> bool:
        return not self.epoch or epoch - self.epoch[-1] >= self.stride

    def append(self, **row: Any) -> None:
        for key in _HISTORY_KEYS:
            getattr(self, key).append(row[key])
        if len(self.epoch) > self.cap:
            start = (len(self.epoch) - 1) % 2  # keep the newest
            for key in _HISTORY_KEYS:
                lst = getattr(self, key)
                lst[:] = lst[start::2]
            self.stride *= 2

    def as_dict(self) -> dict[str, list]:
        return {key: list(getattr(self, key)) for key in _HISTORY_KEYS}


@dataclass(frozen=True)
class LastPass:
    """The latest forward pass: rasters (neurons, steps) of 0/1 (uint8; trial 0 of a stochastic network)."""

    epoch: int
    output: np.ndarray
    hidden: np.ndarray
    l2: float
    van_rossum: float


_FIXED = ("network", "n_in", "n_hidden", "n_out", "n_steps", "input_rate", "seed")


class Trainer:
    """Trains one network on one target; see the module docstring for the model.

    Parameters
    ----------
    cfg : TrainConfig
    target : np.ndarray
        (n_out, n_steps) raster of 0/1.
    input : np.ndarray, optional
        (n_steps, n_in) frozen input of 0/1 (as returned by :func:`poisson_input`); default:
        ``poisson_input(n_in, n_steps, input_rate, dt, seed)``.
    history_cap : int
        Records kept per history list (see :class:`History`).

    Weights start at W ~ N(0, sigma_w^2) with :func:`fluctuation_sigma` (sigma_U = 1, nu = input_rate for both
    layers). An epoch is forward + backward + update on float32 buffers.
    """

    def __init__(self, cfg: TrainConfig, target: np.ndarray, input: np.ndarray | None = None,
                 history_cap: int = HISTORY_CAP) -> None:
        if not isinstance(cfg, TrainConfig):
            raise TypeError("cfg must be a TrainConfig")
        self.cfg = cfg
        tgt = np.asarray(target)
        if tgt.shape != (cfg.n_out, cfg.n_steps):
            raise ValueError(f"target must have shape (n_out, n_steps) = {(cfg.n_out, cfg.n_steps)}; got {tgt.shape}")
        if not np.all((tgt == 0) | (tgt == 1)):
            raise ValueError("target must contain only 0 and 1")
        self.target = tgt.astype(np.float32)
        if input is None:
            x = poisson_input(cfg.n_in, cfg.n_steps, cfg.input_rate, cfg.dt, cfg.seed)
        else:
            x = np.asarray(input)
            if x.shape != (cfg.n_steps, cfg.n_in):
                raise ValueError(f"input must have shape (n_steps, n_in) = {(cfg.n_steps, cfg.n_in)}; got {x.shape}")
            if not np.all((x == 0) | (x == 1)):
                raise ValueError("input must contain only 0 and 1")
        self.input = x.astype(np.float32)
        wrng = np.random.default_rng([cfg.seed, 1])
        nu = cfg.input_rate
        self.w1 = (wrng.standard_normal((cfg.n_hidden, cfg.n_in)) * fluctuation_sigma(cfg.n_in, cfg.lif, nu)).astype(
            np.float32)
        self.w2 = (wrng.standard_normal((cfg.n_out, cfg.n_hidden)) * fluctuation_sigma(cfg.n_hidden, cfg.lif, nu)
                   ).astype(np.float32)
        self.rng = np.random.default_rng([cfg.seed, 2])
        self.epoch = 0
        self.history = History(cap=int(history_cap))
        self._elapsed = 0.0
        self._adam: dict[str, Any] | None = None
        self._engine = _Engine(cfg, self.input, self.target, np.float32)
        self._last: tuple[int, float, float] | None = None

    # -- control ----------------------------------------------------------------------------
    def set(self, **changes: Any) -> None:
        """Change settings mid-run (weights kept): SD shape/steepness/scaling, learning rates, escape noise,
        backward method and its parameters, optimizer (its state is reset when it changes), reset handling,
        trials, time constants, Fano window. Validated like the config; sizes, input and seed are fixed."""
        bad = sorted(set(changes) & set(_FIXED))
        if bad:
            raise ValueError(f"cannot change {', '.join(bad)} during a run (start a new Trainer)")
        unknown = sorted(set(changes) - {s.name for s in TRAIN_PARAMS})
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}")
        new = replace(self.cfg, **changes)
        if new.optimizer != self.cfg.optimizer:
            self._adam = None
        rebuild = ("trials", "dt", "tau_mem", "tau_syn")
        if any(getattr(new, k) != getattr(self.cfg, k) for k in rebuild):
            self._engine = _Engine(new, self.input, self.target, np.float32)
            self._last = None
        else:
            self._engine.configure(new)
        self.cfg = new

    def step(self, n_epochs: int = 1) -> None:
        """Run ``n_epochs`` epochs (forward, backward, update)."""
        n_epochs = int(n_epochs)
        if n_epochs < 0:
            raise ValueError(f"n_epochs must be >= 0; got {n_epochs}")
        eng = self._engine
        for _ in range(n_epochs):
            with np.errstate(all="ignore"):  # a diverging run shows up as NaN/inf in the history, not as warnings
                self._epoch(eng)

    def _epoch(self, eng: _Engine) -> None:
        t0 = time.perf_counter()
        eng.forward(self.w1, self.w2, None, self.rng)
        l2, vr = eng.loss_grad()
        fh, fo = eng.fano() if self.cfg.network == "stochastic" else (math.nan, math.nan)
        eng.backward(self.w2, None, self.rng)
        self._update(eng.g1, eng.g2)
        self._elapsed += time.perf_counter() - t0
        self._last = (self.epoch, l2, vr)
        if self.history.wants(self.epoch):
            self.history.append(epoch=self.epoch, l2=l2, van_rossum=vr, fano_hidden=fh, fano_output=fo,
                                active_fraction=eng.active, seconds=self._elapsed)
        self.epoch += 1

    def _update(self, g1: np.ndarray, g2: np.ndarray) -> None:
        cfg = self.cfg
        lr2, lr1 = cfg.lr, cfg.lr * cfg.hidden_lr_factor
        if cfg.optimizer == "gd":
            self.w1 -= np.float32(lr1) * g1
            self.w2 -= np.float32(lr2) * g2
            return
        if self._adam is None:
            self._adam = {"t": 0, "m": [np.zeros_like(self.w1), np.zeros_like(self.w2)],
                          "v": [np.zeros_like(self.w1), np.zeros_like(self.w2)]}
        st = self._adam
        st["t"] += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        c1, c2 = 1.0 - b1 ** st["t"], 1.0 - b2 ** st["t"]
        for w, g, m, v, lr in ((self.w1, g1, st["m"][0], st["v"][0], lr1), (self.w2, g2, st["m"][1], st["v"][1], lr2)):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            w -= np.float32(lr / c1) * m / (np.sqrt(v / c2) + eps)

    # -- inspection ---------------------------------------------------------------------------
    @property
    def last(self) -> LastPass | None:
        """The latest forward pass (None before the first epoch)."""
        if self._last is None:
            return None
        ep, l2, vr = self._last
        eng = self._engine
        return LastPass(ep, eng.out.S[:, 0, :].T.astype(np.uint8), eng.hid.S[:, 0, :].T.astype(np.uint8), l2, vr)

    def trial_raster(self, layer: str, neuron: int) -> np.ndarray:
        """(trials, n_steps) uint8 raster of one neuron over the trials of the latest pass (1 trial if
        deterministic). ``layer``: "hidden" or "output"."""
        if self._last is None:
            raise ValueError("no forward pass yet: call step() first")
        lay = {"hidden": self._engine.hid, "output": self._engine.out}.get(layer)
        if lay is None:
            raise ValueError(f"layer must be 'hidden' or 'output'; got {layer!r}")
        if not 0 <= int(neuron) < lay.N:
            raise ValueError(f"neuron must be an integer in [0, {lay.N - 1}]; got {neuron!r}")
        return lay.S[:, :, int(neuron)].T.astype(np.uint8)

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(W1 (n_hidden, n_in), W2 (n_out, n_hidden)), copies."""
        return self.w1.copy(), self.w2.copy()

    def state_bytes(self) -> int:
        """Approximate memory held: simulation buffers, weights, optimizer state, input/target, history."""
        total = sum(a.nbytes for a in self._engine.arrays())
        total += self.w1.nbytes + self.w2.nbytes + self.input.nbytes + self.target.nbytes
        if self._adam is not None:
            total += 2 * (self.w1.nbytes + self.w2.nbytes)
        return int(total + 8 * len(_HISTORY_KEYS) * (self.history.cap + 1))

    @staticmethod
    def estimate_bytes(cfg: TrainConfig, history_cap: int = HISTORY_CAP) -> int:
        """Upper estimate of :meth:`state_bytes` plus the largest temporaries of an epoch, before building
        (for a server's memory cap). float32 buffers: 7 (T, B, N) arrays and one boolean per layer, 4 more
        (T, B, N) arrays, the input, target, weights and gradients (and Adam's moments)."""
        T, B, nin, nh, no = cfg.n_steps, cfg.batch, cfg.n_in, cfg.n_hidden, cfg.n_out
        total = (T * B * (nh + no) * (7 * 4 + 1) + 2 * B * (nh + no) * 4  # layers
                 + 4 * (2 * T * nin + T * no + T * nh + 3 * T * B * nh + T * B * no + 2 * B * nh + 2 * B * no)
                 + 4 * ((T - 1) * nh + 6 * (nh * nin + no * nh)))  # gradients, weights, Adam
        temporaries = T * B * max(nh, no) * BACKWARDS[cfg.backward].temporaries  # z samples and masks
        return int(total + temporaries + 8 * len(_HISTORY_KEYS) * (history_cap + 1))


def train(cfg: TrainConfig, target: np.ndarray | None = None, epochs: int = 50) -> dict[str, Any]:
    """Train for ``epochs`` epochs (CLI). ``target=None``: :func:`default_target` (25% density).

    Returns per-epoch lists ``l2``, ``van_rossum``, ``active_fraction`` (and ``fano_hidden``, ``fano_output``
    for the stochastic network), and ``epochs_per_second`` (training time only).
    """
    epochs = int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1; got {epochs}")
    if target is None:
        target = default_target(cfg.n_out, cfg.n_steps)
    tr = Trainer(cfg, target, history_cap=epochs + 1)
    tr.step(epochs)
    h = tr.history
    out: dict[str, Any] = {"l2": list(h.l2), "van_rossum": list(h.van_rossum),
                           "active_fraction": list(h.active_fraction)}
    if cfg.network == "stochastic":
        out["fano_hidden"] = list(h.fano_hidden)
        out["fano_output"] = list(h.fano_output)
    out["epochs_per_second"] = epochs / h.seconds[-1] if h.seconds[-1] > 0 else math.inf
    return out
