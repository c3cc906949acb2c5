"""One current-based LIF neuron step: the single definition of the spike rule, the resets and escape noise.

Gygax & Zenke 2024, Methods 8.1 (Eqs. 21-22), 8.4.1 and Eq. 25, discrete time::

    S[n]   = H(U[n] - theta)                                   deterministic (Eq. 15), H(0) = 0
    S[n]   = H(U[n] - theta - F^{-1}(r[n]) / s)  r ~ U[0, 1)    escape noise (Eqs. 16-17, 25)
    U[n+1] = lambda_m U[n] (1 - S[n]) + (1 - lambda_m) I[n]     reset "same" (Methods 8.4.1)
    U[n+1] = (lambda_m U[n] + (1 - lambda_m) I[n]) (1 - S[n])   reset "next" (Eq. 21)
    I[n+1] = lambda_s I[n] + x[n]                                (Eq. 22; x = W S_in, the weighted input)

``F`` is the CDF of the escape family's registry shape and ``s`` its sharpness at steepness beta, so the
neuron fires with probability ``P(r < F(s (U - theta))) = F(s (U - theta))`` (the noisy threshold of Eq. 25).

Convention at threshold: a spike needs ``U > theta`` (the deterministic H(0) = 0). It is the escape-noise
neuron at its median noise ``r = 1/2`` (``F^{-1}(1/2) = 0`` for an even shape) with the strict comparison
``r < F`` that makes ``P(spike) = F`` exact for ``r`` in ``[0, 1)``; averaged over the noise, a neuron exactly at
threshold fires with probability ``F(0) = 1/2``, the registry's :data:`sgcore.shapes.H0`. With real-valued
weights a membrane exactly at threshold has probability zero, so the choice matters only for hand-made
inputs; it is pinned in ``tests/test_lif.py``. :func:`sgcore.snn.lif_trace`, the trainer's engine (tested equal to a
loop over :func:`lif_step`) and the design simulation all spike through :func:`spike`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .escape import ESCAPE_FAMILIES
from .params import DeclaredConfig, ParamSpec, declared, finite
from .shapes import SurrogateShape, get_shape

__all__ = [
    "LIF_PARAMS",
    "LIFParams",
    "LIFState",
    "SPIKE_AT_THRESHOLD",
    "escape_log_probability",
    "escape_probability",
    "escape_shape",
    "escape_threshold",
    "escape_threshold_inplace",
    "lif_step",
    "spike",
]

#: The deterministic spike at exactly threshold: H(0) = 0 (a spike needs U > theta).
SPIKE_AT_THRESHOLD = 0.0

#: The LIF neuron's declared parameters, the fields of :class:`LIFParams` (Gygax & Zenke Methods 8.1, Eqs. 21-22).
LIF_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("dt", "Time step", 1.0, symbol=r"\Delta t", domain=(0.0, 100.0), open_low=True, slider=(0.1, 5.0),
              step=0.1, unit="ms", help="Simulation time step."),
    ParamSpec("tau_mem", "Membrane time constant", 10.0, symbol=r"\tau_{mem}", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 100.0), step=0.5, unit="ms", help="lambda_m = exp(-dt / tau_mem)."),
    ParamSpec("tau_syn", "Synaptic time constant", 5.0, symbol=r"\tau_{syn}", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 50.0), step=0.5, unit="ms", help="lambda_s = exp(-dt / tau_syn)."),
    ParamSpec("theta", "Threshold", 1.0, symbol=r"\theta", domain=(0.0, 1e3), open_low=True, slider=(0.1, 5.0),
              step=0.1, help="Firing threshold (resting potential 0)."),
    ParamSpec("reset", "Reset", "same", kind="choice", choices=("same", "next"),
              help="same: U[n+1] = lambda_m U[n] (1 - S[n]) + (1 - lambda_m) I[n] (the paper's spike-train task); "
                   "next: U[n+1] = (lambda_m U[n] + (1 - lambda_m) I[n]) (1 - S[n]) (Eq. 21)."),
    ParamSpec("detach_reset", "Detach reset", True, kind="bool",
              help="Do not back-propagate through the reset factor (1 - S[n])."),
)


@declared
class LIFParams(DeclaredConfig):
    """Neuron parameters (times in ms), the fields of :data:`LIF_PARAMS` in order. ``detach_reset``: no
    back-propagation through ``(1 - S)``."""

    PARAMS = LIF_PARAMS

    @property
    def lam_mem(self) -> float:
        return math.exp(-self.dt / self.tau_mem)

    @property
    def lam_syn(self) -> float:
        return math.exp(-self.dt / self.tau_syn)


@dataclass(frozen=True)
class LIFState:
    """Membrane ``u`` and synaptic current ``i`` at step n (scalars or arrays of one shape and dtype)."""

    u: Any = 0.0
    i: Any = 0.0


# ---------------------------------------------------------------------------------------------
# the spike rule and escape noise (one definition)
# ---------------------------------------------------------------------------------------------
def spike(u: Any, threshold: Any = 1.0) -> np.ndarray:
    """Deterministic spike H(u - threshold) with H(0) = 0 (:data:`SPIKE_AT_THRESHOLD`), in u's float dtype.

    Notes
    -----
    Gygax & Zenke Eq. 15. ``threshold`` may be an array (the noisy threshold of :func:`escape_threshold`).
    """
    u = np.asarray(u)
    dtype = u.dtype if u.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return np.greater(u, threshold).astype(dtype)


def escape_shape(family: str = "sigmoid") -> SurrogateShape:
    """The registry shape whose CDF is the firing probability of escape family ``family``."""
    return get_shape(ESCAPE_FAMILIES.lookup(family).shape)


def escape_probability(v: Any, beta: float, family: str = "sigmoid", spiked: bool = True) -> np.ndarray:
    """P(S = 1) = F(s v) at v = u - theta (``spiked``), or P(S = 0) = 1 - F(s v) without cancellation.

    ``s`` is the family shape's sharpness at steepness ``beta`` (for the sigmoid s = beta / 4 and F(x) =
    sigma(4 x), so F(s v) = sigma(beta v) bit for bit). Notes: Gygax & Zenke Eqs. 7, 16-17.
    """
    shp = escape_shape(family)
    x = shp.sharpness(beta) * np.asarray(v, dtype=np.float64)
    return shp.cdf(x) if spiked else shp.sf(x)


def escape_log_probability(v: Any, beta: float, family: str = "sigmoid", spiked: bool = True) -> np.ndarray:
    """log P(S = 1) = log F(s v) (``spiked``) or log P(S = 0) = log(1 - F(s v)), exact in the tails (the
    escape-noise spike of Gygax & Zenke Eqs. 16-17, 23-24)."""
    shp = escape_shape(family)
    x = shp.sharpness(beta) * np.asarray(v, dtype=np.float64)
    return shp.logcdf(x) if spiked else shp.logsf(x)


def escape_threshold_inplace(r: np.ndarray, tmp: np.ndarray, beta: float, theta: float,
                             family: str = "sigmoid") -> None:
    """Overwrite uniforms ``r`` in [0, 1) with the noisy threshold theta + F^{-1}(r) / s (Eq. 25), in r's dtype.

    ``U > threshold`` iff ``r < F(s (U - theta))``: a spike with the escape probability. ``tmp``: scratch.
    """
    shp = escape_shape(family)
    f = r.dtype.type
    inv_s, theta = f(1.0 / shp.sharpness(beta)), f(finite("theta", theta))  # checked before r is overwritten
    shp.ppf_inplace(r, tmp)
    r *= inv_s
    r += theta


def escape_threshold(r: Any, beta: float, theta: float = 1.0, family: str = "sigmoid") -> np.ndarray:
    """Noisy threshold theta + F^{-1}(r) / s for uniforms ``r`` in [0, 1) (Gygax & Zenke Eq. 25; a copy, see the
    in-place version)."""
    out = np.array(r, dtype=np.result_type(np.asarray(r).dtype, np.float32), copy=True)
    escape_threshold_inplace(out, np.empty_like(out), beta, theta, family)
    return out


# ---------------------------------------------------------------------------------------------
# the step
# ---------------------------------------------------------------------------------------------
def lif_step(state: LIFState, input: Any, p: LIFParams, threshold: Any = None) -> tuple[np.ndarray, LIFState]:
    """Advance one current-based LIF neuron (or an array of them) by one step: ``(S[n], state at n + 1)``.

    Parameters
    ----------
    state : LIFState
        ``u`` = U[n], ``i`` = I[n].
    input : float or array
        The weighted input x[n] = (W S_in)[n] that enters the synaptic current (Eq. 22).
    p : LIFParams
        Time constants, ``theta`` and ``reset`` ("same" or "next").
    threshold : float or array, optional
        Per-neuron threshold for this step; default ``p.theta`` (deterministic). Escape noise: pass
        :func:`escape_threshold` of fresh uniforms.

    Notes
    -----
    Gygax & Zenke Methods 8.1, Eqs. 21-22 and 8.4.1; the spike rule is :func:`spike` (H(0) = 0).
    """
    lm, ls = p.lam_mem, p.lam_syn
    u, i = state.u, state.i
    s = spike(u, p.theta if threshold is None else threshold)
    keep = 1.0 - s
    if p.reset == "same":
        u_next = lm * u * keep + (1.0 - lm) * i
    elif p.reset == "next":
        u_next = (lm * u + (1.0 - lm) * i) * keep
    else:
        raise ValueError(f"reset must be 'same' or 'next'; got {p.reset!r}")
    return s, LIFState(u_next, ls * i + input)
