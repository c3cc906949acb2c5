"""Feed-forward LIF trainer (sgcore.snn): hand-worked dynamics, explicit gradients against torch.autograd on
a plain time-loop implementation, metrics against their definitions, initialisation, learning."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from sgcore.localzo import DISTRIBUTIONS, g2_estimate
from sgcore.shapes import SHAPES, surrogate_derivative
from sgcore.snn import BACKWARDS as BACKWARD_REGISTRY
from sgcore.snn import (
    PRESETS,
    TRAIN_PARAMS,
    BackwardMethod,
    History,
    LIFParams,
    TrainConfig,
    Trainer,
    _sd_inplace,
    alpha_kernel,
    default_target,
    fano_factor,
    fluctuation_sigma,
    forward_backward,
    l2_distance,
    lif_trace,
    poisson_input,
    preset,
    registered_backward,
    train,
    unregister_backward,
    van_rossum_distance,
)

LM = math.exp(-0.1)  # lambda_mem at dt = 1 ms, tau_mem = 10 ms
LS = math.exp(-0.2)  # lambda_syn at tau_syn = 5 ms


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The trainer's small matmuls gain nothing from a second thread, and OpenMP threads spinning on a loaded
    2-core machine can make an epoch 10-40x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- (a) dynamics of one neuron, by hand ---------------------------------------------------------
def _hand_trace(w, steps, reset):
    """Eqs. 21-22 with one input spiking every step, written out step by step."""
    i, u, us, spikes = 0.0, 0.0, [], []
    for n in range(steps):
        s = 1.0 if u > 1.0 else 0.0
        us.append(u)
        if s:
            spikes.append(n)
        if reset == "same":
            u_new = LM * u * (1 - s) + (1 - LM) * i
        else:
            u_new = (LM * u + (1 - LM) * i) * (1 - s)
        i = LS * i + w * 1.0
        u = u_new
    return us, spikes


def test_lif_trace_first_steps_by_hand():
    d = lif_trace(0.5, 1, 12, "same")
    i1, i2 = 0.5, 0.5 * LS + 0.5
    assert d["current"][:3] == pytest.approx([0.0, i1, i2], abs=1e-15)
    u2 = (1 - LM) * i1  # U[1] = (1 - lm) I[0] = 0
    u3 = LM * u2 + (1 - LM) * i2
    assert d["membrane"][:4] == pytest.approx([0.0, 0.0, u2, u3], abs=1e-15)
    assert d["membrane"][2] == pytest.approx(0.0475813, abs=1e-7)
    assert d["membrane"][3] == pytest.approx(0.1296, abs=1e-4)


@pytest.mark.parametrize("reset", ["same", "next"])
def test_lif_trace_reset_variants_by_hand(reset):
    d = lif_trace(0.5, 1, 40, reset)
    us, spikes = _hand_trace(0.5, 40, reset)
    assert d["membrane"] == pytest.approx(us, abs=1e-12)
    assert d["spike_steps"] == spikes
    # the first spike: U[10] = 1.0347 > 1 (U[9] = 0.9014); the reset variants differ right after it
    assert spikes[0] == 10 and d["membrane"][9] < 1 < d["membrane"][10]
    i10 = d["current"][10]
    if reset == "same":  # U[11] = lm U[10] * 0 + (1 - lm) I[10]
        assert d["membrane"][11] == pytest.approx((1 - LM) * i10, abs=1e-12)
        assert spikes == [10, 16, 21, 26, 31, 36]
    else:  # U[11] = (...) * 0
        assert d["membrane"][11] == 0.0
        assert d["membrane"][12] == pytest.approx((1 - LM) * d["current"][11], abs=1e-12)
        assert spikes == [10, 16, 22, 28, 34]


def test_lif_trace_input_period_and_validation():
    d = lif_trace(2.0, 3, 8)
    assert d["current"][:5] == pytest.approx([0.0, 2.0, 2 * LS, 2 * LS * LS, 2 * LS**3 + 2.0])
    with pytest.raises(ValueError, match="input_period"):
        lif_trace(0.5, 0, 10)
    with pytest.raises(ValueError, match="reset"):
        lif_trace(0.5, 1, 10, reset="later")


@pytest.mark.parametrize("reset", ["same", "next"])
def test_network_engine_matches_single_neuron_trace(reset):
    """A 1-1-1 network: its hidden neuron is the single neuron of lif_trace."""
    cfg = TrainConfig(n_in=1, n_hidden=1, n_out=1, n_steps=40, reset=reset)
    x = np.ones((40, 1))
    rec = forward_backward(cfg, np.array([[0.5]]), np.array([[1.0]]), x, np.zeros((1, 40)))
    d = lif_trace(0.5, 1, 40, reset)
    np.testing.assert_allclose(rec["U_hid"][:, 0, 0], d["membrane"], atol=1e-12)
    assert list(np.flatnonzero(rec["S_hid"][:, 0, 0])) == d["spike_steps"]


# --- (b) explicit gradients against autograd ----------------------------------------------------
class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u_minus_theta, noise_threshold, sd):  # noqa: D102
        ctx.save_for_backward(sd)
        return (u_minus_theta > noise_threshold).to(u_minus_theta.dtype)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        (sd,) = ctx.saved_tensors
        return grad * sd, None, None


def _sd_reference(cfg, v, beta_layer, z_n):
    """SD (or LocalZO estimate) at v = U - theta, from the registry / sgcore.localzo (not the engine)."""
    if cfg.backward == "localzo":
        return g2_estimate(v, np.moveaxis(z_n, 0, -1), cfg.localzo_delta, int(cfg.localzo_alpha))
    beta = beta_layer if (cfg.match_escape and cfg.network == "stochastic") else cfg.beta_sg
    scale = None if cfg.scale == "auto" else cfg.scale
    sd = surrogate_derivative(v, cfg.shape, beta, scale=scale)
    if cfg.backward == "sparsegrad":
        sd = sd * (np.abs(v) < cfg.sparse_threshold)
    return sd


def _reference(cfg, w1, w2, x, target, uniforms, z):
    """Straightforward float64 time loop, gradients by torch.autograd."""
    lm, ls = math.exp(-cfg.dt / cfg.tau_mem), math.exp(-cfg.dt / cfg.tau_syn)
    W1 = torch.tensor(w1, requires_grad=True)
    W2 = torch.tensor(w2, requires_grad=True)
    X = torch.tensor(x)
    B = cfg.batch

    def layer(inp, W, beta, r, zl):
        n_post = W.shape[0]
        i = torch.zeros(B, n_post, dtype=torch.float64)
        u = torch.zeros(B, n_post, dtype=torch.float64)
        spikes, us = [], []
        for n in range(cfg.n_steps):
            v = u - 1.0
            if cfg.network == "stochastic":
                p = torch.sigmoid(beta * v.detach())
                thr = torch.where(torch.tensor(r[n]) < p, -math.inf, math.inf)  # spike iff r < sigma(beta v)
            else:
                thr = torch.zeros_like(v)
            sd = torch.tensor(_sd_reference(cfg, v.detach().numpy(), beta, None if zl is None else zl[:, n]))
            s = _Spike.apply(v, thr, sd)
            spikes.append(s)
            us.append(u)
            s_r = s.detach() if not cfg.backprop_reset else s
            if cfg.reset == "same":
                u_next = lm * u * (1 - s_r) + (1 - lm) * i
            else:
                u_next = (lm * u + (1 - lm) * i) * (1 - s_r)
            i = ls * i + inp[n] @ W.T
            u = u_next
        return torch.stack(spikes), torch.stack(us)

    inp = X[:, None, :].expand(cfg.n_steps, B, X.shape[1])
    s_h, u_h = layer(inp, W1, cfg.beta_hid, uniforms[0] if uniforms else None, z[0] if z else None)
    s_o, u_o = layer(s_h, W2, cfg.beta_out, uniforms[1] if uniforms else None, z[1] if z else None)
    tgt = torch.tensor(target.T)[:, None, :]
    loss = ((s_o - tgt) ** 2).sum() / B
    loss.backward()
    return {"loss": loss.item(), "g1": W1.grad.numpy(), "g2": W2.grad.numpy(), "S_hid": s_h.detach().numpy(),
            "S_out": s_o.detach().numpy(), "U_hid": u_h.detach().numpy(), "U_out": u_o.detach().numpy()}


def _problem(network, seed=4, T=30, n_in=8, n_h=6, n_o=5, trials=3, **kw):
    cfg = TrainConfig(network=network, n_in=n_in, n_hidden=n_h, n_out=n_o, n_steps=T, trials=trials,
                      input_rate=200.0, **kw)
    rng = np.random.default_rng(seed)
    x = poisson_input(n_in, T, 200.0, 1.0, seed).astype(np.float64)
    w1 = rng.normal(0, 2.5, (n_h, n_in))
    w2 = rng.normal(0.5, 2.5, (n_o, n_h))
    target = (rng.random((n_o, T)) < 0.3).astype(np.float64)
    B = cfg.batch
    uniforms = (rng.random((T, B, n_h)), rng.random((T, B, n_o))) if network == "stochastic" else None
    m = cfg.localzo_m
    z = None
    if cfg.backward == "localzo":
        dist = DISTRIBUTIONS[cfg.localzo_dist]
        z = (dist.sample_abs((m, T, B, n_h), rng), dist.sample_abs((m, T, B, n_o), rng))
    return cfg, w1, w2, x, target, uniforms, z


BACKWARDS = [
    dict(backward="sg", shape="superspike"),
    dict(backward="sg", shape="sigmoid", scale="density", beta_sg=4.0),
    dict(backward="sg", shape="triangular", beta_sg=2.0),
    dict(backward="sg", shape="gaussian", scale="peak", beta_sg=3.0),
    dict(backward="localzo", localzo_delta=0.3, localzo_m=3, localzo_dist="normal"),
    dict(backward="localzo", localzo_delta=0.5, localzo_m=2, localzo_dist="uniform", localzo_alpha="-1"),
    dict(backward="sparsegrad", shape="superspike", sparse_threshold=0.4),
]
BW_IDS = ["sg-superspike", "sg-sigmoid", "sg-triangular", "sg-gaussian", "localzo-normal", "localzo-uniform-a-1",
          "sparsegrad"]


@pytest.mark.parametrize("network", ["deterministic", "stochastic"])
@pytest.mark.parametrize("reset", ["same", "next"])
@pytest.mark.parametrize("backprop_reset", [False, True])
@pytest.mark.parametrize("bw", BACKWARDS, ids=BW_IDS)
def test_explicit_gradients_match_autograd(network, reset, backprop_reset, bw):
    cfg, w1, w2, x, target, uniforms, z = _problem(network, reset=reset, backprop_reset=backprop_reset, **bw)
    ref = _reference(cfg, w1, w2, x, target, uniforms, z)
    got = forward_backward(cfg, w1, w2, x, target, uniforms=uniforms, z=z, dtype=np.float64)
    # the forward pass is the same, with activity in both layers
    np.testing.assert_array_equal(got["S_hid"], ref["S_hid"])
    np.testing.assert_array_equal(got["S_out"], ref["S_out"])
    np.testing.assert_allclose(got["U_hid"], ref["U_hid"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["U_out"], ref["U_out"], rtol=1e-12, atol=1e-12)
    for key in ("S_hid", "S_out"):
        assert 0.05 < ref[key].mean() < 0.95
    assert got["l2"] == pytest.approx(ref["loss"], abs=1e-12)
    assert np.abs(ref["g1"]).max() > 1e-6 and np.abs(ref["g2"]).max() > 1e-6
    np.testing.assert_allclose(got["grad_w2"], ref["g2"], rtol=1e-9, atol=1e-12 * np.abs(ref["g2"]).max())
    np.testing.assert_allclose(got["grad_w1"], ref["g1"], rtol=1e-9, atol=1e-12 * np.abs(ref["g1"]).max())


def test_stochastic_sd_matches_escape_noise_when_asked():
    """match_escape: each layer's SD is sigma'_beta of its own escape noise (beta_hid, beta_out)."""
    cfg, w1, w2, x, target, uniforms, z = _problem("stochastic", shape="sigmoid", scale="density",
                                                   match_escape=True, beta_hid=3.0, beta_out=7.0)
    ref = _reference(cfg, w1, w2, x, target, uniforms, z)
    got = forward_backward(cfg, w1, w2, x, target, uniforms=uniforms, dtype=np.float64)
    np.testing.assert_allclose(got["grad_w1"], ref["g1"], rtol=1e-9, atol=1e-12 * np.abs(ref["g1"]).max())
    v = got["U_out"] - 1.0
    sig = 1 / (1 + np.exp(-7.0 * v))
    np.testing.assert_allclose(got["sd_out"], 7.0 * sig * (1 - sig), rtol=1e-12, atol=1e-300)


def test_float32_engine_close_to_float64():
    cfg, w1, w2, x, target, uniforms, z = _problem("deterministic")
    g64 = forward_backward(cfg, w1, w2, x, target, dtype=np.float64)
    g32 = forward_backward(cfg, w1, w2, x, target, dtype=np.float32)
    np.testing.assert_array_equal(g32["S_out"], g64["S_out"])
    np.testing.assert_allclose(g32["grad_w1"], g64["grad_w1"], rtol=1e-3, atol=1e-4 * np.abs(g64["grad_w1"]).max())


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("scale", ["auto", "density", "peak", "gamma"])
def test_fast_sd_kernels_match_registry(name, scale):
    """The trainer's SD is the registry's, with the config's scaling, dampening and the shape's own q."""
    v = np.linspace(-3, 3, 601)
    out = v.copy()
    cfg = TrainConfig(shape=name, scale=scale, gamma=0.3, q=2.5)
    _sd_inplace(out, cfg, 7.0)
    params = SHAPES[name].pick_params(q=2.5)
    ref = surrogate_derivative(v, name, 7.0, scale=None if scale == "auto" else scale, gamma=0.3, **params)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-300)


def test_trainer_uses_the_shapes_own_q_and_the_dampening():
    v = np.linspace(-3, 3, 601)
    a, b = v.copy(), v.copy()
    _sd_inplace(a, TrainConfig(shape="q_pseudospike", q=1.2), 7.0)
    _sd_inplace(b, TrainConfig(shape="q_pseudospike", q=4.0), 7.0)
    assert not np.allclose(a, b)  # q changes the tails the trainer back-propagates through
    c = v.copy()
    _sd_inplace(c, TrainConfig(shape="superspike", scale="gamma", gamma=0.25), 10.0)
    np.testing.assert_allclose(c, 0.25 / (2 * 10.0 / 2 * np.abs(v) + 1) ** 2, rtol=1e-14)  # gamma f(s v), s = beta/2


def test_paper_sd_conventions():
    """Table 2: SuperSpike h(x) = 1/(beta|x| + 1)^2 (deterministic); stochastic: sigma'(x) of the escape noise."""
    v = np.linspace(-1, 1, 11)
    out = v.copy()
    _sd_inplace(out, TrainConfig(shape="superspike"), 10.0)
    np.testing.assert_allclose(out, 1 / (10 * np.abs(v) + 1) ** 2, rtol=1e-14)
    out = v.copy()
    _sd_inplace(out, TrainConfig(shape="sigmoid"), 10.0)
    sig = 1 / (1 + np.exp(-10 * v))
    np.testing.assert_allclose(out, 10 * sig * (1 - sig), rtol=1e-12)


