"""Figures of the Sweeps page (Herranz-Celotti & Rouat Figs. 3-5, and learning curves as in Fig. 2).

Each builder takes what :mod:`sgcore.sweep.analysis` computes (a :class:`~sgcore.sweep.analysis.Sensitivity`,
:class:`~sgcore.sweep.analysis.Ranking` or :class:`~sgcore.sweep.analysis.Ablation`, or per-epoch curves), so the
same figures work in a notebook. When there is nothing to draw, a figure says so in its middle (what is missing and
how to get it) instead of showing empty axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..sweep.analysis import (
    SPREADS,
    Ablation,
    Ranking,
    Sensitivity,
    axis_label,
    error_bars,
    is_fraction,
    metric_label,
    value_label,
)
from ._style import AXIS, COLORS, base_layout, figure, line_trace, log_axis

__all__ = ["PALETTE", "color_of", "fig_ablation", "fig_curves", "fig_empty", "fig_ranking", "fig_sensitivity"]

#: Line and bar colours, the house blue and amber first; a shape keeps its colour in every figure.
PALETTE = ("#1f5fa8", "#e0a100", "#0f8b8d", "#c0392b", "#7b4fa0", "#5b8c2a", "#d35f9b", "#7a7a7a", "#8c5a2b",
           "#2aa9c9")
_LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, bgcolor="rgba(0,0,0,0)", font=dict(size=14))
_VAL, _TEST = COLORS["det"], COLORS["stoch"]  # HC Fig. 5: validation in blue, test in orange


def color_of(axis: str | None, value: Any, values: Sequence[Any] = ()) -> str:
    """The colour of ``value`` of ``axis``: a shape by its place in the shape registry, else by its place in
    ``values``."""
    if axis == "shape":
        from ..shapes import SHAPES

        names = list(SHAPES)
        if value in names:
            return PALETTE[names.index(value) % len(PALETTE)]
    idx = next((i for i, v in enumerate(values) if v == value or str(v) == str(value)), 0)
    return PALETTE[idx % len(PALETTE)]


def fig_empty(message: str, title: str = "", height: int = 380) -> go.Figure:
    """A figure with no axes and ``message`` in its middle (the empty state of every figure here)."""
    note = dict(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, align="center",
                font=dict(size=17, color="#5c6b7a"))
    hidden = dict(visible=False)
    return figure([], base_layout(title, height=height, annotations=[note], xaxis=hidden, yaxis=hidden,
                                  margin=dict(t=50, b=30)))


def _percent(metric: str, task: str | None) -> dict:
    return dict(tickformat=".0%") if is_fraction(metric, task) else {}


def _fmt(value: float, fraction: bool) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.1%}" if fraction else f"{value:.4g}"


def _fmt_short(value: float, fraction: bool) -> str:
    """A narrow heatmap cell's number: whole percent, or 3 significant digits."""
    if not math.isfinite(value):
        return "–"
    return f"{value:.0%}" if fraction else f"{value:.3g}"


def _held(pinned: Mapping[str, Any], task: str | None) -> str:
    if not pinned:
        return ""
    return "held at " + ", ".join(f"{axis_label(a, task)} = {value_label(a, v)}" for a, v in pinned.items())


def _title(main: str, *subs: str) -> str:
    """A title with its notes below it, one line each (a held-at list gets its own line: it can be long)."""
    main = main[:1].upper() + main[1:]
    return "<br>".join([main, *(f"<span style='font-size:15px;color:#5c6b7a'>{s}</span>" for s in subs if s)])


