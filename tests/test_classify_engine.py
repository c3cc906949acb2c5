"""The classification engine (sgcore.classify): explicit gradients against an autograd reference, the forward
against sgcore.lif.lif_step, the loss and regulariser, the optimisers (issue 17)."""

import math

import numpy as np
import pytest
import torch

from sgcore.classify import (
    SMORMS3,
    Adam,
    BackwardConfig,
    GradientDescent,
    NetSpec,
    Noise,
    Workspace,
    forward_backward,
    init_params,
    make_optimizer,
    param_names,
    predict,
)
from sgcore.classify.reference import reference_forward_backward
from sgcore.lif import LIFParams, LIFState, escape_threshold, lif_step
from sgcore.snn.backward import BACKWARDS
from sgcore.snn.inputs import fluctuation_sigma

B = 5


def _setup(spec: NetSpec, seed: int = 1, gain: float = 3.0, backward: str = "sg", m: int = 1):
    """Params (float64, scaled up so that the hidden layers spike), input, labels and fixed noise."""
    rng = np.random.default_rng(seed)
    p = {k: v.astype(np.float64) * gain for k, v in init_params(spec, rng, 60.0).items()}
    x = (rng.random((B, spec.steps, spec.n_in)) < 0.15).astype(np.float64)
    y = rng.integers(0, spec.n_classes, B)
    uniforms = tuple(rng.random((spec.steps, B, n)) for n in spec.hidden) if spec.stochastic else None
    z = (tuple(np.abs(rng.standard_normal((m, spec.steps, B, n))) for n in spec.hidden)
         if backward == "localzo" else None)
    return p, x, y, Noise(uniforms, z)


def _spec(**kw) -> NetSpec:
    base = dict(n_in=12, hidden=(9,), n_classes=4, steps=30, dt_ms=2.0)
    base.update(kw)
    return NetSpec(**base)


CASES = [
    # (spec overrides, backward config)
    (dict(), dict()),
    (dict(recurrent=True), dict()),
    (dict(hidden=(9, 7, 8)), dict()),
    (dict(hidden=(9, 7, 8), recurrent=True), dict()),
    (dict(loss="sum"), dict()),
    (dict(loss="mean", recurrent=True), dict()),
    (dict(reg=True, theta_upper=0.5), dict()),
    (dict(reg=True, theta_upper=0.5, hidden=(9, 7), recurrent=True), dict()),
    (dict(reg=False), dict()),
    (dict(bp_reset=True), dict()),
    (dict(bp_reset=True, recurrent=True, hidden=(9, 7)), dict()),
    (dict(bp_reset=True, reset="same", loss="sum"), dict()),
    (dict(stochastic=True), dict()),
    (dict(stochastic=True, recurrent=True, hidden=(9, 7), bp_reset=True), dict(shape="sigmoid")),
    (dict(), dict(shape="sigmoid", scale="density")),
    (dict(recurrent=True), dict(shape="sigmoid", scale="gamma", gamma=0.25, beta_sg=5.0)),
    (dict(hidden=(9, 7)), dict(backward="sparsegrad", sparse_threshold=0.3)),
    (dict(stochastic=True, recurrent=True), dict(backward="sparsegrad", shape="sigmoid")),
    (dict(hidden=(9, 7)), dict(backward="localzo", localzo_delta=0.3)),
    (dict(stochastic=True, recurrent=True, bp_reset=True), dict(backward="localzo", localzo_m=2, localzo_alpha=2)),
]