def test_active_fraction_counts_nonzero_backward_entries():
    cfg, w1, w2, x, target, uniforms, z = _problem("stochastic", backward="sparsegrad", sparse_threshold=0.3)
    got = forward_backward(cfg, w1, w2, x, target, uniforms=uniforms)
    v = np.concatenate([(got["U_hid"] - 1).ravel(), (got["U_out"] - 1).ravel()])
    assert got["active_fraction"] == pytest.approx(np.mean(np.abs(v) < 0.3))
    assert 0 < got["active_fraction"] < 1
    cfg2 = TrainConfig(**{**cfg.as_dict(), "backward": "sg"})
    assert forward_backward(cfg2, w1, w2, x, target, uniforms=uniforms)["active_fraction"] == 1.0


# --- (c) metrics -----------------------------------------------------------------------------------
def test_l2_distance_by_hand():
    tgt = np.array([[1, 0, 0, 1], [0, 0, 1, 0]])
    out = np.array([[1, 1, 0, 0], [0, 0, 1, 0]])
    assert l2_distance(out, tgt) == 2.0
    trials = np.stack([out, tgt, 1 - tgt])
    assert l2_distance(trials, tgt) == pytest.approx((2 + 0 + 8) / 3)


def test_alpha_kernel_definition_and_equal_taus():
    k = alpha_kernel(40)
    t = np.arange(40.0)
    np.testing.assert_allclose(k, (np.exp(-t / 5) - np.exp(-t / 10)) / (1 - 10 / 5), rtol=1e-12, atol=1e-15)
    assert k[0] == 0 and np.argmax(k) == 7  # peak at tau ln 2 * ... = 6.93 ms
    keq = alpha_kernel(30, LIFParams(tau_mem=8.0, tau_syn=8.0))
    t = np.arange(30.0)
    np.testing.assert_allclose(keq, t / 8 * np.exp(-t / 8), rtol=1e-12)


