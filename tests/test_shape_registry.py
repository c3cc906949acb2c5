"""A shape is one registry record: its facts are checked against independent numbers, and a shape registered
at run time reaches every page's computation, the CLI, the trainer and LocalZO with no other file touched.

The scratch shape is a renamed copy of ``atan`` (and of ``q_pseudospike``, the shape with its own parameter): every
number computed with the copy must equal the original's. Before the shape facts moved onto the records, such a
copy made the design gallery raise a KeyError and made LocalZO call atan's first moment finite.
"""

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import integrate

from sgcore import shapes as S
from sgcore.cli import main
from sgcore.design import DesignConfig, InitConfig, design_view, gallery, init_view, shape_moments
from sgcore.escape import EscapeConfig, escape_view
from sgcore.figures import escape_figures, localzo_figures, signflip_figures
from sgcore.figures.design import fig_eq2, fig_gallery
from sgcore.localzo import LocalZOConfig, Theorem3Target, localzo_view
from sgcore.loop import LoopConfig, loop_curl, loop_integrals
from sgcore.shapes import EVEN_SHAPES, SHAPES, registered
from sgcore.signflip import SignflipConfig, signflip_view
from sgcore.snn import TrainConfig, train

ATAN_COPY = dataclasses.replace(SHAPES["atan"], name="atan_copy", label="atan (a renamed copy)")
PSEUDO_COPY = dataclasses.replace(SHAPES["q_pseudospike"], name="pseudo_copy", label="q-PseudoSpike (a copy)")


@pytest.fixture
def scratch():
    with registered(ATAN_COPY, PSEUDO_COPY):
        yield


