"""Streamlit AppTest tests: every page runs, each input changes what is shown, bad links are handled."""


import plotly.graph_objects as go
import pytest
from apphelpers import ROOT, app, banner, charts
from streamlit.testing.v1 import AppTest

from sgcore import EscapeConfig, escape_view
from sgcore.export import csv_tables
from sgcore.figures import escape_figures
from sgcore.pages import PAGES

ESCAPE = PAGES["escape"].path
pytestmark = pytest.mark.apptest


def test_home_runs_and_links_every_page():
    at = app()
    assert not at.exception
    assert at.title[0].value == "Surrogate Gradient Explorer"
    links = [pl.proto.page for pl in at.get("page_link")]
    # sidebar: Home + every page; main area: every content page again
    assert links.count("") == 1 and links.count("Escape_noise") == 2 and links.count("Sign_flip") == 2
    assert all(links.count(page.url_path) == 2 for page in PAGES.content())
    assert len(links) == 2 * len(PAGES) - 1


@pytest.mark.parametrize("key", list(PAGES))
def test_every_registered_page_runs_under_its_registered_title(key):
    """Each page's script exists, runs, and calls ``page_setup`` with the title its registry entry gives (the key
    of its lesson and classroom links); its sidebar lists every registered page."""
    page = PAGES[key]
    at = app(None if page.path == "app.py" else page.path)
    assert not at.exception
    assert at.session_state["sge_page"] == page.title
    assert [pl.proto.page for pl in at.sidebar.get("page_link")] == [p.url_path for p in PAGES.values()]


def test_escape_default_is_matched_with_five_charts():
    at = app(ESCAPE)
    assert not at.exception and not at.error and not at.warning
    assert "Matched" in banner(at) and "Not matched" not in banner(at)
    assert len(charts(at)) == 5
    assert len(at.get("download_button")) == 3


@pytest.mark.parametrize(
    "key,value",
    [
        ("beta_n", 12.0), ("beta_sg", 2.0), ("theta", 0.5), ("u_span", 4.0), ("n_inputs", 10),
        ("n_trials", 5), ("n_samples", 1000), ("n_points", 101),
    ],
)
def test_each_slider_changes_the_charts(key, value):
    at = app(ESCAPE)
    before = charts(at)
    at.slider(key=key).set_value(value).run()
    assert not at.exception
    assert at.slider(key=key).value == value
    assert charts(at) != before


@pytest.mark.parametrize("key,value", [("escape", "erf"), ("shape", "triangular"), ("scale", "peak")])
def test_each_selectbox_changes_the_charts_and_match_state(key, value):
    at = app(ESCAPE)
    before = charts(at)
    at.selectbox(key=key).set_value(value).run()
    assert not at.exception
    assert charts(at) != before
    assert "Not matched" in banner(at)


def test_seed_changes_only_random_panels():
    at = app(ESCAPE)
    before = charts(at)
    at.slider(key="seed").set_value(7).run()
    after = charts(at)
    assert after[1] == before[1]  # the derivative panel is deterministic
    assert after[2] != before[2]  # rasters are resampled


def test_conditional_widgets_appear_with_their_option():
    at = app(ESCAPE)
    assert "rho0_dt" not in [s.key for s in at.slider]
    at.selectbox(key="escape").set_value("exponential").run()
    assert at.slider(key="rho0_dt").value == 1.0
    at.selectbox(key="scale").set_value("gamma").run()
    at.slider(key="gamma").set_value(0.5).run()
    assert not at.exception and "scaling" in banner(at)
    at.selectbox(key="shape").set_value("q_pseudospike").run()
    assert at.slider(key="q").value == 1.5


def test_query_params_seed_the_view():
    at = app(ESCAPE, beta_sg="10", escape="erf", shape="gaussian")
    assert not at.exception
    assert at.slider(key="beta_sg").value == 10.0
    assert at.selectbox(key="escape").value == "erf"
    assert "Not matched" in banner(at) and "steepness" in banner(at)


@pytest.mark.parametrize(
    "query",
    [{"beta_n": "abc"}, {"beta_n": "nan"}, {"beta_n": "500"}, {"beta_n": "-1"}, {"shape": "boxcar"},
     {"n_trials": "2.5"}, {"seed": "-3"}],
)
def test_bad_query_values_show_notice_and_defaults(query):
    at = app(ESCAPE, **query)
    assert not at.exception
    (name,) = query
    assert any("Link parameter ignored" in w.value and name in w.value for w in at.warning)
    assert "Matched" in banner(at)  # defaults are used
    assert len(charts(at)) == 5


