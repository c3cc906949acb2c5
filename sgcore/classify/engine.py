"""The fast engine of the classification page: a dense (optionally recurrent) LIF network with a
non-spiking leaky readout, max-over-time (or sum / mean over time) cross-entropy, the upper-bound activity
regulariser, and an explicit backward pass (Gygax & Zenke 2024, Sec. 5-6, Methods 8.1-8.2, 8.4.2,
Tables 2-3).

Equations (discrete time, ``n = 0..T-1``, ``U[0] = I[0] = 0``; hidden layer ``l`` with input ``S^{l-1}``,
``S^0`` = the input spike counts)::

    I[n+1] = lambda_s I[n] + W_l S^{l-1}[n] (+ V_l S^l[n] when recurrent)             (Eq. 22)
    U[n+1] = (lambda_m U[n] + (1 - lambda_m) I[n]) (1 - S[n])   reset "next"          (Eq. 21, Table 3)
    U[n+1] = lambda_m U[n] (1 - S[n]) + (1 - lambda_m) I[n]     reset "same"          (Methods 8.4.1)
    S[n]   = H(U[n] - theta)                                    deterministic (H(0) = 0)
    S[n]   = H(U[n] - theta - logit(r[n]) / beta_N)             escape noise, r ~ U[0, 1)

exactly :func:`sgcore.lif.lif_step` (tested equal to a loop over it). Convolutional layers (``layers="conv"``,
Table 3's ConvSNN, Methods 8.4.2) change only the input current: with the layer's neurons flattened channel-major
from (C_l, length_l)::

    I[n+1] = lambda_s I[n] + conv1d(S^{l-1}[n], W_l, stride_l) (+ conv1d(S^l[n], V_l, stride 1, padding 2))

(``S^0`` one channel of ``n_in`` features; ``padding = (rec_kernel - 1) / 2``); the membrane loop, escape noise,
backward estimate, adjoint recurrence and regulariser (``M^l`` = all C_l x length_l neurons) are the dense code
path's, the matmuls become conv1d (forward), conv_transpose1d (input gradient) and the convolution's weight
gradient, all through one small linear-map class. Readout (Methods 8.4.2): the same
current and membrane dynamics without spikes or reset, ``tau_mem^RO`` = the sample duration ``steps * dt``::

    I_o[n+1] = lambda_s I_o[n] + W_out S^L[n],   U_o[n+1] = lambda_RO U_o[n] + (1 - lambda_RO) I_o[n]

Loss: ``a_c = max_n U_o,c[n]`` (Eq. 29; ``loss="sum"`` / ``"mean"``: the sum / mean over time instead), softmax
and the cross-entropy averaged over the minibatch (Eq. 28). Activity regulariser (Eqs. 26-27), per hidden
layer ``l`` and sample ``k``: ``g = ([mean_i zeta_i - theta_upper]_+)^2`` with ``zeta_i`` the spike count of
neuron ``i`` over the sample. Eq. 27 as printed, ``L_upper = -lambda_upper sum g``, would *reward* activity
above the bound (gradient descent on it raises the rate without limit); a soft upper bound must be added with a
positive sign, so here ``L_upper = +lambda_upper * (1/B) sum_k sum_l g^{l,k}`` (the 1/B as in the
cross-entropy's mean over samples; ``M^l`` = the layer size, for conv layers n_features x n_channels).

Backward (no autograd): the backward estimate of dS/dU at ``U - theta`` is a :data:`sgcore.snn.backward.BACKWARDS`
record (``sg`` with any registry shape and scaling, ``sparsegrad``, ``localzo``) applied in place to all steps of
a layer at once; then the membrane adjoint ``gU[n] = SD[n] gS[n] + A[n] gU[n+1]`` with
``A = lambda_m (1 - S)`` (minus ``(lambda_m U + c) SD`` for "next", ``lambda_m U SD`` for "same" when the reset
is back-propagated, ``bp_reset``, Fig. S2C), a reverse synaptic filter, one matmul per weight matrix. Recurrent
layers add one (B, N) x (N, N) matmul per step in each direction. Float32 buffers by default (``dtype`` =
float64 for the tests), NumPy ufuncs for the per-step loops, torch (imported on first use) for the matmuls;
``torch.set_num_threads(1)`` is the caller's job.

The SD variants of Fig. S2C through the registry's scalings (``BackwardConfig``): SuperSpike (Table 2) is
``shape="superspike"`` with the ``auto`` (= peak) scaling; the "scaled sigmoid SG" ``sigma'_beta / beta =
sigma (1 - sigma)`` is ``shape="sigmoid", scale="gamma", gamma=0.25`` (the sigmoid's peak scaling is 4 times
that, unit peak); the unscaled "sigmoid SG, beta = 1" is ``shape="sigmoid", scale="density", beta_sg=1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lif import LIFParams, escape_threshold_inplace
from ..params import DeclaredConfig, declared
from ..snn.backward import BACKWARDS
from ..snn.config import TRAIN_PARAMS
from ..snn.engine import _count_nonzero, _mm
from ..snn.inputs import fluctuation_sigma

__all__ = ["LAYER_KINDS", "LOSSES", "BackwardConfig", "NetSpec", "Noise", "Workspace", "fluctuation_sds",
           "forward_backward", "init_params", "param_names", "param_shapes", "predict"]

#: Readout reductions over time: "max" (Eq. 29), "sum", "mean".
LOSSES = ("max", "sum", "mean")
#: Hidden layer kinds: "dense" weight matrices or "conv" (1-D convolutions, Table 3's ConvSNN).
LAYER_KINDS = ("dense", "conv")

_BACKWARD_FIELDS = ("backward", "shape", "scale", "beta_sg", "gamma", "q", "sparse_threshold", "localzo_dist",
                    "localzo_delta", "localzo_m", "localzo_alpha")


@declared
class BackwardConfig(DeclaredConfig):
    """The backward method and its parameters: the trainer's own declared fields (:data:`TRAIN_PARAMS`), so the
    BACKWARDS estimates read the attribute names they know. Defaults: SuperSpike, beta_SG = 10 (Table 2).
    A :class:`sgcore.snn.TrainConfig` works in its place too."""

    PARAMS = tuple(p for p in TRAIN_PARAMS if p.name in _BACKWARD_FIELDS)

    def __post_init__(self) -> None:
        if isinstance(self.localzo_alpha, int) and not isinstance(self.localzo_alpha, bool):
            object.__setattr__(self, "localzo_alpha", str(self.localzo_alpha))
        super().__post_init__()


@dataclass(frozen=True)
class NetSpec:
    """The classification network (Table 3 defaults for the neurons and the regulariser).

    ``layers``: "dense" (all-to-all weight matrices) or "conv" (Table 3's ConvSNN: 1-D convolutions, below);
    ``hidden``: sizes of the 1-3 dense hidden layers; ``recurrent``: each hidden layer has recurrent weights V_l;
    ``stochastic``: sigmoid escape noise with steepness ``beta_noise`` (Table 2: 10) in every hidden layer;
    ``bp_reset``: back-propagate through the reset factor (1 - S); ``loss``: readout reduction over time;
    ``reg``: the upper-bound activity regulariser (``theta_upper`` spikes per sample, ``lambda_upper``).

    Convolutional layers (``layers="conv"``, Methods 8.4.2, Table 3; the fields are used only then): the input is
    one channel of ``n_in`` features; hidden layer ``l`` (``l = 1..len(channels)``, 1-3 layers) has
    ``channels[l-1]`` channels of length ``length_l = floor((length_{l-1} - kernels[l-1]) / strides[l-1]) + 1``
    (``length_0 = n_in``, no feed-forward padding), its feed-forward kernel W_l is (C_l, C_{l-1}, kernels[l-1])
    with stride ``strides[l-1]``; the recurrent kernel V_l (C_l, C_l, ``rec_kernel``) has stride 1 and padding
    ``(rec_kernel - 1) / 2`` (odd ``rec_kernel``: the length is kept). Defaults: Table 3's 16-32-64 channels,
    kernels 21-7-7, strides 10-3-3, recurrent kernel 5 (padding 2). ``hidden`` is then *derived*: any value
    passed is replaced by the neuron counts ``channels_l * length_l`` (neuron index ``c * length_l + j``), so
    the LIF dynamics, the noise shapes and the regulariser (M^l = all neurons of the layer) are the dense ones.
    """

    n_in: int = 40
    hidden: tuple[int, ...] = (64,)
    n_classes: int = 10
    steps: int = 50
    dt_ms: float = 2.0
    recurrent: bool = False
    tau_mem: float = 20.0
    tau_syn: float = 10.0
    theta: float = 1.0
    reset: str = "next"
    bp_reset: bool = False
    stochastic: bool = False
    beta_noise: float = 10.0
    loss: str = "max"
    reg: bool = True
    theta_upper: float = 7.0
    lambda_upper: float = 0.01
    layers: str = "dense"
    channels: tuple[int, ...] = (16, 32, 64)
    kernels: tuple[int, ...] = (21, 7, 7)
    strides: tuple[int, ...] = (10, 3, 3)
    rec_kernel: int = 5

    def __post_init__(self) -> None:
        if self.layers not in LAYER_KINDS:
            raise ValueError(f"layers must be one of {LAYER_KINDS}; got {self.layers!r}")
        for name in ("channels", "kernels", "strides"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        object.__setattr__(self, "rec_kernel", int(self.rec_kernel))
        if self.layers == "conv":
            object.__setattr__(self, "hidden", tuple(c * n for c, n in zip(self.channels, self._conv_lengths(),
                                                                             strict=True)))
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if not 1 <= len(self.hidden) <= 3 or min(self.hidden) < 1:
            raise ValueError(f"hidden must hold 1-3 layer sizes >= 1; got {self.hidden}")
        for name in ("n_in", "n_classes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1")
        if int(self.steps) < 2:
            raise ValueError("steps must be >= 2")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}; got {self.loss!r}")
        if self.reset not in ("same", "next"):
            raise ValueError(f"reset must be 'same' or 'next'; got {self.reset!r}")
        for name in ("dt_ms", "tau_mem", "tau_syn", "theta", "beta_noise"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0; got {v}")
        for name in ("theta_upper", "lambda_upper"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {v}")

    def _conv_lengths(self) -> tuple[int, ...]:
        """Validate the convolution geometry; the lengths of the hidden layers' outputs."""
        nl = len(self.channels)
        if not 1 <= nl <= 3 or min(self.channels) < 1:
            raise ValueError(f"channels must hold 1-3 channel counts >= 1 (one per conv layer); got {self.channels}")
        for name in ("kernels", "strides"):
            v = getattr(self, name)
            if len(v) != nl:
                raise ValueError(f"{name} must hold one value per conv layer (len(channels) = {nl}); got {v}")
            if min(v) < 1:
                raise ValueError(f"{name} must be >= 1; got {v}")
        if self.rec_kernel < 1 or self.rec_kernel % 2 == 0:
            raise ValueError(f"rec_kernel must be an odd integer >= 1 (padding (rec_kernel - 1) / 2 keeps the "
                             f"layer's length); got {self.rec_kernel}")
        n_in = int(self.n_in)
        if n_in < 1:
            raise ValueError("n_in must be >= 1")
        lengths = []
        prev = n_in
        for li, (k, st) in enumerate(zip(self.kernels, self.strides, strict=True)):
            if k > prev:
                if li == 0:
                    raise ValueError(f"kernels[0] = {k} exceeds the input length n_in = {n_in}")
                raise ValueError(f"kernels[{li}] = {k} exceeds the length {prev} of layer {li}'s output (n_in "
                                 f"{n_in}, kernel {self.kernels[li - 1]}, stride {self.strides[li - 1]})")
            prev = (prev - k) // st + 1
            lengths.append(prev)
        return tuple(lengths)

    @property
    def conv(self) -> bool:
        return self.layers == "conv"

    @property
    def lengths(self) -> tuple[int, ...]:
        """Conv layers: the length (features per channel) of each hidden layer's output, e.g. Table 3 on 700
        inputs: (68, 21, 5)."""
        if not self.conv:
            raise ValueError("lengths: only layers='conv' has a convolution geometry")
        return self._conv_lengths()

    def conv_geometry(self, li: int, recurrent: bool = False) -> tuple[int, int, int, int]:
        """Conv layer ``li`` (0-based): ``(C_in, length_in, stride, padding)`` of its feed-forward (or, with
        ``recurrent``, its recurrent) convolution."""
        lengths = self.lengths
        if recurrent:
            return self.channels[li], lengths[li], 1, (self.rec_kernel - 1) // 2
        c_in, l_in = (1, int(self.n_in)) if li == 0 else (self.channels[li - 1], lengths[li - 1])
        return c_in, l_in, self.strides[li], 0

    @property
    def lif(self) -> LIFParams:
        """The hidden neurons' :class:`sgcore.lif.LIFParams`."""
        return LIFParams(dt=self.dt_ms, tau_mem=self.tau_mem, tau_syn=self.tau_syn, theta=self.theta,
                         reset=self.reset, detach_reset=not self.bp_reset)

    @property
    def duration_ms(self) -> float:
        return self.steps * self.dt_ms

    @property
    def lam_mem(self) -> float:
        return math.exp(-self.dt_ms / self.tau_mem)

    @property
    def lam_syn(self) -> float:
        return math.exp(-self.dt_ms / self.tau_syn)

    @property
    def lam_ro(self) -> float:
        """Readout membrane decay, tau_mem^RO = steps * dt (Methods 8.4.2)."""
        return math.exp(-1.0 / self.steps)

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.n_in, *self.hidden)


