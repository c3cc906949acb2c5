"""Contract tests over every registered shape, plus the papers' conventions as independent facts."""

import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from scipy.special import expit

from sgcore.shapes import H0, SHAPES, dampening, get_shape, heaviside, surrogate_derivative

NAMES = list(SHAPES)
SYMMETRIC = [n for n in NAMES if SHAPES[n].symmetric]


def _kinks(shape):
    pts = [0.0]
    if math.isfinite(shape.support):
        pts += [-shape.support, shape.support]
    return pts


def _smooth_points(shape):
    """Points away from kinks/discontinuities where derivatives are defined."""
    v = np.linspace(-3.0, 3.0, 61) + 0.0123
    for k in _kinks(shape):
        v = v[np.abs(v - k) > 1e-3]
    return v


@pytest.fixture(params=NAMES, ids=NAMES)
def shape(request):
    return SHAPES[request.param]


def test_max_is_one_at_zero(shape):
    v = np.linspace(-5, 5, 20001)
    assert shape.f(0.0) == pytest.approx(1.0, abs=1e-12)
    assert shape.f(v).max() <= 1.0 + 1e-12


def test_unit_area(shape):
    lo, hi = (-shape.support, shape.support) if math.isfinite(shape.support) else (-np.inf, np.inf)
    pieces = [(lo, 0.0), (0.0, hi)]
    area = sum(integrate.quad(lambda x: float(shape.f(x)), a, b, limit=200)[0] for a, b in pieces)
    assert area == pytest.approx(1.0, abs=1e-6)


def test_cdf_derivative_is_f_numerically(shape):
    v = _smooth_points(shape)
    h = 1e-6
    numeric = (shape.cdf(v + h) - shape.cdf(v - h)) / (2 * h)
    np.testing.assert_allclose(numeric, shape.f(v), atol=1e-6)


