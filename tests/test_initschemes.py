"""Weight initialisation schemes and Herranz-Celotti & Rouat's Conditions I-IV (sgcore.initschemes), wired into
the classifier and the spike-train trainer."""

import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from sgcore.classify.config import ClassifyConfig, DataConfig
from sgcore.classify.data import randman
from sgcore.classify.engine import NetSpec, init_params, param_shapes
from sgcore.classify.trainer import FIXED, Classifier
from sgcore.design import InitConfig, init_conditions
from sgcore.initschemes import (
    BIGAMMA_SHAPE,
    CONDITIONS,
    INIT_SCHEMES,
    draw,
    fans,
    init_network,
    orthogonalize,
    parse_conditions,
    sample_weights,
    scheme_variance,
)
from sgcore.shapes import get_shape
from sgcore.snn import TrainConfig, Trainer
from sgcore.snn.inputs import default_target, fluctuation_sigma

HC_SCHEMES = [name for name in INIT_SCHEMES if name != "fluctuation"]
TINY = DataConfig(classes=3, units=20, steps=30, samples_per_class=60, dim=1)
#: Fourth moment over squared variance of each family (uniform 9/5, normal 3, BiGamma (a+2)(a+3)/(a(a+1))).
KURTOSIS = {"uniform": 1.8, "normal": 3.0, "bigamma": 5.0 * 6.0 / (3.0 * 4.0)}
#: Combinations holding both III and IV: the calculator finds no sharpness for the CIII dampening.
NO_SOLUTION = [c for c in CONDITIONS if "III" in c.split("+") and "IV" in c.split("+")]


@pytest.fixture(scope="module")
def data():
    return randman(TINY.randman())


def cfg(**kw):
    return ClassifyConfig(**{"n_hidden": 32, "batch": 16, **kw})


def rec(**kw):
    return cfg(**{"recurrent": True, "init": "glorot_uniform", **kw})


def check_moments(w, var, kurtosis, mean=0.0, k=4.0):
    """Sample mean and unbiased sample variance within k standard errors (the exact s.e. of s^2 for a distribution
    of this kurtosis: Var[s^2] = var^2 (kurtosis - (N - 3) / (N - 1)) / N)."""
    x = np.asarray(w, dtype=np.float64).ravel()
    n = x.size
    assert abs(x.mean() - mean) < k * math.sqrt(var / n)
    se = var * math.sqrt((kurtosis - (n - 3) / (n - 1)) / n)
    assert abs(x.var(ddof=1) - var) < k * se


# --- fans and variances ---------------------------------------------------------------------------------------------
def test_fans_of_dense_and_convolution_weights():
    assert fans((128, 40)) == (40, 128)
    assert fans((32, 16, 7)) == (16 * 7, 32 * 7)
    assert fans((4, 3, 2, 5)) == (3 * 10, 4 * 10)
    for bad in ((5,), (0, 3), ()):
        with pytest.raises(ValueError, match="shape"):
            fans(bad)


def test_scheme_variances_follow_glorot_he_and_orthogonality():
    assert scheme_variance("glorot_uniform", (300, 200)) == pytest.approx(2 / 500)
    assert scheme_variance("he_normal", (300, 200)) == pytest.approx(2 / 200)
    assert scheme_variance("glorot_bigamma", (32, 16, 7)) == pytest.approx(2 / (16 * 7 + 32 * 7))
    assert scheme_variance("he_uniform", (32, 16, 7)) == pytest.approx(2 / (16 * 7))
    assert scheme_variance("orthogonal_normal", (300, 200)) == pytest.approx(1 / 300)
    assert scheme_variance("orthogonal_uniform", (8, 4, 5)) == pytest.approx(1 / 20)
    assert scheme_variance("glorot_normal", (10, 10), fan_in=30, fan_out=50) == pytest.approx(2 / 80)
    with pytest.raises(ValueError, match="fluctuation"):
        scheme_variance("fluctuation", (10, 10))
    with pytest.raises(ValueError, match="init must be one of"):
        scheme_variance("xavier", (10, 10))
    with pytest.raises(ValueError, match="fluctuation"):
        sample_weights("fluctuation", (3, 3), np.random.default_rng(0))


