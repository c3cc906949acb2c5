"""The fast engine: one configuration's (T, B, N) float buffers, the in-place forward pass (tested equal to a
loop over :func:`sgcore.lif.lif_step`), the losses and the explicit backward pass; :func:`forward_backward`.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lif import escape_threshold_inplace
from .backward import BACKWARDS
from .config import TrainConfig
from .metrics import fano_factor

__all__ = ["forward_backward"]


@dataclass(frozen=True)
class _Noise:
    """Externally fixed randomness (tests): uniforms r (T, B, N) per layer and |z| (m, T, B, N) per layer."""

    uniform_hid: np.ndarray | None = None
    uniform_out: np.ndarray | None = None
    z_hid: np.ndarray | None = None
    z_out: np.ndarray | None = None


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
        # alpha * d as a cascade of the two filters, not the difference (y_s - y_m) / (1 - tau_m / tau_s):
        # y_s - y_m = (lambda_s - lambda_m) w with w[n] = lambda_m w[n-1] + y_s[n-1], and
        # (lambda_s - lambda_m) / (1 - tau_m / tau_s) = exp(-dt/tau_s) (dt/tau_m) (1 - e^-x) / x in float64;
        # the difference cancelled in float32 when the taus are close (7e-5 relative at 5 / 5.02 ms)
        Ys, W, ls, lm, G = self.ysv, self.ymv, self.lam_s_o, self.lam_m_o, self.gsov
        mul, add = np.multiply, np.add
        np.copyto(Ys[0], G[0])
        W[0].fill(0.0)
        for n in range(1, T):
            mul(W[n - 1], lm, out=W[n])
            add(W[n], Ys[n - 1], out=W[n])
            mul(Ys[n - 1], ls, out=Ys[n])
            add(Ys[n], G[n], out=Ys[n])
        coef = _alpha_step_coefficient(cfg.dt, cfg.tau_mem, cfg.tau_syn)
        vr = 0.5 * cfg.dt * coef * coef * float(np.vdot(self.ym, self.ym)) / B
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


def _alpha_step_coefficient(dt: float, tau_mem: float, tau_syn: float) -> float:
    """(lambda_s - lambda_m) / (1 - tau_m / tau_s), without cancellation: alpha(k dt) = this x h_k.

    h_k = sum_{i<k} lambda_s^i lambda_m^(k-1-i) is the two-filter cascade; finite at tau_s = tau_m.
    """
    x = dt * (tau_syn - tau_mem) / (tau_syn * tau_mem)
    ratio = 1.0 if x == 0.0 else -math.expm1(-x) / x
    return math.exp(-dt / tau_syn) * (dt / tau_mem) * ratio


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
