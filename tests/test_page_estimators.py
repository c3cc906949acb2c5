"""AppTest tests of the gradient-estimator page, and its figures."""

import hashlib
import json

import apphelpers
import numpy as np
import plotly.graph_objects as go
import pytest
from apphelpers import banner, charts
from streamlit.testing.v1 import AppTest

from sgcore.estimators import BinaryNet, EstimatorConfig, bias_sweep, estimator_view, exact_gradient
from sgcore.export import to_jsonable
from sgcore.figures.estimators import estimator_figures

PAGE = "pages/5_Estimators.py"
pytestmark = pytest.mark.apptest


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def stats_table(at: AppTest):
    return next(d.value for d in at.dataframe if "estimator" in d.value.columns).set_index("estimator")


def test_default_shows_exact_values_and_a_biased_sg():
    at = app()
    assert not at.exception and not at.error
    view = estimator_view(EstimatorConfig())
    assert metric(at, "Exact E[y]") == f"{view.exact_expected_output:.4f}"
    assert "64 paths" in banner(at) and "biased" in banner(at)
    assert len(charts(at)) == 5  # tree, convergence, cosines, sweep, parameters
    table = stats_table(at)
    assert list(table.index) == ["stochastic SG", "deterministic SG", "finite diff.", "finite diff. (CRN)",
                                 "REINFORCE"]
    assert table.loc["deterministic SG", "variance tr S"] == 0
    assert table.loc["stochastic SG", "‖mean − ∇E[y]‖"] == pytest.approx(view.stats["stochastic_sg"].bias_norm)


def test_no_hidden_layer_preset_makes_the_sg_exact():
    at = app()
    at.button_group(key="preset").set_value("No hidden layer: SG is exact").run()
    assert not at.exception and not at.error
    assert "<b>is</b> the exact gradient" in banner(at) and "sge-ok" in banner(at)
    table = stats_table(at)
    assert table.loc["stochastic SG", "‖mean − ∇E[y]‖"] < 1e-10
    assert table.loc["stochastic SG", "bias"] == "exact"
    assert at.query_params["hidden1"] in ("0", ["0"])


def test_steep_preset_detects_the_bias():
    at = app()
    at.button_group(key="preset").set_value("Steep noise: large bias").run()
    table = stats_table(at)
    assert table.loc["stochastic SG", "bias"] == "biased"
    assert table.loc["REINFORCE", "bias"] == "not detected"


@pytest.mark.parametrize("key,value", [("beta_sg", 8.0), ("beta_n", 2.0), ("hidden2", 1), ("theta", 0.5)])
def test_sliders_change_the_view(key, value):
    at = app()
    before = charts(at)
    at.slider(key=key).set_value(value).run()
    assert not at.exception and not at.error and charts(at) != before


def test_large_network_skips_the_tree_but_enumerates():
    at = app(hidden1="6", hidden2="4")
    assert not at.exception and not at.error
    assert "1,024 paths" in banner(at)
    assert any("tree is drawn up to 8 hidden units" in i.value for i in at.info)
    assert len(charts(at)) == 4


def test_too_many_hidden_units_is_a_clear_error():
    at = app(hidden1="6", hidden2="6", hidden3="6")
    assert not at.exception
    assert any("at most 12" in e.value and "hidden1 + hidden2 + hidden3" in e.value for e in at.error)


@pytest.mark.parametrize("query", [{"beta_n": "nan"}, {"hidden1": "9"}, {"samples": "-5"}, {"seed": "x"}])
def test_bad_link_values_fall_back_with_a_notice(query):
    at = app(**query)
    assert not at.exception and not at.error
    name = next(iter(query))
    assert any("Link parameter ignored" in w.value and name in w.value for w in at.warning)


def _editor_key(layer: str, spec: dict) -> str:
    version = hashlib.sha1(json.dumps(spec).encode()).hexdigest()[:10]
    return f"edit_{layer}_4_3_3_0_1.0_{version}"  # the default network: n_in 4, hidden 3 3, seed 0, scale 1