# --- the draws ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", [s for s in HC_SCHEMES if not s.startswith("orthogonal")])
def test_large_draws_have_zero_mean_and_the_schemes_variance(scheme):
    shape = (400, 500)
    fi, fo = shape[1], shape[0]
    var = 2 / (fi + fo) if scheme.startswith("glorot") else 2 / fi
    w = sample_weights(scheme, shape, np.random.default_rng(11))
    assert w.shape == shape and w.dtype == np.float64
    check_moments(w, var, KURTOSIS[INIT_SCHEMES[scheme].distribution])


@pytest.mark.parametrize("scheme", ["glorot_uniform", "he_normal", "glorot_bigamma"])
def test_conv_kernels_use_channels_times_kernel_fans(scheme):
    shape = (64, 32, 7)
    var = 2 / (32 * 7 + 64 * 7) if scheme.startswith("glorot") else 2 / (32 * 7)
    w = sample_weights(scheme, shape, np.random.default_rng(12))
    assert w.shape == shape
    check_moments(w, var, KURTOSIS[INIT_SCHEMES[scheme].distribution])


def test_uniform_draws_stay_within_sqrt_3_var():
    var = 2 / (200 + 300)
    w = sample_weights("glorot_uniform", (300, 200), np.random.default_rng(1))
    bound = math.sqrt(3 * var)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
    assert w.min() < -0.999 * bound


def test_bigamma_never_samples_zero_is_symmetric_and_its_magnitude_is_gamma_3():
    var = 2 / 200
    w = sample_weights("he_bigamma", (300, 200), np.random.default_rng(2))
    n = w.size
    assert np.all(w != 0)
    assert abs(np.mean(w > 0) - 0.5) < 4 * math.sqrt(0.25 / n)  # a fair sign
    assert abs(np.mean(w ** 3)) < 4 * math.sqrt(np.mean(w ** 6) / n)  # no skew
    theta = math.sqrt(var / (BIGAMMA_SHAPE * (BIGAMMA_SHAPE + 1)))
    assert stats.kstest(np.abs(w).ravel(), "gamma", args=(3.0, 0.0, theta)).pvalue > 1e-3
    m4 = theta ** 4 * 3 * 4 * 5 * 6  # E[w^4] of +-Gamma(3, theta)
    assert abs(np.mean(w ** 2) - var) < 4 * math.sqrt((m4 - var ** 2) / n)  # E[w^2] = a (a + 1) theta^2
    assert np.mean(np.abs(w) < 0.3 * theta) < 0.01  # bimodal: little mass near 0 (P = 0.0036)


@pytest.mark.parametrize("shape", [(300, 200), (200, 300), (64, 64), (8, 4, 5), (4, 3, 7)])
@pytest.mark.parametrize("scheme", ["orthogonal_uniform", "orthogonal_normal", "orthogonal_bigamma"])
def test_orthogonal_schemes_are_semi_orthogonal(scheme, shape):
    w = sample_weights(scheme, shape, np.random.default_rng(3))
    assert w.shape == shape
    m = w.reshape(shape[0], -1)
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    assert np.mean(m ** 2) == pytest.approx(1 / max(m.shape))
    assert scheme_variance(scheme, shape) == pytest.approx(1 / max(m.shape))


@pytest.mark.parametrize("shape", [(50, 30), (30, 50)])
def test_orthogonal_factor_has_the_sign_fix(shape):
    """Q is the QR factor whose R has a positive diagonal: Q^T A (or A Q^T for a wide A, whose transpose was
    factored) is upper (lower) triangular with a positive diagonal."""
    a = draw("uniform", shape, np.random.default_rng(4), 1.0)
    q = orthogonalize(a)
    r = q.T @ a if shape[0] >= shape[1] else (a @ q.T).T
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-12)
    assert np.all(np.diag(r) > 0)
    # the same matrix as numpy's QR with every column's sign set by R
    qq, rr = np.linalg.qr(a if shape[0] >= shape[1] else a.T)
    signs = np.sign(np.diag(rr))
    np.testing.assert_allclose(q, (qq * signs) if shape[0] >= shape[1] else (qq * signs).T, atol=1e-12)


