"""LocalZO (Mukhoty et al. 2023) against independent facts: closed forms vs quadrature, Monte Carlo
with tolerances from the standard error, the paper's own integrals, and hand-derived densities."""

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from sgcore.localzo import (
    DISTRIBUTIONS,
    SIGMOID_CONSTANT,
    TARGETS,
    LocalZOConfig,
    Theorem3Target,
    active_fraction,
    bth_over_delta,
    expected_surrogate,
    fast_sigmoid_truncated_bth,
    g2_estimate,
    localzo_view,
    monte_carlo,
    paper_checks,
    pooled_mean,
    sample_g2,
    single_sample_variance,
    sparsegrad_active_fraction,
)
from sgcore.localzo.page import points_work
from sgcore.pages import PAGES
from sgcore.shapes import SHAPES

DISTS = list(DISTRIBUTIONS)
CLOSED = [n for n in DISTS if DISTRIBUTIONS[n].closed]


def _valid_pairs():
    pairs = []
    for shape in TARGETS:
        for alpha in (-1, 1):
            try:
                Theorem3Target(shape, 10.0, 0.5, alpha)
            except ValueError:
                continue
            pairs.append((shape, alpha))
    return pairs


PAIRS = _valid_pairs()
PAIR_IDS = [f"{s}-a{a}" for s, a in PAIRS]


def _quad_tail(dist, a, p):
    """2 int_a^inf z^p lambda(z) dz by scipy quad on the frozen scipy.stats law (independent of the code)."""
    upper = dist.support
    val = integrate.quad(lambda z: z**p * float(dist.dist.pdf(z)), a, upper, limit=400, epsabs=1e-13,
                         epsrel=1e-11)[0]
    return 2.0 * val


# --- Theorem 2: distributions --------------------------------------------------------------------
def test_registry_has_the_papers_three_in_closed_form():
    assert set(CLOSED) == {"normal", "uniform", "laplace"}
    for name in DISTS:
        assert DISTRIBUTIONS[name].dist.var() == pytest.approx(1.0, rel=1e-12), name
        assert DISTRIBUTIONS[name].dist.mean() == pytest.approx(0.0, abs=1e-12), name


@pytest.mark.parametrize("name", DISTS)
@pytest.mark.parametrize("p", [-2, -1, 0, 1, 2, 3, 4, 6])
def test_tail_matches_quadrature(name, p):
    d = DISTRIBUTIONS[name]
    a = np.array([0.05, 0.3, 0.9, 1.5, 2.4])
    got = d.tail(a, p)
    ref = np.array([_quad_tail(d, x, p) if x < d.support else 0.0 for x in a])
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("name", DISTS)
def test_tail_diverges_at_zero_only_for_negative_powers(name):
    d = DISTRIBUTIONS[name]
    assert np.isinf(d.tail(np.array([0.0]), -1)[0])
    assert np.isinf(d.tail(np.array([0.0]), -2)[0])
    assert d.tail(np.array([0.0]), 0)[0] == pytest.approx(1.0, abs=1e-10)  # total probability
    assert d.tail(np.array([0.0]), 2)[0] == pytest.approx(1.0, abs=1e-8)  # unit variance


def test_papers_closed_forms_eqs_10_to_12():
    u = np.linspace(-2.0, 2.0, 81)
    for delta in (0.05, 0.5, 1.3):
        x = u / delta
        eq10 = np.exp(-(x**2) / 2) / (delta * math.sqrt(2 * math.pi))
        eq11 = (3 - x**2) / (4 * math.sqrt(3) * delta) * (np.abs(x) < math.sqrt(3))
        eq12 = (np.abs(x) + 1 / math.sqrt(2)) * np.exp(-math.sqrt(2) * np.abs(x)) / (2 * delta)
        for name, ref in (("normal", eq10), ("uniform", eq11), ("laplace", eq12)):
            got = expected_surrogate(DISTRIBUTIONS[name], u, delta, 1)
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14, err_msg=f"{name} delta={delta}")