@dataclass(frozen=True)
class Noise:
    """Externally fixed randomness (tests): per hidden layer, uniforms r (T, B, N) of the escape noise (spike iff
    r < sigma(beta_N (U - theta))) and LocalZO |z| (m, T, B, N)."""

    uniforms: tuple[np.ndarray, ...] | None = None
    z: tuple[np.ndarray, ...] | None = None


def param_names(spec: NetSpec) -> list[str]:
    """``W1.. WL`` (n_l, n_{l-1}), ``V1.. VL`` (n_l, n_l) when recurrent, ``W_out`` (C, n_L); conv layers:
    ``W_l`` (C_l, C_{l-1}, kernels[l-1]) with C_0 = 1, ``V_l`` (C_l, C_l, rec_kernel)."""
    names = [f"W{li + 1}" for li in range(len(spec.hidden))]
    if spec.recurrent:
        names += [f"V{li + 1}" for li in range(len(spec.hidden))]
    return names + ["W_out"]


def param_shapes(spec: NetSpec) -> dict[str, tuple[int, ...]]:
    """The shape of each weight, by :func:`param_names` (in that order): dense ``W_l`` (n_l, n_{l-1}), ``V_l``
    (n_l, n_l), ``W_out`` (C, n_L); conv ``W_l`` (C_l, C_{l-1}, kernels[l-1]) with C_0 = 1 and ``V_l``
    (C_l, C_l, rec_kernel)."""
    if spec.conv:
        chans = (1, *spec.channels)
        ff = [(chans[li + 1], chans[li], k) for li, k in enumerate(spec.kernels)]
        rec = [(c, c, spec.rec_kernel) for c in spec.channels]
    else:
        sizes = spec.sizes
        ff = [(n, sizes[li]) for li, n in enumerate(spec.hidden)]
        rec = [(n, n) for n in spec.hidden]
    shapes = {f"W{li + 1}": shape for li, shape in enumerate(ff)}
    shapes |= {f"V{li + 1}": shape for li, shape in enumerate(rec)}
    shapes["W_out"] = (spec.n_classes, spec.hidden[-1])
    return {k: tuple(int(d) for d in shapes[k]) for k in param_names(spec)}


