"""AppTest tests of the loop-integral page."""

import apphelpers
import pytest
from apphelpers import banner, charts
from streamlit.testing.v1 import AppTest

from sgcore.loop import LoopConfig, loop_integrals, plane_vectors

PAGE = "pages/3_Loop_integrals.py"
pytestmark = pytest.mark.apptest


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def test_default_is_fig5_and_not_conservative():
    at = app()
    assert not at.exception and not at.error and not at.warning
    assert "Not conservative" in banner(at)
    assert len(charts(at)) == 4
    table = at.dataframe[0].value
    ref = loop_integrals(LoopConfig(max_steps=100))
    assert list(table["∮ SG (accurate)"]) == [f"{v:+.6f}" for v in ref.loop_sg.values()]
    assert all(abs(float(v)) < 1e-8 for v in table["∮ exact ∇y of the β_SG sigmoid net"])


def test_stokes_readout_agrees():
    at = app()
    loop = float(next(m.value for m in at.metric if m.label.startswith("loop integral")))
    curl = float(next(m.value for m in at.metric if m.label.startswith("− ∬ curl")))
    assert curl == pytest.approx(loop, rel=1e-3)


@pytest.mark.parametrize("key,value", [("radius", 1.0), ("x", 0.5), ("curl_beta_sg", 10.0), ("max_steps", 1000)])
def test_sliders_change_the_view(key, value):
    at = app()
    before = charts(at)
    at.slider(key=key).set_value(value).run()
    assert not at.exception and charts(at) != before


def test_forward_and_plane_choices():
    at = app()
    before = charts(at)
    at.selectbox(key="forward").set_value("sigmoid").run()
    assert not at.exception and charts(at) != before
    at.selectbox(key="plane").set_value("random").run()
    assert at.slider(key="seed").value == 0
    at.selectbox(key="plane").set_value("axes").run()
    at.selectbox(key="axis_b").set_value("v1").run()
    assert "axis_a and axis_b must be different" in at.error[0].value
    assert len(charts(at)) == 4  # the last good view stays


@pytest.mark.parametrize("preset", ["Fig. 5, notebook forward (sigmoid β_f = 10000)", "Random plane (seed 1)",
                                    "(v1, v2) around Table 1"])
def test_presets(preset):
    at = app()
    at.pills(key="preset").set_value(preset).run()
    assert not at.exception and "Not conservative" in banner(at)


def test_zero_circulation_is_reported_as_such():
    at = app(plane="axes", axis_a="w", axis_b="u2")  # at the origin this plane carries no circulation
    assert not at.exception and "No circulation on this circle" in banner(at)


@pytest.mark.parametrize("query", [{"radius": "-1"}, {"plane": "torus"}, {"betas_sg": "0"}])
def test_bad_query_values_show_notice(query):
    at = app(**query)
    (name,) = query
    assert not at.exception
    assert any("Link parameter ignored" in w.value and name in w.value for w in at.warning)


def test_table_shows_the_estimated_quadrature_errors():
    at = app()
    table = at.dataframe[0].value
    ref = loop_integrals(LoopConfig(max_steps=100))
    assert list(table["estimated error (SG)"]) == [f"{v:.1e}" for v in ref.loop_sg_error.values()]
    assert all(float(v) < 1e-9 for v in table["estimated error (exact)"])
    assert "estimated quadrature error" in banner(at)


def test_square_path_is_integrated_and_drawn():
    at = app()
    at.selectbox(key="path").set_value("square").run()
    assert not at.exception and not at.error
    assert "Not conservative" in banner(at) and "around the square" in banner(at)
    ref = loop_integrals(LoopConfig(path="square", max_steps=100))
    assert list(at.dataframe[0].value["∮ SG (accurate)"]) == [f"{v:+.6f}" for v in ref.loop_sg.values()]
    assert any("inside the square" in m.label for m in at.metric)


def test_plane_vectors_are_printed_to_the_last_bit():
    at = app(plane="random", seed="3")
    code = at.code[0].value
    for i, row in enumerate(plane_vectors("random", 3)):
        assert f"d{i + 1} = [{', '.join(repr(float(v)) for v in row)}]" in code
    assert "default_rng(3).standard_normal((2, 5))" in " ".join(c.value for c in at.caption)
