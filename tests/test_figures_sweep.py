"""The Sweeps page's figures (HC Figs. 3-5, learning curves): valid plotly, the expected traces carrying the
analysis' numbers for a small store, and a message instead of empty axes when the store has no such runs."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from sweepstores import hc_store

from sgcore.figures.sweep import PALETTE, color_of, fig_ablation, fig_curves, fig_empty, fig_ranking, fig_sensitivity
from sgcore.shapes import SHAPES
from sgcore.sweep import analysis as sa


def _valid(fig: go.Figure) -> go.Figure:
    assert isinstance(fig, go.Figure)
    go.Figure(fig.to_dict())  # plotly's validating constructor raises on any bad property
    return fig


@pytest.fixture(scope="module")
def res(tmp_path_factory) -> sa.SweepResults:
    return sa.load(hc_store(tmp_path_factory.mktemp("store") / "hc.sqlite"))


def _message(fig: go.Figure) -> str:
    return " ".join(a.text for a in fig.layout.annotations)


def test_sensitivity_has_one_line_per_shape_with_the_means_and_spreads(res):
    sens = sa.sensitivity(res, "gamma")
    fig = _valid(fig_sensitivity(sens, "std"))
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    table = sens.table[sens.table["n"] > 0]
    assert [t.name for t in lines] == [SHAPES[s].label for s in dict.fromkeys(table["shape"])]
    for t in lines:
        shape = next(k for k, v in SHAPES.items() if v.label == t.name)
        rows = table[table["shape"] == shape]
        assert np.allclose(t.x, rows["gamma"]) and np.allclose(t.y, rows["mean"])
        assert np.allclose(t.error_y.array, np.nan_to_num(rows["std"]))
        assert t.line.color == color_of("shape", shape)
    best = next(t for t in fig.data if t.name == "best mean")
    assert best.y[0] == pytest.approx(table["mean"].max())
    assert fig.layout.xaxis.type == "log"  # 0.1 .. 10
    assert fig.layout.yaxis.tickformat == ".0%"
    assert "held at" in fig.layout.title.text and "initialisation = fluctuation" in fig.layout.title.text
    rng = _valid(fig_sensitivity(sens, "range"))
    first = next(t for t in rng.data if t.mode == "lines+markers")
    rows = table[table["shape"] == next(k for k, v in SHAPES.items() if v.label == first.name)]
    assert np.allclose(first.error_y.arrayminus, rows["mean"] - rows["min"])


def test_sensitivity_of_q_is_linear_and_an_unswept_axis_is_a_message(res):
    fig = _valid(fig_sensitivity(sa.sensitivity(res, "q"), "sem"))
    assert fig.layout.xaxis.type is None and len([t for t in fig.data if t.mode == "lines+markers"]) == 1
    empty = _valid(fig_sensitivity(sa.sensitivity(res, "sharpness")))
    assert not empty.data and "vary sharpness s" in _message(empty)


def test_ranking_heatmap_holds_the_means_and_stars_the_best_of_each_column(res):
    rank = sa.ranking(res)
    fig = _valid(fig_ranking(rank))
    (heat,) = fig.data
    assert list(heat.y) == [SHAPES[s].label for s in rank.row_values] and list(heat.x) == list(rank.col_values)
    for r in rank.table.itertuples():
        i, j = rank.row_values.index(r.shape), rank.col_values.index(r.init)
        assert heat.z[i][j] == pytest.approx(r.mean)
        assert ("★" in heat.text[i][j]) == (rank.best[r.init] == r.shape)
    empty = _valid(fig_ranking(sa.ranking(res, "shape", "lr")))
    assert not empty.data and "vary both" in _message(empty)


def test_ablation_bars_put_the_naive_setting_first_with_validation_and_test(res):
    abl = sa.ablation(res)
    fig = _valid(fig_ablation(abl))
    val, test = fig.data
    assert list(val.x) == ["none<br><b>naive</b>", "I+II+III+IV", "II", "I"]
    assert np.allclose(val.y, abl.tables["score"]["mean"]) and np.allclose(test.y, abl.tables["test_accuracy"]["mean"])
    assert list(val.marker.pattern.shape) == ["/", "", "", ""]
    assert fig.layout.shapes[0].y0 == pytest.approx(abl.tables["score"]["mean"].iat[0])  # the naive line
    empty = _valid(fig_ablation(sa.ablation(res, "lr")))
    assert not empty.data and "vary" in _message(empty)


def test_learning_curves_draw_both_panels_per_run(res):
    ids = list(res.runs["run_id"][:2])
    fig = _valid(fig_curves([(rid, res.curves[rid]) for rid in ids], "val_accuracy", "val_loss", "classify"))
    assert len(fig.data) == 4
    left = [t for t in fig.data if t.xaxis == "x"]
    assert [t.name for t in left] == ids and np.allclose(left[0].y, res.curves[ids[0]]["val_accuracy"])
    assert list(left[0].x) == [1, 2, 3]
    assert [t.line.color for t in left] == list(PALETTE[:2])
    empty = _valid(fig_curves([]))
    assert not empty.data and "Pick runs" in _message(empty)


def test_empty_figure_is_a_centred_message():
    fig = _valid(fig_empty("nothing here", title="T"))
    assert not fig.data and _message(fig) == "nothing here" and fig.layout.xaxis.visible is False