def _wrap(text: str, width: int = 16) -> str:
    """A category label broken into lines of about ``width`` characters (long shape names stay horizontal)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _hover(table, fraction: bool) -> tuple[np.ndarray, str]:
    custom = np.column_stack([table["n"].to_numpy(dtype=float), table["failed"].to_numpy(dtype=float),
                              table["std"].to_numpy(dtype=float), table["min"].to_numpy(dtype=float),
                              table["max"].to_numpy(dtype=float)]) if len(table) else np.zeros((0, 5))
    f = ":.1%" if fraction else ":.4g"
    template = (f"mean %{{y{f}}}<br>std %{{customdata[2]{f}}}, min %{{customdata[3]{f}}}, max %{{customdata[4]{f}}}"
                "<br>%{customdata[0]} seed(s), %{customdata[1]} failed")
    return custom, template


def fig_sensitivity(sens: Sensitivity, spread: str = "std") -> go.Figure:
    """HC Fig. 3: the mean ``metric`` over seeds against the swept axis, one line per shape (or per value of the
    line axis), with error bars of ``spread`` (:data:`~sgcore.sweep.analysis.SPREADS`); a log x axis when the values
    span a decade or more; the best setting starred."""
    xlab = axis_label(sens.x, sens.task)
    ylab = metric_label(sens.metric, sens.task)
    if sens.empty:
        return fig_empty(f"No finished runs in this store vary {xlab}.<br>Sweep it, e.g. "
                         f"<i>--grid {sens.x}=…</i> with <i>python -m sgcore sweep</i>.",
                         title=_title(f"{ylab} against {xlab}"))
    fraction = is_fraction(sens.metric, sens.task)
    table = sens.table[sens.table["n"] > 0]
    lines = list(dict.fromkeys(table[sens.line])) if sens.line else [None]
    data = []
    for value in lines:
        t = table if value is None else table[table[sens.line] == value]
        x = t[sens.x].to_numpy(dtype=float)
        y = t["mean"].to_numpy(dtype=float)
        below, above = error_bars(t, spread)
        name = value_label(sens.line, value) if sens.line else ylab
        color = color_of(sens.line, value, lines) if sens.line else COLORS["det"]
        custom, template = _hover(t, fraction)
        trace = line_trace(x, y, name, color, width=3) | dict(
            mode="lines+markers", marker=dict(size=9, color=color), customdata=custom,
            error_y=dict(type="data", symmetric=False, array=above, arrayminus=below, thickness=1.6, width=5,
                         color=color),
            hovertemplate=f"{name}<br>{xlab} %{{x:g}}<br>{template}<extra></extra>")
        data.append(trace)
    best = table["mean"].idxmax() if sens.higher_is_better else table["mean"].idxmin()
    data.append(dict(type="scatter", mode="markers", x=[float(table[sens.x].loc[best])],
                     y=[float(table["mean"].loc[best])], name="best mean", hoverinfo="skip",
                     marker=dict(symbol="star", size=22, color="rgba(0,0,0,0)", line=dict(color="#1f2d3d", width=2))))
    xs = table[sens.x].to_numpy(dtype=float)
    xaxis = log_axis(xs) if sens.log_x else {}
    swept = sorted(set(xs[np.isfinite(xs)].tolist()))
    if sens.log_x and len(swept) <= 10:  # label every swept value (the ends too), not only 1-2-5 steps
        xaxis = dict(xaxis, tickvals=swept, ticktext=[f"{v:g}" for v in swept])
    held = _held(sens.pinned, sens.task)
    title = _title(f"{ylab} against {xlab}", f"mean over seeds, bars {SPREADS.get(spread, spread)}", held)
    layout = base_layout(title, xlab, ylab, height=490 if held else 470, hovermode="closest",
                         legend=_LEGEND_BELOW, margin=dict(t=95 if held else 75, b=120), xaxis=xaxis,
                         yaxis=_percent(sens.metric, sens.task))
    return figure(data, layout)


def fig_ranking(rank: Ranking, spread: str = "std") -> go.Figure:
    """HC Fig. 4: the mean ``metric`` over seeds of every (row, column) pair — shape x initialisation — as a
    heatmap with mean and spread written in each cell and the best row of each column starred."""
    rlab, clab = axis_label(rank.rows, rank.task), axis_label(rank.cols, rank.task)
    ylab = metric_label(rank.metric, rank.task)
    if rank.empty:
        return fig_empty(f"No finished runs in this store vary both {rlab} and {clab}.<br>Sweep them together, e.g. "
                         f"<i>--grid {rank.rows}=… --grid {rank.cols}=…</i>",
                         title=_title(f"{ylab}: {rlab} × {clab}"))
    fraction = is_fraction(rank.metric, rank.task)
    rows, cols = list(rank.row_values), list(rank.col_values)
    z = np.full((len(rows), len(cols)), np.nan)
    text = [["" for _ in cols] for _ in rows]
    below, above = error_bars(rank.table, spread)
    for k in range(len(rank.table)):
        r, c = rank.table[rank.rows].iat[k], rank.table[rank.cols].iat[k]
        if r not in rows or c not in cols or rank.table["n"].iat[k] == 0:
            continue
        i, j = rows.index(r), cols.index(c)
        mean = float(rank.table["mean"].iat[k])
        z[i, j] = mean
        fmt = _fmt if len(cols) <= 6 else _fmt_short
        star = " ★" if c in rank.best and rank.best[c] == r else ""
        if spread == "range":
            sp = f"{fmt(float(rank.table['min'].iat[k]), fraction)}–{fmt(float(rank.table['max'].iat[k]), fraction)}"
        else:
            sp = "±" + fmt(float(above[k]), fraction)
        text[i][j] = f"<b>{fmt(mean, fraction)}{star}</b><br>{sp}"
    zf = z[np.isfinite(z)]
    data = [dict(type="heatmap", z=z, x=[value_label(rank.cols, c) for c in cols],
                 y=[value_label(rank.rows, r) for r in rows], text=text, texttemplate="%{text}",
                 textfont=dict(size=15 if len(cols) <= 6 else 12), zmin=float(zf.min()), zmax=float(zf.max()),
                 xgap=2, ygap=2,
                 colorscale=[[0, "#f4f7fb"], [1, "#6f9fd8"]],
                 colorbar=dict(title=dict(text=ylab), thickness=14, **({"tickformat": ".0%"} if fraction else {})),
                 hovertemplate=f"{rlab} %{{y}}<br>{clab} %{{x}}<br>mean %{{z{':.1%' if fraction else ':.4g'}}}"
                               "<extra></extra>")]
    best_word = "highest" if rank.higher_is_better else "lowest"
    held = _held(rank.pinned, rank.task)
    title = _title(f"{ylab}: {rlab} × {clab}",
                   f"mean over seeds, {SPREADS.get(spread, spread)}; ★ {best_word} in its column", held)
    layout = base_layout(title, clab, rlab, height=max(400, 210 + 64 * len(rows)),
                         hovermode="closest", margin=dict(t=100 if held else 80, b=60, l=110),
                         xaxis=dict(type="category", showgrid=False, zeroline=False, side="bottom"),
                         yaxis=dict(type="category", autorange="reversed", showgrid=False, zeroline=False))
    return figure(data, layout)


def fig_ablation(abl: Ablation, spread: str = "std") -> go.Figure:
    """HC Fig. 5: one group of bars per value of the compared axis (conditions I-IV), validation (blue) and test
    (orange) side by side with error bars of ``spread``; the naive baseline first, hatched, with a dashed line at
    its mean; the rest best first."""
    blab = axis_label(abl.by, abl.task)
    if abl.empty:
        return fig_empty(f"No finished runs in this store vary {blab}.<br>Sweep it, e.g. <i>--grid {abl.by}=…</i> "
                         "with <i>python -m sgcore sweep</i>.", title=_title(f"by {blab}"))
    first = abl.metrics[0]
    fraction = is_fraction(first, abl.task)
    labels = [_wrap(value_label(abl.by, v)) + ("<br><b>naive</b>" if abl.baseline is not None and v == abl.baseline
                                                else "") for v in abl.order]
    colors = (_VAL, _TEST, *PALETTE[2:])
    data = []
    for k, m in enumerate(abl.metrics):
        t = abl.tables[m]
        below, above = error_bars(t, spread)
        custom, template = _hover(t, is_fraction(m, abl.task))
        pattern = ["/" if abl.baseline is not None and v == abl.baseline else "" for v in t[abl.by]]
        data.append(dict(type="bar", x=labels, y=t["mean"].to_numpy(dtype=float), name=metric_label(m, abl.task),
                         marker=dict(color=colors[k % len(colors)],
                                     pattern=dict(shape=pattern, fgcolor="white", fillmode="overlay", size=10)),
                         error_y=dict(type="data", symmetric=False, array=above, arrayminus=below, thickness=1.6,
                                      width=5, color="#1f2d3d"),
                         customdata=custom, hovertemplate=f"%{{x}}<br>{template}<extra>{metric_label(m, abl.task)}"
                                                          "</extra>"))
    shapes, notes = [], []
    if abl.baseline is not None:
        level = float(abl.tables[first]["mean"].iat[0])
        if math.isfinite(level):
            shapes.append(dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=level, y1=level,
                               line=dict(color=COLORS["grey"], dash="dash", width=1.5)))
            notes.append(dict(text=f"naive<br>{_fmt(level, fraction)}", xref="x domain", yref="y", x=1.005, y=level,
                              xanchor="left", yanchor="middle", align="left", showarrow=False,
                              font=dict(size=14, color=COLORS["grey"])))
    t0 = abl.tables[first]
    for label, n, failed in zip(labels, t0["n"], t0["failed"], strict=True):
        if n == 0 and failed > 0:  # no bar: say why instead of leaving a silent gap
            notes.append(dict(text=f"all {int(failed)}<br>runs failed", x=label, y=0, xref="x", yref="y",
                              yanchor="bottom", showarrow=False, font=dict(size=13, color=COLORS["grey"])))
    order = ("naive first, then best first" if abl.baseline is not None else "best first") \
        if len(abl.order) > 1 else ""
    held = _held(abl.pinned, abl.task)
    title = _title(f"by {blab}", f"mean over seeds, bars {SPREADS.get(spread, spread)}"
                   + (f"; {order} by {metric_label(first, abl.task)}" if order else ""), held)
    layout = base_layout(title, "", "accuracy" if fraction else metric_label(first, abl.task),
                         height=500 if held else 480, hovermode="closest", barmode="group", bargap=0.25,
                         legend=dict(orientation="h", x=1, xanchor="right", y=1.01, yanchor="bottom",
                                     bgcolor="rgba(0,0,0,0)", font=dict(size=14)),
                         margin=dict(t=135 if held else 115, b=60, r=80), shapes=shapes, annotations=notes,
                         xaxis=dict(type="category", showgrid=False),
                         yaxis=dict(rangemode="tozero", **_percent(first, abl.task)))
    return figure(data, layout)


def fig_curves(runs: Sequence[tuple[str, Mapping[str, Sequence[float]]]], left: str = "val_accuracy",
               right: str = "val_loss", task: str | None = None) -> go.Figure:
    """Learning curves of chosen runs, as in HC Fig. 2: ``left`` (e.g. validation accuracy) and ``right`` (e.g.
    validation loss) per epoch, one colour per run; ``runs`` holds (label, metric -> values per epoch)."""
    runs = [(label, c) for label, c in runs if c]
    if not runs:
        return fig_empty("Pick runs in the table above (or in the list) to see their learning curves.",
                         title="Learning curves", height=360)
    data = []
    labels = [label for label, _ in runs]
    for k, (label, c) in enumerate(runs):
        color = PALETTE[k % len(PALETTE)]
        for metric, axis in ((left, ""), (right, "2")):
            y = np.asarray(c.get(metric, ()), dtype=float)
            if not y.size:
                continue
            data.append(line_trace(np.arange(1, y.size + 1), y, label, color, width=2.5)
                        | dict(mode="lines+markers", marker=dict(size=6), legendgroup=label,
                               showlegend=axis == "", xaxis=f"x{axis}", yaxis=f"y{axis}",
                               hovertemplate=f"{label}<br>epoch %{{x}}<br>{metric_label(metric, task)} "
                                             f"%{{y{':.1%' if is_fraction(metric, task) else ':.4g'}}}<extra></extra>"))
    if not any(t.get("xaxis") == "x2" for t in data):
        data.append(dict(type="scatter", mode="lines", x=[], y=[], xaxis="x2", yaxis="y2", showlegend=False,
                         hoverinfo="skip"))
    gap = 0.1
    notes = [dict(text=metric_label(m, task), x=x, y=1.0, xref="paper", yref="paper", xanchor="center",
                  yanchor="bottom", showarrow=False, font=dict(size=15)) for m, x in ((left, 0.22), (right, 0.78))]
    layout = base_layout("", "epoch", metric_label(left, task), height=420 + 24 * ((len(labels) + 1) // 2),
                         hovermode="closest", legend=_LEGEND_BELOW, margin=dict(t=40, b=120), annotations=notes,
                         xaxis=dict(domain=[0, 0.5 - gap / 2], rangemode="tozero"),
                         yaxis=_percent(left, task),
                         xaxis2=dict(AXIS, domain=[0.5 + gap / 2, 1], anchor="y2", rangemode="tozero",
                                     title=dict(text="epoch", standoff=8)),
                         yaxis2=dict(AXIS, anchor="x2", title=dict(text=metric_label(right, task), standoff=8),
                                     **_percent(right, task)))
    return figure(data, layout)
