"""AppTest tests of the Sweeps page: every kind of store (done and failed runs, missing, not a store, empty,
uploaded, broken upload), each tab, the links, the hosted profile, and a sweep started from the page."""

from __future__ import annotations

import json
import time

import apphelpers
import pytest
from apphelpers import banner, charts
from streamlit.testing.v1 import AppTest
from sweepstores import FAILED_ERROR, HC_SCORES, empty_store, hc_store

from sgcore.sweep import analysis
from sgcore.sweeps_page import TABS

PAGE = "pages/9_Sweeps.py"
pytestmark = pytest.mark.apptest
N_RUNS = 2 * sum(len(rows) for rows in HC_SCORES.values())


@pytest.fixture(autouse=True)
def local(monkeypatch, tmp_path):
    """A local (not hosted) app whose bundled example is missing unless a test puts one there."""
    monkeypatch.delenv("SGE_HOSTED", raising=False)
    monkeypatch.setattr(analysis, "EXAMPLE_STORE", tmp_path / "examples" / "hc_randman.sqlite")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return hc_store(tmp_path_factory.mktemp("stores") / "hc.sqlite")


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def with_file(path, **query: str) -> AppTest:
    at = app(store="file", **query)
    at.text_input(key="store_path").set_value(str(path)).run()
    return at


def specs(at: AppTest) -> list[dict]:
    return [json.loads(s) for s in charts(at)]


def message(spec: dict) -> str:
    return " ".join(a.get("text", "") for a in spec["layout"].get("annotations", []))


def test_missing_example_says_how_to_make_it_and_still_draws():
    at = app()
    assert not at.exception and not at.error
    assert "not there yet" in banner(at)
    command = " ".join(c.value for c in at.code)
    assert "python -m sgcore sweep" in command and "--store sgcore/sweep/examples/hc_randman.sqlite" not in command
    assert "--store hc_randman.sqlite" in command  # the example's place, relative to the app (here: a test's)
    (fig,) = specs(at)
    assert not fig["data"] and "No finished runs" in message(fig)


def test_bundled_example_summary_and_sensitivity(monkeypatch, store):
    monkeypatch.setattr(analysis, "EXAMPLE_STORE", store)
    at = app()
    assert not at.exception and not at.error
    text = banner(at)
    assert f"<b>{N_RUNS - 1}</b> runs done, <b>1</b> failed" in text and "hc_test" in text
    assert "Best mean validation accuracy: <b>84.0%</b>" in text and "q-PseudoSpike" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Runs done"] == str(N_RUNS - 1) and metrics["Failed"] == "1" and metrics["Seeds"] == "2"
    (fig,) = specs(at)
    names = {t["name"] for t in fig["data"]}
    assert {"Sigmoid derivative", "SuperSpike (fast-sigmoid derivative)", "best mean"} <= names
    assert fig["layout"]["xaxis"]["type"] == "log"


@pytest.mark.parametrize("tab,n_charts,needle", [(TABS[0], 1, "against dampening"), (TABS[1], 1, "×"),
                                                 (TABS[2], 1, "By conditions"), (TABS[3], 1, "Pick runs"),
                                                 (TABS[4], 0, None)])
def test_each_tab_draws_only_its_own_chart(store, tab, n_charts, needle):
    at = with_file(store, tab=tab)
    assert not at.exception and not at.error
    figs = specs(at)
    assert len(figs) == n_charts
    if needle:
        assert needle in figs[0]["layout"]["title"]["text"] + message(figs[0])


def test_runs_tab_lists_failed_runs_with_their_error_downloads_csv_and_draws_picked_curves(store):
    at = with_file(store, tab=TABS[3])
    assert any(FAILED_ERROR in w.value for w in at.warning)
    table = next(d.value for d in at.dataframe if "error" in d.value.columns)
    assert len(table) == N_RUNS and list(table["error"].dropna()) == [FAILED_ERROR]
    assert [b.proto.label for b in at.get("download_button")] == ["runs.csv"]
    at.segmented_control(key="runs_status").set_value("failed").run()
    assert len(next(d.value for d in at.dataframe if "error" in d.value.columns)) == 1
    at.segmented_control(key="runs_status").set_value("all").run()
    pick = at.multiselect(key="runs_pick")
    pick.set_value(pick.options[:2] and [pick.options[0]]).run()
    (fig,) = specs(at)
    assert len([t for t in fig["data"] if t.get("xaxis") == "x"]) == 1


@pytest.mark.parametrize("kind", ["missing", "not a store", "empty"])
def test_stores_that_cannot_be_shown_get_a_message_not_an_exception(tmp_path, kind):
    path = tmp_path / "x.sqlite"
    if kind == "not a store":
        path.write_text("just some text")
    elif kind == "empty":
        empty_store(path)
    at = with_file(path)
    assert not at.exception
    expected = {"missing": "No file at", "not a store": "Store refused", "empty": "holds no runs yet"}[kind]
    assert expected in banner(at)
    assert len(charts(at)) == 1  # the open tab's figure, with its message