def test_draws_are_seeded_and_draw_rejects_unknown_families():
    a = sample_weights("he_bigamma", (20, 10), np.random.default_rng(5))
    b = sample_weights("he_bigamma", (20, 10), np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="distribution"):
        draw("cauchy", (3, 3), np.random.default_rng(0), 1.0)
    with pytest.raises(ValueError, match="var"):
        draw("normal", (3, 3), np.random.default_rng(0), -1.0)


# --- the networks ---------------------------------------------------------------------------------------------------
def test_fluctuation_default_leaves_the_classifier_bit_identical(data):
    for c in (cfg(), cfg(recurrent=True, n_layers=2), cfg(init="fluctuation", seed=7)):
        clf = Classifier(c, data)
        rate = max(float(data.x[data.split["train"]].mean()) * 1000.0 / data.dt_ms, 1e-3)
        ref = init_params(clf.spec, np.random.default_rng([c.seed, 1]), rate)
        assert set(clf.params) == set(ref)
        for k in ref:
            assert clf.params[k].dtype == ref[k].dtype and np.array_equal(clf.params[k], ref[k]), k
        assert clf.backward_cfg is clf.cfg and clf.conditions is None


def test_fluctuation_default_leaves_the_spike_train_trainer_bit_identical():
    c = TrainConfig(n_in=30, n_hidden=20, n_out=10, n_steps=40, seed=5)
    assert c.init == "fluctuation"
    tr = Trainer(c, default_target(10, 40))
    wrng = np.random.default_rng([5, 1])
    w1 = (wrng.standard_normal((20, 30)) * fluctuation_sigma(30, c.lif, c.input_rate)).astype(np.float32)
    w2 = (wrng.standard_normal((10, 20)) * fluctuation_sigma(20, c.lif, c.input_rate)).astype(np.float32)
    np.testing.assert_array_equal(tr.w1, w1)
    np.testing.assert_array_equal(tr.w2, w2)


@pytest.mark.parametrize("scheme", HC_SCHEMES)
def test_the_spike_train_trainer_draws_both_layers_with_the_scheme(scheme):
    c = TrainConfig(n_in=150, n_hidden=120, n_out=90, n_steps=20, init=scheme, seed=2)
    tr = Trainer(c, default_target(90, 20))
    wrng = np.random.default_rng([2, 1])
    np.testing.assert_array_equal(tr.w1, sample_weights(scheme, (120, 150), wrng).astype(np.float32))
    np.testing.assert_array_equal(tr.w2, sample_weights(scheme, (90, 120), wrng).astype(np.float32))
    tr.step(2)
    assert np.all(np.isfinite(tr.history.l2))


def test_the_spike_train_init_is_fixed_for_a_run():
    tr = Trainer(TrainConfig(n_in=10, n_hidden=10, n_out=10, n_steps=20), default_target(10, 20))
    with pytest.raises(ValueError, match="init"):
        tr.set(init="he_normal")


@pytest.mark.parametrize("scheme", HC_SCHEMES)
def test_init_network_draws_every_weight_of_dense_and_conv_networks(scheme):
    for spec in (NetSpec(n_in=40, hidden=(64, 32), recurrent=True), NetSpec(layers="conv", n_in=700, recurrent=True)):
        params = init_network(scheme, spec, np.random.default_rng(0), 10.0, dtype=np.float64)
        shapes = param_shapes(spec)
        assert list(params) == list(shapes)
        for name, shape in shapes.items():
            w = params[name]
            assert w.shape == shape and w.dtype == np.float64 and np.all(np.isfinite(w))
            if INIT_SCHEMES[scheme].orthogonal:
                m = w.reshape(shape[0], -1)
                assert np.mean(m ** 2) == pytest.approx(1 / max(m.shape))
    spec = NetSpec(layers="conv", n_in=700)
    w1 = init_network(scheme, spec, np.random.default_rng(1), 10.0)["W2"]  # (32, 16, 7)
    assert w1.dtype == np.float32 and w1.shape == (32, 16, 7)


