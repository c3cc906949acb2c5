"""Figures of the classification page (Gygax & Zenke 2024, Fig. 7 and S1).

Every function takes plain arrays, per-epoch histories (mappings of lists, as
:meth:`~sgcore.classify.trainer.Classifier.history` ``.as_dict()`` gives) or objects with the fields of
:class:`~sgcore.classify.trainer.GradientTrials`, so the same figures serve a notebook, the CLI's output or the
page's training state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ._style import AXIS, COLORS, base_layout, figure, line_trace
from .training import _BELOW, _NETS, _epochs, _raster_trace, _series, fig_activity, fig_rasters

__all__ = ["fig_accuracy", "fig_active", "fig_confusion", "fig_fano_layers", "fig_gradients", "fig_sample",
           "fig_trial_units"]

_LAYER_STYLE = ((COLORS["stoch"], "solid"), (COLORS["affine"], "dash"), (COLORS["right"], "dot"))
_INPUT = COLORS["affine"]  # the input raster, red-ish as in the paper
_HIDDEN = "#1f2d3d"  # hidden spikes dark, as in the paper
_SILVER = "#a8a8a8"
_WHEN = (("before", "before training", _SILVER), ("after", "after training", COLORS["stoch"]))


def _filled(hist: Mapping[str, Sequence] | None) -> bool:
    """A history with at least one record."""
    return bool(hist) and any(len(v) for v in hist.values())


def _panel_title(text: str, x: float, y: float = 1.0) -> dict:
    return dict(text=text, x=x, y=y, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                showarrow=False, font=dict(size=15))


def fig_accuracy(histories: Mapping[str, Mapping[str, Sequence]], chance: float | None = None) -> go.Figure:
    """Fig. 7B: training (dashed) and validation (solid) accuracy in % over epochs (left) and the cross-entropy
    losses (right) for the ``"deterministic"`` and ``"stochastic"`` networks; ``chance`` (a fraction, e.g.
    1 / classes) draws the chance level on the accuracy panel."""
    data = []
    for key, label, color in _NETS:
        hist = histories.get(key)
        if not _filled(hist):
            continue
        x = _epochs(hist)
        for split, name, dash in (("train", "training", "dash"), ("val", "validation", "solid")):
            acc = 100.0 * _series(hist, f"{split}_accuracy")
            data.append(line_trace(x, acc, f"{label}, {name}", color, width=2.5, dash=dash) | dict(legendgroup=key))
            data.append(line_trace(x, _series(hist, f"{split}_loss"), f"{label}, {name}", color, width=2.5,
                                   dash=dash) | dict(legendgroup=key, showlegend=False, xaxis="x2", yaxis="y2"))
    shapes, notes = [], [_panel_title("accuracy", 0.22), _panel_title("cross-entropy loss", 0.78)]
    if chance is not None:
        level = 100.0 * float(chance)
        shapes.append(dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=level, y1=level,
                           line=dict(color=COLORS["grey"], dash="dot", width=1.5)))
        notes.append(dict(text="chance", xref="x domain", yref="y", x=1, y=level, xanchor="right", yanchor="bottom",
                          showarrow=False, font=dict(size=13, color=COLORS["grey"])))
    if not any(t.get("xaxis") == "x2" for t in data):  # an empty trace keeps the loss axes drawn before training
        data.append(dict(type="scatter", mode="lines", x=[], y=[], xaxis="x2", yaxis="y2", showlegend=False,
                         hoverinfo="skip"))
    gap = 0.1
    layout = base_layout("", "epoch", "accuracy (%)", hovermode="x unified", legend=_BELOW, height=380,
                         margin=dict(t=40, b=110),
                         xaxis=dict(domain=[0, 0.5 - gap / 2], rangemode="tozero"),
                         yaxis=dict(range=[0, 101], ticksuffix=" %"),
                         xaxis2=dict(AXIS, domain=[0.5 + gap / 2, 1], anchor="y2", rangemode="tozero",
                                     title=dict(text="epoch", standoff=8)),
                         yaxis2=dict(AXIS, anchor="x2", rangemode="tozero",
                                     title=dict(text="cross-entropy", standoff=8)),
                         shapes=shapes, annotations=notes)
    return figure(data, layout)


def fig_fano_layers(history: Mapping[str, Sequence] | None, window: int = 10) -> go.Figure:
    """Fig. 7C: the stochastic network's Fano factor of each hidden layer (``fano_1`` .. ``fano_3``; layers that
    are all NaN, i.e. absent, are skipped) over epochs, measured after a ``window``-step moving average."""
    data = []
    if _filled(history):
        x = _epochs(history)
        for i, (color, dash) in enumerate(_LAYER_STYLE, start=1):
            y = _series(history, f"fano_{i}")
            if y.size and not np.all(np.isnan(y)):
                data.append(line_trace(x, y, f"hidden layer {i}", color, width=2.5, dash=dash))
    layout = base_layout(f"Fano factor, stochastic network ({window}-step average)",
                         "epoch", "Fano factor", legend=_BELOW, height=340, margin=dict(b=90),
                         yaxis=dict(rangemode="tozero"))
    return figure(data, layout)


def fig_sample(activity: Mapping[str, Any], classes: Sequence[str] | None = None,
               color: str = COLORS["det"]) -> go.Figure:
    """Fig. 7A / S1A: one sample through the network, panels sharing the time axis: the readout membrane
    potentials on top (the true class thick in ``color``, the others grey), each hidden layer's raster, the input
    raster at the bottom. ``activity`` is :meth:`~sgcore.classify.trainer.Classifier.activity`'s mapping."""
    hidden = list(activity.get("hidden", []))
    readout = np.asarray(activity["readout"], dtype=float)
    label, pred = int(activity["label"]), int(activity["prediction"])

    def name(c: int) -> str:
        return str(classes[c]) if classes is not None and 0 <= c < len(classes) else str(c)

    # panels top to bottom: (axis suffix, y title, relative height); the input (bottom) owns the shown x axis
    n = len(hidden) + 2
    suffix = ["" if k == n - 1 else str(n - k) for k in range(n)]
    titles = ["readout U", *(f"layer {i + 1}" for i in range(len(hidden))), "input"]
    weights = np.array([1.4, *([1.0] * len(hidden)), 1.0])
    gap = 0.035
    heights = weights / weights.sum() * (1 - gap * (n - 1))
    tops = 1 - np.concatenate([[0.0], np.cumsum(heights[:-1] + gap)])

    data = []
    steps = np.arange(readout.shape[1]) if readout.ndim == 2 else np.arange(0)
    order = [c for c in range(readout.shape[0]) if c != label] + ([label] if 0 <= label < readout.shape[0] else [])
    for c in order:
        true = c == label
        data.append(line_trace(steps, readout[c], f"class {name(c)}" + (" (true)" if true else ""),
                               color if true else "#b5b5b5", width=3.5 if true else 1.3)
                    | dict(xaxis=f"x{suffix[0]}", yaxis=f"y{suffix[0]}",
                           hovertemplate=f"class {name(c)}<br>step %{{x}}<br>U %{{y:.3g}}<extra></extra>"))
    for i, z in enumerate(hidden):
        data.append(_raster_trace(z, _HIDDEN, suffix[i + 1], f"layer {i + 1}"))
    data.append(_raster_trace(activity["input"], _INPUT, suffix[-1], "input"))

    axes: dict[str, Any] = {}
    for k in range(n):
        s = suffix[k]
        raster = k > 0
        axes[f"xaxis{s}"] = dict(AXIS, anchor=f"y{s}", showgrid=not raster, zeroline=False, showticklabels=k == n - 1,
                                 title=dict(text="time step" if k == n - 1 else "", standoff=4),
                                 **({"matches": "x"} if s else {}))
        axes[f"yaxis{s}"] = dict(AXIS, anchor=f"x{s}", domain=[max(tops[k] - heights[k], 0.0), tops[k]],
                                 showgrid=not raster, zeroline=False, title=dict(text=titles[k], standoff=4),
                                 **({"autorange": "reversed"} if raster else {}))
    verdict = "correct" if pred == label else "wrong"
    title = f"true class {name(label)}, predicted {name(pred)} ({verdict})"
    note = dict(text=f"<b>true class {name(label)}</b>", xref=f"x{suffix[0]} domain", yref=f"y{suffix[0]} domain",
                x=0.01, y=0.98, xanchor="left", yanchor="top", showarrow=False, font=dict(size=14, color=color),
                bgcolor="rgba(255,255,255,0.8)")
    layout = base_layout(title, height=180 + 110 * n, hovermode="closest", showlegend=False,
                         margin=dict(t=50, b=55), annotations=[note], **axes)
    return figure(data, layout)