def fluctuation_sds(spec: NetSpec, input_rate_hz: float, hidden_rate_hz: float = 10.0, sigma_u: float = 1.0,
                    alpha: float = 0.9) -> dict[str, float]:
    """The standard deviation of each weight in :func:`init_params` (by :func:`param_names`)."""
    lif = spec.lif
    ro = LIFParams(dt=spec.dt_ms, tau_mem=min(spec.duration_ms, 1e4), tau_syn=spec.tau_syn, theta=spec.theta)
    a_ff = alpha if spec.recurrent else 1.0
    sds: dict[str, float] = {}
    for name, shape in param_shapes(spec).items():
        n_pre = math.prod(shape[1:])  # n_in / n_{l-1}, C_in K; n_l, C_l rec_kernel; n_L
        if name == "W_out":
            sds[name] = fluctuation_sigma(n_pre, ro, hidden_rate_hz, sigma_u)
        elif name.startswith("V"):
            sds[name] = fluctuation_sigma(n_pre, lif, hidden_rate_hz, sigma_u) * math.sqrt(1.0 - alpha)
        else:
            nu = input_rate_hz if name == "W1" else hidden_rate_hz
            sds[name] = fluctuation_sigma(n_pre, lif, nu, sigma_u) * math.sqrt(a_ff)
    return sds