def test_upload_of_a_store_and_of_a_broken_file(store):
    at = app(store="upload")
    assert "Upload a results store" in banner(at)
    at.file_uploader(key="store_upload").set_value(("mine.sqlite", store.read_bytes(), "application/x-sqlite3")).run()
    assert not at.exception and f"<b>{N_RUNS - 1}</b> runs done" in banner(at)
    at.file_uploader(key="store_upload").set_value(("bad.sqlite", b"not a database", "application/x-sqlite3")).run()
    assert not at.exception
    assert "Upload refused" in banner(at) and "not an SQLite file" in banner(at)


def test_link_values_that_do_not_fit_fall_back_with_a_notice(monkeypatch, store):
    monkeypatch.setattr(analysis, "EXAMPLE_STORE", store)
    at = app(axis="lr", tab="Nonsense")  # lr is a sweepable parameter, but this store does not vary it
    assert not at.exception
    notices = [w.value for w in at.warning if w.value.startswith("Link parameter ignored")]
    assert any("this store does not vary lr" in n for n in notices)
    assert any(n.startswith("Link parameter ignored: tab must be one of") for n in notices)
    assert at.selectbox(key="axis").value == "gamma"


def test_axis_spread_and_held_values_change_the_plot(store):
    at = with_file(store)
    before = charts(at)
    at.selectbox(key="axis").set_value("q").run()
    assert charts(at) != before and "tail fatness q" in specs(at)[0]["layout"]["title"]["text"]
    q_plot = charts(at)
    at.selectbox(key="spread").set_value("range").run()
    assert charts(at) != q_plot
    at.selectbox(key="axis").set_value("gamma").run()
    held = at.selectbox(key="hold_init")
    assert held.value == "fluctuation"  # the default every run records
    at.selectbox(key="hold_init").set_value("glorot_uniform").run()
    assert "initialisation = glorot_uniform" in specs(at)[0]["layout"]["title"]["text"]


def test_hosted_reads_no_server_files_and_starts_no_sweeps(monkeypatch, store):
    monkeypatch.setenv("SGE_HOSTED", "1")
    at = app(store="file")
    assert not at.exception
    assert any("offered only when the app runs on your own machine" in i.value for i in at.info)
    assert not [t for t in at.text_input if t.key == "store_path"]
    at = app(tab=TABS[4])
    assert any("not offered on this hosted app" in i.value for i in at.info)
    assert not at.get("form") or not [b for b in at.button if b.key == "new_start"]


def test_a_bad_grid_is_refused_before_anything_starts(tmp_path):
    at = app(tab=TABS[4])
    at.text_area(key="new_grid").set_value("shape=boxcar")
    at.text_input(key="new_store").set_value(str(tmp_path / "new.sqlite"))
    at.button(key="new_start").click().run()
    assert not at.exception
    assert any("Not started" in e.value and "shape must be one of" in e.value for e in at.error)
    assert "sweeps_job" not in at.session_state and not (tmp_path / "new.sqlite").exists()


def test_a_sweep_started_here_runs_and_its_results_appear(tmp_path):
    target = tmp_path / "new.sqlite"
    at = app(tab=TABS[4])
    at.text_area(key="new_grid").set_value("gamma=0.5,1")
    at.text_area(key="new_fixed").set_value("")
    at.number_input(key="new_seeds").set_value(1)
    at.number_input(key="new_epochs").set_value(1)
    at.number_input(key="new_workers").set_value(0)
    at.text_input(key="new_store").set_value(str(target))
    at.button(key="new_start").click().run()
    assert not at.exception and not at.error
    job = at.session_state["sweeps_job"]
    assert job.total == 2 and at.session_state["store"] == "file" and at.session_state["store_path"] == str(target)
    deadline = time.monotonic() + 120
    while job.running and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception
    assert any("finished" in s.value and "2 / 2 runs" in s.value for s in at.success)
    assert "<b>2</b> runs done" in banner(at)
    at.button(key="sweep_dismiss").click().run()
    assert "sweeps_job" not in at.session_state


def test_a_store_that_grows_is_read_again_and_the_choices_stay(tmp_path):
    from sweepstores import record

    from sgcore.sweep.store import Store

    path = hc_store(tmp_path / "growing.sqlite")
    at = with_file(path)
    at.selectbox(key="sens_line").set_value("(one line)").run()
    with Store(path) as st:
        record(st, "dampening", {"shape": "sigmoid", "gamma": 0.1}, {"shape": "sigmoid", "beta_sg": 1.0}, 5,
               score=0.9)
    at.run()
    assert not at.exception
    assert f"<b>{N_RUNS}</b> runs done" in banner(at)
    assert at.selectbox(key="sens_line").value == "(one line)"