#: Conv geometries (Table 3's ConvSNN, scaled down): one layer of 3 channels x 10 (24 inputs, kernel 5, stride 2,
#: recurrent kernel 3); three layers of 3 x 18, 4 x 8, 2 x 7 (40 inputs, kernels 6-3-2, strides 2-2-1, recurrent
#: kernel 5 with padding 2; layer 2's stride leaves a remainder: the transposed convolution's output padding).
CONV1 = dict(layers="conv", n_in=24, channels=(3,), kernels=(5,), strides=(2,), rec_kernel=3)
CONV3 = dict(layers="conv", n_in=40, channels=(3, 4, 2), kernels=(6, 3, 2), strides=(2, 2, 1))
CONV_CASES = [
    (CONV1, dict()),
    ({**CONV1, "recurrent": True}, dict()),
    (CONV3, dict()),
    ({**CONV3, "recurrent": True}, dict()),
    ({**CONV1, "stochastic": True}, dict()),
    ({**CONV3, "stochastic": True, "recurrent": True}, dict()),
    ({**CONV3, "stochastic": True, "recurrent": True, "bp_reset": True}, dict(shape="sigmoid")),
    ({**CONV1, "recurrent": True, "loss": "sum", "bp_reset": True}, dict()),
    ({**CONV3, "loss": "sum", "reg": True, "theta_upper": 0.5}, dict()),
    ({**CONV3, "recurrent": True, "reg": True, "theta_upper": 0.5}, dict()),
    ({**CONV3, "recurrent": True, "bp_reset": True, "reset": "same", "loss": "mean"}, dict()),
    ({**CONV1, "recurrent": True, "stochastic": True}, dict(backward="sparsegrad", sparse_threshold=0.3)),
    ({**CONV3, "recurrent": True}, dict(backward="localzo", localzo_delta=0.3)),
]


@pytest.mark.parametrize("over,bk", CASES + CONV_CASES, ids=[f"{o}-{b}" for o, b in CASES + CONV_CASES])
def test_gradients_equal_autograd_reference(over, bk):
    spec = _spec(**over)
    cfg = BackwardConfig(**bk)
    p, x, y, noise = _setup(spec, backward=cfg.backward, m=cfg.localzo_m)
    loss, grads, st = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64)
    ref_loss, ref = reference_forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert list(grads) == param_names(spec)
    for k in grads:
        scale = np.max(np.abs(ref[k]))
        assert scale > 0, k  # every weight matrix gets a gradient (the comparison is not vacuous)
        np.testing.assert_allclose(grads[k], ref[k], rtol=0, atol=1e-10 * scale, err_msg=k)
    for s in st["spikes"]:
        assert 0 < s.mean() < 0.5  # the layers spike
    if spec.reg and spec.theta_upper < 1:
        assert st["reg"] > 0  # the regulariser is active in these cases


@pytest.mark.parametrize("over", [dict(hidden=(9, 7)), CONV3], ids=["dense", "conv"])
def test_float32_engine_close_to_float64(over):
    spec = _spec(recurrent=True, **over)
    cfg = BackwardConfig()
    p, x, y, noise = _setup(spec)
    _, g64, st64 = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    _, g32, st32 = forward_backward(p32, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float32)
    for a, b in zip(st64["spikes"], st32["spikes"], strict=True):
        assert np.array_equal(a, b)
    for k in g64:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], rtol=0, atol=1e-4 * np.max(np.abs(g64[k])))


# -------------------------------------------------------------------------------------------------
# forward = sgcore.lif.lif_step
# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("stochastic", [False, True])
@pytest.mark.parametrize("reset", ["next", "same"])
def test_forward_equals_lif_step_loop(recurrent, stochastic, reset):
    spec = _spec(hidden=(9, 7), recurrent=recurrent, stochastic=stochastic, reset=reset)
    p, x, y, noise = _setup(spec)
    out = predict(p, x, spec, noise=noise, dtype=np.float64)
    lif = spec.lif
    assert lif.reset == reset and lif.tau_mem == 20.0 and lif.tau_syn == 10.0
    s_in = x.transpose(1, 0, 2)
    for li, n in enumerate(spec.hidden):
        W = p[f"W{li + 1}"]
        V = p.get(f"V{li + 1}")
        state = LIFState(np.zeros((B, n)), np.zeros((B, n)))
        S, U = [], []
        for t in range(spec.steps):
            thr = escape_threshold(noise.uniforms[li][t], spec.beta_noise, spec.theta) if stochastic else None
            s_now = (state.u > (spec.theta if thr is None else thr)).astype(float)  # the spike lif_step will emit
            inp = s_in[t] @ W.T + (s_now @ V.T if recurrent else 0.0)
            U.append(state.u)
            s, state = lif_step(state, inp, lif, threshold=thr)
            assert np.array_equal(s, s_now)
            S.append(s)
        S, U = np.array(S), np.array(U)
        assert 0 < S.mean() < 0.5
        assert np.array_equal(out["spikes"][li], S)
        np.testing.assert_allclose(out["U_hidden"][li], U, rtol=0, atol=1e-12)
        s_in = S
    # readout: a non-spiking LIF neuron (threshold +inf, no reset) with tau_mem^RO = steps * dt
    ro = LIFParams(dt=spec.dt_ms, tau_mem=spec.steps * spec.dt_ms, tau_syn=spec.tau_syn, reset=reset)
    state = LIFState(np.zeros((B, spec.n_classes)), np.zeros((B, spec.n_classes)))
    U = []
    for t in range(spec.steps):
        U.append(state.u)
        _, state = lif_step(state, s_in[t] @ p["W_out"].T, ro, threshold=np.inf)
    np.testing.assert_allclose(out["U_out"], np.array(U), rtol=0, atol=1e-12)