@pytest.mark.parametrize("name", DISTS)
@pytest.mark.parametrize("alpha", [1, 2, 3])
def test_area_of_expected_surrogate_is_the_moment(name, alpha):
    """Lemma 1: int E[G2] du = E[|z|^(alpha+1)]; for alpha = 1 that is the unit variance."""
    d = DISTRIBUTIONS[name]
    delta = 0.4
    upper = delta * (d.support if math.isfinite(d.support) else 40.0)
    area = 2 * integrate.quad(lambda u: float(expected_surrogate(d, np.array([u]), delta, alpha)[0]), 0, upper,
                              limit=400)[0]
    moment = float(d.dist.expect(lambda z: np.abs(z) ** (alpha + 1)))
    assert area == pytest.approx(moment, rel=1e-6)
    if alpha == 1:
        assert area == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("name", DISTS)
@pytest.mark.parametrize("m", [1, 2, 5, 10])
def test_bth_closed_form_quadrature_and_sampling_agree(name, m):
    d = DISTRIBUTIONS[name]
    x = bth_over_delta(d, m)
    assert x == pytest.approx(d.emax_quad(m), rel=1e-9)
    rng = np.random.default_rng(100 + m)
    mx = d.sample_abs((200_000, m), rng).max(axis=1)
    se = mx.std() / math.sqrt(mx.size)
    assert abs(mx.mean() - x) < 5 * se


def test_bth_closed_forms():
    assert bth_over_delta(DISTRIBUTIONS["normal"], 1) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-12)
    for m in (1, 3, 7):
        assert bth_over_delta(DISTRIBUTIONS["uniform"], m) == pytest.approx(math.sqrt(3) * m / (m + 1), rel=1e-12)
        harmonic = sum(1.0 / j for j in range(1, m + 1))
        assert bth_over_delta(DISTRIBUTIONS["laplace"], m) == pytest.approx(harmonic / math.sqrt(2), rel=1e-12)
    # the quadrature behind any m (the official code only has m = 1 and 5) is monotone in m
    vals = [bth_over_delta(DISTRIBUTIONS["normal"], m) for m in (1, 2, 5, 50, 500)]
    assert all(b > a for a, b in zip(vals, vals[1:], strict=False))


def test_abs_cdf_is_integral_of_density():
    for name in DISTS:
        d = DISTRIBUTIONS[name]
        for t in (0.2, 1.0, 1.6):
            ref = 2 * integrate.quad(lambda z, d=d: float(d.density(z)), 0, t)[0]
            assert float(d.abs_cdf(t)) == pytest.approx(ref, abs=1e-10), name


# --- the estimator -------------------------------------------------------------------------------
def test_g2_estimate_definition():
    z = np.array([[0.5, -2.0, 1.0]])
    delta = 0.1
    u = np.array([0.0, 0.06, 0.15, 0.3])
    got = g2_estimate(u, np.broadcast_to(z, (4, 3)), delta, 1)  # u[i] pairs with the row z[i, :]
    by_hand = [(0.5 + 2.0 + 1.0) / 3, (2.0 + 1.0) / 3, 2.0 / 3, 0.0]
    np.testing.assert_allclose(got.ravel(), np.array(by_hand) / (2 * delta))


@pytest.mark.parametrize("name", DISTS)
@pytest.mark.parametrize("alpha", [1, -1, 2])
def test_monte_carlo_mean_and_variance_match(name, alpha):
    d = DISTRIBUTIONS[name]
    delta, n = 0.5, 100_000
    u = np.array([0.1, 0.4, 0.8])
    est = sample_g2(d, u, delta, alpha, 1, n, np.random.default_rng(7))
    exp = expected_surrogate(d, u, delta, alpha)
    var = single_sample_variance(d, u, delta, alpha)
    assert np.all(np.abs(est.mean(axis=0) - exp) < 5 * np.sqrt(var / n))
    # sample variance vs exact, relative tolerance from the kurtosis of the estimate
    fourth = ((est - exp) ** 4).mean(axis=0)
    se_var = np.sqrt(np.maximum(fourth - var**2, 0) / n)
    assert np.all(np.abs(est.var(axis=0) - var) < 6 * se_var + 1e-12)