@pytest.mark.parametrize("scheme", HC_SCHEMES)
def test_a_classifier_trains_with_every_scheme(data, scheme):
    clf = Classifier(cfg(init=scheme, recurrent=True), data)
    assert clf.initialisation() == {"init": scheme, "conditions": "none"}
    if not INIT_SCHEMES[scheme].orthogonal:
        v = 2 / (20 + 32) if scheme.startswith("glorot") else 2 / 20
        check_moments(clf.params["W1"], v, KURTOSIS[INIT_SCHEMES[scheme].distribution], k=5.0)
    clf.step(2)
    assert np.all(np.isfinite(clf.history.train_loss)) and np.all(np.isfinite(clf.history.val_loss))


def test_init_and_conditions_are_network_settings():
    assert {"init", "conditions"} <= set(FIXED)
    assert ClassifyConfig().init == "fluctuation" and ClassifyConfig().conditions == "none"
    assert {"none", "I", "II", "III", "IV", "I+II", "III+IV", "I+II+III+IV"} <= set(CONDITIONS)
    assert len(CONDITIONS) == 16 and parse_conditions("I+II+IV") == ("I", "II", "IV") and parse_conditions("none") == ()
    with pytest.raises(ValueError, match="conditions must be one of"):
        ClassifyConfig(recurrent=True, conditions="II+I")


# --- Conditions I-IV ------------------------------------------------------------------------------------------------
def reference(clf, data, given_gamma=None, with_extremes=False):
    """init_conditions for the classifier's network from quantities computed here: the data's moments, the decay
    exp(-dt / tau_mem), threshold 1, Glorot Var[w_in] (and the drawn V1's extremes for III / IV)."""
    x = data.x[data.split["train"]].astype(np.float64)
    n, n_in = clf.cfg.n_hidden, data.units
    values = dict(alpha_decay=math.exp(-data.dt_ms / clf.cfg.tau_mem), thr=1.0, n_rec=n, n_in=n_in,
                  mean_z=float(x.mean()), var_z=float(x.var()), var_w_in=2 / (n_in + n), xi=0, n_steps=2, batch=1,
                  shape=clf.cfg.shape, q=clf.cfg.q, gamma=given_gamma)
    applied = parse_conditions(clf.cfg.conditions)
    if "I" not in applied:
        values["mean_w_rec"] = 0.0
    if with_extremes:
        v1 = clf.initial_params["V1"]
        first = init_conditions(InitConfig(**values))
        m = first.mean_w_rec if "I" in applied else 0.0
        var = first.var_w_rec if "II" in applied else 2 / (2 * n)
        values.update(min_w_rec=float(v1.min()), max_w_rec=float(v1.max()), e_w_rec_sq=var + m * m,
                      max_w_in=float(np.abs(clf.initial_params["W1"]).max()))
    return init_conditions(InitConfig(**values))


@pytest.mark.parametrize("conditions", ["I", "II", "I+II"])
def test_conditions_i_and_ii_set_the_recurrent_mean_and_variance(data, conditions):
    naive = Classifier(rec(), data)
    clf = Classifier(rec(conditions=conditions), data)
    ref = reference(clf, data)
    applied = parse_conditions(conditions)
    n = clf.cfg.n_hidden
    mean = ref.mean_w_rec if "I" in applied else 0.0
    var = ref.var_w_rec if "II" in applied else 2 / (2 * n)  # Glorot of the square V
    assert clf.conditions.mean_w_rec == pytest.approx(mean, rel=1e-12, abs=1e-15)
    assert clf.conditions.var_w_rec == pytest.approx(var, rel=1e-12)
    check_moments(clf.params["V1"], var, KURTOSIS["uniform"], mean=mean)
    v1 = clf.params["V1"]
    h = math.sqrt(3 * var)
    assert v1.min() >= mean - h - 1e-7 and v1.max() <= mean + h + 1e-7  # uniform, as the scheme
    for k in ("W1", "W_out"):  # only V1 is redrawn
        np.testing.assert_array_equal(clf.params[k], naive.params[k])
    assert not np.array_equal(clf.params["V1"], naive.params["V1"])
    assert clf.backward_cfg is clf.cfg  # the SD is untouched
    summary = clf.initialisation()
    assert summary["conditions"] == conditions and summary["gamma"] is None
    json.dumps(summary)