def test_conv_chunked_calls_give_the_same_gradients(monkeypatch):
    """The conv maps split their rows into chunks (bounded temporaries): tiny chunks give the same pass."""
    import sgcore.classify.engine as eng

    spec = _spec(**CONV3, recurrent=True, reg=True, theta_upper=0.5)
    p, x, y, noise = _setup(spec)
    cfg = BackwardConfig()
    whole = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64)
    monkeypatch.setattr(eng, "_CONV_CHUNK_ELEMS", 50)  # a few rows per call
    chunked = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64)
    assert chunked[0] == pytest.approx(whole[0], rel=1e-12)
    for k in whole[1]:
        np.testing.assert_allclose(chunked[1][k], whole[1][k], rtol=0, atol=1e-12 * np.max(np.abs(whole[1][k])))


def _naive_conv(x: np.ndarray, W: np.ndarray, l_in: int, stride: int, pad: int) -> np.ndarray:
    """conv1d by explicit loops over output positions, channels and taps: x (B, C_in * l_in) channel-major."""
    b = x.shape[0]
    c_out, c_in, k = W.shape
    xr = x.reshape(b, c_in, l_in)
    l_out = (l_in + 2 * pad - k) // stride + 1
    out = np.zeros((b, c_out, l_out))
    for j in range(l_out):
        for o in range(c_out):
            for i in range(c_in):
                for t in range(k):
                    pos = j * stride + t - pad
                    if 0 <= pos < l_in:
                        out[:, o, j] += W[o, i, t] * xr[:, i, pos]
    return out.reshape(b, c_out * l_out)


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("stochastic", [False, True])
def test_conv_forward_equals_naive_loops(recurrent, stochastic):
    """Tiny ConvSNN (11 inputs -> 2 x 5 -> 3 x 4): the engine's spikes and membranes equal lif_step driven by an
    independent loop convolution (stride 2, then 1; recurrent kernel 3, padding 1)."""
    spec = NetSpec(layers="conv", n_in=11, channels=(2, 3), kernels=(3, 2), strides=(2, 1), rec_kernel=3,
                   n_classes=3, steps=30, recurrent=recurrent, stochastic=stochastic)
    assert spec.lengths == (5, 4) and spec.hidden == (10, 12)
    p, x, y, noise = _setup(spec, gain=4.0)
    out = predict(p, x, spec, noise=noise, dtype=np.float64)
    lif = spec.lif
    s_in, l_in = x.transpose(1, 0, 2), 11
    for li, n in enumerate(spec.hidden):
        W, V = p[f"W{li + 1}"], p.get(f"V{li + 1}")
        length = spec.lengths[li]
        state = LIFState(np.zeros((B, n)), np.zeros((B, n)))
        S, U = [], []
        for t in range(spec.steps):
            thr = escape_threshold(noise.uniforms[li][t], spec.beta_noise, spec.theta) if stochastic else None
            s_now = (state.u > (spec.theta if thr is None else thr)).astype(float)
            inp = _naive_conv(s_in[t], W, l_in, spec.strides[li], 0)
            if recurrent:
                inp = inp + _naive_conv(s_now, V, length, 1, 1)
            U.append(state.u)
            s, state = lif_step(state, inp, lif, threshold=thr)
            S.append(s)
        S, U = np.array(S), np.array(U)
        assert 0 < S.mean() < 0.5
        assert np.array_equal(out["spikes"][li], S)
        np.testing.assert_allclose(out["U_hidden"][li], U, rtol=0, atol=1e-12)
        s_in, l_in = S, length
    assert out["U_out"].shape == (spec.steps, B, 3)