def test_van_rossum_by_hand():
    tgt = np.zeros((1, 6))
    tgt[0, 0] = 1.0
    out = np.zeros((1, 6))
    a = [(math.exp(-n / 5) - math.exp(-n / 10)) / (1 - 2) for n in range(6)]
    assert van_rossum_distance(out, tgt) == pytest.approx(0.5 * sum(x * x for x in a), rel=1e-12)
    # a spike one step off costs less than one five steps off; identical trains cost 0
    tgt = np.zeros((1, 60))
    tgt[0, 10] = 1
    near, far = np.zeros_like(tgt), np.zeros_like(tgt)
    near[0, 11] = 1
    far[0, 15] = 1
    assert 0 < van_rossum_distance(near, tgt) < van_rossum_distance(far, tgt)
    assert van_rossum_distance(tgt, tgt) == 0.0
    # dt enters as the integration step
    assert van_rossum_distance(near, tgt, LIFParams(dt=2.0, tau_mem=20.0, tau_syn=10.0)) == pytest.approx(
        2 * van_rossum_distance(near, tgt), rel=1e-12)


@pytest.mark.parametrize("taus", [(10.0, 5.0), (6.0, 6.0)])
def test_engine_van_rossum_matches_definition(taus):
    cfg, w1, w2, x, target, uniforms, z = _problem("stochastic", tau_mem=taus[0], tau_syn=taus[1])
    got = forward_backward(cfg, w1, w2, x, target, uniforms=uniforms)
    out = got["S_out"].transpose(1, 2, 0)  # (trials, n_out, T)
    assert got["van_rossum"] == pytest.approx(van_rossum_distance(out, target, cfg.lif), rel=1e-10)
    assert got["l2"] == pytest.approx(l2_distance(out, target))


