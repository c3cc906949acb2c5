"""AppTest tests of the surrogate-design page, and its figures."""

import math

import apphelpers
import plotly.graph_objects as go
import pytest
from apphelpers import banner, charts
from streamlit.testing.v1 import AppTest

from sgcore.design import (
    TRANSLATIONS,
    DesignConfig,
    InitConfig,
    design_view,
    init_conditions,
    shape_moments,
    theory_check,
)
from sgcore.figures.design import fig_eq2, fig_gallery, fig_theory
from sgcore.shapes import SHAPES

PAGE = "pages/7_Surrogate_design.py"
pytestmark = pytest.mark.apptest


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_default_renders_every_tab():
    at = app()
    assert not at.exception and not at.error
    assert "Exponential" in banner(at)
    assert len(charts(at)) == 3  # gallery, Eq. 2, the simulation
    gal = frame(at, "∫v²f").set_index("shape")
    assert list(gal.index) == [s.label for s in SHAPES.values()]
    assert gal.loc["Exponential", "∫f²"] == pytest.approx(0.5)
    assert math.isinf(gal.loc["Arctan (Cauchy)", "∫v²f"])
    # the two reference tabs run only while open (the open tab is in the link)
    libs = frame(app(tab="Library translation"), "our shape")
    assert len(libs) == len(TRANSLATIONS)
    paper = app(tab="Paper checks")
    assert not paper.exception and len(charts(paper)) == 3
    assert any("Eq. 19" in str(v) for v in paper.table[-1].value["where"])  # paper checks


def test_reference_tabs_run_only_while_open():
    at = app()
    assert not any("our shape" in d.value.columns for d in at.dataframe)
    assert not any("where" in t.value.columns for t in at.table)


def test_eq2_metrics_match_the_library():
    at = app(shape="gaussian", gamma="0.5", sharpness="2", y_min="-2", y_max="4")
    assert not at.exception and not at.error
    view = design_view(DesignConfig(shape="gaussian", gamma=0.5, sharpness=2.0, y_min=-2.0, y_max=4.0))
    assert metric(at, "E[σ'²] (quadrature)") == f"{view.sd_second_moment:.5g}"


@pytest.mark.parametrize("key,value", [("gamma", 2.0), ("sharpness", 3.0), ("y_max", 10.0)])
def test_sliders_change_the_design(key, value):
    at = app()
    before = charts(at)
    at.slider(key=key).set_value(value).run()
    assert not at.exception and not at.error and charts(at) != before


def test_calculator_metrics_and_derived_values():
    at = app(i_n_rec="101", i_n_in="200")
    assert not at.exception and not at.error
    res = init_conditions(InitConfig(n_rec=101, n_in=200))
    assert metric(at, "CI: Mean[w_rec]") == f"{res.mean_w_rec:.4g}" == "0.012"
    assert metric(at, "CII: Var[w_rec]") == f"{res.var_w_rec:.4g}"
    assert metric(at, "CIV: sharpness") == "none"  # CIII's gamma cannot meet CIV (see the notes)
    assert any("No sharpness meets CIV" in w.value for w in at.warning)
    derived = frame(at, "how").set_index("value")
    assert "CI mean" in derived.loc["mean_w_rec", "how"]


def test_setting_an_optional_value_uses_it():
    at = app(i_set_gamma="true", i_gamma="1.0")
    assert not at.exception and not at.error
    res = init_conditions(InitConfig(gamma=1.0))
    assert res.sharpness is not None
    assert metric(at, "CIV: sharpness") == f"{res.sharpness:.4g}"
    assert frame(at, "how").set_index("value").loc["gamma", "how"] == "given"


def test_translation_picker():
    at = app(tab="Library translation")
    at.selectbox(key="lib_pick").set_value("surrogate.fast_sigmoid(slope=25)").run()
    at.number_input(key="lib_slope").set_value(10.0).run()
    assert not at.exception
    assert metric(at, "s (sharpness)") == "5"  # slope/2
    assert metric(at, "γ (dampening)") == "1"


def test_presets():
    at = app()
    at.button_group(key="preset").set_value("sl-MNIST: q-PseudoSpike q = 1.05").run()
    assert not at.exception and at.slider(key="q").value == pytest.approx(1.05)
    assert "q-PseudoSpike" in banner(at) and "∞" in banner(at)
    at.button_group(key="preset").set_value("SHD LIF, layer 2 (calculator)").run()
    assert not at.exception and at.slider(key="i_xi").value == 1 and at.slider(key="i_n_rec").value == 256


@pytest.mark.parametrize("query", [{"gamma": "nan"}, {"shape": "box"}, {"i_n_rec": "-3"}, {"y_min": "inf"}])
def test_bad_link_values_fall_back_with_a_notice(query):
    at = app(**query)
    assert not at.exception and not at.error
    name = next(iter(query))
    assert any("Link parameter ignored" in w.value and name.removeprefix("i_") in w.value for w in at.warning)


def test_reversed_voltage_range_keeps_the_last_view():
    at = app()
    at.slider(key="y_min").set_value(5.0).run()
    assert not at.exception
    assert any("y_min must be below y_max" in e.value for e in at.error)
    assert len(charts(at)) == 3


def test_figures_are_valid_plotly():
    for shape in ("exponential", "q_pseudospike", "rectangular"):
        view = design_view(DesignConfig(shape=shape))
        for fig in (fig_gallery(view), fig_eq2(view)):
            go.Figure(fig.to_dict())
    go.Figure(fig_theory(theory_check(InitConfig(n_steps=30, batch=4))).to_dict())


def test_gallery_numbers_are_the_librarys():
    for name in SHAPES:
        m = shape_moments(name)
        assert m.peak == pytest.approx(1.0, abs=1e-9) and m.area == pytest.approx(1.0, abs=1e-6)


def test_library_tab_shows_where_docs_and_code_differ_and_translates_a_c_zero_preset():
    at = app(tab="Library translation")
    libs = frame(at, "our shape").set_index("call")
    tanh = libs.loc["threshold(x, 'tanh', k)"]
    assert (tanh["γ"], tanh["s"]) == (1.0, 50.0)  # Norse's code: 1 - tanh(k x)^2, not its docs' (k/2)(...)
    assert "we translate the code" in tanh["docs vs code"]
    at.selectbox(key="lib_pick").set_value("surrogate.PiecewiseLeakyReLU(w=1.0, c=0.0)").run()
    assert not at.exception and not at.error  # c = 0 is allowed by its input
    assert metric(at, "γ (dampening)") == "0.5"
    at.selectbox(key="lib_pick").set_value("threshold(x, 'tanh', k)").run()
    assert any("we translate the code" in i.value for i in at.info)