def test_presets_and_reset():
    at = app(ESCAPE)
    at.pills(key="preset").set_value("SuperSpike SD on sigmoid noise").run()
    assert at.selectbox(key="shape").value == "superspike"
    assert "Not matched" in banner(at)
    assert at.pills(key="preset").value is None  # a preset is an action, not a kept state
    at.pills(key="preset").set_value("erf escape, matched").run()
    assert at.selectbox(key="escape").value == "erf" and "Matched" in banner(at)
    at.slider(key="beta_n").set_value(20.0).run()
    at.pills(key="preset").set_value("Reset to defaults").run()
    assert at.slider(key="beta_n").value == 5.0 and at.selectbox(key="escape").value == "sigmoid"
    assert not at.exception


def test_page_shows_equations_with_numbers_and_the_eq25_correction():
    at = app(ESCAPE)
    latex = " ".join(x.value for x in at.latex)
    for eq in ("(4, 5)", "(7)", "(8)", "(6)", "(25)", "App. B"):
        assert eq in latex
    assert any("Correction to Eq. 25" in i.value for i in at.info)


def test_compute_or_keep_shows_error_and_keeps_last_good():
    script = f'''
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from sgapp.controls import compute_or_keep
x = st.number_input("x", value=1.0, key="x")
def calc():
    if x < 0:
        raise ValueError("x must be a finite number >= 0; got " + repr(x))
    return x * 2
st.write("result", compute_or_keep("demo", calc))
'''
    at = AppTest.from_string(script).run()
    assert not at.error and "2.0" in at.markdown[0].value
    at.number_input(key="x").set_value(-1.0).run()
    assert not at.exception
    assert "x must be a finite number >= 0" in at.error[0].value
    assert "last valid view" in at.error[0].value


_STUB = f'''
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from sgapp.controls import compute_or_keep
x = st.number_input("x", value=1.0, key="x")
def calc():
    if x < 0:
        raise {{error}}
    return x * 2
st.write("result", compute_or_keep("demo", calc))
'''


@pytest.mark.parametrize("error,needle", [
    ("MemoryError()", "Not enough memory"),
    ("OverflowError('math range error')", "overflowed"),
    ("FloatingPointError('overflow encountered')", "floating-point error"),
])
def test_compute_or_keep_keeps_last_good_on_memory_and_arithmetic_errors(error, needle):
    at = AppTest.from_string(_STUB.format(error=error)).run()
    assert not at.error and "2.0" in at.markdown[0].value
    at.number_input(key="x").set_value(-1.0).run()
    assert not at.exception
    assert needle in at.error[0].value and "last valid view" in at.error[0].value
    assert "2.0" in at.markdown[0].value  # the previous result is still on screen


def test_compute_or_keep_lets_programming_errors_surface():
    at = AppTest.from_string(_STUB.format(error="TypeError('a bug')")).run()
    at.number_input(key="x").set_value(-1.0).run()
    assert at.exception and "a bug" in at.exception[0].message and not at.error


# --- figures and downloads behind the page ---------------------------------------------------
def test_figures_are_valid_plotly():
    figs = escape_figures(escape_view(EscapeConfig()))
    for fig in figs.values():
        go.Figure(fig.to_dict())  # plotly's validating constructor raises on any bad property


def test_rasters_are_compact_heatmaps():
    figs = escape_figures(escape_view(EscapeConfig()))
    traces = figs["rasters"].to_dict()["data"]
    assert [t["type"] for t in traces] == ["heatmap", "heatmap"]
    # typed arrays (base64) of 1-byte ints / 4-byte floats, not JSON lists of numbers
    assert [t["z"]["dtype"] for t in traces] == ["f4", "i1"]


def test_csv_downloads_match_the_view():
    view = escape_view(EscapeConfig(n_points=11, n_inputs=4, n_trials=3, n_samples=100))
    tables = csv_tables(view)
    lines = tables["curves"].strip().splitlines()
    assert lines[0].startswith("u,firing_probability,step,d_expected_output,surrogate_derivative")
    assert len(lines) == 12
    first = [float(x) for x in lines[1].split(",")]
    assert first[0] == view.u[0] and first[1] == view.firing_probability[0]
    assert len(tables["rasters"].strip().splitlines()) == 1 + 3 * 4
    assert len(tables["thresholds"].strip().splitlines()) == 101