def test_predict_cross_evaluation():
    """The stochastic net without noise = the deterministic one; with the noise it reproduces the training pass."""
    sto = _spec(stochastic=True, hidden=(9, 7))
    det = _spec(stochastic=False, hidden=(9, 7))
    p, x, y, noise = _setup(sto)
    a = predict(p, x, sto, stochastic=False, dtype=np.float64)
    b = predict(p, x, det, dtype=np.float64)
    for s1, s2 in zip(a["spikes"], b["spikes"], strict=True):
        assert np.array_equal(s1, s2)
    c = predict(p, x, det, stochastic=True, noise=noise, y=y, dtype=np.float64)
    _, _, st = forward_backward(p, x, y, sto, BackwardConfig(), np.random.default_rng(0), noise, dtype=np.float64)
    for s1, s2, s3 in zip(c["spikes"], st["spikes"], b["spikes"], strict=True):
        assert np.array_equal(s1, s2)
        assert not np.array_equal(s1, s3)  # the escape noise changes the spikes
    assert c["accuracy"] == st["accuracy"]
    assert np.array_equal(c["predictions"], np.argmax(c["activity"], axis=1))
    # without fixed noise, the generator is used: two seeds differ
    d1 = predict(p, x, sto, rng=np.random.default_rng(1))
    d2 = predict(p, x, sto, rng=np.random.default_rng(2))
    assert not np.array_equal(d1["spikes"][0], d2["spikes"][0])


# -------------------------------------------------------------------------------------------------
# loss and regulariser
# -------------------------------------------------------------------------------------------------
def test_regulariser_zero_below_bound_positive_and_growing_above():
    spec = _spec(hidden=(9, 7), reg=True)
    p, x, y, noise = _setup(spec)
    cfg = BackwardConfig()
    rate = None
    regs = []
    for theta_upper in (100.0, 3.0, 2.0, 1.0, 0.5):
        s = _spec(hidden=(9, 7), reg=True, theta_upper=theta_upper)
        loss, g, st = forward_backward(p, x, y, s, cfg, np.random.default_rng(0), noise, dtype=np.float64)
        counts = [S.sum(axis=0).mean(axis=1) for S in st["spikes"]]  # mean spike count per sample, per layer
        rate = rate or counts
        want = s.lambda_upper * sum(np.sum(np.maximum(c - theta_upper, 0.0) ** 2) for c in counts) / B
        assert st["reg"] == pytest.approx(want, rel=1e-12, abs=1e-300)
        assert loss == pytest.approx(st["ce"] + st["reg"], rel=1e-12)
        regs.append(st["reg"])
        _, g0, _ = forward_backward(p, x, y, _spec(hidden=(9, 7), reg=False), cfg, np.random.default_rng(0), noise,
                                    dtype=np.float64)
        if theta_upper == 100.0:  # below the bound: no loss, no gradient
            for k in g:
                np.testing.assert_array_equal(g[k], g0[k])
        else:
            assert any(not np.array_equal(g[k], g0[k]) for k in g)
    assert regs[0] == 0.0
    assert max(float(np.max(c)) for c in rate) > 3.0 > min(float(np.min(c)) for c in rate)
    assert all(r1 < r2 for r1, r2 in zip(regs[1:-1], regs[2:], strict=True))  # grows with the excess activity
    assert regs[-1] > 0


def test_regulariser_gradient_descent_lowers_activity():
    """The sign: a small step against the regulariser's gradient alone reduces the spike count (Eq. 27 as printed,
    with a minus sign, would raise it)."""
    spec = _spec(hidden=(9,), reg=True, theta_upper=0.5, lambda_upper=1.0)
    p, x, y, noise = _setup(spec)
    cfg = BackwardConfig()
    _, g_reg, st = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64)
    _, g_ce, _ = forward_backward(p, x, y, _spec(hidden=(9,), reg=False), cfg, np.random.default_rng(0), noise,
                                  dtype=np.float64)
    q = {k: p[k] - 0.05 * (g_reg[k] - g_ce[k]) for k in p}
    before = st["spikes"][0].sum()
    after = predict(q, x, spec, dtype=np.float64)["spikes"][0].sum()
    assert after < before


