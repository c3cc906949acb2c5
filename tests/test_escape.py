"""Escape noise, matching principle, stochAD identities and the noisy-threshold view."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from sgcore.escape import ESCAPE_FAMILIES, EscapeConfig, EscapeNoise, escape_points, escape_view

FAMILIES = list(ESCAPE_FAMILIES)
U = np.linspace(-2, 2, 81) + 0.0037


def _closed_form_p(family, beta, theta, rho0_dt, u):
    x = beta * (u - theta)
    return {
        "sigmoid": expit(x),
        "erf": stats.norm.cdf(x),
        "exponential": 1 - np.exp(-rho0_dt * np.exp(x)),
    }[family]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("beta,theta,rho0_dt", [(1.0, 0.0, 1.0), (5.0, 0.3, 0.5), (25.0, -0.2, 3.0)])
def test_firing_probability_closed_forms(family, beta, theta, rho0_dt):
    noise = EscapeNoise(family, beta, theta, rho0_dt)
    np.testing.assert_allclose(noise.firing_probability(U), _closed_form_p(family, beta, theta, rho0_dt, U),
                               atol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_derivative_of_expected_output_by_finite_difference(family):
    noise = EscapeNoise(family, 4.0, 0.1, 2.0)
    h = 1e-6
    fd = (noise.firing_probability(U + h) - noise.firing_probability(U - h)) / (2 * h)
    np.testing.assert_allclose(noise.d_expected_output(U), fd, atol=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("beta", [0.5, 5.0, 30.0])
def test_matching_principle(family, beta):
    """Eq. 6 vs Eq. 8: d/du E[y] equals the SD of the matched shape at beta_SG = beta_N."""
    cfg = EscapeConfig(escape=family, beta_n=beta, shape=ESCAPE_FAMILIES[family].shape, beta_sg=beta,
                       scale="density", theta=0.2)
    view = escape_view(cfg)
    assert view.matched and view.rel_l2_diff < 1e-12 and view.mismatch == ()
    np.testing.assert_allclose(view.d_expected_output, view.surrogate_derivative, rtol=1e-12, atol=1e-300)


def test_mismatch_is_reported():
    view = escape_view(EscapeConfig(beta_n=5.0, beta_sg=10.0))
    assert not view.matched and view.rel_l2_diff > 0.1
    assert any("steepness" in m for m in view.mismatch)
    view = escape_view(EscapeConfig(shape="superspike"))  # default peak scaling, other shape
    assert not view.matched
    assert {m.split(":")[0] for m in view.mismatch} == {"shape", "scaling"}
    view = escape_view(EscapeConfig(escape="exponential", shape="escape_exp", rho0_dt=2.0))
    assert not view.matched and any("offset" in m for m in view.mismatch)


@pytest.mark.parametrize("family", FAMILIES)
def test_stochad_affine_identity(family):
    """App. B: (1-p) d_R = p d_L = dp/du, so the affine combination is the SD for y = 0 and y = 1."""
    noise = EscapeNoise(family, 5.0, 0.0, 1.0)
    p, dp = noise.firing_probability(U), noise.d_expected_output(U)
    q = {"sigmoid": expit(-5 * U), "erf": stats.norm.sf(5 * U), "exponential": np.exp(-np.exp(5 * U))}[family]
    np.testing.assert_allclose(q, 1 - p, atol=1e-15)
    np.testing.assert_allclose(q * noise.stochad_right(U), dp, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(p * noise.stochad_left(U), dp, rtol=1e-10, atol=1e-300)
    for y in (0, 1):
        np.testing.assert_allclose(noise.stochad_affine(U, np.full(U.shape, y)), dp, rtol=1e-10, atol=1e-300)


def test_stochad_sigmoid_closed_forms():
    """App. B: d_R^tot = beta sigma(u), d_L^tot = beta (1 - sigma(u))."""
    beta = 7.0
    noise = EscapeNoise("sigmoid", beta, 0.0)
    np.testing.assert_allclose(noise.stochad_right(U), beta * expit(beta * U), rtol=1e-12)
    np.testing.assert_allclose(noise.stochad_left(U), beta * expit(-beta * U), rtol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_smoothed_right_derivative_is_unbiased_in_expectation(family):
    """Monte Carlo: E[1{y=0} d_R] = dp/du for a single Bernoulli, within 5 standard errors."""
    noise = EscapeNoise(family, 3.0, 0.0)
    u = np.array([-0.4, 0.0, 0.3])
    rng = np.random.default_rng(0)
    y = rng.random((200_000, u.size)) < noise.firing_probability(u)
    est = np.where(y, 0.0, noise.stochad_right(u))
    se = est.std(axis=0) / math.sqrt(est.shape[0])
    assert np.all(np.abs(est.mean(axis=0) - noise.d_expected_output(u)) < 5 * se)


@pytest.mark.parametrize("family", FAMILIES)
def test_noisy_threshold_reproduces_firing_probability(family):
    """Eq. 25 (corrected): P(Theta <= u) = p(u), checked by Monte Carlo within 5 standard errors."""
    noise = EscapeNoise(family, 5.0, 0.2, 0.7)
    n = 100_000
    theta = noise.sample_thresholds(n, np.random.default_rng(3))
    u = np.array([-0.3, 0.0, 0.2, 0.5])
    p = noise.firing_probability(u)
    mc = (theta[:, None] <= u).mean(axis=0)
    assert np.all(np.abs(mc - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12)


def test_sigmoid_threshold_noise_is_zero_mean_logistic():
    noise = EscapeNoise("sigmoid", 4.0, 0.5)
    xi = noise.sample_thresholds(100_000, np.random.default_rng(5)) - 0.5
    assert abs(xi.mean()) < 5 * xi.std() / math.sqrt(xi.size)
    assert stats.kstest(xi, stats.logistic(scale=1 / 4.0).cdf).pvalue > 1e-3


def test_printed_eq25_noise_is_exp1_not_logistic():
    """The paper prints xi = log(1/(1-x)): that is Exp(1), mean 1, and does not give a sigmoid."""
    x = np.random.default_rng(0).random(100_000)
    xi = np.log(1 / (1 - x))
    assert xi.mean() == pytest.approx(1.0, abs=0.02)
    assert stats.kstest(xi, stats.expon.cdf).pvalue > 1e-3
    assert (xi <= 0.0).mean() == 0.0  # P(spike at u = theta) would be 0, not sigma(0) = 1/2


def test_rasters():
    cfg = EscapeConfig(n_trials=2000, n_inputs=8, seed=4)
    view = escape_view(cfg)
    assert view.raster_stoch.shape == (2000, 8) and view.raster_stoch.dtype == np.int8
    np.testing.assert_array_equal(view.raster_det[0], (view.u_inputs > cfg.theta).astype(float))
    se = np.sqrt(view.p_inputs * (1 - view.p_inputs) / 2000) + 1e-12
    assert np.all(np.abs(view.raster_stoch.mean(axis=0) - view.p_inputs) < 5 * se)
    assert not np.any(view.u_inputs == cfg.theta)  # even sweep: no input sits exactly on threshold


def test_views_are_reproducible_from_seed():
    a, b = escape_view(EscapeConfig(seed=11)), escape_view(EscapeConfig(seed=11))
    np.testing.assert_array_equal(a.raster_stoch, b.raster_stoch)
    np.testing.assert_array_equal(a.thresholds, b.thresholds)
    c = escape_view(EscapeConfig(seed=12))
    assert not np.array_equal(a.thresholds, c.thresholds)


def test_threshold_histogram_integrates_to_mass_inside_window():
    view = escape_view(EscapeConfig(n_samples=20000))
    mass = float(np.sum(view.hist_density * np.diff(view.hist_edges)))
    inside = np.mean((view.thresholds >= view.hist_edges[0]) & (view.thresholds < view.hist_edges[-1]))
    assert mass == pytest.approx(inside, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        ({"beta_n": 0.0}, r"beta_n must be a finite number in \(0, 10000\]"),
        ({"beta_sg": math.nan}, "beta_sg must be"),
        ({"escape": "gauss"}, "escape must be one of sigmoid, erf, exponential"),
        ({"shape": "box"}, "shape must be one of"),
        ({"n_trials": 0}, "n_trials must be an integer in"),
        ({"u_span": -1.0}, "u_span must be"),
        ({"q": 1.0}, "q must be"),
        ({"rho0_dt": 0.0}, "rho0_dt must be"),
    ],
)
def test_config_rejects_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        EscapeConfig(**kwargs)


def test_escape_points_keys_and_values():
    cfg = EscapeConfig(beta_n=5, beta_sg=5, scale="density")
    out = escape_view(cfg, u=[-1.0, 0.0, 0.5]).points
    for key in ("u", "firing_probability", "d_expected_output", "surrogate_derivative", "stochad_right",
                "stochad_left", "stochad_affine_y0", "stochad_affine_y1"):
        assert len(getattr(out, key)) == 3
    np.testing.assert_allclose(out.firing_probability, expit(5 * np.array([-1.0, 0.0, 0.5])))
    np.testing.assert_allclose(out.stochad_affine_y0, out.surrogate_derivative, rtol=1e-12)
    np.testing.assert_allclose(out.stochad_affine_y1, out.surrogate_derivative, rtol=1e-12)


def test_the_page_grid_and_the_points_are_one_code_path():
    cfg = EscapeConfig(escape="erf", shape="gaussian", n_points=21)
    view = escape_view(cfg, u=np.linspace(cfg.theta - cfg.u_span, cfg.theta + cfg.u_span, 21))
    assert escape_view(cfg).points is None
    for key in ("u", "firing_probability", "step", "d_expected_output", "surrogate_derivative", "stochad_right",
                "stochad_left"):
        np.testing.assert_array_equal(getattr(view.points, key), getattr(view, key))
    with pytest.raises(ValueError, match="u must be finite"):
        escape_points(cfg, [0.0, np.nan])


@pytest.mark.parametrize("family", FAMILIES)
def test_threshold_noise_matches_the_printed_formula(family):
    """The page prints xi(x) per family; the sampler's inverse transform must be that formula."""
    beta, theta, rate = 4.0, 0.3, 2.5
    noise = EscapeNoise(family, beta, theta, rate)
    x = np.linspace(0.01, 0.99, 99)
    xi = {
        "sigmoid": np.log(x / (1 - x)) / beta,
        "erf": stats.norm.ppf(x) / beta,
        "exponential": (np.log(-np.log(1 - x)) - np.log(rate)) / beta,
    }[family]
    np.testing.assert_allclose(noise.center + noise.shape.ppf(x) / noise.s, theta + xi, rtol=1e-12, atol=1e-12)


