"""The realised membrane fluctuation of the fluctuation-driven initialisation (sgcore.snn.fluctuation): the discrete
PSP kernel against the LIF step, the pooled variance formula against simulation, its continuous-time limit
(Campbell's formula of fluctuation_sigma) and the measurement on the trainer's network."""

import math
from dataclasses import replace

import numpy as np
import pytest

from sgcore.lif import LIFParams, LIFState, lif_step
from sgcore.snn import (
    TARGET_SIGMA_U,
    TrainConfig,
    Trainer,
    default_target,
    discrete_fluctuation,
    fluctuation_config,
    fluctuation_sigma,
    init_fluctuation,
    psp_kernel,
    psp_kernel_sums,
)


def _free_trace(lif: LIFParams, drive: np.ndarray) -> np.ndarray:
    """U[n] of neurons without threshold (lif_step with threshold +inf) for weighted inputs drive (T, ...)."""
    state = LIFState(np.zeros(drive.shape[1:]), np.zeros(drive.shape[1:]))
    out = np.empty(drive.shape)
    for n in range(drive.shape[0]):
        out[n] = state.u
        _, state = lif_step(state, drive[n], lif, threshold=np.inf)
    return out


# --- (a) the discrete kernel -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lif", [LIFParams(), LIFParams(reset="next"), LIFParams(tau_mem=5.0, tau_syn=5.0),
                                 LIFParams(dt=0.5, tau_mem=3.0, tau_syn=20.0)])
def test_psp_kernel_is_one_unit_spike_through_the_lif_step(lif):
    n = int(60 * max(lif.tau_mem, lif.tau_syn) / lif.dt)
    drive = np.zeros((n, 1))
    drive[0] = 1.0
    k = _free_trace(lif, drive)[:, 0]
    assert k[0] == 0.0 and k[1] == 0.0 and k[2] > 0.0  # the spike reaches I one step later, U one more
    np.testing.assert_allclose(psp_kernel(lif, n), k, rtol=1e-10, atol=1e-15)
    s1, s2 = psp_kernel_sums(lif)
    assert s1 == pytest.approx(k.sum(), rel=1e-9)
    assert s2 == pytest.approx(np.sum(k * k), rel=1e-9)


# --- (b) the pooled variance --------------------------------------------------------------------------------------
def test_pooled_free_membrane_std_matches_the_discrete_prediction():
    """1000 neurons x 950 steps, 200 Bernoulli(0.05) inputs; three seeds. Per seed the pooled std scatters by
    about 1.4 % (measured over 20 seeds), so 4 % on the mean of three is about 5 standard errors; leaving out the
    across-neuron spread of the mean drive would predict 0.93 instead of 1.50."""
    lif, n_pre, m, T, p, sw, start = LIFParams(), 200, 1000, 1000, 0.05, 0.3, 50
    pooled, temporal = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = (rng.random((T, n_pre)) < p).astype(np.float64)
        u = _free_trace(lif, x @ (rng.standard_normal((m, n_pre)) * sw).T)[start:]
        pooled.append(np.std(u))
        temporal.append(math.sqrt(np.mean(np.var(u, axis=0))))
    pred, pred_t = discrete_fluctuation(n_pre, sw, p, lif)
    assert np.mean(pooled) == pytest.approx(pred, rel=0.04)
    # each neuron around its own mean: the temporal term alone (the 950-step window biases it ~1 % low)
    assert np.mean(temporal) == pytest.approx(pred_t, rel=0.04)
    assert pred / pred_t > 1.5  # the two parts really differ here, so the checks above can tell them apart


def test_discrete_fluctuation_formula():
    lif = LIFParams()
    s1, s2 = psp_kernel_sums(lif)
    pooled, temporal = discrete_fluctuation(100, 0.2, 0.1, lif)
    assert temporal**2 == pytest.approx(100 * 0.04 * 0.1 * 0.9 * s2, rel=1e-12)
    assert pooled**2 == pytest.approx(100 * 0.04 * (0.1 * 0.9 * s2 + 0.01 * s1 * s1), rel=1e-12)