def test_max_over_time_gradient_flows_only_through_argmax_step():
    spec = _spec(hidden=(9,), loss="max", reg=False)
    p, x, y, noise = _setup(spec)
    _, g, st = forward_backward(p, x, y, spec, BackwardConfig(), np.random.default_rng(0), noise, dtype=np.float64)
    U = st["U_out"]
    T = spec.steps
    idx = np.argmax(U, axis=0)  # (B, C)
    assert len(np.unique(idx)) > 1
    a = np.take_along_axis(U, idx[None], axis=0)[0]
    pr = np.exp(a - a.max(axis=1, keepdims=True))
    pr /= pr.sum(axis=1, keepdims=True)
    ga = (pr - np.eye(spec.n_classes)[y]) / B
    # dU_o[t] / dW_out[c] = (1 - lambda_RO) sum_{m < t} lambda_RO^(t-1-m) P[m], P the filtered hidden spikes
    S = st["spikes"][-1]
    P = np.zeros_like(S)
    for t in range(T - 1):
        P[t + 1] = spec.lam_syn * P[t] + S[t]
    lr, k = spec.lam_ro, 1.0 - spec.lam_ro

    def dU(t, b):
        return k * sum(lr ** (t - 1 - m) * P[m, b] for m in range(t))

    want = np.zeros_like(g["W_out"])
    for b in range(B):
        for c in range(spec.n_classes):
            want[c] += ga[b, c] * dU(idx[b, c], b)
    np.testing.assert_allclose(g["W_out"], want, rtol=0, atol=1e-12 * np.max(np.abs(want)))
    # the same with the neighbouring step instead would differ: the test can tell
    other = np.zeros_like(want)
    for b in range(B):
        for c in range(spec.n_classes):
            other[c] += ga[b, c] * dU(max(idx[b, c] - 1, 0), b)
    assert np.max(np.abs(other - want)) > 1e-6 * np.max(np.abs(want))


@pytest.mark.parametrize("loss", ["max", "sum", "mean"])
def test_cross_entropy_value_and_accuracy(loss):
    spec = _spec(loss=loss, reg=False)
    p, x, y, noise = _setup(spec)
    val, _, st = forward_backward(p, x, y, spec, BackwardConfig(), np.random.default_rng(0), noise, dtype=np.float64)
    U = st["U_out"]
    a = {"max": U.max(axis=0), "sum": U.sum(axis=0), "mean": U.mean(axis=0)}[loss]
    np.testing.assert_allclose(st["activity"], a, rtol=1e-14)
    ce = float(np.mean(np.log(np.exp(a).sum(axis=1)) - a[np.arange(B), y]))
    assert val == pytest.approx(ce, rel=1e-12)
    assert st["accuracy"] == np.mean(np.argmax(a, axis=1) == y)


def test_active_fraction_counts_nonzero_estimates():
    spec = _spec(hidden=(9, 7))
    p, x, y, noise = _setup(spec)
    _, _, st = forward_backward(p, x, y, spec, BackwardConfig(), np.random.default_rng(0), noise)
    assert st["active_fraction"] == 1.0  # SuperSpike never vanishes
    cfg = BackwardConfig(backward="sparsegrad", sparse_threshold=0.3)
    _, _, st = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64)
    near = sum(int(np.count_nonzero(np.abs(U - spec.theta) < 0.3)) for U in st["U_hidden"])
    total = sum(U.size for U in st["U_hidden"])
    assert 0 < near < total
    assert st["active_fraction"] == near / total


def test_sd_variants_of_fig_s2c_through_the_scalings():
    """'Scaled sigmoid SG' = sigma'_beta / beta = sigma (1 - sigma): scale gamma, gamma = 1/4; 'sigmoid SG,
    beta = 1, unscaled' = sigma'(v): density scaling at beta_SG = 1; SuperSpike = 1 / (beta |v| + 1)^2."""
    v = np.linspace(-1.0, 1.0, 41)
    sig = 1.0 / (1.0 + np.exp(-10.0 * v))
    cases = [(BackwardConfig(shape="sigmoid", scale="gamma", gamma=0.25, beta_sg=10.0), sig * (1 - sig)),
             (BackwardConfig(shape="sigmoid", scale="density", beta_sg=10.0), 10.0 * sig * (1 - sig)),
             (BackwardConfig(shape="sigmoid", scale="density", beta_sg=1.0),
              np.exp(-v) / (1.0 + np.exp(-v)) ** 2),
             (BackwardConfig(), 1.0 / (10.0 * np.abs(v) + 1.0) ** 2)]
    for cfg, want in cases:
        out = v.copy()
        BACKWARDS[cfg.backward].estimate(out, cfg, beta=cfg.beta_sg, z=None, rng=None,
                                         scratch=(np.empty_like(v), np.empty_like(v)))
        np.testing.assert_allclose(out, want, rtol=1e-10)