def fig_trial_units(raster: np.ndarray | None, units: Sequence[int], layer: int) -> go.Figure:
    """Fig. 7E: side-by-side rasters of each unit's spikes (rows: trials, columns: time steps) over repeated
    stochastic trials of one sample; ``raster`` is (len(units), trials, steps) as
    :meth:`~sgcore.classify.trainer.Classifier.trial_raster` returns (None: empty panels)."""
    units = [int(u) for u in units]
    if raster is not None:
        raster = np.asarray(raster, dtype=np.uint8)
        if raster.ndim != 3 or raster.shape[0] != len(units):
            raise ValueError(f"raster must be (len(units), trials, steps) = ({len(units)}, ., .); got {raster.shape}")
    panels = [(f"unit {u}", None if raster is None else raster[i], COLORS["stoch"]) for i, u in enumerate(units)]
    trials = "" if raster is None else f" over {raster.shape[1]} trials"
    fig = fig_rasters(panels, title=f"Hidden layer {layer}: the same sample{trials}", height=300)
    fig.update_layout(yaxis_title_text="trial")
    fig.update_traces(hovertemplate="step %{x}<br>trial %{y}<br>spike %{z}<extra></extra>")
    return fig


def fig_confusion(confusion: np.ndarray | None, title: str = "", classes: Sequence[str] | None = None) -> go.Figure:
    """Confusion matrix (rows: true class, columns: predicted) as row fractions (each true class sums to 1), the
    counts in the hover; the title adds the overall accuracy (the diagonal's share of all samples)."""
    counts = np.zeros((0, 0), dtype=np.int64) if confusion is None else np.asarray(confusion, dtype=np.int64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"confusion must be a square (classes, classes) matrix; got shape {counts.shape}")
    k = counts.shape[0]
    rows = counts.sum(axis=1, keepdims=True)
    frac = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)
    total = int(counts.sum())
    labels = [str(classes[c]) if classes is not None and c < len(classes) else str(c) for c in range(k)]
    data = []
    if k:
        data.append(dict(type="heatmap", z=frac, x=labels, y=labels, customdata=counts, zmin=0, zmax=1,
                         colorscale=[[0, "#ffffff"], [1, COLORS["det"]]], xgap=1, ygap=1,
                         colorbar=dict(title=dict(text="share of row"), tickformat=".0%", thickness=14),
                         hovertemplate="true %{y}<br>predicted %{x}<br>%{z:.1%} of the true class "
                                       "(%{customdata} samples)<extra></extra>",
                         **({"texttemplate": "%{z:.0%}", "textfont": dict(size=12)} if k <= 12 else {})))
    acc = f"accuracy {np.trace(counts) / total:.1%} ({np.trace(counts)} / {total})" if total else "no samples"
    full = f"{title}: {acc}" if title else acc.capitalize()
    layout = base_layout(full, "predicted class", "true class", height=420, hovermode="closest",
                         margin=dict(t=50, b=60),
                         xaxis=dict(type="category", showgrid=False, zeroline=False, side="bottom"),
                         yaxis=dict(type="category", autorange="reversed", showgrid=False, zeroline=False))
    return figure(data, layout)