@pytest.mark.parametrize("taus", [(5.0, 5.02), (5.02, 5.0), (6.0, 6.0), (10.0, 5.0)])
def test_float32_engine_van_rossum_stable_for_close_taus(taus):
    """Issue 16 item 7: float32 lost 7e-5 (relative) at 5 / 5.02 ms to the difference of the two filters."""
    cfg, w1, w2, x, target, uniforms, z = _problem("stochastic", T=100, tau_mem=taus[0], tau_syn=taus[1])
    got = forward_backward(cfg, w1, w2, x, target, uniforms=uniforms, dtype=np.float32)
    out = got["S_out"].transpose(1, 2, 0)
    assert got["van_rossum"] == pytest.approx(van_rossum_distance(out, target, cfg.lif), rel=2e-6)


def test_fano_factor_by_hand():
    trials = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0]])  # 3 trials, 3 bins
    # bin 0: mean 2/3, var 2/9 -> 1/3; bin 1: mean 1/3, var 2/9 -> 2/3; bin 2: no spike, excluded
    assert fano_factor(trials) == pytest.approx(0.5)
    assert fano_factor(np.ones((4, 5))) == 0.0  # deterministic spikes
    assert math.isnan(fano_factor(np.zeros((4, 5))))
    # moving average over 2 steps: windows [0,1] -> (.5, 1, 0): mean 1/2, var 1/6 -> 1/3; [1,2] -> (0, .5, 0):
    # mean 1/6, var 1/18 -> 1/3
    assert fano_factor(trials, window=2) == pytest.approx(1 / 3)
    # many neurons at once: (trials, steps, neurons)
    both = np.stack([trials, 1 - trials], axis=-1)
    per = [fano_factor(trials), fano_factor(1 - trials)]
    assert fano_factor(both) == pytest.approx((per[0] * 2 + per[1] * 3) / 5)
    with pytest.raises(ValueError, match="window"):
        fano_factor(trials, window=4)