@pytest.mark.parametrize("conditions", ["III", "IV", "I+II+III", "I+II+IV", "II+IV"])
def test_conditions_iii_and_iv_set_the_sd_dampening_and_sharpness(data, conditions):
    c = rec(conditions=conditions, shape="exponential", scale="gamma", gamma=1.0, beta_sg=2.0)  # HC's naive SD
    clf = Classifier(c, data)
    applied = parse_conditions(conditions)
    ref = reference(clf, data, given_gamma=None if "III" in applied else 1.0, with_extremes=True)
    gamma = ref.dampening if "III" in applied else 1.0
    s = ref.sharpness if "IV" in applied else 1.0  # beta_sg 2 x beta_to_s 1/2
    beta_to_s = get_shape("exponential").beta_to_s
    bw = clf.backward_cfg
    assert (bw.scale, bw.shape) == ("gamma", "exponential")
    assert bw.gamma == pytest.approx(gamma, rel=1e-12) and clf.conditions.gamma == pytest.approx(gamma, rel=1e-12)
    assert bw.beta_sg == pytest.approx(s / beta_to_s, rel=1e-9)
    assert clf.conditions.sharpness == pytest.approx(s, rel=1e-9)
    assert clf.cfg == c  # the settings as given
    clf.step(1)
    assert np.isfinite(clf.history.train_loss[-1])


def test_conditions_iv_alone_keeps_the_sds_own_dampening(data):
    clf = Classifier(rec(conditions="IV", shape="superspike", scale="auto", beta_sg=10.0), data)
    assert clf.backward_cfg.gamma == 1.0  # superspike's peak scaling
    c2 = Classifier(rec(conditions="IV", shape="sigmoid", scale="density", beta_sg=4.0), data)
    assert c2.backward_cfg.gamma == pytest.approx(get_shape("sigmoid").sharpness(4.0))  # density: gamma = s


@pytest.mark.parametrize("conditions", NO_SOLUTION)
def test_iii_with_iv_has_no_solution_and_says_why(data, conditions):
    with pytest.raises(ValueError, match=r"CIV has no solution.*No sharpness meets CIV"):
        Classifier(rec(conditions=conditions, shape="exponential"), data)


def test_cii_without_a_positive_variance_is_an_error(data):
    """Very strong inputs make CII's Mean[w_rec]^2 / 2 term win: Var[w_rec] <= 0."""
    dense = randman(DataConfig(classes=2, units=4, steps=30, samples_per_class=20, dim=1, spikes=1).randman())
    with pytest.raises(ValueError, match="CII has no solution"):
        Classifier(rec(conditions="I+II", n_hidden=400, tau_mem=1.0), dense)


@pytest.mark.parametrize(("values", "needle"), [
    ({"recurrent": False}, "recurrent=True"),
    ({"n_layers": 2}, "n_layers=1"),
    ({"layers": "conv"}, "layers='dense'"),
    ({"backward": "localzo", "conditions": "III"}, "backward"),
])
def test_conditions_refuse_networks_they_do_not_describe(values, needle):
    with pytest.raises(ValueError, match=needle):
        ClassifyConfig(**{"recurrent": True, "conditions": "I+II", **values})
    ClassifyConfig(**{"recurrent": True, **values, "conditions": "none"})  # fine without conditions


def test_the_conditions_follow_a_mid_run_change_of_the_sd(data):
    clf = Classifier(rec(conditions="IV", shape="exponential", scale="gamma", gamma=1.0), data)
    w = {k: v.copy() for k, v in clf.params.items()}
    clf.set(shape="gaussian", lr=0.005)
    fresh = Classifier(rec(conditions="IV", shape="gaussian", scale="gamma", gamma=1.0), data)
    assert clf.backward_cfg.shape == "gaussian"
    assert clf.backward_cfg.beta_sg == pytest.approx(fresh.backward_cfg.beta_sg, rel=1e-12)
    for k in w:
        np.testing.assert_array_equal(clf.params[k], w[k])
    before = clf.backward_cfg
    with pytest.raises(ValueError, match="backward"):
        clf.set(backward="localzo")
    assert clf.backward_cfg is before and clf.cfg.backward == "sg"
    clf.set(lr=0.002)  # no SD change: nothing is solved again
    assert clf.backward_cfg.beta_sg == before.beta_sg and clf.backward_cfg.lr == 0.002