def test_averaging_m_samples_divides_the_variance():
    d = DISTRIBUTIONS["laplace"]
    u, delta, n = np.array([0.2]), 0.3, 60_000
    var1 = single_sample_variance(d, u, delta, 1)[0]
    for m in (2, 5):
        mc = monte_carlo(d, u, delta, 1, m, n, np.random.default_rng(m))
        assert mc.stderr[0] ** 2 * n == pytest.approx(var1 / m, rel=0.05)


def test_pooled_mean_equals_mean_of_estimates():
    rng = np.random.default_rng(3)
    z = np.abs(rng.normal(size=(500, 4)))
    u = np.linspace(-1, 1, 21)
    direct = g2_estimate(u[:, None], z[None, :, :], 0.3, 1).mean(axis=1)
    np.testing.assert_allclose(pooled_mean(u, z, 0.3, 1), direct, rtol=1e-12)


def test_monte_carlo_stderr_is_the_sample_standard_error():
    d = DISTRIBUTIONS["normal"]
    u = np.array([0.0, 0.3])
    mc = monte_carlo(d, u, 0.5, 1, 3, 5000, np.random.default_rng(11), chunk=999)  # several chunks
    est = sample_g2(d, u, 0.5, 1, 3, 5000, np.random.default_rng(11))
    assert mc.n == 5000
    assert np.all(mc.stderr > 0)
    # same law, different chunking of the stream: compare against the theoretical s.e.
    se = np.sqrt(single_sample_variance(d, u, 0.5, 1) / (3 * 5000))
    np.testing.assert_allclose(mc.stderr, se, rtol=0.1)
    np.testing.assert_allclose(est.std(axis=0, ddof=1) / math.sqrt(5000), se, rtol=0.1)


# --- active fractions ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", DISTS)
@pytest.mark.parametrize("m", [1, 5])
def test_active_fraction_matches_monte_carlo(name, m):
    d = DISTRIBUTIONS[name]
    rng = np.random.default_rng(20 + m)
    for udist in (stats.uniform(loc=-1, scale=2), stats.norm(loc=-0.5, scale=0.5)):
        n = 200_000
        us = udist.rvs(size=n, random_state=rng)
        nz = sample_g2(d, us, 0.3, 1, m, 1, rng)[0] != 0
        p = active_fraction(d, udist, 0.3, m)
        assert abs(nz.mean() - p) < 5 * math.sqrt(p * (1 - p) / n) + 1e-9


def test_active_fraction_closed_case():
    # uniform u on [-1, 1], uniform z, m = 1: P(|u| <= delta |z|) = E_z[delta |z|] = delta sqrt(3)/2 (when <= 1)
    d = DISTRIBUTIONS["uniform"]
    delta = 0.25
    assert active_fraction(d, stats.uniform(loc=-1, scale=2), delta, 1) == pytest.approx(
        delta * math.sqrt(3) / 2, rel=1e-10)


def test_sparsegrad_fraction():
    udist = stats.uniform(loc=-1, scale=2)
    assert sparsegrad_active_fraction(udist, 0.2) == pytest.approx(0.2)
    assert sparsegrad_active_fraction(udist, math.inf) == 1.0


# --- Theorem 3: targets --------------------------------------------------------------------------
def test_every_target_has_a_valid_alpha():
    shapes = {s for s, _ in PAIRS}
    assert shapes == set(TARGETS)
    assert "escape_exp" not in TARGETS  # not even, so not a surrogate in the paper's sense
    with pytest.raises(ValueError, match="not even"):
        Theorem3Target("escape_exp", 10, 0.5, 1)