def test_fano_of_binary_bins_is_one_minus_mean_and_at_most_one():
    rng = np.random.default_rng(0)
    s = (rng.random((10, 50, 7)) < 0.2).astype(float)
    m = s.mean(axis=0)
    assert fano_factor(s) == pytest.approx(np.mean(1 - m[m > 0]))
    assert fano_factor(s) <= 1.0


def test_trainer_fano_matches_definition():
    cfg = TrainConfig(network="stochastic", n_in=30, n_hidden=20, n_out=10, n_steps=40, trials=6, lr=1e-3,
                      optimizer="adam", shape="sigmoid", input_rate=100.0)
    tr = Trainer(cfg, default_target(10, 40))
    tr.step(1)
    hid = np.stack([tr.trial_raster("hidden", i) for i in range(20)], axis=-1)
    out = np.stack([tr.trial_raster("output", i) for i in range(10)], axis=-1)
    assert tr.history.fano_hidden[0] == pytest.approx(fano_factor(hid))
    assert tr.history.fano_output[0] == pytest.approx(fano_factor(out), nan_ok=True)
    tr.set(fano_window=10)
    tr.step(1)
    hid = np.stack([tr.trial_raster("hidden", i) for i in range(20)], axis=-1)
    assert tr.history.fano_hidden[1] == pytest.approx(fano_factor(hid, window=10))


# --- (d) initialisation and input ------------------------------------------------------------------
def test_fluctuation_sigma_formula():
    eps_hat = 0.005**2 / (2 * (0.005 + 0.010))  # seconds
    assert fluctuation_sigma(200, LIFParams()) == pytest.approx(1 / math.sqrt(200 * 50 * eps_hat), rel=1e-12)
    assert fluctuation_sigma(200) == pytest.approx(0.34641016, rel=1e-7)
    assert fluctuation_sigma(50, LIFParams(tau_mem=20.0, tau_syn=10.0), nu=10.0, sigma_u=2.0) == pytest.approx(
        2 / math.sqrt(50 * 10 * 0.01**2 / (2 * 0.03)), rel=1e-12)