# -------------------------------------------------------------------------------------------------
# initialisation and spec
# -------------------------------------------------------------------------------------------------
def test_init_params_fluctuation_driven():
    spec = NetSpec(n_in=400, hidden=(300, 200), n_classes=10, steps=50, recurrent=True)
    p = init_params(spec, np.random.default_rng(0), input_rate_hz=20.0)
    assert list(p) == ["W1", "W2", "V1", "V2", "W_out"]
    assert p["W1"].shape == (300, 400) and p["V2"].shape == (200, 200) and p["W_out"].shape == (10, 200)
    assert p["W1"].dtype == np.float32
    lif = spec.lif
    np.testing.assert_allclose(p["W1"].std(), fluctuation_sigma(400, lif, 20.0) * math.sqrt(0.9), rtol=0.02)
    np.testing.assert_allclose(p["W2"].std(), fluctuation_sigma(300, lif, 10.0) * math.sqrt(0.9), rtol=0.02)
    np.testing.assert_allclose(p["V1"].std(), fluctuation_sigma(300, lif, 10.0) * math.sqrt(0.1), rtol=0.02)
    assert abs(p["W1"].mean()) < 0.05 * p["W1"].std()
    ff = init_params(NetSpec(n_in=400, hidden=(300,)), np.random.default_rng(0), 20.0)
    np.testing.assert_allclose(ff["W1"].std(), fluctuation_sigma(400, lif, 20.0), rtol=0.02)
    assert "V1" not in ff


def test_conv_params_shapes_and_fluctuation_driven_init():
    spec = NetSpec(layers="conv", n_in=700, n_classes=20, steps=50, recurrent=True)
    p = init_params(spec, np.random.default_rng(0), input_rate_hz=20.0)
    assert list(p) == param_names(spec) == ["W1", "W2", "W3", "V1", "V2", "V3", "W_out"]
    shapes = {k: v.shape for k, v in p.items()}
    assert shapes == {"W1": (16, 1, 21), "W2": (32, 16, 7), "W3": (64, 32, 7), "V1": (16, 16, 5),
                      "V2": (32, 32, 5), "V3": (64, 64, 5), "W_out": (20, 320)}
    lif = spec.lif
    np.testing.assert_allclose(p["W1"].std(), fluctuation_sigma(21, lif, 20.0) * math.sqrt(0.9), rtol=0.05)
    np.testing.assert_allclose(p["W3"].std(), fluctuation_sigma(32 * 7, lif, 10.0) * math.sqrt(0.9), rtol=0.05)
    np.testing.assert_allclose(p["V3"].std(), fluctuation_sigma(64 * 5, lif, 10.0) * math.sqrt(0.1), rtol=0.05)
    ff = init_params(NetSpec(layers="conv", n_in=700), np.random.default_rng(0), 20.0)
    assert "V1" not in ff
    np.testing.assert_allclose(ff["W2"].std(), fluctuation_sigma(16 * 7, lif, 10.0), rtol=0.05)
    # the gradients have the parameters' shapes
    small = _spec(**CONV3, recurrent=True)
    ps, x, y, noise = _setup(small)
    _, g, _ = forward_backward(ps, x, y, small, BackwardConfig(), np.random.default_rng(0), noise)
    assert {k: v.shape for k, v in g.items()} == {k: v.shape for k, v in ps.items()}


