"""The one LIF step (sgcore.lif): the spike convention at threshold, escape noise from the registry, and the
trainer's fast engine against a plain loop over lif_step."""

import math

import numpy as np
import pytest
import torch
from scipy import special

from sgcore.escape import ESCAPE_FAMILIES
from sgcore.lif import (
    SPIKE_AT_THRESHOLD,
    LIFParams,
    LIFState,
    escape_log_probability,
    escape_probability,
    escape_shape,
    escape_threshold,
    lif_step,
    spike,
)
from sgcore.shapes import H0
from sgcore.snn import TrainConfig, forward_backward, poisson_input


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- the convention at threshold (STYLE.md item 8) -------------------------------------------------
def test_deterministic_spike_at_threshold_is_zero():
    assert SPIKE_AT_THRESHOLD == 0.0
    assert spike(1.0, 1.0) == 0.0
    assert spike(np.nextafter(1.0, 2.0), 1.0) == 1.0
    assert spike(np.float32(0.5), 0.5).dtype == np.float32
    for reset in ("same", "next"):
        s, st = lif_step(LIFState(1.0, 0.3), 0.0, LIFParams(theta=1.0, reset=reset))
        assert s == 0.0 and st.u > 0.0  # no spike, no reset


@pytest.mark.parametrize("family", ["sigmoid", "erf"])
def test_median_escape_noise_is_the_deterministic_neuron(family):
    """F^{-1}(1/2) = 0 for an even shape: the noisy threshold at r = 1/2 is theta, so H(0) = 0 there too."""
    assert escape_threshold(0.5, 7.0, 1.0, family) == pytest.approx(1.0, abs=1e-15)
    assert escape_probability(0.0, 7.0, family) == pytest.approx(H0, abs=1e-15)


@pytest.mark.parametrize("family", list(ESCAPE_FAMILIES))
@pytest.mark.parametrize("v", [0.0, 0.15, -0.3])
def test_noisy_threshold_fires_with_the_escape_probability(family, v):
    """Monte Carlo: P(U > theta + F^{-1}(r)/s) = F(s (U - theta)); at threshold the mean spike is H0 = 1/2
    for the even families (tolerance: 5 standard errors)."""
    n, beta, theta = 200_000, 5.0, 1.0
    r = np.random.default_rng(3).random(n)
    spikes = spike(np.full(n, theta + v), escape_threshold(r, beta, theta, family))
    p = float(escape_probability(v, beta, family))
    se = math.sqrt(p * (1 - p) / n)
    assert abs(spikes.mean() - p) < 5 * se
    if v == 0.0 and escape_shape(family).symmetric:
        assert p == pytest.approx(H0)


