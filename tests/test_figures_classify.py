"""The classification page's figures (Fig. 7, S1): valid plotly, the expected traces carrying the input data,
empty and None inputs drawn as empty axes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import pytest

from sgcore.figures._style import COLORS
from sgcore.figures.classify import (
    fig_accuracy,
    fig_active,
    fig_confusion,
    fig_fano_layers,
    fig_gradients,
    fig_sample,
    fig_trial_units,
)

KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "fano_1", "fano_2", "fano_3",
        "active_fraction", "seconds")


def _valid(fig: go.Figure) -> go.Figure:
    assert isinstance(fig, go.Figure)
    go.Figure(fig.to_dict())  # plotly's validating constructor raises on any bad property
    return fig


def _history(n: int, stochastic: bool, layers: int = 2, seed: int = 0) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    nan = [math.nan] * n
    fano = [list(rng.uniform(0.2, 0.9, n)) if stochastic and i < layers else nan for i in range(3)]
    return {"epoch": list(range(n)), "train_loss": list(rng.uniform(0.5, 2, n)),
            "train_accuracy": list(rng.uniform(0, 1, n)), "val_loss": list(rng.uniform(0.5, 2, n)),
            "val_accuracy": list(rng.uniform(0, 1, n)), "fano_1": fano[0], "fano_2": fano[1], "fano_3": fano[2],
            "active_fraction": list(rng.uniform(0, 1, n)), "seconds": list(np.cumsum(rng.uniform(0.1, 1, n)))}


def _traces(fig: go.Figure, name: str) -> list:
    return [t for t in fig.data if t.name == name]


@dataclass(frozen=True)
class _Grad:  # the fields of sgcore.classify.trainer.GradientTrials
    trials: int
    cos_trials: np.ndarray
    cos_deterministic: float
    pcs: np.ndarray
    pc_mean: np.ndarray
    pc_deterministic: np.ndarray
    explained: np.ndarray


def _grad(k: int, seed: int) -> _Grad:
    rng = np.random.default_rng(seed)
    return _Grad(trials=k, cos_trials=rng.uniform(0.1, 0.9, k), cos_deterministic=float(rng.uniform(0.5, 1)),
                 pcs=rng.normal(size=(k, 2)), pc_mean=rng.normal(size=2), pc_deterministic=rng.normal(size=2),
                 explained=np.array([0.4, 0.2]))


# --- accuracy, Fano factor, activity --------------------------------------------------------------------------
def test_accuracy_draws_train_dashed_and_validation_solid_in_percent_with_the_losses_to_the_right():
    hist = {"deterministic": _history(5, False), "stochastic": _history(5, True, seed=1)}
    fig = _valid(fig_accuracy(hist, chance=1 / 3))
    assert len(fig.data) == 8  # 2 networks x (training, validation) x (accuracy, loss)
    for key, label, color in (("deterministic", "Deterministic", COLORS["det"]),
                              ("stochastic", "Stochastic", COLORS["stoch"])):
        h = hist[key]
        val_acc, val_loss = _traces(fig, f"{label}, validation")
        train_acc, train_loss = _traces(fig, f"{label}, training")
        np.testing.assert_allclose(val_acc.y, 100 * np.asarray(h["val_accuracy"]))
        np.testing.assert_allclose(train_acc.y, 100 * np.asarray(h["train_accuracy"]))
        np.testing.assert_allclose(val_loss.y, h["val_loss"])
        np.testing.assert_allclose(train_loss.y, h["train_loss"])
        np.testing.assert_array_equal(val_acc.x, h["epoch"])
        assert train_acc.line.dash == "dash" and val_acc.line.dash == "solid"
        assert val_acc.line.color == color
        assert (val_loss.xaxis, val_loss.yaxis) == ("x2", "y2") and val_acc.yaxis in (None, "y")
    assert tuple(fig.layout.yaxis.range) == (0, 101)
    chance = [s for s in fig.layout.shapes if s.yref == "y"]
    assert len(chance) == 1 and chance[0].y0 == pytest.approx(100 / 3)
    assert not _valid(fig_accuracy(hist)).layout.shapes  # no chance line unless asked


def test_accuracy_with_one_or_no_network_draws_what_is_there_and_keeps_the_titles():
    only = _valid(fig_accuracy({"stochastic": _history(3, True)}))
    assert {t.name for t in only.data} == {"Stochastic, training", "Stochastic, validation"}
    for hist in ({}, {"deterministic": {}, "stochastic": {k: [] for k in KEYS}}, {"deterministic": None}):
        fig = _valid(fig_accuracy(hist, chance=0.1))
        # no data, only the empty trace that keeps the loss axes drawn
        assert [(len(t.x), t.xaxis, t.showlegend) for t in fig.data] == [(0, "x2", False)]
        assert fig.layout.yaxis.title.text == "accuracy (%)" and fig.layout.yaxis2.title.text == "cross-entropy"
        assert fig.layout.xaxis.title.text == "epoch" and fig.layout.xaxis2.title.text == "epoch"


def test_fano_layers_skips_absent_layers_and_names_the_moving_average():
    h = _history(6, True, layers=2)
    fig = _valid(fig_fano_layers(h))
    assert [t.name for t in fig.data] == ["hidden layer 1", "hidden layer 2"]  # fano_3 is all NaN
    np.testing.assert_allclose(fig.data[0].y, h["fano_1"])
    np.testing.assert_allclose(fig.data[1].y, h["fano_2"])
    np.testing.assert_array_equal(fig.data[0].x, h["epoch"])
    assert "10-step average" in fig.layout.title.text
    h3 = _history(4, True, layers=3)
    h3["fano_2"][0] = math.nan  # a NaN record does not hide a layer
    assert len(_valid(fig_fano_layers(h3)).data) == 3
    for empty in (None, {}, {k: [] for k in KEYS}, _history(4, False)):
        fig = _valid(fig_fano_layers(empty))
        assert len(fig.data) == 0 and fig.layout.yaxis.title.text == "Fano factor"


def test_active_fraction_for_both_networks_in_percent():
    hist = {"deterministic": _history(4, False), "stochastic": _history(4, True, seed=2)}
    fig = _valid(fig_active(hist))
    assert [t.name for t in fig.data] == ["Deterministic", "Stochastic"]
    np.testing.assert_allclose(fig.data[1].y, hist["stochastic"]["active_fraction"])
    assert tuple(fig.layout.yaxis.range) == (0, 1.05) and fig.layout.yaxis.tickformat == ".0%"
    assert len(_valid(fig_active({"deterministic": {k: [] for k in KEYS}, "stochastic": {}})).data) == 0


# --- one sample, trials, confusion ----------------------------------------------------------------------------
def _activity(layers: int, classes: int = 4, steps: int = 25, label: int = 2, prediction: int = 1) -> dict:
    rng = np.random.default_rng(layers)
    return {"input": (rng.random((12, steps)) < 0.2).astype(np.uint8),
            "hidden": [(rng.random((9, steps)) < 0.3).astype(np.uint8) for _ in range(layers)],
            "readout": rng.normal(size=(classes, steps)), "label": label, "prediction": prediction}


@pytest.mark.parametrize("layers", [1, 3])
def test_sample_stacks_readout_hidden_rasters_and_input_on_one_time_axis(layers):
    act = _activity(layers)
    fig = _valid(fig_sample(act, classes=["a", "b", "c", "d"]))
    lines = [t for t in fig.data if t.type == "scatter"]
    maps = [t for t in fig.data if t.type == "heatmap"]
    assert len(lines) == 4 and len(maps) == layers + 1
    true = [t for t in lines if t.name == "class c (true)"]
    assert len(true) == 1 and true[0].line.color == COLORS["det"]
    assert all(t.line.width < true[0].line.width and t.line.color != COLORS["det"] for t in lines if t is not true[0])
    np.testing.assert_allclose(true[0].y, act["readout"][2])
    assert [t.name for t in maps] == [f"layer {i + 1}" for i in range(layers)] + ["input"]
    np.testing.assert_array_equal(maps[-1].z, act["input"])
    for i in range(layers):
        np.testing.assert_array_equal(maps[i].z, act["hidden"][i])
    assert maps[-1].colorscale[-1][1] == COLORS["affine"]  # red-ish input
    # the input at the bottom, the readout on top, all x axes tied to the input's
    bottom = fig.layout[maps[-1].yaxis.replace("y", "yaxis")].domain
    top = fig.layout[lines[0].yaxis.replace("y", "yaxis")].domain
    assert bottom[0] == pytest.approx(0) and top[1] == pytest.approx(1)
    assert maps[-1].xaxis == "x"
    for t in (*lines, *maps[:-1]):
        assert fig.layout[t.xaxis.replace("x", "xaxis")].matches == "x"
    assert "true class c" in fig.layout.title.text and "predicted b" in fig.layout.title.text
    (note,) = fig.layout.annotations  # the highlighted line is named on the readout panel
    assert "true class c" in note.text and note.font.color == COLORS["det"]


def test_sample_without_class_names_and_correct_prediction():
    fig = _valid(fig_sample(_activity(2, label=1, prediction=1)))
    assert "true class 1" in fig.layout.title.text and "predicted 1" in fig.layout.title.text
    assert "wrong" not in fig.layout.title.text


def test_trial_units_draws_one_panel_per_unit_titled_with_its_index():
    rng = np.random.default_rng(0)
    raster = (rng.random((3, 7, 20)) < 0.3).astype(np.uint8)
    fig = _valid(fig_trial_units(raster, [4, 0, 11], layer=2))
    assert [t.name for t in fig.data] == ["unit 4", "unit 0", "unit 11"]
    for i in range(3):
        np.testing.assert_array_equal(fig.data[i].z, raster[i])
    texts = [a.text for a in fig.layout.annotations]
    assert all(any(f"unit {u}" in t for t in texts) for u in (4, 0, 11))
    assert "layer 2" in fig.layout.title.text and "7 trials" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "trial"
    empty = _valid(fig_trial_units(None, [1, 2], layer=1))
    assert len(empty.data) == 0 and len(empty.layout.annotations) == 2
    with pytest.raises(ValueError, match="len\\(units\\)"):
        fig_trial_units(raster, [1, 2], layer=1)


def test_confusion_rows_are_fractions_that_sum_to_one_with_counts_in_the_hover():
    counts = np.array([[8, 2, 0], [1, 5, 4], [0, 0, 0]], dtype=np.int64)
    fig = _valid(fig_confusion(counts, title="validation"))
    (heat,) = fig.data
    z = np.asarray(heat.z, dtype=float)
    np.testing.assert_allclose(z[:2].sum(axis=1), 1.0)
    np.testing.assert_allclose(z[2], 0.0)  # a class without samples is an empty row, not NaN
    np.testing.assert_allclose(z[0], [0.8, 0.2, 0.0])
    np.testing.assert_array_equal(heat.customdata, counts)
    assert "customdata" in heat.hovertemplate
    assert heat.colorscale[0][1] == "#ffffff" and heat.colorscale[-1][1] == COLORS["det"]
    assert fig.layout.xaxis.title.text == "predicted class" and fig.layout.yaxis.title.text == "true class"
    assert fig.layout.title.text.startswith("validation") and "65.0%" in fig.layout.title.text  # 13 / 20
    full = np.diag([3, 4])
    np.testing.assert_allclose(np.asarray(_valid(fig_confusion(full)).data[0].z), np.eye(2))
    assert "100.0%" in fig_confusion(full).layout.title.text
    empty = _valid(fig_confusion(np.zeros((0, 0), dtype=np.int64), title="test"))
    assert len(empty.data) == 0 and "no samples" in empty.layout.title.text
    assert len(_valid(fig_confusion(None)).data) == 0
    with pytest.raises(ValueError, match="square"):
        fig_confusion(np.zeros((2, 3)))


# --- gradients (Fig. S1B/C) -----------------------------------------------------------------------------------
def test_gradients_before_and_after_cosines_and_principal_components():
    before, after = _grad(12, 0), _grad(15, 1)
    fig = _valid(fig_gradients(before, after))
    boxes = [t for t in fig.data if t.type == "box"]
    assert [b.name for b in boxes] == ["before training", "after training"]
    np.testing.assert_allclose(boxes[0].y, before.cos_trials)
    np.testing.assert_allclose(boxes[1].y, after.cos_trials)
    det = _traces(fig, "deterministic gradient")
    det_cos = [t for t in det if t.xaxis in (None, "x")]
    assert [t.y[0] for t in det_cos] == [before.cos_deterministic, after.cos_deterministic]
    assert all(t.marker.color == COLORS["right"] for t in det)
    (pc_before,) = _traces(fig, "trial gradients (before training)")
    (pc_after,) = _traces(fig, "trial gradients (after training)")
    assert pc_before.xaxis != pc_after.xaxis  # different principal axes: separate panels
    np.testing.assert_allclose(np.column_stack([pc_after.x, pc_after.y]), after.pcs)
    np.testing.assert_allclose(np.column_stack([pc_before.x, pc_before.y]), before.pcs)
    means = _traces(fig, "mean trial gradient")
    assert len(means) == 2 and sum(bool(t.showlegend is not False) for t in means) == 1
    after_mean = next(t for t in means if t.xaxis == pc_after.xaxis)
    assert (after_mean.x[0], after_mean.y[0]) == tuple(after.pc_mean)
    after_det = next(t for t in det if t.xaxis == pc_after.xaxis)
    assert (after_det.x[0], after_det.y[0]) == tuple(after.pc_deterministic)
    assert "40%" in fig.layout[pc_after.xaxis.replace("x", "xaxis")].title.text


def test_gradients_handle_a_missing_group_or_both():
    fig = _valid(fig_gradients(None, _grad(5, 2)))
    assert [t.name for t in fig.data if t.type == "box"] == ["after training"]
    assert not _traces(fig, "trial gradients (before training)")
    fig = _valid(fig_gradients(_grad(5, 3), None))
    assert [t.name for t in fig.data if t.type == "box"] == ["before training"]
    empty = _valid(fig_gradients(None, None))
    assert len(empty.data) == 0 and empty.layout.yaxis.title.text == "cosine similarity"


# --- a real classifier ----------------------------------------------------------------------------------------
def test_figures_of_a_trained_classifier():
    trainer = pytest.importorskip("sgcore.classify.trainer")  # the trainer lands beside these figures
    config = pytest.importorskip("sgcore.classify.config")
    from sgcore.classify.data import randman

    data = randman(config.DataConfig(classes=3, units=10, steps=20, samples_per_class=20).randman())
    clfs = {net: trainer.Classifier(config.ClassifyConfig(network=net, n_hidden=16, batch=8, n_layers=2), data)
            for net in ("deterministic", "stochastic")}
    before = clfs["stochastic"].gradient_trials(5)
    for clf in clfs.values():
        clf.step(2)
    hist = {net: clf.history.as_dict() for net, clf in clfs.items()}
    stoch = clfs["stochastic"]

    acc = _valid(fig_accuracy(hist, chance=1 / 3))
    (val,) = [t for t in _traces(acc, "Stochastic, validation") if t.yaxis in (None, "y")]
    np.testing.assert_allclose(val.y, 100 * np.asarray(hist["stochastic"]["val_accuracy"]))
    assert len(acc.data) == 8
    fano = _valid(fig_fano_layers(hist["stochastic"]))
    assert [t.name for t in fano.data] == ["hidden layer 1", "hidden layer 2"]
    assert len(_valid(fig_fano_layers(hist["deterministic"])).data) == 0
    assert len(_valid(fig_active(hist)).data) == 2

    act = stoch.activity("val", 0)
    sample = _valid(fig_sample(act, classes=["A", "B", "C"]))
    assert sum(t.type == "heatmap" for t in sample.data) == 3 and sum(t.type == "scatter" for t in sample.data) == 3
    units = (0, 5, 15)
    raster = stoch.trial_raster("val", 0, layer=2, units=units, trials=6)
    trials = _valid(fig_trial_units(raster, units, layer=2))
    assert [t.name for t in trials.data] == ["unit 0", "unit 5", "unit 15"]

    conf = stoch.evaluate("val")["confusion"]
    heat = _valid(fig_confusion(conf, title="validation")).data[0]
    np.testing.assert_allclose(np.asarray(heat.z, dtype=float).sum(axis=1), 1.0)
    np.testing.assert_array_equal(heat.customdata, conf)

    grads = _valid(fig_gradients(before, stoch.gradient_trials(5)))
    assert sum(t.type == "box" for t in grads.data) == 2