def test_conv_table3_geometry_on_700_inputs():
    s = NetSpec(layers="conv", n_in=700, hidden=(5,))  # hidden is derived: the value passed is ignored
    assert (s.channels, s.kernels, s.strides, s.rec_kernel) == ((16, 32, 64), (21, 7, 7), (10, 3, 3), 5)
    assert s.lengths == (68, 21, 5)
    assert s.hidden == (1088, 672, 320)
    assert s.conv_geometry(0) == (1, 700, 10, 0) and s.conv_geometry(2) == (32, 21, 3, 0)
    assert s.conv_geometry(1, recurrent=True) == (32, 21, 1, 2)
    assert NetSpec(layers="conv", n_in=700, channels=(16,), kernels=(21,), strides=(10,)).hidden == (1088,)
    assert NetSpec().layers == "dense" and NetSpec().hidden == (64,)
    with pytest.raises(ValueError, match="only layers='conv'"):
        _ = NetSpec().lengths


@pytest.mark.parametrize("kw,msg", [
    (dict(n_in=40), r"kernels\[1\] = 7 exceeds the length 2 of layer 1's output \(n_in 40, kernel 21, stride 10\)"),
    (dict(n_in=20), r"kernels\[0\] = 21 exceeds the input length n_in = 20"),
    (dict(n_in=700, kernels=(21, 7, 7), strides=(10, 3, 30)), None),  # a long stride is fine (length 1)
    (dict(n_in=700, channels=(16, 32, 64, 8)), r"channels must hold 1-3"),
    (dict(n_in=700, channels=()), r"channels must hold 1-3"),
    (dict(n_in=700, channels=(16, 0)), r"channels must hold 1-3"),
    (dict(n_in=700, kernels=(21, 7)), r"kernels must hold one value per conv layer \(len\(channels\) = 3\)"),
    (dict(n_in=700, strides=(10, 3, 3, 3)), r"strides must hold one value per conv layer"),
    (dict(n_in=700, strides=(10, 0, 3)), r"strides must be >= 1"),
    (dict(n_in=700, kernels=(21, 0, 7)), r"kernels must be >= 1"),
    (dict(n_in=700, rec_kernel=4), r"rec_kernel must be an odd integer >= 1"),
    (dict(n_in=700, rec_kernel=0), r"rec_kernel must be an odd integer >= 1"),
    (dict(n_in=700, layers="convolutional"), r"layers must be one of \('dense', 'conv'\)"),
])
def test_conv_geometry_validation(kw, msg):
    kw = {"layers": "conv", **kw}
    if msg is None:
        assert NetSpec(**kw).lengths == (68, 21, 1)
        return
    with pytest.raises(ValueError, match=msg):
        NetSpec(**kw)


def test_netspec_validation_and_table3_defaults():
    s = NetSpec()
    assert (s.tau_mem, s.tau_syn, s.theta, s.reset, s.theta_upper, s.lambda_upper, s.beta_noise) == (
        20.0, 10.0, 1.0, "next", 7.0, 0.01, 10.0)
    assert s.lam_ro == pytest.approx(math.exp(-s.dt_ms / (s.steps * s.dt_ms)))
    for bad in (dict(hidden=()), dict(hidden=(1, 2, 3, 4)), dict(loss="last"), dict(reset="x"), dict(steps=1),
                dict(tau_mem=0.0), dict(lambda_upper=-1.0)):
        with pytest.raises(ValueError):
            NetSpec(**bad)
    with pytest.raises(ValueError):
        predict(init_params(s, np.random.default_rng(0), 20.0), np.zeros((2, s.steps + 1, s.n_in)), s)