def test_fluctuation_init_gives_unit_membrane_fluctuations():
    """Campbell: with the init, the free membrane (no threshold) fluctuates with s.d. about sigma_U = 1."""
    lif = LIFParams()
    n_in, T = 400, 4000
    x = poisson_input(n_in, T, 50.0, 1.0, 1).astype(np.float64)
    w = np.random.default_rng(2).normal(0, fluctuation_sigma(n_in, lif), n_in)
    i = u = 0.0
    us = []
    for n in range(T):
        us.append(u)
        u = lif.lam_mem * u + (1 - lif.lam_mem) * i
        i = lif.lam_syn * i + w @ x[n]
    sd = np.std(np.array(us[200:]) - np.mean(us[200:]))
    assert 0.8 < sd < 1.25


def test_trainer_weights_use_fluctuation_sigma():
    cfg = TrainConfig()
    tr = Trainer(cfg, default_target())
    w1, w2 = tr.weights
    assert w1.shape == (200, 200) and w2.shape == (200, 200)
    assert np.std(w1) == pytest.approx(fluctuation_sigma(200), rel=0.02)
    assert abs(np.mean(w1)) < 0.01


def test_poisson_input_rate_and_type():
    x = poisson_input(200, 1000, 50.0, 1.0, seed=4)
    assert x.shape == (1000, 200) and x.dtype == np.float32
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert x.mean() == pytest.approx(0.05, rel=0.03)
    np.testing.assert_array_equal(x, poisson_input(200, 1000, 50.0, 1.0, seed=4))


def test_default_target_density():
    t = default_target(200, 189)
    assert t.shape == (200, 189) and set(np.unique(t)) == {0.0, 1.0}
    assert t.mean() == pytest.approx(0.25, abs=0.01)


# --- (e) learning ---------------------------------------------------------------------------------
@pytest.mark.parametrize("network", ["deterministic", "stochastic"])
def test_training_reduces_loss(network):
    """Adam, 100-100-40 neurons, 100 steps, 400 epochs (fixed seed): both networks learn the default target."""
    cfg = preset("quick", network, n_in=100, n_hidden=100, n_out=40, n_steps=100, lr=3e-3, seed=1)
    tr = Trainer(cfg, default_target(40, 100))
    tr.step(400)
    h = tr.history
    assert np.mean(h.l2[-20:]) < 0.7 * np.mean(h.l2[:5])
    assert np.mean(h.van_rossum[-20:]) < 0.5 * np.mean(h.van_rossum[:5])
    if network == "stochastic":  # the output becomes more deterministic (Fig. 6D)
        assert np.mean(h.fano_output[-20:]) < 0.8 * np.mean(h.fano_output[:5])


def test_plain_gradient_descent_reduces_loss():
    cfg = TrainConfig(n_in=100, n_hidden=100, n_out=40, n_steps=100, lr=2e-3, hidden_lr_factor=0.1, seed=1)
    tr = Trainer(cfg, default_target(40, 100))
    tr.step(400)
    assert np.mean(tr.history.l2[-20:]) < 0.92 * np.mean(tr.history.l2[:5])
    assert np.mean(tr.history.van_rossum[-20:]) < 0.92 * np.mean(tr.history.van_rossum[:5])


# --- API ------------------------------------------------------------------------------------------
def test_config_validation_names_parameter():
    with pytest.raises(ValueError, match="n_hidden"):
        TrainConfig(n_hidden=401)
    with pytest.raises(ValueError, match="trials"):
        TrainConfig(trials=0)
    with pytest.raises(ValueError, match="shape"):
        TrainConfig(shape="boxcar")
    with pytest.raises(ValueError, match="localzo_dist"):
        TrainConfig(localzo_dist="cauchy")
    with pytest.raises(ValueError, match="fano_window"):
        TrainConfig(n_steps=5, fano_window=10)
    assert TrainConfig(localzo_alpha=-1).localzo_alpha == "-1"
    assert {s.name for s in TRAIN_PARAMS} == set(TrainConfig().as_dict())


def test_presets():
    for name in PRESETS:
        for network in ("deterministic", "stochastic"):
            cfg = preset(name, network)
            assert cfg.network == network
    paper = preset("paper", "deterministic")
    assert (paper.n_in, paper.n_hidden, paper.n_out, paper.n_steps) == (200, 200, 200, 189)
    assert paper.lr == 1e-4 and paper.lr * paper.hidden_lr_factor == pytest.approx(1e-5)
    assert paper.optimizer == "gd" and paper.shape == "superspike" and paper.beta_sg == 10
    st = preset("paper", "stochastic")
    assert st.trials == 10 and st.lr == 1e-5 and st.hidden_lr_factor == 1 and (st.beta_hid, st.beta_out) == (10, 100)
    assert TrainConfig.preset("quick", "stochastic", seed=5).seed == 5
    with pytest.raises(ValueError, match="preset"):
        preset("fast")