def test_hand_edited_weight_changes_the_exact_values():
    at = app()
    before = metric(at, "Exact E[y]")
    assert not at.get("arrow_data_frame") or all("estimator" in d.value.columns for d in at.dataframe)  # lazy
    at.session_state["weights_open"] = True
    at.run()
    spec = EstimatorConfig().net().as_lists()
    at.session_state[_editor_key("Wout", spec)] = {"edited_rows": {0: {"bias": 3.0}}, "added_rows": [],
                                                   "deleted_rows": []}
    at.run()
    assert not at.exception and not at.error
    spec["biases"][-1] = [3.0]
    edited = BinaryNet.from_lists(spec["input"], spec["weights"], spec["biases"], beta_n=4.0, theta=0.0)
    after = f"{exact_gradient(edited).expected_output:.4f}"
    assert metric(at, "Exact E[y]") == after != before
    at.session_state["weights_open"] = False
    at.slider(key="samples").set_value(500).run()  # closing the panel and moving other controls keep the edit
    assert metric(at, "Exact E[y]") == after
    assert any("edited" in e.label for e in at.expander)
    at.session_state["weights_open"] = True
    at.run()
    next(b for b in at.button if "seed's weights" in b.label).click().run()
    assert metric(at, "Exact E[y]") == before


def test_non_finite_edit_is_refused_and_keeps_the_network():
    at = app()
    before = metric(at, "Exact E[y]")
    at.session_state["weights_open"] = True
    at.run()
    spec = EstimatorConfig().net().as_lists()
    at.session_state[_editor_key("W1", spec)] = {"edited_rows": {1: {"from 2": None}}, "added_rows": [],
                                                 "deleted_rows": []}
    at.run()
    assert not at.exception
    assert any("finite number" in e.value for e in at.error)
    assert metric(at, "Exact E[y]") == before


def test_downloads_hold_the_numbers():
    at = app()
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert set(buttons) == {"gradients.csv", "network.json"}


# --- figures behind the page -----------------------------------------------------------------------
@pytest.mark.parametrize("hidden", [(), (2,), (3, 3), (2, 2, 2), (6, 2)])
def test_figures_are_valid_plotly(hidden):
    cfg = EstimatorConfig.with_hidden(hidden, samples=200)
    view = estimator_view(cfg)
    figs = estimator_figures(view, bias_sweep(view.net, cfg.beta_sg, grid=[0.5, 2.0, 8.0]))
    for name, fig in figs.items():
        if fig is None:
            assert name == "tree" and sum(hidden) > 8
            continue
        go.Figure(fig.to_dict())  # plotly's validating constructor raises on any bad property


def test_tree_figure_has_every_path_and_the_sampled_one():
    view = estimator_view(EstimatorConfig.with_hidden((2, 2)))
    fig = estimator_figures(view, bias_sweep(view.net, 4.0, grid=[4.0]))["tree"]
    traces = {t.name: t for t in fig.data if t.name}
    leaves = traces["E[y | h_L]"]
    assert len(leaves.y) == 16  # 2^2 * 2^2 complete paths
    np.testing.assert_allclose(sorted(leaves.marker.color), sorted(view.tree.path_output_rate))
    path = traces["sampled path (one forward pass)"]
    assert len(path.x) == 4  # x -> h1 -> h2 -> y


def test_merged_tree_above_64_paths():
    view = estimator_view(EstimatorConfig.with_hidden((4, 3)))
    fig = estimator_figures(view, bias_sweep(view.net, 4.0, grid=[4.0]))["tree"]
    assert "merged" in fig.layout.title.text
    leaves = next(t for t in fig.data if t.name == "E[y | h_L]")
    assert len(leaves.y) == 8  # one node per pattern of the last layer


def test_network_json_download_round_trips():
    view = estimator_view(EstimatorConfig())
    spec = json.loads(json.dumps(to_jsonable(view.net)))  # what the page's network.json download writes
    assert spec == view.net.as_dict()
    again = BinaryNet.from_lists(spec["input"], spec["weights"], spec["biases"], beta_n=spec["beta_n"],
                                 theta=spec["theta"])
    assert exact_gradient(again).expected_output == pytest.approx(view.exact_expected_output, rel=1e-15)