@pytest.mark.parametrize(("shape", "alpha"), PAIRS, ids=PAIR_IDS)
def test_theorem3_contract(shape, alpha):
    t = Theorem3Target(shape, 7.0, 0.3, alpha)
    if not t.point_mass:
        # lambda is a probability density, and |z|'s CDF is its integral
        mass = 2 * integrate.quad(lambda z: float(t.density(z)), 0, np.inf, limit=400)[0]
        assert mass == pytest.approx(1.0, abs=1e-6)
        for q in (0.2, 0.5, 0.9):
            tq = float(t.abs_cdf(np.array([1.0]))[0])  # noqa: F841 (touch the table)
            x = float(t._ppf_Y(np.array([q]))[0]) * t.scale
            ref = 2 * integrate.quad(lambda z: float(t.density(z)), 0, x, limit=400)[0]
            assert ref == pytest.approx(q, abs=1e-5)
    # c * E[G2] = g, by quadrature (Eq. 9) and Monte Carlo
    u = np.array([0.0, 0.05, 0.13, 0.3]) if alpha == 1 or t.finite_mean else np.array([0.05, 0.13, 0.3])
    np.testing.assert_allclose(expected_surrogate(t, u, t.delta, alpha), t.g(u), rtol=2e-6, atol=1e-9)
    mc = monte_carlo(t, u, t.delta, alpha, 1, 100_000, np.random.default_rng(5))
    assert np.all(np.abs(mc.mean - t.g(u)) < 5 * mc.stderr + 1e-9)
    # the sampler follows the CDF
    if not t.point_mass:
        samples = t.sample_abs(20_000, np.random.default_rng(9))
        assert stats.kstest(samples, lambda x: t.abs_cdf(x)).pvalue > 1e-3
    if t.table_error is not None:
        assert t.table_error < 1e-5
    # E[max |z_k|] by quadrature = by sampling, when finite
    if t.finite_mean:
        rng = np.random.default_rng(13)
        for m in (1, 5):
            mx = t.sample_abs((200_000, m), rng).max(axis=1)
            se = mx.std() / math.sqrt(mx.size) + 1e-12
            assert abs(mx.mean() - t.emax(m)) < 5 * se + 1e-6 * t.emax(m)
    else:
        assert math.isinf(t.emax(1))


@pytest.mark.parametrize(("shape", "alpha"), PAIRS, ids=PAIR_IDS)
def test_theorem3_c_is_the_papers_integral(shape, alpha):
    """c = -2 delta^2 int_0^inf z^-alpha g'(z delta) dz (Theorem 3)."""
    t = Theorem3Target(shape, 4.0, 0.5, alpha)
    if t.point_mass:
        # g'(z delta) = -(gamma / delta) dirac(z - 1/(2 s delta)) for z > 0: c = 2 gamma delta (1/(2 s delta))^-alpha
        ref = 2 * t.gamma * t.delta * (1 / (2 * t.s * t.delta)) ** (-alpha)
        assert t.c == pytest.approx(ref, rel=1e-12)
        return
    unit = 1 / t.s  # |u| where s |u| = 1
    pts = [0.0, unit, 100 * unit, np.inf]
    if alpha == -1:
        # by parts, -2 delta^2 int z g'(z delta) dz = 2 int_0^inf g(u) du: c is the area of g
        area = 2 * sum(integrate.quad(lambda x: float(t.g(x)), lo, hi, limit=400)[0]
                       for lo, hi in zip(pts, pts[1:], strict=False))
        assert t.c == pytest.approx(area, rel=1e-6)
        return
    h = 1e-6  # alpha = 1 (smooth shapes): g' by central differences, z = u / delta

    def integrand(x):
        return float((t.g(x + h) - t.g(x - h)) / (2 * h) / x) if x > 0 else 0.0

    total = sum(integrate.quad(integrand, lo, hi, limit=400)[0] for lo, hi in zip(pts, pts[1:], strict=False))
    assert t.c == pytest.approx(-2 * t.delta**2 * total, rel=1e-5)


def test_shape_constants_alpha_1_by_quadrature():
    for shape in ("sigmoid", "gaussian", "atan"):
        f = SHAPES[shape]
        val = integrate.quad(lambda y, f=f: float(-f.df(np.array([y]))[0] / y), 1e-12, np.inf, limit=400)[0]
        assert Theorem3Target(shape, 1.0, 1.0, 1).M == pytest.approx(val, rel=1e-8), shape