def fig_gradients(before: Any | None, after: Any | None) -> go.Figure:
    """Fig. S1B/C from :class:`~sgcore.classify.trainer.GradientTrials` before and after training (either may be
    None). Left: the cosine similarity of each single-trial gradient with the trials' mean (points and box per
    group) and the deterministic gradient's cosine (teal diamond). Right, one panel per given group: the trial
    gradients on their first two principal axes, their mean (silver) and the deterministic gradient (teal)."""
    groups = [(key, label, color, g) for (key, label, color), g in zip(_WHEN, (before, after), strict=True)
              if g is not None]
    n_pc = len(groups)
    gap = 0.08
    left = 0.3 if n_pc else 1.0
    pc_width = (1 - left - gap * n_pc) / n_pc if n_pc else 0.0
    data: list[dict] = []
    for key, label, color, g in groups:
        cos = np.asarray(g.cos_trials, dtype=float)
        data.append(dict(type="box", x=[label] * cos.size, y=cos, name=label, legendgroup=key,
                         boxpoints="all", jitter=0.5, pointpos=0, marker=dict(color=color, size=6, opacity=0.7),
                         line=dict(color=color, width=1.5), fillcolor="rgba(0,0,0,0)", showlegend=False,
                         hovertemplate="cosine %{y:.3f}<extra>" + label + " trial</extra>"))
        data.append(dict(type="scatter", mode="markers", x=[label], y=[float(g.cos_deterministic)],
                         name="deterministic gradient", legendgroup="deterministic", showlegend=False,
                         marker=dict(symbol="diamond", size=15, color=COLORS["right"],
                                     line=dict(color="white", width=1.5)),
                         hovertemplate="deterministic: cosine %{y:.3f}<extra>" + label + "</extra>"))
    axes: dict[str, Any] = {}
    notes = [_panel_title("cosine with the mean trial gradient", left / 2)]
    for i, (key, label, color, g) in enumerate(groups):
        s = str(i + 2)
        lo = left + gap + i * (pc_width + gap)
        pcs = np.asarray(g.pcs, dtype=float).reshape(-1, 2)
        mean, det = np.asarray(g.pc_mean, dtype=float), np.asarray(g.pc_deterministic, dtype=float)
        first = i == len(groups) - 1  # the legend entries come from one panel
        data.append(dict(type="scatter", mode="markers", x=pcs[:, 0], y=pcs[:, 1], name=f"trial gradients ({label})",
                         legendgroup=key, xaxis=f"x{s}", yaxis=f"y{s}",
                         marker=dict(color=color, size=7, opacity=0.75, line=dict(color="white", width=0.5)),
                         hovertemplate="PC1 %{x:.3g}<br>PC2 %{y:.3g}<extra>trial</extra>"))
        data.append(dict(type="scatter", mode="markers", x=[mean[0]], y=[mean[1]], name="mean trial gradient",
                         legendgroup="mean", showlegend=first, xaxis=f"x{s}", yaxis=f"y{s}",
                         marker=dict(symbol="circle", size=16, color=_SILVER, line=dict(color="#1f2d3d", width=1.5)),
                         hovertemplate="PC1 %{x:.3g}<br>PC2 %{y:.3g}<extra>mean</extra>"))
        data.append(dict(type="scatter", mode="markers", x=[det[0]], y=[det[1]], name="deterministic gradient",
                         legendgroup="deterministic", showlegend=first, xaxis=f"x{s}", yaxis=f"y{s}",
                         marker=dict(symbol="diamond", size=16, color=COLORS["right"],
                                     line=dict(color="white", width=1.5)),
                         hovertemplate="PC1 %{x:.3g}<br>PC2 %{y:.3g}<extra>deterministic</extra>"))
        ex = np.asarray(g.explained, dtype=float)
        axes[f"xaxis{s}"] = dict(AXIS, domain=[lo, lo + pc_width], anchor=f"y{s}", zeroline=False,
                                 title=dict(text=f"PC 1 ({ex[0]:.0%} of variance)", standoff=8))
        axes[f"yaxis{s}"] = dict(AXIS, anchor=f"x{s}", zeroline=False,
                                 title=dict(text=f"PC 2 ({ex[1]:.0%})", standoff=8))
        notes.append(_panel_title(f"principal components, {label}", lo + pc_width / 2))
    layout = base_layout("Single-trial gradients of the stochastic network", "", "cosine similarity",
                         height=400, hovermode="closest", legend=_BELOW, margin=dict(t=80, b=110),
                         xaxis=dict(domain=[0, left], type="category", showgrid=False,
                                    categoryorder="array", categoryarray=[g[1] for g in groups]),
                         yaxis={} if groups else dict(range=[-1.05, 1.05]), annotations=notes, **axes)
    return figure(data, layout)


def fig_active(histories: Mapping[str, Mapping[str, Sequence]]) -> go.Figure:
    """The fraction of neurons x steps active in the backward pass over epochs for both networks (0-100 %)."""
    return fig_activity({k: h for k, h in histories.items() if _filled(h)})