def init_params(spec: NetSpec, rng: np.random.Generator, input_rate_hz: float, hidden_rate_hz: float = 10.0,
                sigma_u: float = 1.0, alpha: float = 0.9, dtype: Any = np.float32) -> dict[str, np.ndarray]:
    """Fluctuation-driven initialisation (Rossbroich et al. 2022; Methods 8.4.2): zero-mean normal weights with
    ``sigma_w = sigma_U sqrt(share / (N_pre nu eps_hat))`` (:func:`sgcore.snn.inputs.fluctuation_sigma`), so that
    N_pre Poisson inputs at rate nu give Var[U] = share * sigma_U^2. Feed-forward: share = 1, or ``alpha`` (0.9)
    with recurrent weights taking ``1 - alpha``. Inputs of layer 1 fire at ``input_rate_hz``, hidden layers at
    ``hidden_rate_hz`` (default 10 Hz, the regulariser's bound: 7 spikes in 700 ms). The readout uses its own
    tau_mem^RO. Conv layers: the same with ``N_pre`` = the kernel's inputs per neuron, ``C_{l-1} x kernels[l-1]``
    (feed-forward) and ``C_l x rec_kernel`` (recurrent); W_l (C_l, C_{l-1}, K_l), V_l (C_l, C_l, rec_kernel).
    The standard deviations are :func:`fluctuation_sds`; the draws are made in :func:`param_names` order.
    Other schemes: :mod:`sgcore.initschemes`."""
    sds = fluctuation_sds(spec, input_rate_hz, hidden_rate_hz, sigma_u, alpha)
    return {name: (rng.standard_normal(shape) * sds[name]).astype(dtype)
            for name, shape in param_shapes(spec).items()}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _addmm_(out: np.ndarray, a: np.ndarray, b: Any, alpha: float) -> None:
    """out += alpha * a @ b through torch (out contiguous; b a NumPy array or a torch tensor)."""
    import torch

    torch.from_numpy(out).addmm_(torch.from_numpy(a), b if not isinstance(b, np.ndarray) else torch.from_numpy(b),
                                 alpha=alpha)


def _filter(S: np.ndarray, lam: Any, out: np.ndarray) -> None:
    """out[0] = 0, out[n+1] = lam out[n] + S[n] (the synaptic filter of a (T, B, N) spike array)."""
    out[0].fill(0.0)
    for n in range(out.shape[0] - 1):
        np.multiply(out[n], lam, out=out[n + 1])
        out[n + 1] += S[n]


def _rfilter(g: np.ndarray, lam: Any, out: np.ndarray) -> None:
    """out[T-1] = 0, out[n] = lam out[n+1] + g[n+1]: the adjoint of :func:`_filter`."""
    T = out.shape[0]
    out[T - 1].fill(0.0)
    for n in range(T - 2, -1, -1):
        np.multiply(out[n + 1], lam, out=out[n])
        out[n] += g[n + 1]


#: Conv helper: rows per torch call, so that the temporaries (outputs, im2col) stay near 2^23 elements.
_CONV_CHUNK_ELEMS = 1 << 23