# -------------------------------------------------------------------------------------------------
# optimisers
# -------------------------------------------------------------------------------------------------
def test_smorms3_two_steps_by_hand():
    """Funk's original: r = 1/(mem+1), g, g2 running means, x = g^2/(g2+eps),
    p -= grad min(lr, x) / (sqrt(g2) + eps), mem = 1 + mem (1 - x)."""
    opt = SMORMS3(lr=0.1)
    p = {"w": np.array([1.0, 1.0])}
    opt.step(p, {"w": np.array([0.5, 0.5])})
    # step 1: r = 1/2, g = 0.25, g2 = 0.125, x = 0.5 -> min(0.1, 0.5) = 0.1; mem = 1 + 1 * 0.5 = 1.5
    p1 = 1.0 - 0.5 * 0.1 / math.sqrt(0.125)
    np.testing.assert_allclose(p["w"], [p1, p1], rtol=1e-14)
    np.testing.assert_allclose(opt.state["w"]["mem"], 1.5, rtol=1e-14)
    opt.step(p, {"w": np.array([-0.2, 0.5])})
    # step 2, element 0: r = 1/2.5 = 0.4, g = 0.6 * 0.25 - 0.4 * 0.2 = 0.07, g2 = 0.6 * 0.125 + 0.4 * 0.04 = 0.091,
    # x = 0.0049 / 0.091 < 0.1 -> the denoising factor wins
    x0 = 0.0049 / 0.091
    e0 = p1 + 0.2 * x0 / math.sqrt(0.091)
    # element 1: g = 0.15 + 0.2 = 0.35, g2 = 0.075 + 0.1 = 0.175, x = 0.1225 / 0.175 = 0.7 -> lr
    e1 = p1 - 0.5 * 0.1 / math.sqrt(0.175)
    np.testing.assert_allclose(p["w"], [e0, e1], rtol=1e-13)
    np.testing.assert_allclose(opt.state["w"]["mem"], [1 + 1.5 * (1 - x0), 1 + 1.5 * (1 - 0.7)], rtol=1e-13)
    # the paper's printed m = 1 + m (1 - g^2) / (g2 + eps) would give mem = 8.5 after step 1, r = 1/9.5 at step 2
    assert not np.isclose(opt.state["w"]["mem"][1], 1 + 8.5 * (1 - 0.0625) / 0.175)


def test_adam_matches_torch():
    rng = np.random.default_rng(0)
    p = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    tp = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in p.items()}
    opt = Adam(lr=0.01)
    topt = torch.optim.Adam(list(tp.values()), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(6):
        g = {k: rng.standard_normal(v.shape) for k, v in p.items()}
        opt.step(p, g)
        for k in tp:
            tp[k].grad = torch.tensor(g[k])
        topt.step()
    for k in p:
        np.testing.assert_allclose(p[k], tp[k].detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["smorms3", "adam", "gd"])
def test_optimizer_state_round_trip(name):
    rng = np.random.default_rng(0)
    grads = [{"w": rng.standard_normal(4)} for _ in range(5)]
    p1 = {"w": np.ones(4)}
    o1 = make_optimizer(name, 0.01)
    for g in grads:
        o1.step(p1, g)
    p2 = {"w": np.ones(4)}
    o2 = make_optimizer(name, 0.01)
    for g in grads[:2]:
        o2.step(p2, g)
    sd = o2.state_dict()
    o3 = make_optimizer(name, 0.5)  # the hyperparameters come from the state too
    o3.load_state_dict(sd)
    for g in grads[2:]:
        o3.step(p2, g)
    np.testing.assert_array_equal(p1["w"], p2["w"])
    with pytest.raises(ValueError):
        make_optimizer("nope", 0.1)


def test_gradient_descent_step():
    p = {"w": np.array([1.0, 2.0], dtype=np.float32)}
    GradientDescent(0.5).step(p, {"w": np.array([1.0, -2.0])})
    assert p["w"].dtype == np.float32
    np.testing.assert_array_equal(p["w"], [0.5, 3.0])


def test_workspace_reuse_gives_the_same_pass():
    spec = _spec(hidden=(9, 7), recurrent=True, stochastic=True, reg=True, theta_upper=0.5)
    p, x, y, noise = _setup(spec)
    cfg = BackwardConfig()
    ws = Workspace()
    fresh = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64)
    forward_backward(p, x[::-1].copy(), y, spec, cfg, np.random.default_rng(3), None, dtype=np.float64, workspace=ws)
    again = forward_backward(p, x, y, spec, cfg, np.random.default_rng(0), noise, dtype=np.float64, workspace=ws)
    assert again[0] == fresh[0]
    for k in fresh[1]:
        np.testing.assert_array_equal(again[1][k], fresh[1][k])
    for a, b in zip(again[2]["spikes"], fresh[2]["spikes"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_classify_imports_neither_streamlit_nor_torch_until_a_pass():
    import subprocess
    import sys

    code = ("import sys, numpy as np, sgcore.classify as c\n"
            "print(any(m.split('.')[0] in ('torch', 'streamlit') for m in sys.modules))\n"
            "s = c.NetSpec(n_in=3, hidden=(4,), n_classes=2, steps=5)\n"
            "c.predict(c.init_params(s, np.random.default_rng(0), 20.0), np.ones((1, 5, 3)), s)\n"
            "print('torch' in sys.modules, 'streamlit' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "True", "False"]