def same(a, b, path="view"):
    """Recursively equal numbers (NaN equal to NaN), ignoring names and labels (strings) and the config."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            if f.name not in ("config", "shape", "label", "target", "name"):
                same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict | tuple | list) or hasattr(a, "keys"):
        if hasattr(a, "keys"):
            assert list(a) == list(b), path
            for k in a:
                same(a[k], b[k], f"{path}[{k!r}]")
        else:
            assert len(a) == len(b), path
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(a, float | int | np.floating | np.integer) and not isinstance(a, bool):
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, bool | np.bool_ | type(None)):
        assert a == b, path


# --- registering --------------------------------------------------------------------------------------------------
def test_register_adds_to_every_live_view_and_removes_again():
    assert "atan_copy" not in SHAPES
    with registered(ATAN_COPY):
        assert SHAPES["atan_copy"] is ATAN_COPY and "atan_copy" in EVEN_SHAPES
        assert EscapeConfig(shape="atan_copy").shape == "atan_copy"  # the declared choice is the live registry
        shape_spec = next(p for p in EscapeConfig.PARAMS if p.name == "shape")
        assert "atan_copy" in shape_spec.describe_domain()
        with pytest.raises(ValueError, match="already registered"):
            S.register(ATAN_COPY)
    assert "atan_copy" not in SHAPES and "atan_copy" not in EVEN_SHAPES
    with pytest.raises(ValueError, match="shape must be one of"):
        EscapeConfig(shape="atan_copy")
    with pytest.raises(ValueError, match="built in"):
        S.unregister("atan")
    with pytest.raises(TypeError):
        S.register("atan")


def test_an_asymmetric_shape_is_not_a_localzo_target(scratch):
    skew = dataclasses.replace(SHAPES["escape_exp"], name="skew_copy")
    with registered(skew):
        assert "skew_copy" in SHAPES and "skew_copy" not in EVEN_SHAPES
        with pytest.raises(ValueError, match="target must be one of"):
            LocalZOConfig(source="surrogate", target="skew_copy")


# --- a scratch shape reaches every computation --------------------------------------------------------------------
@pytest.mark.parametrize("copy,original", [("atan_copy", "atan"), ("pseudo_copy", "q_pseudospike")])
def test_scratch_shape_gives_the_original_numbers_on_every_page(scratch, copy, original):
    q = {"q": 2.5}
    a = escape_view(EscapeConfig(shape=copy, n_points=101, **q))
    same(a, escape_view(EscapeConfig(shape=original, n_points=101, **q)))
    assert set(escape_figures(a))
    s = signflip_view(SignflipConfig(shape=copy, n_sweep=51, n_grid=11, **q))
    same(s, signflip_view(SignflipConfig(shape=original, n_sweep=51, n_grid=11, **q)))
    assert set(signflip_figures(s))
    loop = LoopConfig(shape=copy, max_steps=40, n_grid=11, **q)
    loop0 = dataclasses.replace(loop, shape=original)
    same(loop_integrals(loop), loop_integrals(loop0))
    same(loop_curl(loop), loop_curl(loop0))
    d = design_view(DesignConfig(shape=copy, **q))
    same(d, design_view(DesignConfig(shape=original, **q)))
    assert fig_gallery(d) and fig_eq2(d)
    assert [m.name for m in gallery()][-2:] == ["atan_copy", "pseudo_copy"]  # the gallery lists it
    same(shape_moments(copy, 2.5), shape_moments(original, 2.5))
    same(init_view(InitConfig(shape=copy, **q)).result, init_view(InitConfig(shape=original, **q)).result)


@pytest.mark.parametrize("copy,original,alpha", [("atan_copy", "atan", "1"), ("atan_copy", "atan", "-1"),
                                                  ("pseudo_copy", "q_pseudospike", "-1")])
def test_scratch_shape_in_localzo(scratch, copy, original, alpha):
    cfg = LocalZOConfig(source="surrogate", target=copy, k=20.0, delta=0.1, alpha=alpha, n_samples=200,
                        n_points=51, q=2.0)
    view = localzo_view(cfg)
    same(view, localzo_view(dataclasses.replace(cfg, target=original)))
    assert set(localzo_figures(view))
    t = Theorem3Target(copy, 20.0, 0.1, int(alpha), q=2.0)
    t0 = Theorem3Target(original, 20.0, 0.1, int(alpha), q=2.0)
    assert t.finite_mean is t0.finite_mean and t.sampler == t0.sampler and t.M == t0.M
    if alpha == "-1":  # heavy tails (|v|^-2): E|z| and E[max |z|] diverge, for the copy as for the original
        assert not t.finite_mean and math.isinf(t.emax(3))


@pytest.mark.parametrize("network", ["deterministic", "stochastic"])
def test_scratch_shape_trains_like_the_original(scratch, network):
    kw = dict(network=network, n_in=20, n_hidden=8, n_out=4, n_steps=30, trials=2, seed=3)
    out = train(TrainConfig(shape="atan_copy", **kw), epochs=3)
    ref = train(TrainConfig(shape="atan", **kw), epochs=3)
    for key in ("l2", "van_rossum", "active_fraction"):
        assert out[key] == ref[key], key


def test_scratch_shape_reaches_the_cli(scratch, capsys):
    def run(*args):
        assert main(list(args)) == 0
        out = json.loads(capsys.readouterr().out)
        out.pop("config", None)
        return out

    copy, ref = run("escape", "--shape", "atan_copy", "--u", "-1", "0", "0.5"), run("escape", "--shape", "atan", "--u",
                                                                                     "-1", "0", "0.5")
    assert copy.pop("mismatch") == [m.replace("'atan'", "'atan_copy'") for m in ref.pop("mismatch")]
    assert copy == ref and len(copy["points"]["u"]) == 3
    copy, ref = run("design", "--shape", "atan_copy"), run("design", "--shape", "atan")
    assert copy["moments"].pop("name") == "atan_copy" and ref["moments"].pop("name") == "atan"
    copy["moments"].pop("label"), ref["moments"].pop("label")
    assert copy == ref


# --- the facts on each record, against independent numbers ---------------------------------------------------------
@pytest.mark.parametrize("name", list(SHAPES))
def test_closed_forms_match_quadrature(name):
    shp = SHAPES[name]
    params = shp.pick_params(q=4.5)
    f = lambda v: float(shp.f(np.array([v]), **params)[0])  # noqa: E731
    assert set(shp.closed_forms) == {"int_f_sq", "tail_moment"}  # every built-in shape declares both
    sq = sum(integrate.quad(lambda v: f(v) ** 2, lo, hi, limit=400)[0] for lo, hi in ((-np.inf, 0), (0, np.inf)))
    assert shp.closed_form("int_f_sq", **params) == pytest.approx(sq, rel=1e-7)
    tail = shp.closed_form("tail_moment", **params)
    if math.isfinite(tail):
        num = sum(integrate.quad(lambda v: v * v * f(v), lo, hi, limit=400)[0] for lo, hi in ((-np.inf, 0),
                                                                                              (0, np.inf)))
        assert tail == pytest.approx(num, rel=1e-6)
    assert shp.finite_abs_moment(2.0, **params) is math.isfinite(tail)
    assert shp.closed_form("peak") == shp.closed_form("area") == 1.0
    with pytest.raises(ValueError, match="quantity must be one of"):
        shp.closed_form("kurtosis")


@pytest.mark.parametrize("name", list(SHAPES))
def test_tail_index_is_the_measured_decay(name):
    shp = SHAPES[name]
    for q in (1.5, 2.5, 4.5):
        params = shp.pick_params(q=q)
        p = shp.tail_exponent(**params)
        big = np.array([1e6, 2e6])
        vals = shp.f(np.concatenate([big, -big]), **params)
        if math.isinf(p):
            assert np.all(vals[[1, 3]] < 1e-12)  # faster than any power far out
        else:
            for r in (vals[1] / vals[0], vals[3] / vals[2]):
                assert -math.log2(r) == pytest.approx(p, rel=1e-4)


@pytest.mark.parametrize("name", list(SHAPES))
def test_smooth_peak_jump_and_m1(name):
    shp = SHAPES[name]
    slope = float(np.max(np.abs(shp.df(np.array([1e-7, -1e-7])))))
    if shp.symmetric and shp.jump_at is None:  # LocalZO's alpha = 1 needs f'(0) = 0 (no corner at the peak)
        assert shp.smooth_peak is (slope < 1e-5), slope
    if shp.jump_at is not None:  # flat with unit jumps there
        j = shp.jump_at
        assert shp.f(np.array([j - 1e-9]))[0] - shp.f(np.array([j + 1e-9]))[0] == pytest.approx(1.0)
    if shp.m1 is not None:
        assert shp.smooth_peak
        num = integrate.quad(lambda y: -float(shp.df(np.array([y]))[0]) / y, 1e-12, np.inf, limit=400)[0]
        assert shp.m1 == pytest.approx(num, rel=1e-7)


@pytest.mark.parametrize("name", [n for n, s in SHAPES.items() if s.theorem3_ppf or s.theorem3_cdf])
def test_theorem3_closed_forms_invert_the_cdf(name):
    shp = SHAPES[name]
    p = np.linspace(0.01, 0.99, 41)
    for alpha in sorted(set(shp.theorem3_ppf) | set(shp.theorem3_cdf)):
        t = Theorem3Target(name, 1.0, 1.0, alpha)
        y = t._ppf_Y(p)
        np.testing.assert_allclose(t._R(y), p, atol=5e-6)  # R is the closed form or a table; Q the other
        # and against the density's own integral: P(Y <= y) = int_0^y y'^-alpha (-f'(y')) dy' / M
        def rho(s, alpha=alpha):
            return s ** (-alpha) * -float(shp.df(np.array([s]))[0])

        num = [integrate.quad(rho, 0.0, yy)[0] / t.M for yy in y[::10]]
        np.testing.assert_allclose(num, p[::10], atol=1e-6)


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_kernel_is_the_formula(name, dtype):
    shp = SHAPES[name]
    v = np.linspace(-3, 3, 601).astype(dtype)
    for s, g in ((1.0, 1.0), (7.5, 0.3), (40.0, 40.0)):
        out = v.copy()
        shp.sd_inplace(out, s, g)
        assert out.dtype == dtype
        ref = g * shp.f(s * v.astype(np.float64))
        np.testing.assert_allclose(out, ref, rtol=2e-6 if dtype is np.float32 else 1e-12,
                                   atol=1e-6 * g if dtype is np.float32 else 1e-14)