class _Linear:
    """The linear map of one weight on flattened neurons, ``x (M, n_in) -> (M, n_out)``: a dense matrix
    (``x W^T``) or a 1-D convolution (``conv1d(x.view(M, C_in, L_in), W, stride, padding)`` flattened channel-
    major), with its adjoint and its weight gradient. All outputs are scaled by ``alpha``."""

    def __init__(self, w: np.ndarray, dt: np.dtype, geometry: tuple[int, int, int, int] | None = None) -> None:
        import torch

        self.w = np.ascontiguousarray(w, dtype=dt)
        self.wt = torch.from_numpy(self.w)
        self.geo = geometry
        self.dense: Any = None
        if geometry is None:
            self.n_out, self.n_in = self.w.shape
            self.wT = self.wt.T
        else:
            c_out, c_in, k = self.w.shape
            _, l_in, st, pad = geometry
            self.l_out = (l_in + 2 * pad - k) // st + 1
            self.n_in, self.n_out = c_in * l_in, c_out * self.l_out
            self.out_pad = l_in + 2 * pad - ((self.l_out - 1) * st + k)  # conv_transpose1d's output padding
            # short layers (length <= 2 kernels, e.g. Table 3's third, 64 x 5): the equivalent (n_out, n_in) matrix
            # (the convolution of the identity) costs at most twice the convolution's multiplications, and a matmul
            # is far faster than conv1d on such shapes; used for apply / adjoint, and for the weight gradient (the
            # matrix's gradient by one matmul, projected onto the kernel taps)
            if l_in <= 2 * k:
                import torch.nn.functional as F

                self.eye = torch.eye(self.n_in, dtype=self.wt.dtype).view(self.n_in, c_in, l_in)
                with torch.no_grad():
                    m = F.conv1d(self.eye, self.wt, stride=st, padding=pad).reshape(self.n_in, self.n_out)
                self.dense = m.T.contiguous()  # (n_out, n_in)

    def _rows(self) -> int:
        """Rows per conv call."""
        c_out, c_in, k = self.w.shape
        return max(1, _CONV_CHUNK_ELEMS // max(1, c_in * k * self.l_out, c_out * self.l_out, self.n_in))

    def apply(self, x: np.ndarray, out: np.ndarray, alpha: float, accumulate: bool = False) -> None:
        """out = alpha * map(x) (``accumulate``: out += ...); x, out contiguous 2-D."""
        import torch

        if self.geo is None or self.dense is not None:
            wT = self.wT if self.geo is None else self.dense.T
            if accumulate:
                _addmm_(out, x, wT, alpha)
            else:
                _mm(out, x, wT, alpha)
            return
        import torch.nn.functional as F

        c_in, l_in, st, pad = self.geo
        M = x.shape[0]
        xt, ot = torch.from_numpy(x), torch.from_numpy(out)
        step = self._rows()
        with torch.no_grad():
            for i in range(0, M, step):
                y = F.conv1d(xt[i:i + step].view(-1, c_in, l_in), self.wt, stride=st, padding=pad)
                y = y.view(y.shape[0], -1)
                if accumulate:
                    ot[i:i + step].add_(y, alpha=alpha)
                else:
                    torch.mul(y, alpha, out=ot[i:i + step])

    def adjoint(self, g: np.ndarray, out: np.ndarray, alpha: float) -> None:
        """out = alpha * map^T(g): the gradient with respect to the input."""
        import torch

        if self.geo is None or self.dense is not None:
            _mm(out, g, self.wt if self.geo is None else self.dense, alpha)
            return
        import torch.nn.functional as F

        c_in, l_in, st, pad = self.geo
        c_out = self.w.shape[0]
        M = g.shape[0]
        gt, ot = torch.from_numpy(g), torch.from_numpy(out)
        step = self._rows()
        with torch.no_grad():
            for i in range(0, M, step):
                y = F.conv_transpose1d(gt[i:i + step].view(-1, c_out, self.l_out), self.wt, stride=st, padding=pad,
                                       output_padding=self.out_pad)
                torch.mul(y.view(y.shape[0], -1), alpha, out=ot[i:i + step])

    def wgrad(self, g: np.ndarray, x: np.ndarray, alpha: float) -> np.ndarray:
        """alpha * dL/dW for the output gradient g (M, n_out) and the input x (M, n_in), summed over the rows."""
        import torch

        out = np.empty(self.w.shape, dtype=self.w.dtype)
        if self.geo is None:
            _mm(out, g.T, x, alpha)
            return out
        c_in, l_in, st, pad = self.geo
        c_out = self.w.shape[0]
        if self.dense is not None:  # the matrix's gradient (one matmul), then its projection onto the kernel taps
            gd = np.empty((self.n_out, self.n_in), dtype=self.w.dtype)
            _mm(gd, g.T, x, alpha)
            with torch.no_grad():
                gw = torch.ops.aten.convolution_backward(
                    torch.from_numpy(gd).T.reshape(self.n_in, c_out, self.l_out), self.eye, self.wt, None, [st],
                    [pad], [1], False, [0], 1, [False, True, False])[1]
            torch.from_numpy(out).copy_(gw)
            return out
        M = g.shape[0]
        gt, xt, ot = torch.from_numpy(g), torch.from_numpy(x), torch.from_numpy(out)
        ot.zero_()
        step = self._rows()
        with torch.no_grad():
            for i in range(0, M, step):
                gw = torch.ops.aten.convolution_backward(
                    gt[i:i + step].view(-1, c_out, self.l_out), xt[i:i + step].view(-1, c_in, l_in), self.wt, None,
                    [st], [pad], [1], False, [0], 1, [False, True, False])[1]
                ot.add_(gw)
        ot.mul_(alpha)
        return out


def _linear(params: dict[str, np.ndarray], spec: NetSpec, name: str, li: int, dt: np.dtype) -> _Linear:
    """The map of weight ``W{li+1}`` or ``V{li+1}`` (``name`` "W" / "V")."""
    geo = spec.conv_geometry(li, recurrent=name == "V") if spec.conv else None
    return _Linear(params[f"{name}{li + 1}"], dt, geo)


class Workspace:
    """Reusable buffers for repeated passes of one network and minibatch shape (a training loop): pass the same
    Workspace to :func:`forward_backward` / :func:`predict` to skip the allocation (and page faults) of the
    (T, B, N) arrays. The arrays a pass returns in its stats then belong to the workspace and are overwritten by
    the next pass that uses it; without a workspace every pass allocates its own."""

    def __init__(self) -> None:
        self._bufs: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        a = self._bufs.get(name)
        if a is None or a.shape != shape or a.dtype != np.dtype(dtype):
            a = self._bufs[name] = np.empty(shape, dtype=dtype)
        return a


class _Hidden:
    """One hidden layer's (T, B, N) buffers after the forward pass."""

    __slots__ = ("Pin", "c", "U", "K", "S", "Pself", "thr")

    def __init__(self, ws: Workspace, li: int, T: int, B: int, n_pre: int, n: int, dt: np.dtype,
                 recurrent: bool) -> None:
        self.Pin = ws.get(f"Pin{li}", (T, B, n_pre), dt)
        self.c = ws.get(f"c{li}", (T, B, n), dt)
        self.U = ws.get(f"U{li}", (T, B, n), dt)
        self.K = ws.get(f"K{li}", (T, B, n), bool)
        self.S = ws.get(f"S{li}", (T, B, n), dt)
        self.Pself = ws.get(f"Pself{li}", (T, B, n), dt) if recurrent else None
        self.thr: Any = None


def _forward(params: dict[str, np.ndarray], x: np.ndarray, spec: NetSpec, stochastic: bool,
             rng: np.random.Generator | None, uniforms: Any, dt: np.dtype,
             ws: Workspace) -> tuple[list[_Hidden], np.ndarray]:
    f = dt.type
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != spec.n_in or x.shape[1] != spec.steps:
        raise ValueError(f"x must have shape (B, {spec.steps}, {spec.n_in}); got {x.shape}")
    B, T = x.shape[0], spec.steps
    S_prev = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dt)
    lam_m, lam_s, k_m = f(spec.lam_mem), f(spec.lam_syn), 1.0 - spec.lam_mem
    theta = f(spec.theta)
    layers: list[_Hidden] = []
    le, mul, add = np.less_equal, np.multiply, np.add
    for li, n in enumerate(spec.hidden):
        n_pre = S_prev.shape[2]
        L = _Hidden(ws, li, T, B, n_pre, n, dt, spec.recurrent)
        W = _linear(params, spec, "W", li, dt)
        _filter(S_prev, lam_s, L.Pin)
        W.apply(L.Pin.reshape(T * B, n_pre), L.c.reshape(T * B, n), k_m)  # c[n] = (1 - lambda_m) W * Pin[n]
        if stochastic:
            thr = ws.get(f"thr{li}", (T, B, n), dt)
            if uniforms is not None:
                np.copyto(thr, uniforms[li])
            else:
                rng.random(out=thr, dtype=dt)
            escape_threshold_inplace(thr, L.S, spec.beta_noise, spec.theta, "sigmoid")  # S: scratch here
            th = list(thr)
        else:
            thr = theta
            th = [theta] * T
        L.thr = thr
        U, K, c = L.U, L.K, L.c
        U[0].fill(0.0)
        V = _linear(params, spec, "V", li, dt) if spec.recurrent else None
        P = L.Pself
        if P is not None:
            P[0].fill(0.0)
        same = spec.reset == "same"
        for m in range(T):
            if V is not None and m > 0:  # c[m] += (1 - lambda_m) V * Pself[m], Pself[m] = lambda_s Pself[m-1] + S[m-1]
                mul(P[m - 1], lam_s, out=P[m])
                P[m] += ~K[m - 1]
                V.apply(P[m], c[m], k_m, accumulate=True)
            le(U[m], th[m], out=K[m])
            if m == T - 1:
                break
            un = U[m + 1]
            if same:
                mul(U[m], K[m], out=un)
                mul(un, lam_m, out=un)
                add(un, c[m], out=un)
            else:
                mul(U[m], lam_m, out=un)
                add(un, c[m], out=un)
                mul(un, K[m], out=un)
        np.subtract(f(1.0), K, out=L.S)
        layers.append(L)
        S_prev = L.S
    # readout: one matmul Y = (1 - lambda_RO) W_out S (C is narrow: filter after the matmul), the synaptic
    # filter c_o = (1 - lambda_RO) I_o, then the leaky membrane
    nL = spec.hidden[-1]
    C = spec.n_classes
    Y = ws.get("Y", (T, B, C), dt)
    _mm(Y.reshape(T * B, C), S_prev.reshape(T * B, nL), np.ascontiguousarray(params["W_out"], dtype=dt).T,
        1.0 - spec.lam_ro)
    c_o = ws.get("c_o", (T, B, C), dt)
    _filter(Y, lam_s, c_o)
    U_o = ws.get("U_o", (T, B, C), dt)
    _filter(c_o, f(spec.lam_ro), U_o)
    return layers, U_o