def test_sigmoid_constant_is_the_papers_integral():
    integrand = lambda x: 2 * math.exp(-x) * (1 - math.exp(-x)) / (x * (1 + math.exp(-x)) ** 3)  # noqa: E731
    val = integrate.quad(integrand, 0, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
    assert SIGMOID_CONSTANT == pytest.approx(val, rel=1e-11)
    assert SIGMOID_CONSTANT == pytest.approx(7 * special.zeta(3) / (2 * math.pi**2), rel=1e-15)
    assert f"{SIGMOID_CONSTANT:.4f}" == "0.4263"  # the paper prints 0.4262: truncated, not rounded


def test_fast_sigmoid_facts():
    k, delta = 100.0, 0.05
    t = Theorem3Target("superspike", k, delta, -1)
    u = np.array([-0.02, 0.0, 0.01, 0.2])
    np.testing.assert_allclose(t.g(u), 1 / (1 + k * np.abs(u)) ** 2, rtol=1e-14)
    assert t.c == pytest.approx(2 / k, rel=1e-14)  # paper Sec. 4.6.2
    # lambda(z) = k^2 delta^2 |z| / (1 + k delta |z|)^3 / ... : P(|z| <= t) = (k delta t / (1 + k delta t))^2
    tt = np.array([0.01, 0.3, 1.0, 10.0])
    x = k * delta * tt
    np.testing.assert_allclose(t.abs_cdf(tt), (x / (1 + x)) ** 2, rtol=1e-12)
    np.testing.assert_allclose(2 * t.density(tt), k**2 * delta**2 * 2 * tt / (1 + x) ** 3 / 1.0, rtol=1e-10)
    assert t.sampler == "analytic inverse CDF" and t.table_error is None
    assert math.isinf(t.emax(1)) and math.isinf(t.emax(5))
    var = single_sample_variance(t, np.array([0.0, 0.01]), delta, -1)
    assert np.isinf(var[0]) and np.isfinite(var[1])


def test_fast_sigmoid_truncated_bth_formula():
    raw, renorm = fast_sigmoid_truncated_bth(100.0, 0.05, 10.0)
    ref = (2 / 100) * integrate.quad(lambda x: x**2 / (1 + x) ** 3, 0, 100 * 0.05 * 10)[0]
    assert raw == pytest.approx(ref, rel=1e-12)
    # the same by the Theorem 3 density: delta E[|z| ; |z| <= 10]
    t = Theorem3Target("superspike", 100.0, 0.05, -1)
    direct = 0.05 * 2 * integrate.quad(lambda z: z * float(t.density(z)), 0, 10, limit=200)[0]
    assert raw == pytest.approx(direct, rel=1e-8)
    assert renorm > raw
    assert abs(raw - 0.0461) > 0.002  # the printed B_th of Sec. 5.2 is not reproduced


def test_correspondences():
    u = np.linspace(-1, 1, 41)
    for delta in (0.1, 0.5):
        s = 1 / (delta * math.sqrt(2 * math.pi))  # LocalZO-Normal(delta) = gaussian with gamma = s
        np.testing.assert_allclose(expected_surrogate(DISTRIBUTIONS["normal"], u, delta, 1),
                                   s * SHAPES["gaussian"].f(s * u), rtol=1e-12)
    for k in (2.0, 30.0):
        t = Theorem3Target("sigmoid", k, 0.1, 1)
        assert t.gamma == pytest.approx(k / 4) and t.s == pytest.approx(k / 4)
        np.testing.assert_allclose(t.g(u), k * special.expit(k * u) * special.expit(-k * u), rtol=1e-12)


def test_rectangular_point_mass():
    t = Theorem3Target("rectangular", 4.0, 0.5, 1)
    z = t.sample_abs(100, np.random.default_rng(0))
    np.testing.assert_allclose(z, 0.5 * t.scale)
    u = np.linspace(-0.6, 0.6, 25)
    np.testing.assert_allclose(expected_surrogate(t, u, 0.5, 1), t.g(u), atol=1e-12)


# --- configuration, view, CLI numbers ------------------------------------------------------------
def test_config_validation_messages():
    with pytest.raises(ValueError, match="alpha = 2"):
        LocalZOConfig(source="surrogate", target="sigmoid", alpha="2")
    with pytest.raises(ValueError, match="corner"):
        LocalZOConfig(source="surrogate", target="superspike", alpha="1")
    with pytest.raises(ValueError, match="u_lo < u_hi"):
        LocalZOConfig(u_lo=1.0, u_hi=-1.0)
    with pytest.raises(ValueError, match="delta"):
        LocalZOConfig(delta=0.0)
    with pytest.raises(ValueError, match="normal"):
        LocalZOConfig(dist="cauchy")
    with pytest.raises(ValueError):
        LocalZOConfig(delta=float("nan"))
    assert LocalZOConfig(alpha=-1).alpha == "-1"


def test_view_is_consistent():
    cfg = LocalZOConfig(dist="laplace", delta=0.3, m=5, n_samples=4000, seed=2)
    v = localzo_view(cfg)
    assert v.bth == pytest.approx(0.3 * DISTRIBUTIONS["laplace"].emax(5))
    assert v.area == pytest.approx(1.0, rel=1e-9)
    assert np.all(np.abs(v.mc_mean - v.expected) < 6 * v.mc_stderr + 1e-12)
    assert np.all(v.sparse_sd[np.abs(v.u) >= v.bth] == 0)
    assert v.conv_err[-1] < v.conv_err[0]
    assert list(v.m_values) == [1, 2, 3, 5, 10, 20]
    assert v.active_localzo == pytest.approx(active_fraction(DISTRIBUTIONS["laplace"], cfg.u_distribution(), 0.3, 5))
    assert localzo_view(cfg).mc_mean.tolist() == v.mc_mean.tolist()  # deterministic for a seed


def test_view_shows_infinite_variance_not_a_number():
    cfg = LocalZOConfig(source="surrogate", target="superspike", k=100, delta=0.05, alpha="-1", u_span=0.1)
    v = localzo_view(cfg)
    assert 0.0 in v.infinite_variance_at
    assert math.isinf(v.bth) and v.active_sparse == 1.0
    assert any("infinite" in n for n in v.notes)


def test_view_points_issue_example():
    cfg = LocalZOConfig(dist="normal", delta=0.05, m=1, alpha="1", n_points=11)
    view = localzo_view(cfg, u_points=[0, 0.03, 0.1], samples=20_000)
    out = view.points
    ref = np.exp(-(np.array([0, 0.03, 0.1]) / 0.05) ** 2 / 2) / (0.05 * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(out.expected_surrogate, ref, rtol=1e-12)
    assert view.bth_over_delta == pytest.approx(math.sqrt(2 / math.pi))
    assert np.all(np.abs(out.monte_carlo_mean - ref) < 5 * out.monte_carlo_stderr)
    se = out.active_fraction_stderr
    assert abs(out.active_fraction - view.active_localzo) < 5 * se


def test_view_points_do_not_change_the_page_numbers():
    cfg = LocalZOConfig(n_points=21, n_samples=200)
    plain, with_points = localzo_view(cfg), localzo_view(cfg, u_points=[0.0, 0.5], samples=100)
    assert plain.points is None and with_points.points.samples == 100
    np.testing.assert_array_equal(plain.mc_mean, with_points.mc_mean)
    np.testing.assert_array_equal(plain.samples, with_points.samples)
    # the grid's curves and the points' are one code path
    pts = localzo_view(cfg, u_points=plain.u).points
    np.testing.assert_array_equal(pts.expected_surrogate, plain.expected)
    np.testing.assert_array_equal(pts.single_sample_variance, plain.variance_1)
    assert pts.monte_carlo_mean is None and pts.active_fraction is None
    with pytest.raises(ValueError, match="u must be finite"):
        localzo_view(cfg, u_points=[np.inf])


def test_paper_checks_find_what_does_not_hold():
    checks = {(c.where, c.printed): c for c in paper_checks()}
    assert all(c.holds for c in checks.values() if c.printed != "0.0461")
    assert not checks[("Sec. 5.2", "0.0461")].holds
    assert "truncates" in checks[("Table 1", "1.569")].comment
    assert "truncates" in checks[("Sec. 4.6.1, A.3.1", "0.4262")].comment


@pytest.mark.parametrize("k, delta", [(10.0, 0.5), (1.0 / math.sqrt(SIGMOID_CONSTANT), 1.0), (3.0, 0.1)])
def test_theorem3_sigmoid_emax_m1_exact(k, delta):
    """Issue 16 item 3: alpha = 1 gives E|z| = scale / M exactly; at k delta = a (1/a^2 = SIGMOID_CONSTANT)
    that is a/2 = 0.76581407, where the trapezoid on the CDF table gave 0.76581501 (1.2e-6 relative)."""
    t = Theorem3Target("sigmoid", k, delta, 1)
    exact = t.scale / t.M
    if k * delta == pytest.approx(1.0 / math.sqrt(SIGMOID_CONSTANT)):
        assert exact == pytest.approx(0.5 / math.sqrt(SIGMOID_CONSTANT), rel=1e-14)
    assert t.emax(1) == pytest.approx(exact, rel=1e-9)
    assert abs(t.emax(1) - exact) <= t.emax_error(1) < 1e-9 * exact


@pytest.mark.parametrize("m", [2, 5, 40])
def test_theorem3_sigmoid_emax_matches_nested_quad(m):
    """No closed form for m > 1: an independent (slow) nested scipy quad of 1 - R^m, R by quad of the density;
    the difference lies within the reported error estimate, itself below 1e-9 relative."""
    t = Theorem3Target("sigmoid", 10.0, 0.5, 1)
    shp = SHAPES["sigmoid"]
    rho = lambda y: -shp.df(np.array([y]))[0] / y / t.M  # noqa: E731
    cdf = lambda y: integrate.quad(rho, 0.0, y, epsabs=1e-15, epsrel=1e-13, limit=200)[0]  # noqa: E731
    ref = integrate.quad(lambda y: 1.0 - min(cdf(y), 1.0) ** m, 0.0, 14.0, epsabs=1e-14, epsrel=1e-12,
                         limit=200)[0] * t.scale
    err = t.emax_error(m)
    assert err < 1e-9 * ref
    assert abs(t.emax(m) - ref) <= err + 1e-12 * ref  # + the reference's own error


def test_theorem3_emax_error_for_closed_forms_and_point_mass():
    assert 0.0 <= Theorem3Target("gaussian", 5.0, 0.5, 1).emax_error(5) < 1e-9
    assert Theorem3Target("rectangular", 5.0, 0.5, -1).emax_error(3) == 0.0


def test_view_reports_the_threshold_error():
    """The LocalZO page shows E[max|z_k|]'s estimated error for a Theorem 3 target (none for a distribution)."""
    cfg = LocalZOConfig(source="surrogate", target="sigmoid", alpha="1", m=5, n_samples=50)
    v = localzo_view(cfg)
    assert 0.0 < v.bth_over_delta_error < 1e-9 * v.bth_over_delta
    assert localzo_view(LocalZOConfig(n_samples=50)).bth_over_delta_error is None


# --- bounded work (issue 16, item 4): the product of the sizes, not each alone ---------------------------------
def test_config_refuses_the_issues_sizes_naming_the_product_and_limit():
    # m = 10000 is inside m's own domain, but the convergence stream alone would be 30000 x 10000 draws (2.4 GB)
    with pytest.raises(ValueError, match=r"m x \(n_samples \+ n_points \+ 30000\) = 3\.2e\+08 exceeds 2e\+06; "
                                         r"lower m or n_samples"):
        LocalZOConfig(dist="normal", delta=0.05, m=10_000, alpha="1")
    with pytest.raises(ValueError, match="n_samples"):
        LocalZOConfig(m=5, n_samples=1_000_000)


def test_every_preset_default_and_slider_maximum_stays_within_the_bound():
    for values in PAGES["localzo"].presets.values():
        LocalZOConfig(**values)
    LocalZOConfig()
    specs = {p.name: p for p in LocalZOConfig.PARAMS}
    LocalZOConfig(**{k: specs[k].slider[1] for k in ("m", "n_samples", "n_points")})  # every slider at its top
    LocalZOConfig(n_samples=specs["n_samples"].domain[1])  # the largest n_samples a link can ask, at m = 1


def test_points_monte_carlo_refuses_samples_times_m_times_u_before_computing():
    cfg = LocalZOConfig(m=2)
    with pytest.raises(ValueError, match=r"samples x m x \(len\(u\) \+ 1\) = 4\.0e\+07 exceeds 2e\+07"):
        localzo_view(cfg, u_points=[0.0], samples=10_000_000)
    assert points_work(LocalZOConfig(), [0.0], 10_000_000) == 20_000_000  # the CLI's largest --samples at m = 1
    assert points_work(cfg, [0.0, 1.0], None) == 0