def test_cdf_derivative_is_f_by_autograd(shape):
    v = torch.tensor(_smooth_points(shape), dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(shape.cdf_torch(v).sum(), v)
    np.testing.assert_allclose(grad.numpy(), shape.f(v.detach().numpy()), atol=1e-12)


def test_cdf_limits_and_monotone(shape):
    assert shape.cdf(-1e30) == pytest.approx(0.0, abs=1e-12)
    assert shape.cdf(1e30) == pytest.approx(1.0, abs=1e-12)
    F = shape.cdf(np.linspace(-10, 10, 2001))
    assert np.all(np.diff(F) >= -1e-15)


def test_sf_is_one_minus_cdf(shape):
    v = np.linspace(-4, 4, 81)
    np.testing.assert_allclose(shape.sf(v), 1.0 - shape.cdf(v), atol=1e-12)


@pytest.mark.parametrize("name", SYMMETRIC)
def test_symmetry(name):
    shp = SHAPES[name]
    v = np.linspace(0, 5, 101)
    np.testing.assert_allclose(shp.f(-v), shp.f(v), atol=1e-15)
    np.testing.assert_allclose(shp.cdf(-v), 1.0 - shp.cdf(v), atol=1e-12)
    assert shp.cdf(0.0) == pytest.approx(0.5)


def test_inverse_cdf_round_trip(shape):
    p = np.linspace(0.001, 0.999, 999)
    np.testing.assert_allclose(shape.cdf(shape.ppf(p)), p, atol=1e-10)


def test_samples_follow_cdf(shape):
    x = shape.sample(20000, np.random.default_rng(1))
    result = stats.kstest(x, lambda t: shape.cdf(t))
    assert result.pvalue > 1e-3


def test_hazards_match_ratios(shape):
    v = np.linspace(-2.5, 2.5, 51) + 0.01
    F, sf, f = shape.cdf(v), shape.sf(v), shape.f(v)
    ok_r, ok_l = sf > 1e-12, F > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        r_ratio, l_ratio = f / sf, f / F
    r_ratio, l_ratio = np.where(ok_r, r_ratio, 0), np.where(ok_l, l_ratio, 0)
    np.testing.assert_allclose(shape.hazard(v)[ok_r], r_ratio[ok_r], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(shape.reverse_hazard(v)[ok_l], l_ratio[ok_l], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("u", [-100.0, 100.0, -1e30, 1e30])
def test_stable_at_extremes(shape, dtype, u):
    arr = np.array([u, 0.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for scale in ("density", "peak"):
            sd = surrogate_derivative(arr, shape.name, 25.0, scale=scale)
            assert sd.dtype == dtype and np.all(np.isfinite(sd))
        s = shape.sharpness(25.0)
        F = shape.cdf(s * arr)
        assert F.dtype == dtype and np.all(np.isfinite(F)) and np.all((F >= 0) & (F <= 1))


@pytest.mark.parametrize("scale", ["density", "peak", "gamma"])
def test_torch_sd_equals_numpy_sd(shape, scale):
    from sgcore.spike import surrogate_derivative_torch

    u = np.linspace(-2, 2, 101) + 0.003
    kw = dict(scale=scale, gamma=0.7 if scale == "gamma" else None)
    ref = surrogate_derivative(u, shape.name, 7.0, **kw)
    got = surrogate_derivative_torch(torch.tensor(u), shape.name, 7.0, **kw).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_density_scaling_has_unit_area_and_peak_scaling_unit_peak(shape):
    beta = 3.0
    sd = lambda x: float(surrogate_derivative(x, shape.name, beta, scale="density"))  # noqa: E731
    area = sum(integrate.quad(sd, a, b, limit=400)[0] for a, b in ((-np.inf, 0.0), (0.0, np.inf)))
    assert area == pytest.approx(1.0, abs=1e-6)
    assert surrogate_derivative(0.0, shape.name, beta, scale="peak") == pytest.approx(1.0)


# --- the papers' conventions, as closed forms ------------------------------------------------
U = np.linspace(-3, 3, 121)


@pytest.mark.parametrize("beta", [0.5, 5.0, 25.0])
def test_sigmoid_density_is_gygax_zenke_eq1(beta):
    # beta sigma(x)(1 - sigma(x)) = beta e^{-|x|} / (1 + e^{-|x|})^2, written without cancellation
    e = np.exp(-np.abs(beta * U))
    np.testing.assert_allclose(surrogate_derivative(U, "sigmoid", beta), beta * e / (1 + e) ** 2, rtol=1e-12)


@pytest.mark.parametrize("beta", [1.0, 10.0])
def test_superspike_peak_is_gygax_zenke_table2(beta):
    np.testing.assert_allclose(surrogate_derivative(U, "superspike", beta), 1 / (beta * np.abs(U) + 1) ** 2,
                               rtol=1e-12)


def test_default_scalings_are_the_papers():
    assert SHAPES["sigmoid"].default_scale == "density"
    assert SHAPES["superspike"].default_scale == "peak"
    assert all(SHAPES[n].default_scale == "density" for n in NAMES if n not in ("sigmoid", "superspike"))


def test_q_pseudospike_with_q2_is_fast_sigmoid():
    np.testing.assert_allclose(SHAPES["q_pseudospike"].f(U, q=2.0), SHAPES["superspike"].f(U), rtol=1e-12)


@pytest.mark.parametrize(
    "name,dist",
    [
        ("gaussian", lambda b: stats.norm(scale=1 / b)),
        ("sigmoid", lambda b: stats.logistic(scale=1 / b)),
        ("exponential", lambda b: stats.laplace(scale=1 / b)),
        ("atan", lambda b: stats.cauchy(scale=2 / (math.pi * b))),
        ("escape_exp", lambda b: stats.gumbel_l(scale=1 / b)),
        ("triangular", lambda b: stats.triang(c=0.5, loc=-1 / b, scale=2 / b)),
        ("rectangular", lambda b: stats.uniform(loc=-0.5 / b, scale=1 / b)),
    ],
)
def test_density_scaling_is_a_scipy_density(name, dist):
    beta = 4.0
    d = dist(beta)
    u = U[np.abs(np.abs(U) - 0.125) > 1e-9]  # skip the rectangle's edges
    np.testing.assert_allclose(surrogate_derivative(u, name, beta, scale="density"), d.pdf(u), atol=1e-12)
    s = SHAPES[name].sharpness(beta)
    np.testing.assert_allclose(SHAPES[name].cdf(s * u), d.cdf(u), atol=1e-12)


def test_atan_matches_spikingjelly_formula():
    alpha = 2.0  # SpikingJelly ATan: g'(x) = alpha / 2 / (1 + (pi/2 alpha x)^2)
    ref = alpha / 2 / (1 + (math.pi / 2 * alpha * U) ** 2)
    np.testing.assert_allclose(surrogate_derivative(U, "atan", alpha, scale="density"), ref, rtol=1e-12)


def test_gamma_scaling_and_errors():
    np.testing.assert_allclose(surrogate_derivative(U, "triangular", 2.0, scale="gamma", gamma=0.3),
                               0.3 * SHAPES["triangular"].f(2.0 * U))
    with pytest.raises(ValueError, match="gamma must be"):
        dampening("triangular", 2.0, "gamma", None)
    with pytest.raises(ValueError, match="gamma must be"):
        dampening("triangular", 2.0, "gamma", -1.0)
    with pytest.raises(ValueError, match="scale must be one of density, peak, gamma"):
        dampening("triangular", 2.0, "area")
    with pytest.raises(ValueError, match="beta must be a finite number > 0"):
        surrogate_derivative(U, "sigmoid", 0.0)
    with pytest.raises(ValueError, match="beta must be"):
        surrogate_derivative(U, "sigmoid", math.nan)


def test_unknown_shape_lists_valid_names():
    with pytest.raises(ValueError, match="shape must be one of sigmoid, superspike"):
        get_shape("boxcar")


def test_shape_params_validated():
    with pytest.raises(ValueError, match=r"q must be a finite number in \(1, 100\]"):
        SHAPES["q_pseudospike"].f(U, q=1.0)
    with pytest.raises(ValueError, match="takes no parameter"):
        SHAPES["sigmoid"].f(U, q=2.0)


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        SHAPES["new"] = SHAPES["sigmoid"]  # type: ignore[index]


def test_heaviside_convention_is_one_half_at_zero():
    assert H0 == 0.5
    np.testing.assert_array_equal(heaviside([-1.0, 0.0, 1.0]), [0.0, 0.5, 1.0])
    # the step limit of a sigmoid at 0
    assert expit(1e6 * 0.0) == H0


# --- the Surrogate choice (shared by pages) ---------------------------------------------------
from sgcore.shapes import Surrogate, sd_param_specs  # noqa: E402


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", ["density", "peak", "gamma"])
def test_surrogate_primitive_is_antiderivative_of_sd(name, scale):
    sur = Surrogate(name, 3.0, scale, 0.4)
    v = _smooth_points(SHAPES[name]) / sur.s
    h = 1e-6
    numeric = (sur.primitive(v + h) - sur.primitive(v - h)) / (2 * h)
    np.testing.assert_allclose(numeric, sur.sd(v), atol=2e-6 * max(1.0, sur.dampening))


def test_surrogate_sigmoid_primitive_is_the_smoother_sigmoid():
    np.testing.assert_allclose(Surrogate("sigmoid", 15.0).primitive(U), expit(15.0 * U), rtol=1e-12)


def test_surrogate_validates_and_resolves_auto_scale():
    assert Surrogate("superspike").resolved_scale == "peak"
    assert Surrogate("sigmoid").resolved_scale == "density"
    with pytest.raises(ValueError, match=r"beta must be a finite number in \(0, 10000\]"):
        Surrogate("sigmoid", -1.0)
    with pytest.raises(ValueError, match="beta must be"):
        Surrogate("sigmoid", True)  # a boolean is not a steepness
    with pytest.raises(ValueError, match="shape must be one of"):
        Surrogate("nope")
    with pytest.raises(ValueError, match="scale must be one of auto, density, peak, gamma"):
        Surrogate("sigmoid", 1.0, "area")
    with pytest.raises(TypeError):
        Surrogate("sigmoid", 1.0, "auto", 1.0, 1.5, 2.0)  # five declared fields, no more


def test_surrogate_is_declared_once_by_the_sd_specs():
    """Surrogate's fields are sd_param_specs (beta is the pages' beta_sg): names, order and defaults."""
    specs = sd_param_specs()
    assert [f.name for f in dataclasses.fields(Surrogate)] == ["beta" if s.name == "beta_sg" else s.name
                                                                for s in specs]
    assert Surrogate() == Surrogate(*(s.default for s in specs))
    sur = Surrogate("superspike", 7, "gamma", 0.5, 2)
    assert (sur.beta, type(sur.beta), sur.q, type(sur.q)) == (7.0, float, 2.0, float)  # coerced like a URL value
    with pytest.raises(dataclasses.FrozenInstanceError):
        sur.beta = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="gamma must be"):
        dataclasses.replace(sur, gamma=0.0)  # replace() revalidates


def test_surrogate_of_reads_the_flat_fields_of_a_config():
    from sgcore.escape import EscapeConfig
    from sgcore.loop import LoopConfig
    from sgcore.signflip import SignflipConfig

    esc = EscapeConfig(shape="superspike", beta_sg=8.0, scale="gamma", gamma=0.3, q=2.5)
    assert esc.surrogate == Surrogate("superspike", 8.0, "gamma", 0.3, 2.5)
    assert SignflipConfig(shape="gaussian", beta_sg=3.0).surrogate(9.0) == Surrogate("gaussian", 9.0)
    assert LoopConfig(shape="triangular", q=3.0).surrogate(4.0) == Surrogate("triangular", 4.0, q=3.0)
    with pytest.raises(ValueError, match="beta must be"):
        LoopConfig().surrogate(-1.0)


def test_analytic_derivative_is_autograd_of_f(shape):
    v = torch.tensor(_smooth_points(shape), dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(shape.f_torch(v).sum(), v)
    np.testing.assert_allclose(shape.df(v.detach().numpy()), grad.numpy(), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("q", [1.05, 1.5, 3.0])
def test_q_pseudospike_derivative_for_several_tails(q):
    shape = SHAPES["q_pseudospike"]
    v = torch.tensor(_smooth_points(shape), dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(shape.f_torch(v, q=q).sum(), v)
    np.testing.assert_allclose(shape.df(v.detach().numpy(), q=q), grad.numpy(), atol=1e-12, rtol=1e-12)


# --- log-CDF, log-survival and the in-place inverse CDF (escape noise) -------------------------------
@pytest.mark.parametrize("name", list(SHAPES))
def test_logcdf_logsf_and_ppf_inplace_agree_with_cdf_sf_ppf(name):
    shp = SHAPES[name]
    v = np.linspace(-4.0, 4.0, 81)
    cdf, sf = shp.cdf(v), shp.sf(v)
    ok, ok_sf = cdf > 1e-300, sf > 1e-300
    np.testing.assert_allclose(shp.logcdf(v)[ok], np.log(cdf[ok]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(shp.logsf(v)[ok_sf], np.log(sf[ok_sf]), rtol=1e-12, atol=1e-15)
    p = np.linspace(0.0, 1.0, 41, endpoint=False)[1:]
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        arr = p.astype(dtype)
        ref = shp.ppf(arr)
        shp.ppf_inplace(arr, np.empty_like(arr))
        assert arr.dtype == dtype
        np.testing.assert_allclose(arr, ref, rtol=tol, atol=tol)


def test_sigmoid_logcdf_is_exact_far_in_the_tail():
    """log F(v) = log_expit(4 v): finite where F itself underflows (the estimators' log-probabilities)."""
    shp = SHAPES["sigmoid"]
    assert shp.cdf(-200.0) == 0.0
    assert shp.logcdf(-200.0) == pytest.approx(-800.0, rel=1e-15)
    assert shp.logsf(200.0) == pytest.approx(-800.0, rel=1e-15)


def test_sigmoid_kernel_float32_underflows_instead_of_overflowing():
    """Issue 16 item 7: g / cosh(2x)^2 gave 0 in float32 for |2x| > 44 (cosh^2 overflows) where the exact
    value, the float64 one rounded to float32, is a normal or subnormal number > 0."""
    v = np.linspace(-30, 30, 20001, dtype=np.float32)
    s, g = 2.5, 2.5
    out = v.copy()
    SHAPES["sigmoid"].kernel(out, s, g)
    arg = (v * np.float32(2.0 * s)).astype(np.float64)  # the kernel's (rounded) argument
    exact = (g / np.cosh(arg) ** 2).astype(np.float32)
    np.testing.assert_array_equal(out == 0, exact == 0)
    assert np.count_nonzero(exact[np.abs(arg) > 44.5]) > 0  # the band the overflow zeroed
    normal = exact >= np.finfo(np.float32).tiny
    np.testing.assert_allclose(out[normal], exact[normal], rtol=1e-6)
    ulp = np.finfo(np.float32).smallest_subnormal
    assert np.max(np.abs(out[~normal].astype(np.float64) - exact[~normal])) <= 2 * ulp