def _readout(U_o: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Activities a (B, C) and, for "max", the argmax time steps."""
    if loss == "max":
        idx = np.argmax(U_o, axis=0)
        return np.take_along_axis(U_o, idx[None], axis=0)[0], idx
    if loss == "sum":
        return U_o.sum(axis=0), None
    return U_o.mean(axis=0), None


def _stats(layers: list[_Hidden], U_o: np.ndarray, a: np.ndarray, y: np.ndarray | None) -> dict[str, Any]:
    pred = np.argmax(a, axis=1)
    st: dict[str, Any] = {"spikes": [L.S for L in layers], "U_hidden": [L.U for L in layers], "U_out": U_o,
                          "activity": a, "predictions": pred}
    if y is not None:
        st["accuracy"] = float(np.mean(pred == np.asarray(y)))
    return st


def predict(params: dict[str, np.ndarray], x: np.ndarray, spec: NetSpec, stochastic: bool | None = None,
            rng: np.random.Generator | None = None, noise: Noise | None = None, y: np.ndarray | None = None,
            dtype: Any = np.float32, workspace: Workspace | None = None) -> dict[str, Any]:
    """Forward pass only (Gygax & Zenke Eqs. 21-25, 29: the readout's max over time). ``stochastic`` overrides
    ``spec.stochastic`` (cross-evaluation: the stochastic net without escape noise, the deterministic one with it,
    at ``spec.beta_noise``). Returns ``spikes`` and
    ``U_hidden`` (lists of (T, B, N)), ``U_out`` (T, B, C), ``activity`` (B, C), ``predictions`` (B,) and, given
    labels ``y``, ``accuracy``."""
    stoch = spec.stochastic if stochastic is None else bool(stochastic)
    rng = rng if rng is not None else np.random.default_rng()
    layers, U_o = _forward(params, x, spec, stoch, rng, (noise or Noise()).uniforms, np.dtype(dtype),
                              workspace or Workspace())
    a, _ = _readout(U_o, spec.loss)
    return _stats(layers, U_o, a, y)


def forward_backward(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, spec: NetSpec,
                     backward_cfg: Any, rng: np.random.Generator, noise: Noise | None = None,
                     dtype: Any = np.float32, workspace: Workspace | None = None
                     ) -> tuple[float, dict[str, np.ndarray], dict[str, Any]]:
    """One forward and explicit backward pass on a minibatch (Gygax & Zenke Eqs. 21-29, Methods 8.4.2: the
    cross-entropy of the max-over-time readout and the activity regulariser).

    ``x`` (B, T, n_in) spike counts, ``y`` (B,) integer labels, ``backward_cfg`` a :class:`BackwardConfig` (or
    any object with its attribute names, e.g. a TrainConfig). Returns ``(loss, grads, stats)``: loss = CE +
    regulariser; grads by :func:`param_names`; stats = :func:`predict`'s plus ``ce``, ``reg``, ``accuracy``
    and ``active_fraction`` (non-zero entries of the backward estimate over all hidden (T, B, N) entries).
    """
    dt = np.dtype(dtype)
    f = dt.type
    noise = noise or Noise()
    y = np.asarray(y, dtype=np.int64)
    ws = workspace or Workspace()
    layers, U_o = _forward(params, x, spec, spec.stochastic, rng, noise.uniforms, dt, ws)
    T, B, C = U_o.shape
    a, idx = _readout(U_o, spec.loss)
    # cross-entropy (Eq. 28), mean over the minibatch, and dL/da
    a64 = a.astype(np.float64)
    mx = a64.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(a64 - mx).sum(axis=1))
    ce = float(np.mean(lse - a64[np.arange(B), y]))
    ga = np.exp(a64 - lse[:, None])
    ga[np.arange(B), y] -= 1.0
    ga /= B
    gUo = ws.get("gUo", (T, B, C), dt)
    gUo.fill(0.0)
    if spec.loss == "max":
        np.put_along_axis(gUo, idx[None], ga.astype(dt)[None], axis=0)
    else:
        gUo[:] = (ga / T if spec.loss == "mean" else ga).astype(dt)
    # readout backward: H = dL/dc_o, GY = dL/dY (the reverse synaptic filter), then two matmuls
    lam_s = f(spec.lam_syn)
    H = ws.get("H", (T, B, C), dt)
    _rfilter(gUo, f(spec.lam_ro), H)
    GY = ws.get("GY", (T, B, C), dt)
    _rfilter(H, lam_s, GY)
    k_o = 1.0 - spec.lam_ro
    grads: dict[str, np.ndarray] = {}
    W_out = np.ascontiguousarray(params["W_out"], dtype=dt)
    nL = spec.hidden[-1]
    S_L = layers[-1].S
    g = np.empty((C, nL), dtype=dt)
    _mm(g, GY.reshape(T * B, C).T, S_L.reshape(T * B, nL), k_o)
    grads["W_out"] = g
    gS = ws.get(f"gS{len(layers) - 1}", (T, B, nL), dt)
    _mm(gS.reshape(T * B, nL), GY.reshape(T * B, C), W_out, k_o)
    # activity regulariser (Eqs. 26-27, with the positive sign)
    reg = 0.0
    excess = []
    if spec.reg:
        for L in layers:
            m = L.S.sum(axis=0).mean(axis=1, dtype=np.float64)  # mean spike count per sample (B,), exact counts
            e = np.maximum(m - spec.theta_upper, 0.0)
            reg += spec.lambda_upper * float(np.sum(e * e)) / B
            excess.append(e)
    # hidden layers, last to first
    lam_m, k_m = f(spec.lam_mem), 1.0 - spec.lam_mem
    theta = f(spec.theta)
    est = BACKWARDS[backward_cfg.backward].estimate
    active = 0
    total = 0
    for li in range(len(layers) - 1, -1, -1):
        L = layers[li]
        n = L.U.shape[2]
        if spec.reg and excess[li].any():
            gS += (excess[li] * (2.0 * spec.lambda_upper / (B * n))).astype(dt)[None, :, None]
        shp = L.U.shape
        sd, s1, s2 = (ws.get(f"{nm}{li}", shp, dt) for nm in ("sd", "s1", "s2"))
        np.subtract(L.U, theta, out=sd)
        est(sd, backward_cfg, beta=backward_cfg.beta_sg, z=None if noise.z is None else noise.z[li], rng=rng,
            scratch=(s1, s2))
        active += _count_nonzero(sd)
        total += sd.size
        A = s1
        np.multiply(L.S, -lam_m, out=A)  # lambda_m (1 - S)
        A += lam_m
        if spec.bp_reset:
            tmp = s2
            np.multiply(L.U, lam_m, out=tmp)
            if spec.reset == "next":
                tmp += L.c
            tmp *= sd
            A -= tmp
        gU = gS  # reuse: gU[n] = SD[n] gS[n] + A[n] gU[n+1]
        gc = ws.get(f"gc{li}", shp, dt)  # dL/dc[n]; c[T-1] does not act
        gc[T - 1].fill(0.0)
        nxt = spec.reset == "next"
        if not spec.recurrent:
            gU *= sd
            row = np.empty((B, n), dtype=dt)
            for m in range(T - 2, -1, -1):
                np.multiply(A[m], gU[m + 1], out=row)
                gU[m] += row
            if nxt:  # gc = gU[1:] (1 - S[:-1])
                np.multiply(gU[1:], L.S[:-1], out=gc[:-1])
                np.subtract(gU[1:], gc[:-1], out=gc[:-1])
            else:
                np.copyto(gc[:-1], gU[1:])
        else:
            V = _linear(params, spec, "V", li, dt)
            G = np.zeros((B, n), dtype=dt)  # dL/dS[m] through the recurrent weights
            gPs = np.zeros((B, n), dtype=dt)  # dL/dPself[m + 1]
            row = np.empty((B, n), dtype=dt)
            for m in range(T - 1, -1, -1):
                if m < T - 1:
                    # gc[m] = dL/dc[m] (x keep for "next"); G[m] = lambda_s G[m+1] + dL/dPself[m+1]
                    np.multiply(gU[m + 1], L.K[m], out=gc[m]) if nxt else np.copyto(gc[m], gU[m + 1])
                    G *= lam_s
                    G += gPs
                    np.multiply(A[m], gU[m + 1], out=row)
                    gU[m] += G
                    gU[m] *= sd[m]
                    gU[m] += row
                    V.adjoint(gc[m], gPs, k_m)  # dL/dPself[m] = (1 - lambda_m) V^T gc[m]
                else:
                    gU[m] *= sd[m]
            grads[f"V{li + 1}"] = V.wgrad(gc.reshape(T * B, n), L.Pself.reshape(T * B, n), k_m)
        n_pre = L.Pin.shape[2]
        W = _linear(params, spec, "W", li, dt)
        grads[f"W{li + 1}"] = W.wgrad(gc.reshape(T * B, n), L.Pin.reshape(T * B, n_pre), k_m)
        if li > 0:
            gPin = ws.get(f"gPin{li}", (T, B, n_pre), dt)
            W.adjoint(gc.reshape(T * B, n), gPin.reshape(T * B, n_pre), k_m)
            gS = ws.get(f"gS{li - 1}", (T, B, n_pre), dt)
            _rfilter(gPin, lam_s, gS)
    st = _stats(layers, U_o, a, y)
    st.update(ce=ce, reg=reg, active_fraction=active / float(total))
    grads = {k: grads[k] for k in param_names(spec)}
    return ce + reg, grads, st
