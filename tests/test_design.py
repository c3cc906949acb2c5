"""Tests of sgcore.design: gallery, translation table, Eq. 2, Conditions I-IV, simulation, configs."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest
from scipy import special

from sgcore import SHAPES
from sgcore.design import (
    DESIGN_PARAMS,
    INIT_PARAMS,
    NAME_COLLISIONS,
    PAPER_DISCREPANCIES,
    PRESETS,
    TRANSLATIONS,
    UNMAPPABLE,
    DesignConfig,
    DesignView,
    InitConfig,
    closed_form,
    condition_i,
    condition_ii,
    condition_ii_authors_code,
    condition_iii,
    condition_iv,
    condition_iv_residual,
    current_variances,
    design_view,
    eq2_check,
    exponential_closed_form,
    gallery,
    init_conditions,
    init_view,
    sd_curve,
    sd_curves,
    sd_moment,
    sd_moment_mc,
    sd_second_moment,
    shape_moments,
    sharpness_for,
    theory_check,
    translate,
    voltage_range,
)
from sgcore.export import view_to_dict

# ---------------------------------------------------------------------------------------------
# gallery
# ---------------------------------------------------------------------------------------------
# Table S1 of the paper, written out independently of the registry.
_TABLE_S1 = {
    "triangular": lambda v, q: np.maximum(1 - np.abs(v), 0),
    "exponential": lambda v, q: np.exp(-2 * np.abs(v)),
    "gaussian": lambda v, q: np.exp(-np.pi * v**2),
    "sigmoid": lambda v, q: 4 * special.expit(4 * v) * (1 - special.expit(4 * v)),
    "superspike": lambda v, q: 1 / (1 + np.abs(2 * v)) ** 2,
    "rectangular": lambda v, q: (np.abs(v) < 0.5).astype(float),
    "q_pseudospike": lambda v, q: (1 + 2 / (q - 1) * np.abs(v)) ** (-q),
}

# tail moment int v^2 f finite? (derived by hand: v^2 f ~ |v|^(2-q) for the power-law shapes)
_TAIL_FINITE = {"sigmoid": True, "superspike": False, "triangular": True, "exponential": True, "gaussian": True,
                "rectangular": True, "atan": False, "escape_exp": True}


@pytest.mark.parametrize("q", [1.05, 1.5, 2.0, 3.0, 3.5, 10.0])
def test_gallery_matches_closed_forms_for_every_shape(q):
    records = gallery(q=q)
    assert [r.name for r in records] == list(SHAPES)
    for r in records:
        assert r.peak == pytest.approx(1.0, abs=1e-9), r.name
        assert r.area == pytest.approx(closed_form(r.name, "area", q), rel=1e-9), r.name
        assert r.int_f_sq == pytest.approx(closed_form(r.name, "int_f_sq", q), rel=1e-9), r.name
        finite = q > 3 if r.name == "q_pseudospike" else _TAIL_FINITE[r.name]
        assert r.tail_finite is finite, (r.name, q)
        if finite:
            assert r.tail_moment == pytest.approx(closed_form(r.name, "tail_moment", q), rel=1e-8), r.name
        else:
            assert math.isinf(r.tail_moment) and math.isinf(closed_form(r.name, "tail_moment", q))
        assert r.quad_error < 1e-8


def test_tail_moment_of_q_pseudospike_near_the_divergence_and_threshold_q_equals_3():
    # q <= 3: v^2 f ~ |v|^(2-q) is not integrable; just above 3 the moment is huge but finite.
    assert not shape_moments("q_pseudospike", 3.0).tail_finite
    assert not shape_moments("q_pseudospike", 2.0).tail_finite
    m = shape_moments("q_pseudospike", 3.01)
    assert m.tail_finite
    assert m.tail_exponent == pytest.approx(1.01, abs=1e-9)
    assert m.tail_moment == pytest.approx((2.01**2) / (2 * 1.01 * 0.01), rel=1e-6)  # = 200.005
    # the heavy-tailed area q -> 1+ is still integrated to 1
    assert shape_moments("q_pseudospike", 1.01).area == pytest.approx(1.0, abs=1e-10)


def test_gallery_quadrature_agrees_with_a_plain_riemann_sum_of_table_s1():
    v = np.linspace(-60, 60, 1_200_001)
    dv = v[1] - v[0]
    for name, f in _TABLE_S1.items():
        fv = f(v, 1.5)
        m = shape_moments(name, 1.5)
        assert np.allclose(SHAPES[name].f(v[::1000], **({"q": 1.5} if name == "q_pseudospike" else {})),
                           fv[::1000], atol=1e-12)
        # algebraic tails: the truncated sum misses (1 + 240)^(1 - q) of the area (q = 1.5 resp. 2)
        tol = {"q_pseudospike": 0.07, "superspike": 0.009}.get(name, 1e-4)
        assert m.area == pytest.approx(np.sum(fv) * dv, abs=tol)
        assert m.int_f_sq == pytest.approx(np.sum(fv**2) * dv, abs=1e-4)


def test_sd_curve_is_gamma_f_of_s_v():
    v = np.linspace(-3, 3, 13)
    curves = sd_curves(v, gamma=0.7, sharpness=2.5, q=2.0)
    assert set(curves) == set(SHAPES)
    for name, c in curves.items():
        params = {"q": 2.0} if name == "q_pseudospike" else {}
        assert np.allclose(c, 0.7 * SHAPES[name].f(2.5 * v, **params))
    assert np.allclose(sd_curve("exponential", v, 2.0, 0.5), 2.0 * np.exp(-np.abs(v)))
    with pytest.raises(ValueError, match="gamma must be a finite number > 0"):
        sd_curve("exponential", v, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# translation table
# ---------------------------------------------------------------------------------------------
def _sig(x):
    return special.expit(x)


# What each library's backward computes, written out here from its source (u = membrane potential - threshold):
# snnTorch snntorch/surrogate.py, SpikingJelly spikingjelly/activation_based/surrogate.py (*_backward),
# Norse norse/torch/functional/{superspike,threshold}.py (backward()).
_LIBRARY_CODE = {
    "surrogate.fast_sigmoid": lambda u, slope: 1 / (slope * np.abs(u) + 1) ** 2,
    "surrogate.atan": lambda u, alpha: alpha / 2 / (1 + (np.pi / 2 * alpha * u) ** 2),
    "surrogate.sigmoid": lambda u, slope: slope * np.exp(-slope * u) / (np.exp(-slope * u) + 1) ** 2,
    "surrogate.spike_rate_escape": lambda u, beta, slope: slope * np.exp(-beta * np.abs(u - 1)),
    # its (1 - sigmoid(alpha x)) written as sigmoid(-alpha x): the same number without float cancellation
    "surrogate.Sigmoid": lambda u, alpha: _sig(-alpha * u) * _sig(alpha * u) * alpha,
    "surrogate.ATan": lambda u, alpha: alpha / 2 / (1 + (np.pi / 2 * alpha * u) ** 2),
    "surrogate.PiecewiseQuadratic": lambda u, alpha: np.where(np.abs(u) > 1 / alpha, 0.0,
                                                              -(alpha**2) * np.abs(u) + alpha),
    "surrogate.PiecewiseExp": lambda u, alpha: alpha / 2 * np.exp(-alpha * np.abs(u)),
    "surrogate.SoftSign": lambda u, alpha: 1 / (2 * alpha * (1 / alpha + np.abs(u)) ** 2),
    "surrogate.Erf": lambda u, alpha: np.exp(-((u * alpha) ** 2)) * (alpha / np.sqrt(np.pi)),
    "surrogate.QPseudoSpike": lambda u, alpha: (1 + 2 / (alpha - 1) * np.abs(u)) ** (-alpha),
    "surrogate.SuperSpike": lambda u, alpha: alpha / (np.abs(u) + 1) ** 2,
    "surrogate.Rect": lambda u, alpha: alpha * (np.abs(u) < 0.5 / alpha),
    "surrogate.PiecewiseLeakyReLU": lambda u, w, c: np.where(np.abs(u) < w, 1 / (2 * w), c),
    "LIFParameters(method='super'": lambda u, alpha: 1 / (alpha * np.abs(u) + 1.0) ** 2,
    "LIFParameters(method='tent'": lambda u, alpha: np.maximum(1 - np.abs(u), 0) * alpha,
    # its 1 - tanh(k x)^2 written as 1 / cosh(k x)^2: the same number without float cancellation in the tails
    "threshold(x, 'tanh'": lambda u, k: 1 / np.cosh(u * k) ** 2,
    "heavi_erfc_fn": lambda u, k: 2 * np.exp(-(k**2) * u**2) / np.sqrt(np.pi),
}


def _formula_for(call):
    hits = [f for key, f in _LIBRARY_CODE.items() if call.startswith(key + "(") or call.startswith(key)]
    assert len(hits) == 1, call
    return hits[0]


@pytest.mark.parametrize("t", TRANSLATIONS, ids=lambda t: f"{t.library}:{t.call}")
def test_translation_reproduces_what_the_library_code_backpropagates(t):
    # a grid that avoids the rectangles' and triangles' edges, where the code and we may round differently
    u = np.linspace(-3, 3, 1200) + 1e-3
    lib = _formula_for(t.call)
    for scale in (1.0, 0.3, 2.7):
        values = {k: (v * scale if not (k == "alpha" and t.shape == "q_pseudospike") else 1 + (v - 1) * scale)
                  for k, v in t.params.items()}
        ours = t.sd(u, **values)
        with np.errstate(over="ignore"):  # cosh overflows far in the tanh tail, where both are 0
            theirs = lib(u, **values)
        # atol: values below the smallest normal double (2.2e-308) may flush to 0 on either side
        assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-300), (t.call, values)
    assert t.source and t.documented and t.code


def test_norse_tanh_is_translated_from_its_code_peak_1_area_2_over_k():
    # Norse's HeaviTanh.backward returns 1 - tanh(k x)^2: peak 1 and area 2/k, not its docs' (k/2)(1 - tanh^2)
    t = next(t for t in TRANSLATIONS if t.call.startswith("threshold(x, 'tanh'"))
    assert t.params["k"] == 100.0
    o = t.ours()
    assert (o["shape"], o["gamma"], o["sharpness"]) == ("sigmoid", 1.0, 50.0)
    u = np.linspace(-0.5, 0.5, 200001)
    sd = t.sd(u)
    assert sd.max() == pytest.approx(1.0, rel=1e-12)
    assert np.trapezoid(sd, u) == pytest.approx(0.02, rel=1e-9)
    assert o["gamma"] / o["sharpness"] == pytest.approx(0.02, rel=1e-15)  # area gamma/s of a unit-area shape
    assert "50" in t.docs_vs_code and "we translate the code" in t.docs_vs_code


def test_added_presets_and_where_docs_and_code_differ():
    sj = {c: translate("SpikingJelly", c) for c in ("surrogate.SuperSpike", "surrogate.Rect",
                                                    "surrogate.PiecewiseLeakyReLU")}
    assert (sj["surrogate.SuperSpike"]["shape"], sj["surrogate.SuperSpike"]["gamma"],
            sj["surrogate.SuperSpike"]["sharpness"]) == ("superspike", 1.0, 0.5)
    assert (sj["surrogate.Rect"]["shape"], sj["surrogate.Rect"]["gamma"]) == ("rectangular", 1.0)
    plr = sj["surrogate.PiecewiseLeakyReLU"]
    assert (plr["shape"], plr["gamma"], plr["sharpness"]) == ("rectangular", 0.5, 0.5)
    with pytest.raises(ValueError, match="only with c = 0"):
        translate("SpikingJelly", "surrogate.PiecewiseLeakyReLU", c=0.01)
    erfc = translate("Norse", "heavi_erfc_fn")
    assert erfc["shape"] == "gaussian" and erfc["gamma"] == pytest.approx(2 / np.sqrt(np.pi))
    assert erfc["sharpness"] == pytest.approx(1 / np.sqrt(np.pi))
    unmappable = {u["call"] for u in UNMAPPABLE}
    assert any("circ" in c for c in unmappable) and not any("Erfc" in c for c in unmappable)
    assert "surrogate.PiecewiseLeakyReLU(w=1, c=0.01)" in unmappable
    differ = {t.call for t in TRANSLATIONS if t.docs_vs_code}
    assert {"surrogate.atan(alpha=2.0)", "threshold(x, 'tanh', k)", "heavi_erfc_fn(x, k)"} <= differ
    for t in TRANSLATIONS:
        assert not t.docs_vs_code or "we translate the" in t.docs_vs_code, t.call


def test_translation_table_key_numbers():
    fs = translate("snnTorch", "surrogate.fast_sigmoid")
    assert (fs["shape"], fs["gamma"], fs["sharpness"]) == ("superspike", 1.0, 12.5)
    assert translate("snntorch", "surrogate.atan")["sharpness"] == 1.0
    sig = translate("snnTorch", "surrogate.sigmoid", slope=25)
    assert sig["gamma"] == sig["sharpness"] == 6.25
    # SpikingJelly's defaults are the paper's standard forms (gamma = s = 1)
    for call in ("surrogate.Sigmoid", "surrogate.ATan", "surrogate.SoftSign", "surrogate.QPseudoSpike"):
        o = translate("SpikingJelly", call)
        assert o["gamma"] == pytest.approx(1.0) and o["sharpness"] == pytest.approx(1.0), call
    assert translate("SpikingJelly", "surrogate.QPseudoSpike", alpha=1.05)["q"] == 1.05
    norse = translate("Norse", "LIFParameters(method='super', alpha=100)")
    assert (norse["gamma"], norse["sharpness"]) == (1.0, 50.0)
    tent = translate("Norse", "LIFParameters(method='tent', alpha=...)")
    assert (tent["gamma"], tent["sharpness"]) == (100.0, 1.0)  # alpha is a height there
    esc = translate("snnTorch", "surrogate.spike_rate_escape")
    assert (esc["gamma"], esc["sharpness"], esc["offset"]) == (25.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="no translation"):
        translate("snnTorch", "surrogate.nope")
    with pytest.raises(ValueError, match="takes slope"):
        translate("snnTorch", "surrogate.fast_sigmoid", alpha=3)


def test_every_translation_formula_is_tested_and_collisions_are_listed():
    assert len(TRANSLATIONS) == len(_LIBRARY_CODE)
    assert {t.library for t in TRANSLATIONS} == {"snnTorch", "SpikingJelly", "Norse"}
    names = {c.name for c in NAME_COLLISIONS}
    assert {"beta", "alpha", "slope", "scale", "k"} <= names
    for c in NAME_COLLISIONS:
        assert len(c.meanings) >= 2 and c.warning
    beta = next(c for c in NAME_COLLISIONS if c.name == "beta")
    assert any("decay" in meaning for _, meaning in beta.meanings)
    assert all(u["why"] and u["source"] for u in UNMAPPABLE)


def test_snntorch_atan_docstring_derivative_is_not_the_derivative_of_its_forward():
    # S = (1/pi) arctan(pi U alpha/2): the derivative is alpha/2 / (1 + ...), the docstring prints 1/pi / (1 + ...)
    alpha, u, h = 2.0, np.linspace(-1, 1, 21), 1e-6
    s = lambda x: np.arctan(np.pi * x * alpha / 2) / np.pi  # noqa: E731
    numeric = (s(u + h) - s(u - h)) / (2 * h)
    t = next(t for t in TRANSLATIONS if t.call.startswith("surrogate.atan"))
    assert np.allclose(t.sd(u), numeric, rtol=1e-7)
    docstring = (1 / np.pi) / (1 + (np.pi * u * alpha / 2) ** 2)
    assert not np.allclose(docstring, numeric, rtol=0.1)


# ---------------------------------------------------------------------------------------------
# Eq. 2
# ---------------------------------------------------------------------------------------------
_EQ2_CASES = [
    ("exponential", 0.7, 1.3, 1.0, -0.5, 2.0),
    ("triangular", 1.0, 2.0, 1.0, -1.0, 3.0),
    ("sigmoid", 2.0, 0.5, 0.0, -4.0, 1.0),
    ("gaussian", 1.0, 1.0, 1.0, 1.5, 4.0),  # range above threshold
    ("rectangular", 1.0, 1.0, 1.0, 0.2, 1.1),
    ("q_pseudospike", 1.0, 1.0, 1.0, -20.0, 30.0),
    ("atan", 0.5, 3.0, 0.0, -2.0, 2.0),
    ("escape_exp", 1.0, 1.0, 0.0, -3.0, 1.0),
    ("superspike", 1.0, 0.1, 1.0, -300.0, 400.0),  # a B.6-like wide range
]


@pytest.mark.parametrize(("shape", "gamma", "s", "thr", "lo", "hi"), _EQ2_CASES)
def test_eq2_quadrature_matches_monte_carlo_within_its_standard_error(shape, gamma, s, thr, lo, hi):
    rng = np.random.default_rng(1)
    for m in (1, 2):
        exact = sd_moment(shape, m, gamma, s, thr, lo, hi, q=1.05)
        mc, se = sd_moment_mc(shape, m, gamma, s, thr, lo, hi, q=1.05, n=200_000, rng=rng)
        assert se > 0
        assert abs(mc - exact) < 4.5 * se, (shape, m, mc, exact, se)


def test_eq2_scaling_and_limits():
    # E[sigma'^2] = gamma^2/(s L) int f^2: quadratic in gamma; -> gamma^2 as s -> 0; ~ gamma^2 int f^2/(s L) for wide L
    args = ("exponential", 1.0, 1.0, -2.0, 4.0)
    base = sd_second_moment(args[0], 1.0, *args[1:])
    assert sd_second_moment(args[0], 3.0, *args[1:]) == pytest.approx(9 * base, rel=1e-12)
    assert sd_second_moment("exponential", 1.5, 1e-6, 1.0, -2.0, 4.0) == pytest.approx(2.25, rel=1e-5)
    wide = sd_second_moment("gaussian", 1.0, 2.0, 0.0, -1e4, 1e4)
    assert wide == pytest.approx(1 / math.sqrt(2) / (2.0 * 2e4), rel=1e-9)
    with pytest.raises(ValueError, match="y_min < y_max"):
        sd_second_moment("exponential", 1.0, 1.0, 1.0, 2.0, 2.0)


def test_appendix_b_closed_form_agrees_only_when_the_range_contains_the_threshold():
    # the CLI example: v in [-1.5, 1] straddles 0, Eqs. 65-67 agree with the integral
    ok = eq2_check(0.7, 1.3, 1.0, -0.5, 2.0)
    assert ok.agree and ok.straddles
    by_hand = 0.49 / (1.3 * 2.5) * ((1 - math.exp(-4 * 1.3)) / 4 + (1 - math.exp(-4 * 1.95)) / 4)
    assert ok.integral == pytest.approx(by_hand, rel=1e-12)
    assert ok.printed == pytest.approx(by_hand, rel=1e-12)
    # y in [1.5, 3] with thr = 1: v in [0.5, 2] lies above threshold; the printed form adds instead of subtracting
    bad = eq2_check(1.0, 1.0, 1.0, 1.5, 3.0)
    assert not bad.agree and not bad.straddles
    assert bad.integral == pytest.approx((math.exp(-2) - math.exp(-8)) / 4 / 1.5, rel=1e-12)  # 0.0225
    assert bad.printed == pytest.approx((2 - math.exp(-2) - math.exp(-8)) / 4 / 1.5, rel=1e-12)  # 0.3107
    assert bad.printed / bad.integral == pytest.approx(13.81, abs=0.01)
    assert bad.signed == pytest.approx(bad.integral, rel=1e-12)  # the signed antiderivative is right everywhere
    # first moment too (m = 1), below threshold
    lo_m1 = sd_moment("exponential", 1, 1.0, 2.0, 1.0, -3.0, 0.0)
    assert exponential_closed_form(1, 1.0, 2.0, 1.0, -3.0, 0.0, printed=False) == pytest.approx(lo_m1, rel=1e-12)
    assert exponential_closed_form(1, 1.0, 2.0, 1.0, -3.0, 0.0, printed=True) != pytest.approx(lo_m1, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# Conditions I-IV
# ---------------------------------------------------------------------------------------------
def test_condition_i_hand_worked():
    # (3 - 2 alpha) thr / (n_rec - 1) at rate 1/2 (Eq. 20); Eq. 18 at another rate
    assert condition_i(101, 0.9, 1.0) == pytest.approx(1.2 / 100)
    assert condition_i(11, 0.5, 2.0) == pytest.approx(2.0 * 2.0 / 10)
    assert condition_i(101, 0.9, 1.0, rate=0.25) == pytest.approx(1.4 / 100)
    # the mean current with half the neurons firing then balances the threshold: Mean[y] = thr (Eq. 13, 16)
    n, a, thr, m = 101, 0.9, 1.0, condition_i(101, 0.9, 1.0)
    mean_i = (n - 1) * m * 0.5 - thr * 0.5
    assert mean_i / (1 - a) == pytest.approx(thr)
    # Eq. 19 as printed, (1-alpha)/p thr/(n-1) + thr, is not the solution of Eq. 18
    printed_eq19 = (1 - a) / 0.5 * thr / (n - 1) + thr
    assert printed_eq19 == pytest.approx(1.002) and printed_eq19 != pytest.approx(m)


def test_condition_ii_hand_worked_and_the_authors_code_factor():
    args = dict(n_rec=101, n_in=200, mean_z=0.5, var_z=0.25, var_w_in=0.01, mean_w_rec=0.012)
    # K = (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] = 0.01; Eq. 28: 2K - m^2/2
    assert condition_ii(**args) == pytest.approx(0.02 - 0.012**2 / 2)  # 0.019928
    assert condition_ii_authors_code(**args) == pytest.approx(0.01 - 0.012**2 / 2)  # 0.009928
    # Eq. 27 holds with the re-derived variance: (2 Var + m^2)/4 = K
    v = condition_ii(**args)
    assert (2 * v + 0.012**2) / 4 == pytest.approx(0.01)


def test_condition_ii_by_simulating_the_currents_and_the_linear_membrane():
    common = dict(n_rec=101, n_in=200, mean_z=0.5, var_z=0.25, var_w_in=0.01, alpha_decay=0.9)
    m = 0.012
    var_in_theory = 200 * (0.25 + 0.25) * 0.01  # n_in (Var z + Mean z^2) Var[w_in] = 1
    for var_fn, ratio in ((condition_ii, 1.0), (condition_ii_authors_code, 0.5)):
        v = var_fn(101, 200, 0.5, 0.25, 0.01, m)
        sim = current_variances(mean_w_rec=m, var_w_rec=v, n_samples=40_000, rng=np.random.default_rng(3), **common)
        assert sim["var_in_current"] == pytest.approx(var_in_theory, rel=0.04)
        assert sim["var_rec_current"] / sim["var_in_current"] == pytest.approx(ratio, rel=0.05)
        # linear membrane: stationary variance Var[c] / (1 - alpha^2), the same ratio
        assert sim["var_in_membrane"] == pytest.approx(var_in_theory / (1 - 0.81), rel=0.12)
        assert sim["var_rec_membrane"] / sim["var_in_membrane"] == pytest.approx(ratio, rel=0.15)


def test_condition_iii_hand_worked():
    # symmetric weights: gamma = (1 - alpha)/((n-1) M + thr) = 0.1 / 11
    assert condition_iii(101, 0.9, 1.0, -0.1, 0.1) == pytest.approx(0.1 / 11)
    # with a layer below: 1 - 0.9 - 200 * 0.01 * 0.02 = 0.06
    assert condition_iii(101, 0.9, 1.0, -0.1, 0.1, xi=1, n_in=200, max_w_in=0.01, gamma_in=0.02) == \
        pytest.approx(0.06 / 11)
    # Eq. 42 holds: 1 = alpha + (n-1) Max[w] gamma + xi n_in Max[w_in] gamma_in - thr gamma Max[w]/Min[w]
    g = condition_iii(51, 0.8, 0.5, -0.2, 0.3, xi=1, n_in=30, max_w_in=0.05, gamma_in=0.1)
    assert 0.8 + 50 * 0.3 * g + 30 * 0.05 * 0.1 - 0.5 * g * 0.3 / -0.2 == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_rec must be an integer >= 2"):
        condition_iii(1, 0.9, 1.0, -0.1, 0.1)


def test_condition_iv_hand_worked():
    assert condition_iv(101, 0.9, 1.0, 0.02) == pytest.approx(0.19 / 3)
    assert condition_iv(101, 0.9, 1.0, 0.02, xi=1, n_in=200, e_w_in_sq=0.01, e_sd_in_sq=0.05) == \
        pytest.approx(0.09 / 3)
    with pytest.raises(ValueError, match=r"alpha_decay must be a finite number in \(0, 1\); got 1.0"):
        condition_iv(101, 1.0, 1.0, 0.02)
    with pytest.raises(ValueError, match=r"rate must be a finite number in \(0, 1\]; got True"):
        condition_i(101, 0.9, 1.0, rate=True)  # was read as rate 1.0


def test_voltage_range_hand_worked():
    lo, hi = voltage_range(101, 200, 0.9, 1.0, -0.1, 0.1, -0.1, 0.1)
    assert hi == pytest.approx((100 * 0.1 + 200 * 0.1) / 0.1)  # 300
    assert lo == pytest.approx((-100 * 0.1 - 200 * 0.1 - 1.0) / 0.1)  # -310
    # all-positive recurrent weights cannot lower the voltage (clipping at 0 corrects Eq. 74)
    lo2, _ = voltage_range(11, 1, 0.5, 1.0, 0.1, 0.2, -0.1, 0.1)
    assert lo2 == pytest.approx((-0.1 - 1.0) / 0.5)


@pytest.mark.parametrize("shape", ["exponential", "gaussian", "q_pseudospike", "triangular"])
def test_sharpness_root_solves_condition_iv(shape):
    n, a, thr, ew2 = 101, 0.9, 1.0, 0.02
    target = condition_iv(n, a, thr, ew2)
    s = sharpness_for(target, shape, 1.0, thr, -3.0, 5.0, q=1.05)
    assert s is not None and s > 0
    assert sd_second_moment(shape, 1.0, s, thr, -3.0, 5.0, q=1.05) == pytest.approx(target, rel=1e-9)
    assert condition_iv_residual(s, shape, 1.0, n, a, thr, ew2, -3.0, 5.0, q=1.05) == pytest.approx(0.0, abs=1e-9)
    # with the reset/leak covariance that Eq. 47 drops, the same s no longer solves it
    assert condition_iv_residual(s, shape, 1.0, n, a, thr, ew2, -3.0, 5.0, q=1.05, cross_term=True) < -1e-3
    # a target above gamma^2 has no solution
    assert sharpness_for(1.01, shape, 1.0, thr, -3.0, 5.0, q=1.05) is None


@pytest.mark.parametrize("n_rec", [2, 11, 101, 1001])
@pytest.mark.parametrize("alpha", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("half_width", [0.001, 0.05, 0.5, 3.0])
@pytest.mark.parametrize("thr", [0.1, 1.0, 5.0])
def test_civ_target_exceeds_the_ciii_dampening_squared_for_symmetric_weights(n_rec, alpha, half_width, thr):
    # E[sigma'^2] <= gamma^2 because f <= 1, so CIV cannot be met with the CIII gamma
    gamma = condition_iii(n_rec, alpha, thr, -half_width, half_width)
    target = condition_iv(n_rec, alpha, thr, half_width**2 / 3)
    assert target > gamma**2


def test_init_calculator_cli_example_and_derivations():
    cfg = InitConfig(alpha_decay=0.9, thr=1, n_rec=101, n_in=200, mean_z=0.5, var_z=0.25, var_w_in=0.01, xi=0,
                     min_w_rec=-0.1, max_w_rec=0.1, e_w_rec_sq=0.02)
    out = view_to_dict(init_conditions(cfg))
    assert out["config"] == cfg.as_dict()
    assert out["mean_w_rec"] == pytest.approx(0.012)
    assert out["var_w_rec"] == pytest.approx(0.019928)
    assert out["dampening"] == pytest.approx(0.1 / 11)
    assert out["sd_second_moment"] == pytest.approx(0.19 / 3)
    assert out["sharpness"] is None and out["civ_feasible"] is False
    assert any("No sharpness meets CIV" in n for n in out["notes"])
    assert out["derived"]["e_w_rec_sq"] == "given"
    assert out["derived"]["max_w_in"].startswith("uniform W_in")
    assert out["y_max"] == pytest.approx((100 * 0.1 + 200 * math.sqrt(0.03)) / 0.1)
    # --mean-w-rec feeds CII
    out2 = view_to_dict(init_conditions(InitConfig(n_rec=101, n_in=200, var_w_in=0.01, mean_w_rec=0.0)))
    assert out2["var_w_rec"] == pytest.approx(0.02) and out2["mean_w_rec"] == pytest.approx(0.012)
    assert out2["derived"]["mean_w_rec"].startswith("given")
    # everything left out: derived from the uniform W_rec of CI/CII
    r = init_conditions(InitConfig(n_rec=101, n_in=200, var_w_in=0.01))
    h = math.sqrt(3 * r.var_w_rec)
    assert (r.min_w_rec, r.max_w_rec) == pytest.approx((0.012 - h, 0.012 + h))
    assert r.e_w_rec_sq == pytest.approx(r.var_w_rec + 0.012**2)
    assert r.dampening == pytest.approx(condition_iii(101, 0.9, 1.0, 0.012 - h, 0.012 + h))


def test_init_calculator_with_a_layer_below_and_a_given_gamma():
    cfg = InitConfig(n_rec=101, n_in=101, xi=1, min_w_rec=-0.1, max_w_rec=0.1, e_w_rec_sq=0.02)
    r = init_conditions(cfg)
    assert r.gamma_in == pytest.approx(condition_iii(101, 0.9, 1.0, -0.1, 0.1))  # the data-driven layer below
    assert r.e_sd_in_sq == pytest.approx(condition_iv(101, 0.9, 1.0, 0.02))
    max_in = math.sqrt(3 * cfg.var_w_in)
    assert r.dampening == pytest.approx(condition_iii(101, 0.9, 1.0, -0.1, 0.1, 1, 101, max_in, r.gamma_in))
    assert r.sd_second_moment == pytest.approx(condition_iv(101, 0.9, 1.0, 0.02, 1, 101, cfg.var_w_in, r.e_sd_in_sq))
    given = view_to_dict(init_conditions(InitConfig(n_rec=101, n_in=200, xi=1, gamma_in=0.02, max_w_in=0.01,
                                                    e_sd_in_sq=0.05, min_w_rec=-0.1, max_w_rec=0.1, e_w_rec_sq=0.02,
                                                    var_w_in=0.01)))
    assert given["dampening"] == pytest.approx(0.06 / 11)
    assert given["sd_second_moment"] == pytest.approx(0.09 / 3)
    assert given["derived"]["gamma_in"] == "given"
    # with a user dampening, CIV has a sharpness and it solves Eq. 2
    solved = init_conditions(InitConfig(gamma=1.0, y_min=-3.0, y_max=5.0, shape="gaussian"))
    assert solved.civ_feasible and solved.sharpness is not None
    assert sd_second_moment("gaussian", 1.0, solved.sharpness, 1.0, -3.0, 5.0) == \
        pytest.approx(solved.sd_second_moment, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# does the theory hold?
# ---------------------------------------------------------------------------------------------
def test_theory_check_default_is_fast_and_condition_i_holds_for_the_calculator():
    cfg = InitConfig()
    tc = theory_check(cfg)
    assert tc.seconds < 1.0  # ~60 ms on the development machine
    for tr in (tc.calculator, tc.naive):
        for arr in (tr.firing_fraction, tr.sd_max, tr.sd_second_moment, tr.sd_var, tr.grad_max, tr.grad_var):
            assert arr.shape == (cfg.n_steps,) and np.all(np.isfinite(arr))
        assert np.all((tr.firing_fraction >= 0) & (tr.firing_fraction <= 1))
        assert np.all(tr.sd_max <= tr.gamma + 1e-12)
    ff_calc = tc.calculator.firing_fraction[cfg.n_steps // 2:].mean()
    ff_naive = tc.naive.firing_fraction[cfg.n_steps // 2:].mean()
    assert abs(ff_calc - 0.5) < 0.1
    assert abs(ff_naive - 0.5) > abs(ff_calc - 0.5) + 0.1
    # the simulated weights have the calculator's statistics
    assert tc.calculator.mean_w_rec == pytest.approx(tc.result.mean_w_rec, rel=0.1)
    assert tc.calculator.var_w_rec == pytest.approx(tc.result.var_w_rec, rel=0.05)
    # with the CIII dampening the SD path is negligible: the tangent decays like alpha^t instead of staying put
    g = tc.calculator.grad_max
    per_step = (g[-1] / g[cfg.n_steps // 3]) ** (1 / (cfg.n_steps - 1 - cfg.n_steps // 3))
    assert per_step == pytest.approx(cfg.alpha_decay, abs=0.01)
    # and the B.6 range Eq. 2 assumed is far wider than the voltages the layer visits
    lo, hi = tc.calculator.y_observed
    assert hi - lo < 0.2 * (tc.result.y_max - tc.result.y_min)
    assert any("much narrower" in n for n in tc.notes)


def test_theory_check_is_reproducible_for_a_seed():
    a = init_view(InitConfig(n_steps=40, batch=4, seed=7))
    b = theory_check(InitConfig(n_steps=40, batch=4, seed=7))
    c = theory_check(InitConfig(n_steps=40, batch=4, seed=8))
    assert np.array_equal(a.calculator.firing_fraction, b.calculator.firing_fraction)
    assert np.array_equal(a.naive.grad_var, b.naive.grad_var)
    assert not np.array_equal(a.calculator.firing_fraction, c.calculator.firing_fraction)


# ---------------------------------------------------------------------------------------------
# configs, CLI flags, presets
# ---------------------------------------------------------------------------------------------
def test_config_validation_messages():
    with pytest.raises(ValueError, match=r"gamma must be a finite number in \(0, 10000\]; got 0"):
        DesignConfig(gamma=0)
    with pytest.raises(ValueError, match="y_min must be below y_max"):
        DesignConfig(y_min=2.0, y_max=1.0)
    with pytest.raises(ValueError, match="shape must be one of"):
        DesignConfig(shape="nope")
    with pytest.raises(ValueError, match=r"q must be a finite number in \(1, 100\]"):
        DesignConfig(q=1.0)
    with pytest.raises(ValueError, match=r"alpha_decay must be a finite number in \(0, 1\)"):
        InitConfig(alpha_decay=1.0)
    with pytest.raises(ValueError, match=r"xi must be an integer in \[0, 1\]"):
        InitConfig(xi=2)
    with pytest.raises(ValueError, match=r"n_rec must be an integer in \[2, 100000\]"):
        InitConfig(n_rec=1)
    with pytest.raises(ValueError, match="min_w_rec must be below max_w_rec"):
        InitConfig(min_w_rec=0.1, max_w_rec=-0.1)
    with pytest.raises(ValueError, match=r"min_w_rec must be a finite number in \[-1000, 1000\] \(or unset"):
        InitConfig(min_w_rec=float("nan"))
    with pytest.raises(ValueError, match="var_w_in must be a finite number in"):
        InitConfig(var_w_in=0.0)
    assert InitConfig(min_w_rec=None).min_w_rec is None


def _cli_parser(specs):
    from sgcore.cli import _add_spec

    parser = argparse.ArgumentParser()
    for spec in specs:
        _add_spec(parser, spec)
    return parser


def test_cli_flags_parse_into_the_configs():
    flags = {s.flag for s in DESIGN_PARAMS}
    assert {"--shape", "--gamma", "--sharpness", "--thr", "--y-min", "--y-max", "--q"} <= flags
    init_flags = {s.flag for s in INIT_PARAMS}
    assert {"--alpha-decay", "--thr", "--n-rec", "--n-in", "--mean-z", "--var-z", "--var-w-in", "--xi",
            "--min-w-rec", "--max-w-rec", "--e-w-rec-sq", "--mean-w-rec", "--gamma-in", "--e-sd-in-sq",
            "--max-w-in"} <= init_flags
    args = _cli_parser(DESIGN_PARAMS).parse_args(
        "--shape exponential --gamma 0.7 --sharpness 1.3 --thr 1 --y-min -0.5 --y-max 2".split())
    out = view_to_dict(design_view(DesignConfig(**vars(args))), DesignView.CLI_FIELDS)
    mom = out["moments"]
    assert mom["peak"] == pytest.approx(1.0) and mom["area"] == pytest.approx(1.0)
    assert mom["int_f_sq"] == pytest.approx(0.5) and mom["tail_moment"] == pytest.approx(0.5)
    assert out["sd_second_moment"] == pytest.approx(eq2_check(0.7, 1.3, 1.0, -0.5, 2.0).integral)
    assert out["sd_peak"] == pytest.approx(0.7) and out["check"]["agree"] is not None
    heavy = view_to_dict(design_view(DesignConfig(**vars(_cli_parser(DESIGN_PARAMS).parse_args(
        "--shape q_pseudospike --q 2.5".split())))), DesignView.CLI_FIELDS)
    assert heavy["moments"]["tail_moment"] is None and heavy["moments"]["tail_finite"] is False
    assert heavy["config"]["q"] == 2.5 and heavy["moments"]["q"] == 2.5
    args = _cli_parser(INIT_PARAMS).parse_args(
        ("--alpha-decay 0.9 --thr 1 --n-rec 101 --n-in 200 --mean-z 0.5 --var-z 0.25 --var-w-in 0.01 --xi 0 "
         "--min-w-rec -0.1 --max-w-rec 0.1 --e-w-rec-sq 0.02").split())
    cfg = InitConfig(**vars(args))
    assert cfg.mean_w_rec is None and cfg.min_w_rec == -0.1
    out = view_to_dict(init_conditions(cfg))
    assert out["dampening"] == pytest.approx(0.1 / 11) and out["var_w_rec"] == pytest.approx(0.019928)
    with pytest.raises(SystemExit):
        _cli_parser(INIT_PARAMS).parse_args(["--xi", "0.5"])


def test_presets_build_valid_configs():
    assert {"slmnist_q1.05", "slmnist_q2", "shd_lif_layer2"} <= set(PRESETS)
    for name, preset in PRESETS.items():
        cls = DesignConfig if preset["page"] == "design" else InitConfig
        cfg = cls.from_mapping(preset["values"])
        assert preset["source"], name
        if preset["page"] == "design":
            assert cfg.gamma == 1.0 and cfg.sharpness == 1.0
            assert np.isfinite(design_view(cfg).sd_second_moment)
    assert PRESETS["slmnist_q1.05"]["values"]["q"] == 1.05
    shd = view_to_dict(init_conditions(InitConfig.from_mapping(PRESETS["shd_lif_layer2"]["values"])))
    assert shd["mean_w_rec"] == pytest.approx((3 - 2 * 0.9) / 255)
    assert shd["gamma_in"] is not None and shd["e_sd_in_sq"] is not None


def test_design_view_and_discrepancy_records():
    view = design_view(DesignConfig(shape="exponential", y_min=1.5, y_max=3.0, mc_samples=50_000))
    assert view.check is not None and not view.check.agree
    assert any("Eqs. 65-67 disagree" in n for n in view.notes)
    assert abs(view.mc_mean - view.sd_second_moment) < 5 * view.mc_stderr
    assert view.sd.shape == view.v.shape and set(view.curves) == set(SHAPES)
    straddle = design_view(DesignConfig(shape="triangular", y_min=-2.0, y_max=4.0))
    assert np.all(np.diff(straddle.second_moment_vs_s) <= 1e-15)  # Eq. 2 decreases with s
    assert straddle.second_moment_vs_s[0] > 0.95  # -> gamma^2 = 1 as s -> 0
    assert len(PAPER_DISCREPANCIES) >= 6
    assert all(d.where and d.printed and d.followed for d in PAPER_DISCREPANCIES)


def _pseudo_int_f_pow(x: float, q: float, m: int) -> float:
    """int_0^x f^m of q-PseudoSpike, stably: (q-1)/(2(mq-1)) (1 - (1 + 2x/(q-1))^(1-mq)) via log1p/expm1."""
    return (q - 1) / (2 * (m * q - 1)) * -math.expm1((1 - m * q) * math.log1p(2 * x / (q - 1)))


@pytest.mark.parametrize("dq", [1e-3, 1e-5, 5e-7, 1e-7, 1e-8, 1e-9])
def test_q_pseudospike_as_q_tends_to_1_keeps_gallery_and_eq2_positive_and_exact(dq):
    # issue 16 item 5: for q - 1 <= 5e-7 the quadrature missed the peak (width (q-1)/2) and gave int f^2 < 0
    q = 1.0 + dq
    m = shape_moments("q_pseudospike", q)
    assert m.int_f_sq > 0 and m.int_f_sq == pytest.approx((q - 1) / (2 * q - 1), rel=1e-9)
    assert m.int_f_sq == pytest.approx(m.closed["int_f_sq"], rel=1e-9)
    assert m.area == pytest.approx(1.0, rel=1e-9) and not m.tail_finite
    thr, lo, hi = 1.0, -1.0, 3.0  # the design CLI's defaults
    for s in (1e-12, 1e-9, 3.3e-7, 1e-4, 1.0, 1e2, 1e6):
        for power in (1, 2):
            exact = (_pseudo_int_f_pow(s * (hi - thr), q, power)
                     + _pseudo_int_f_pow(s * (thr - lo), q, power)) / (s * (hi - lo))
            got = sd_moment("q_pseudospike", power, 1.0, s, thr, lo, hi, q)
            assert got > 0 and got == pytest.approx(exact, rel=1e-9), (s, power)


def test_design_cli_for_q_pseudospike_just_above_1_is_positive():
    out = view_to_dict(design_view(DesignConfig(**vars(_cli_parser(DESIGN_PARAMS).parse_args(
        "--shape q_pseudospike --q 1.0000001".split())))), DesignView.CLI_FIELDS)
    assert out["moments"]["int_f_sq"] == pytest.approx(out["moments"]["closed"]["int_f_sq"], rel=1e-9)
    assert out["sd_second_moment"] > 0 and min(out["second_moment_vs_s"]) > 0


def test_sharpness_bracket_grows_to_roots_outside_1e_minus_6_to_1e6():
    # issue 16 item 5: `init --shape q_pseudospike --q 1.000001 --gamma 5` needs s below 1e-6; it returned
    # null with a note claiming gamma^2 = 25 lies below the target 0.0947
    cfg = InitConfig(**vars(_cli_parser(INIT_PARAMS).parse_args(
        "--shape q_pseudospike --q 1.000001 --gamma 5".split())))
    r = init_conditions(cfg)
    assert r.civ_feasible and r.sharpness is not None and r.sharpness < 1e-6
    assert not any("sharpness" in n for n in r.notes)
    q, thr, lo, hi = 1.000001, cfg.thr, r.y_min, r.y_max
    e2 = sd_second_moment("q_pseudospike", 5.0, r.sharpness, thr, lo, hi, q)
    assert e2 == pytest.approx(r.sd_second_moment, rel=1e-9)

    def exact(s):  # Eq. 2 in closed form for q-PseudoSpike
        integral = _pseudo_int_f_pow(s * (hi - thr), q, 2) + _pseudo_int_f_pow(s * (thr - lo), q, 2)
        return 25.0 / (s * (hi - lo)) * integral
    assert exact(r.sharpness) == pytest.approx(r.sd_second_moment, rel=1e-9)
    assert r.sharpness == pytest.approx(3.7596940886e-7, rel=1e-9)
    # above the default bracket: the exponential's E[sigma'^2] ~ gamma^2 / (2 s L) at large s
    s_big = sharpness_for(1e-9, "exponential", 1.0, 1.0, -3.0, 5.0)
    assert s_big is not None and s_big > 1e6
    assert sd_second_moment("exponential", 1.0, s_big, 1.0, -3.0, 5.0) == pytest.approx(1e-9, rel=1e-9)


def test_no_sharpness_note_only_when_the_target_exceeds_gamma_squared():
    # truly no root: gamma^2 = 0.01 < target 0.0947 (E[sigma'^2] <= gamma^2 since f <= 1)
    r = init_conditions(InitConfig(shape="q_pseudospike", q=1.000001, gamma=0.1))
    assert r.sharpness is None and not r.civ_feasible
    assert r.sd_second_moment > r.max_sd_second_moment
    assert any(n.startswith("No sharpness meets CIV") for n in r.notes)
    assert sharpness_for(0.0100001, "q_pseudospike", 0.1, 1.0, -3.0, 5.0, q=1.000001) is None
    assert sharpness_for(0.0099, "q_pseudospike", 0.1, 1.0, -3.0, 5.0, q=1.000001) is not None


# --- bounded work (issue 16, item 4) ------------------------------------------------------------------------------
def test_init_config_refuses_a_simulation_beyond_its_bounds_naming_the_product():
    from sgcore.design import InitConfig

    # each value inside its own domain, but together 1e5^2 recurrent weights times 1e5 steps of 1e4 inputs
    with pytest.raises(ValueError, match=r"n_steps x batch x n_in = 1\.0e\+14 exceeds 2e\+07; lower n_steps"):
        InitConfig(n_rec=100_000, n_in=100_000, n_steps=100_000, batch=10_000)
    with pytest.raises(ValueError, match=r"n_steps x batch x n_rec x \(n_rec \+ n_in\) = 2\.0e\+10 exceeds 1e\+09"):
        InitConfig(n_rec=10_000, n_in=10_000, n_steps=100, batch=1)
    InitConfig()  # 4.8e7
    InitConfig(**PRESETS["shd_lif_layer2"]["values"])  # 3.1e8


def test_monte_carlo_in_blocks_equals_one_draw(monkeypatch):
    """Issue 16 item 4: the Eq. 2 Monte Carlo draws in blocks (memory bounded at 1e7 samples: it peaked at 540 MB);
    the blocks' means and squared deviations combine to the one-draw mean and standard error."""
    import sgcore.design.eq2 as eq2

    args = ("q_pseudospike", 2, 1.5, 2.0, 1.0, -1.0, 3.0)
    monkeypatch.setattr(eq2, "MC_BLOCK", 997)  # uneven blocks, the last one short
    blocks = eq2.sd_moment_mc(*args, q=2.5, n=20_000, rng=np.random.default_rng(3))
    y = np.random.default_rng(3).uniform(-1.0, 3.0, size=20_000)
    x = eq2.sd_curve("q_pseudospike", y - 1.0, 1.5, 2.0, 2.5) ** 2
    assert blocks[0] == pytest.approx(x.mean(), rel=1e-13)
    assert blocks[1] == pytest.approx(x.std(ddof=1) / np.sqrt(x.size), rel=1e-12)