def test_trainer_set_changes_settings_mid_run_without_resetting_weights():
    cfg = preset("quick", "stochastic", n_in=20, n_hidden=15, n_out=10, n_steps=30, trials=4)
    tr = Trainer(cfg, default_target(10, 30))
    tr.step(3)
    w_before = tr.weights
    tr.set(beta_sg=3.0, shape="superspike", lr=1e-3, beta_out=50.0, backward="localzo", localzo_m=2)
    np.testing.assert_array_equal(tr.weights[0], w_before[0])
    assert tr.cfg.beta_sg == 3.0 and tr.cfg.backward == "localzo" and tr.epoch == 3
    tr.step(2)
    tr.set(optimizer="gd", trials=7, backward="sparsegrad", backprop_reset=True, reset="next")
    assert tr._adam is None
    tr.step(2)
    assert tr.trial_raster("output", 3).shape == (7, 30)
    assert tr.epoch == 7 and len(tr.history.l2) == 7
    with pytest.raises(ValueError, match="beta_sg"):
        tr.set(beta_sg=-1.0)
    with pytest.raises(ValueError, match="n_hidden"):
        tr.set(n_hidden=20)
    with pytest.raises(ValueError, match="unknown"):
        tr.set(bogus=1)


def test_trainer_last_pass_and_rasters():
    cfg = preset("quick", "deterministic", n_in=20, n_hidden=15, n_out=10, n_steps=30)
    tgt = default_target(10, 30)
    tr = Trainer(cfg, tgt)
    assert tr.last is None
    tr.step(2)
    last = tr.last
    assert last.epoch == 1 and last.output.shape == (10, 30) and last.hidden.shape == (15, 30)
    assert last.l2 == l2_distance(last.output, tgt) == tr.history.l2[-1]
    assert tr.trial_raster("hidden", 0).shape == (1, 30)
    assert math.isnan(tr.history.fano_hidden[-1])
    assert 0 < tr.state_bytes() <= Trainer.estimate_bytes(cfg)
    with pytest.raises(ValueError, match="layer"):
        tr.trial_raster("input", 0)
    with pytest.raises(ValueError, match="target"):
        Trainer(cfg, np.zeros((10, 31)))
    with pytest.raises(ValueError, match="input"):
        Trainer(cfg, tgt, input=np.zeros((20, 30)))


def test_history_is_capped_by_decimation():
    h = History(cap=8)
    for e in range(40):
        if h.wants(e):
            h.append(epoch=e, l2=float(e), van_rossum=0.0, fano_hidden=math.nan, fano_output=math.nan,
                     active_fraction=1.0, seconds=float(e))
    assert len(h) <= 8 and h.epoch[0] == 0 and h.epoch == sorted(h.epoch)
    assert np.all(np.diff(h.epoch) == h.stride)
    assert 40 - h.epoch[-1] <= h.stride


def test_train_for_the_cli():
    cfg = preset("quick", "stochastic", n_in=20, n_hidden=15, n_out=10, n_steps=30, trials=3)
    res = train(cfg, epochs=5)
    assert set(res) == {"l2", "van_rossum", "fano_hidden", "fano_output", "active_fraction", "epochs_per_second"}
    assert all(len(res[k]) == 5 for k in res if k != "epochs_per_second") and res["epochs_per_second"] > 0
    res = train(preset("quick", "deterministic", n_in=20, n_hidden=15, n_out=10, n_steps=30), epochs=3)
    assert "fano_hidden" not in res and len(res["l2"]) == 3


def test_reproducible_with_seed():
    cfg = preset("quick", "stochastic", n_in=20, n_hidden=15, n_out=10, n_steps=30, trials=3, seed=9)
    a, b = train(cfg, epochs=4), train(cfg, epochs=4)
    assert a["l2"] == b["l2"] and a["fano_hidden"] == b["fano_hidden"]