# --- (c) the continuous-time limit: Campbell's formula of fluctuation_sigma ---------------------------------------
def test_prediction_approaches_the_target_as_dt_shrinks():
    """sigma_w from fluctuation_sigma and p = nu dt: the temporal prediction tends to sigma_U = 1 as dt -> 0, the
    error shrinking about in proportion to dt; at the trainer's dt = 1 ms it is 8 % high."""
    nu, n_pre = 50.0, 200
    errors = []
    for dt in (1.0, 0.1, 0.01, 0.001):
        lif = LIFParams(dt=dt)
        _, temporal = discrete_fluctuation(n_pre, fluctuation_sigma(n_pre, lif, nu), nu * dt / 1000.0, lif)
        errors.append(temporal - 1.0)
    assert errors[0] > 0.05  # discrete time at dt = 1 ms is visibly off
    assert abs(errors[-1]) < 2e-3
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert abs(fine) < 0.15 * abs(coarse)
    # another sigma_U, time constants and rate: the limit is sigma_U itself
    lif = LIFParams(dt=1e-3, tau_mem=20.0, tau_syn=3.0)
    _, temporal = discrete_fluctuation(50, fluctuation_sigma(50, lif, 10.0, sigma_u=2.0), 10.0 * 1e-6, lif)
    assert temporal == pytest.approx(2.0, rel=2e-3)


# --- (d) the trainer's network --------------------------------------------------------------------------------
def test_init_fluctuation_at_the_trainer_defaults():
    r = init_fluctuation(TrainConfig())
    assert r.target == TARGET_SIGMA_U == 1.0
    assert r.transient_steps == 50 and r.window_steps == 139  # 5 tau_mem at dt = 1 ms
    for layer in r.layers:
        values = [getattr(layer, f) for f in ("sigma_w", "presynaptic_rate_hz", "p", "predicted_std",
                                              "predicted_temporal_std", "free_std", "free_temporal_std",
                                              "spiking_std")]
        assert all(math.isfinite(v) and v > 0 for v in values), layer
    hid, out = r.hidden, r.output
    assert hid.presynaptic_rate_hz == pytest.approx(50.0, rel=0.03)  # the frozen input
    assert abs(hid.free_temporal_std - 1.0) < 0.25  # measured 0.94
    assert hid.free_std == pytest.approx(hid.predicted_std, rel=0.1)  # measured 1.78 vs 1.74
    assert hid.free_std > 1.5  # pooled over neurons it includes the spread of the mean drive
    assert out.presynaptic_rate_hz != hid.presynaptic_rate_hz


def test_init_fluctuation_uses_the_trainers_network():
    """The spiking membrane measured is the trainer's first forward pass (same weights, input and noise)."""
    for network in ("deterministic", "stochastic"):
        cfg = TrainConfig(network=network, n_in=60, n_hidden=50, n_out=40, n_steps=120, trials=3, seed=7)
        r = init_fluctuation(cfg)
        tr = Trainer(cfg, default_target(40, 120))
        tr.step(1)
        eng, start = tr._engine, r.transient_steps
        assert r.hidden.spiking_std == pytest.approx(float(np.std(eng.hid.U[start:].astype(np.float64))), rel=1e-5)
        assert r.output.spiking_std == pytest.approx(float(np.std(eng.out.U[start:].astype(np.float64))), rel=1e-5)
        assert r.output.p == pytest.approx(float(np.mean(eng.hid.S[:-1], dtype=np.float64)), rel=1e-12)


def test_fluctuation_config_drops_what_does_not_matter():
    cfg = TrainConfig(lr=3e-3, optimizer="adam", beta_sg=4.0, seed=3, n_hidden=30)
    key = fluctuation_config(cfg)
    assert key == fluctuation_config(replace(cfg, lr=1e-5, beta_sg=20.0))
    assert key != fluctuation_config(replace(cfg, seed=4))
    assert key.seed == 3 and key.n_hidden == 30 and key.lr == TrainConfig().lr
    with pytest.raises(TypeError):
        init_fluctuation({"n_in": 3})