@pytest.mark.parametrize("conditions", [c for c in CONDITIONS if c not in NO_SOLUTION])
def test_every_conditions_variant_trains_with_a_finite_loss(data, conditions):
    clf = Classifier(rec(conditions=conditions, shape="exponential", network="stochastic"), data)
    clf.step(2)
    h = clf.history
    assert np.all(np.isfinite(h.train_loss)) and np.all(np.isfinite(h.val_loss))
    assert json.loads(json.dumps(clf.initialisation()))["conditions"] == conditions


@pytest.mark.parametrize("scheme", HC_SCHEMES + ["fluctuation"])
def test_conditions_redraw_v_from_each_schemes_family(data, scheme):
    clf = Classifier(rec(init=scheme, conditions="I+II", n_hidden=64), data)
    m, v = clf.conditions.mean_w_rec, clf.conditions.var_w_rec
    v1 = clf.params["V1"].astype(np.float64)
    family = INIT_SCHEMES[scheme].distribution
    if INIT_SCHEMES[scheme].orthogonal:  # mean + a scaled orthogonal matrix
        q = (v1 - m) / math.sqrt(64 * v)
        np.testing.assert_allclose(q.T @ q, np.eye(64), atol=1e-5)
    else:
        check_moments(v1, v, KURTOSIS[family], mean=m)
    if family == "bigamma" and not INIT_SCHEMES[scheme].orthogonal:
        assert np.all(v1 != m)


# --- checkpoints, CLI -----------------------------------------------------------------------------------------------
def test_checkpoints_keep_the_scheme_and_conditions(data):
    clf = Classifier(rec(init="he_bigamma", conditions="I+II+IV", shape="exponential"), data)
    clf.step(1)
    buf = io.BytesIO()
    clf.save(buf)
    back = Classifier.load(buf.getvalue(), data)
    assert back.cfg == clf.cfg and back.epoch == 1
    assert back.backward_cfg == clf.backward_cfg and back.conditions.beta_sg == clf.conditions.beta_sg
    for k in clf.params:
        np.testing.assert_array_equal(back.params[k], clf.params[k])


def test_checkpoints_from_before_the_schemes_load_with_the_defaults(data):
    clf = Classifier(cfg(), data)
    buf = io.BytesIO()
    clf.save(buf)
    with np.load(io.BytesIO(buf.getvalue())) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    del meta["config"]["init"], meta["config"]["conditions"]
    old = io.BytesIO()
    np.savez(old, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    back = Classifier.load(old.getvalue(), data)
    assert (back.cfg.init, back.cfg.conditions) == ("fluctuation", "none") and back.cfg == clf.cfg
    for k in clf.params:
        np.testing.assert_array_equal(back.params[k], clf.params[k])


def cli(*args):
    return subprocess.run([sys.executable, "-m", "sgcore", *args], capture_output=True, text=True, timeout=600)


def test_cli_classify_and_train_take_the_scheme_and_conditions():
    r = cli("classify", "--init", "glorot_uniform", "--conditions", "I+II", "--recurrent", "--epochs", "1",
            "--classes", "3", "--units", "20", "--steps", "30", "--samples-per-class", "20", "--n-hidden", "16")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["config"]["init"] == "glorot_uniform" and out["initialisation"]["conditions"] == "I+II"
    assert out["initialisation"]["var_w_rec"] > 0
    bad = cli("classify", "--conditions", "I+II", "--epochs", "1")
    assert bad.returncode == 2 and "recurrent=True" in bad.stderr
    r = cli("train", "--init", "orthogonal_bigamma", "--epochs", "2", "--n-in", "20", "--n-hidden", "20", "--n-out",
            "20", "--n-steps", "30")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["config"]["init"] == "orthogonal_bigamma"