def test_import_is_lazy_and_leaves_threads_alone():
    code = ("import sys; import sgcore; assert 'sgcore.snn' not in sys.modules; "
            "import sgcore.snn as s; s.lif_trace(0.5, 1, 10); s.preset('paper'); assert 'torch' not in sys.modules; "
            "import torch; n = torch.get_num_threads(); s.train(s.preset('quick', n_in=5, n_hidden=5, n_out=5, "
            "n_steps=10), epochs=2); assert torch.get_num_threads() == n; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "ok"


# --- backward methods are registry records ----------------------------------------------------------
def _double_sg(v, cfg, *, beta, z, rng, scratch):
    """A scratch backward method: twice the surrogate derivative."""
    BACKWARD_REGISTRY["sg"].estimate(v, cfg, beta=beta, z=z, rng=rng, scratch=scratch)
    v *= v.dtype.type(2.0)


def test_scratch_backward_method_is_one_definition():
    """Registering one BackwardMethod makes it a config choice the engine and the Trainer use: with the SD
    doubled, dL/dW2 doubles and dL/dW1 (two SD factors) quadruples; removing it removes the choice."""
    cfg, w1, w2, x, target, _, _ = _problem("deterministic")
    base = forward_backward(cfg, w1, w2, x, target)
    spec = {s.name: s for s in TRAIN_PARAMS}["backward"]
    with registered_backward(BackwardMethod("double_sg", "Twice the SD", _double_sg)):
        assert "double_sg" in spec.choice_list
        rec = forward_backward(TrainConfig(**{**cfg.as_dict(), "backward": "double_sg"}), w1, w2, x, target)
        assert np.abs(base["grad_w1"]).max() > 0
        np.testing.assert_allclose(rec["grad_w2"], 2.0 * base["grad_w2"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(rec["grad_w1"], 4.0 * base["grad_w1"], rtol=1e-12, atol=1e-15)
        small = dict(n_in=20, n_hidden=20, n_out=20, n_steps=40)
        tr = Trainer(preset("quick", "deterministic", backward="double_sg", **small), default_target(20, 40))
        w_before = tr.weights
        tr.step(5)
        assert tr.epoch == 5 and np.all(np.isfinite(tr.history.l2))
        assert not np.array_equal(w_before[1], tr.weights[1])
        assert Trainer.estimate_bytes(tr.cfg) > 0
    assert "double_sg" not in BACKWARD_REGISTRY and "double_sg" not in spec.choice_list
    with pytest.raises(ValueError, match="double_sg"):
        TrainConfig(backward="double_sg")
    with pytest.raises(ValueError, match="built in"):
        unregister_backward("sg")


# --- plain-argument checks go through the shared validators (issue 15) ---------------------------------
def _small_trainer() -> Trainer:
    cfg = TrainConfig(n_in=5, n_hidden=4, n_out=3, n_steps=10)
    return Trainer(cfg, default_target(3, 10))


def _stepped_trainer() -> Trainer:
    tr = _small_trainer()
    tr.step(1)
    return tr


_GOOD_CALLS = {
    "poisson_input": (poisson_input, dict(n_in=3, n_steps=4, rate_hz=50.0, dt=1.0, seed=0)),
    "fluctuation_sigma": (fluctuation_sigma, dict(n_pre=10, nu=50.0, sigma_u=1.0)),
    "default_target": (default_target, dict(n_out=4, n_steps=8, density=0.25)),
    "alpha_kernel": (alpha_kernel, dict(n=5)),
    "fano_factor": (lambda window: fano_factor(np.ones((2, 6)), window), dict(window=2)),
    "Trainer": (lambda history_cap: Trainer(TrainConfig(n_in=5, n_hidden=4, n_out=3, n_steps=10),
                                            default_target(3, 10), history_cap=history_cap), dict(history_cap=5)),
    "Trainer.step": (lambda n_epochs: _small_trainer().step(n_epochs), dict(n_epochs=1)),
    "Trainer.trial_raster": (lambda neuron: _stepped_trainer().trial_raster("output", neuron), dict(neuron=0)),
    "train": (lambda epochs: train(TrainConfig(n_in=5, n_hidden=4, n_out=3, n_steps=10), epochs=epochs),
              dict(epochs=1)),
}
_CHECKED = [(site, name) for site, (_, kw) in _GOOD_CALLS.items() for name in kw if name != "seed"]


@pytest.mark.parametrize("bad", [True, math.nan, -1], ids=["true", "nan", "negative"])
@pytest.mark.parametrize("site,name", _CHECKED, ids=[f"{s}-{n}" for s, n in _CHECKED])
def test_plain_arguments_refuse_booleans_nan_and_negatives_naming_the_parameter(site, name, bad):
    fn, good = _GOOD_CALLS[site]
    fn(**good)  # the good call works
    with pytest.raises(ValueError, match=rf"^{name} must be (an integer|a finite number)[^;]*(\[|\(|>)[^;]*; got "):
        fn(**{**good, name: bad})


def test_counts_refuse_fractions_and_name_their_range():
    with pytest.raises(ValueError, match=r"window must be an integer in \[1, 6\]; got 7"):
        fano_factor(np.ones((2, 6)), 7)
    with pytest.raises(ValueError, match=r"neuron must be an integer in \[0, 2\]; got 3"):
        _stepped_trainer().trial_raster("output", 3)
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1; got 2.5"):
        train(TrainConfig(n_in=5, n_hidden=4, n_out=3, n_steps=10), epochs=2.5)
    with pytest.raises(ValueError, match=r"density must be a finite number in \(0, 1\); got 1.0"):
        default_target(4, 8, 1.0)
    assert poisson_input(3, 4, 0.0, 1.0, 0).sum() == 0  # rate 0 is allowed: [0, inf)