def test_sigmoid_escape_is_expit_and_its_log_is_exact():
    v = np.linspace(-3, 3, 61)
    beta = 10.0
    np.testing.assert_allclose(escape_probability(v, beta), special.expit(beta * v), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(escape_log_probability(v, beta), special.log_expit(beta * v))
    np.testing.assert_array_equal(escape_log_probability(v, beta, spiked=False), special.log_expit(-beta * v))
    far = escape_log_probability(-100.0, 10.0)  # F underflows to 0, log F does not
    assert np.isfinite(far) and far == pytest.approx(-1000.0)


# --- the engine is a loop over lif_step -----------------------------------------------------------
def _loop(cfg, w1, w2, x, uniforms, dtype):
    """Both layers as a plain loop over lif_step; escape noise through escape_threshold."""
    p = cfg.lif
    B, T = cfg.batch, cfg.n_steps
    out = {}
    inputs = np.broadcast_to(x[:, None, :], (T, B, x.shape[1])).astype(dtype)
    for name, w, beta, r in (("hid", w1, cfg.beta_hid, uniforms and uniforms[0]),
                             ("out", w2, cfg.beta_out, uniforms and uniforms[1])):
        st = LIFState(np.zeros((B, w.shape[0]), dtype), np.zeros((B, w.shape[0]), dtype))
        us, ss = [], []
        for n in range(T):
            thr = None if r is None else escape_threshold(r[n].astype(dtype), beta, p.theta)
            us.append(st.u)
            s, st = lif_step(st, inputs[n] @ w.T.astype(dtype), p, thr)
            ss.append(s)
        out["U_" + name], out["S_" + name] = np.stack(us), np.stack(ss)
        inputs = out["S_" + name]
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reset", ["same", "next"])
@pytest.mark.parametrize("network", ["deterministic", "stochastic"])
def test_engine_forward_equals_lif_step_loop(network, reset, dtype):
    """Identical spikes; membranes equal up to the rounding of the engine's one-matmul currents
    (I[n] = W Pf[n] instead of the recurrence on I)."""
    T, n_in, n_h, n_o = 60, 12, 9, 7
    cfg = TrainConfig(network=network, n_in=n_in, n_hidden=n_h, n_out=n_o, n_steps=T, trials=4, reset=reset,
                      input_rate=200.0, beta_hid=10.0, beta_out=30.0)
    rng = np.random.default_rng(11)
    x = poisson_input(n_in, T, 200.0, 1.0, 5).astype(np.float64)
    w1 = rng.normal(0, 2.5, (n_h, n_in))
    w2 = rng.normal(0.5, 2.5, (n_o, n_h))
    B = cfg.batch
    uniforms = (rng.random((T, B, n_h)), rng.random((T, B, n_o))) if network == "stochastic" else None
    rec = forward_backward(cfg, w1, w2, x, np.zeros((n_o, T)), uniforms=uniforms, dtype=dtype)
    ref = _loop(cfg, w1, w2, x, uniforms, dtype)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for layer in ("hid", "out"):
        assert rec["S_" + layer].sum() > 0
        np.testing.assert_array_equal(rec["S_" + layer], ref["S_" + layer])
        np.testing.assert_allclose(rec["U_" + layer], ref["U_" + layer], rtol=tol, atol=tol)


# --- escape families are one record over a registry shape -----------------------------------------
def test_scratch_escape_family_is_one_shape_and_one_record():
    """A new escape family = a registered shape (here a renamed Cauchy/atan) + one EscapeFamily record; the
    firing probability, the noisy threshold and the LIF step then use it with nothing else changed."""
    from dataclasses import replace

    from sgcore.escape import EscapeFamily, registered_family
    from sgcore.shapes import SHAPES, registered

    shape = replace(SHAPES["atan"], name="cauchy_copy")
    family = EscapeFamily("cauchy", "Cauchy threshold noise", "cauchy_copy", "Cauchy", "p", "xi")
    with registered(shape), registered_family(family):
        v, beta = np.linspace(-1, 1, 11), 6.0
        np.testing.assert_array_equal(escape_probability(v, beta, "cauchy"),
                                      SHAPES["atan"].cdf(SHAPES["atan"].sharpness(beta) * v))
        n = 100_000
        r = np.random.default_rng(8).random(n)
        for vv in (0.0, 0.2):
            s = spike(np.full(n, 1.0 + vv), escape_threshold(r, beta, 1.0, "cauchy"))
            p = float(escape_probability(vv, beta, "cauchy"))
            assert abs(s.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
        spikes, _ = lif_step(LIFState(np.full(n, 1.0), np.zeros(n)), 0.0, LIFParams(),
                             escape_threshold(r, beta, 1.0, "cauchy"))
        assert abs(spikes.mean() - H0) < 5 * math.sqrt(0.25 / n)
        # the escape-noise page offers it too (its choice is the live registry), with the family's own numbers
        from sgcore.escape import EscapeConfig, escape_view

        view = escape_view(EscapeConfig(escape="cauchy", beta_n=6.0, shape="atan", beta_sg=6.0, n_points=101))
        np.testing.assert_allclose(view.firing_probability, SHAPES["atan"].cdf(SHAPES["atan"].sharpness(6.0) * view.u),
                                   rtol=1e-12, atol=1e-15)
        assert view.matched  # a family is matched by the SD of its own shape (Eq. 6 = Eq. 8)
    assert "cauchy" not in ESCAPE_FAMILIES
    with pytest.raises(ValueError, match="escape"):
        escape_probability(0.0, 1.0, "cauchy")


@pytest.mark.parametrize("bad", [True, math.nan, math.inf], ids=["true", "nan", "inf"])
def test_escape_threshold_refuses_a_non_number_theta_naming_it(bad):
    r = np.array([0.25, 0.5], dtype=np.float32)
    with pytest.raises(ValueError, match=r"^theta must be a finite number; got "):
        escape_threshold(r, 10.0, bad)
    with pytest.raises(ValueError, match=r"^beta must be a finite number > 0; got "):
        escape_threshold(r, -1.0, 1.0)
