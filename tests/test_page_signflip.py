"""AppTest tests of the sign-flip page: presets, sliders, the step switch, bad input."""

import apphelpers
import pytest
from apphelpers import banner, charts
from streamlit.testing.v1 import AppTest

from sgcore.signflip import SignflipConfig, signflip_point, signflip_square

PAGE = "pages/2_Sign_flip.py"
pytestmark = pytest.mark.apptest


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_default_is_table1_with_a_sign_flip():
    at = app()
    assert not at.exception and not at.error and not at.warning
    assert "Sign flip" in banner(at)
    assert len(charts(at)) == 5
    pt = signflip_point(SignflipConfig())
    assert metric(at, "dy/dw, true") == f"{pt.grad_true['w']:+.3g}"
    assert float(metric(at, "two-path, true")) > 0
    latex = " ".join(x.value for x in at.latex)
    assert "(10)" in latex and "(11)" in latex and "(12)" in latex


@pytest.mark.parametrize("preset,expect", [
    ("Fig. 4B, β_SG = 15", {"beta_sg": 15.0, "beta_f": 100.0}),
    ("Fig. 4B, β_SG = 30 (authors' notebook)", {"beta_sg": 30.0}),
    ("Fig. 4C", {"beta_f": 20.0, "w": 1.0, "beta_sg": 4.0}),
])
def test_presets(preset, expect):
    at = app()
    at.slider(key="v1").set_value(1.0).run()
    at.pills(key="preset").set_value(preset).run()
    assert not at.exception
    for key, value in expect.items():
        assert at.slider(key=key).value == value
    assert at.slider(key="v1").value == 0.05  # presets set every parameter
    assert at.multiselect(key="betas_landscape").value == [2.0, 4.0, 20.0]


@pytest.mark.parametrize("key,value", [("w", 0.1), ("v2", 0.5), ("u2", -0.5), ("x", 0.5), ("beta_f", 50.0),
                                       ("beta_sg", 100.0)])
def test_each_slider_changes_the_view(key, value):
    at = app()
    before = charts(at)
    at.slider(key=key).set_value(value).run()
    assert not at.exception and charts(at) != before


def test_matched_steepness_removes_the_flip():
    at = app()
    at.slider(key="beta_sg").set_value(100.0).run()
    assert "SG agrees with the gradient" in banner(at)


def test_step_switch():
    at = app()
    at.toggle(key="step").set_value(True).run()
    assert not at.exception
    assert "Step forward" in banner(at)
    assert "beta_f" not in [s.key for s in at.slider]  # beta_f has no meaning with the step
    assert metric(at, "dy/dw, true") == "+0"


def test_component_selector_and_plane_axes():
    at = app()
    at.selectbox(key="component").set_value("v1").run()
    assert not at.exception
    at.selectbox(key="plane_x").set_value("u1").run()
    assert not at.exception and "(u1, v2)" in at.subheader[0].value


def test_same_plane_axes_show_error_and_keep_last_view():
    at = app()
    good = charts(at)
    at.selectbox(key="plane_x").set_value("v2").run()
    assert not at.exception
    assert "plane_x and plane_y must be different" in at.error[0].value
    assert charts(at) == good


def test_empty_landscape_betas_show_error_and_keep_last_view():
    at = app()
    at.multiselect(key="betas_landscape").set_value([]).run()
    assert not at.exception
    assert "betas_landscape must be 1 to 4 finite numbers" in at.error[0].value
    assert len(charts(at)) == 5


@pytest.mark.parametrize("query", [{"beta_sg": "x"}, {"w": "5"}, {"component": "z"}, {"step": "maybe"},
                                   {"betas_landscape": "0"}])
def test_bad_query_values_show_notice(query):
    at = app(**query)
    assert not at.exception
    (name,) = query
    assert any("Link parameter ignored" in w.value and name in w.value for w in at.warning)
    assert "Sign flip" in banner(at)


def test_query_params_seed_the_view():
    at = app(beta_sg="100", w="0.1", step="true")
    assert at.slider(key="beta_sg").value == 100.0 and at.slider(key="w").value == 0.1
    assert at.toggle(key="step").value is True


def _square_table(at: AppTest):
    return next(d.value for d in at.dataframe if "∮ around the square" in d.value.columns)


def test_square_path_integrals_are_shown_with_their_errors():
    """Issue 16 item 10: the SG integrated around a square in the landscape's plane is not zero; the true gradient's
    integral is, each with its estimated quadrature error."""
    at = app()
    ref = signflip_square(SignflipConfig())
    table = _square_table(at)
    assert list(table["field"]) == [f"SG, β_SG = {b:g}" for b in (25, 2, 4, 20)] + ["true ∇y"]
    assert list(table["∮ around the square"])[:-1] == [f"{v:+.6f}" for v in ref.loop_sg.values()]
    assert abs(float(table["∮ around the square"].iloc[-1])) < 1e-10
    assert all(float(e) < 1e-9 for e in table["estimated error"])
    text = " ".join(m.value for m in at.markdown)
    assert "Around the square [0, 1] × [0, 1]" in text and f"{ref.loop_sg[25.0]:+.4g}" in text and "not 0" in text


def test_square_controls_move_the_square():
    at = app()
    before = _square_table(at)
    at.slider(key="square_half").set_value(0.25).run()
    at.slider(key="square_x").set_value(0.0).run()
    assert not at.exception
    after = _square_table(at)
    ref = signflip_square(SignflipConfig(square_half=0.25, square_x=0.0))
    assert list(after["∮ around the square"])[:-1] == [f"{v:+.6f}" for v in ref.loop_sg.values()]
    assert not after.equals(before)
    assert "Around the square [-0.25, 0.25] × [0.25, 0.75]" in " ".join(m.value for m in at.markdown)