def test_exponential_right_derivative_is_exact_up_to_float_max_and_inf_beyond():
    """delta_R = beta_N rho0 dt exp(beta_N (u - theta)) for the exponential family: exact while it is a float, inf
    (null in JSON, with a note) once it exceeds float64's maximum; a clamp used to print a wrong finite number."""
    noise = EscapeNoise("exponential", 1.0, 0.0, 1.0)
    u = np.array([0.0, 100.0, 705.0, 709.0, 710.0, 1e4])
    right = noise.stochad_right(u)
    np.testing.assert_allclose(np.log(right[:4]), u[:4], rtol=1e-13)  # exp(705) ~ 1.4e306 is a float
    assert np.all(np.isposinf(right[4:]))  # exp(710) > 1.8e308: no float value
    view = escape_view(EscapeConfig(escape="exponential", beta_n=1e4, rho0_dt=1e6, shape="escape_exp", beta_sg=1e4),
                       u=[-1.0, 0.0, 1.0])
    np.testing.assert_allclose(view.points.stochad_right[:2], [0.0, 1e10], rtol=1e-12)
    assert np.isposinf(view.points.stochad_right[2])
    beyond = 1e4 * view.u + np.log(1e10) > np.log(np.finfo(np.float64).max)  # log of delta_R > log(1.8e308)
    assert np.all(np.isfinite(view.stochad_right[~beyond])) and np.all(np.isposinf(view.stochad_right[beyond]))
    assert len(view.notes) == 1 and "stochad_right is null" in view.notes[0] and "largest float" in view.notes[0]
    assert escape_view(EscapeConfig(), u=[0.0]).notes == ()


# --- bounded work (issue 16, item 4) ------------------------------------------------------------------------------
def test_config_refuses_rasters_beyond_the_work_bound_naming_the_product():
    # each value inside its domain, together 2000 x 400 = 8e5 raster cells (a 19 MB, 4 s CSV download)
    with pytest.raises(ValueError, match=r"n_trials x n_inputs = 8\.0e\+05 exceeds 2e\+05; lower n_trials or n_inputs"):
        EscapeConfig(n_trials=2000, n_inputs=400)
    EscapeConfig(n_trials=500, n_inputs=400)  # 2e5, just inside
    EscapeConfig(n_trials=200, n_inputs=200, n_points=20001, n_samples=2_000_000)  # sliders' top, other sizes maximal


def test_page_defaults_and_presets_stay_inside_the_work_bound():
    from sgcore.pages import PAGES

    EscapeConfig()
    presets = PAGES["escape"].presets
    assert presets
    for values in presets.values():
        EscapeConfig.from_mapping(values)
