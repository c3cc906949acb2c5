"""Figures of the live-training page (Gygax & Zenke 2024, Fig. 6) and the single LIF neuron.

Every function takes plain arrays and per-epoch histories (mappings of lists), so the same figures
serve a notebook, the CLI's output or the page's training state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ._style import AXIS, COLORS, base_layout, figure, line_trace

__all__ = ["fig_activity", "fig_fano", "fig_lif", "fig_losses", "fig_rasters", "fig_trials"]

_NETS = (("deterministic", "Deterministic", COLORS["det"]), ("stochastic", "Stochastic", COLORS["stoch"]))
_BELOW = dict(orientation="h", yanchor="top", y=-0.22, x=0, bgcolor="rgba(0,0,0,0)")


def _raster_trace(z: np.ndarray, color: str, axis: str, name: str) -> dict:
    z = np.asarray(z, dtype=np.uint8)
    return dict(type="heatmap", z=z, zmin=0, zmax=1, showscale=False, name=name,
                colorscale=[[0, "#ffffff"], [1, color]], xaxis=f"x{axis}", yaxis=f"y{axis}",
                hovertemplate="step %{x}<br>neuron %{y}<br>spike %{z}<extra>" + name + "</extra>")


def fig_rasters(panels: Sequence[tuple[str, np.ndarray | None, str]], title: str = "", height: int = 330) -> go.Figure:
    """Side-by-side spike rasters (neurons x time steps), e.g. target | deterministic | stochastic.

    ``panels`` holds (title, raster or None, colour); a None raster leaves an empty panel with its title.
    """
    n = len(panels)
    gap = 0.03
    width = (1 - gap * (n - 1)) / n
    data: list[dict] = []
    layout_axes: dict[str, Any] = {}
    annotations = []
    for i, (name, z, color) in enumerate(panels):
        axis = "" if i == 0 else str(i + 1)
        lo = i * (width + gap)
        if z is not None:
            data.append(_raster_trace(z, color, axis, name))
        layout_axes[f"xaxis{axis}"] = dict(AXIS, domain=[lo, lo + width], anchor=f"y{axis}", showgrid=False,
                                           title=dict(text="time step", standoff=4), zeroline=False)
        layout_axes[f"yaxis{axis}"] = dict(AXIS, anchor=f"x{axis}", autorange="reversed", showgrid=False,
                                           zeroline=False, showticklabels=i == 0,
                                           title=dict(text="neuron" if i == 0 else "", standoff=4),
                                           **({"matches": "y"} if i else {}))
        density = f"<br>{float(np.mean(z)):.0%} spikes" if z is not None and np.size(z) else "<br> "
        annotations.append(dict(text=f"<b>{name}</b>{density}", x=lo + width / 2, y=1.0, xref="paper", yref="paper",
                                xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=15)))
    layout = base_layout(title, height=height, hovermode="closest", margin=dict(t=60 if not title else 90, b=50),
                         annotations=annotations, **layout_axes)
    return figure(data, layout)


def _epochs(hist: Mapping[str, Sequence[float]]) -> np.ndarray:
    if "epoch" in hist:
        return np.asarray(hist["epoch"])
    key = next(iter(hist))
    return np.arange(1, len(hist[key]) + 1)


def _series(hist: Mapping[str, Sequence[float]], key: str) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in hist.get(key, [])], dtype=float)


def fig_losses(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> go.Figure:
    """L2 loss (left) and van Rossum distance (right) over epochs for both networks."""
    data = []
    for key, label, color in _NETS:
        hist = histories.get(key)
        if not hist:
            continue
        x = _epochs(hist)
        data.append(line_trace(x, _series(hist, "l2"), f"{label}", color, width=2.5) | dict(legendgroup=key))
        data.append(line_trace(x, _series(hist, "van_rossum"), f"{label}", color, width=2.5)
                    | dict(legendgroup=key, showlegend=False, xaxis="x2", yaxis="y2"))
    gap = 0.1
    layout = base_layout("", "epoch", "L2 loss", hovermode="x unified", legend=_BELOW, height=360,
                         margin=dict(t=40, b=90),
                         xaxis=dict(domain=[0, 0.5 - gap / 2], rangemode="tozero"),
                         yaxis=dict(rangemode="tozero"),
                         xaxis2=dict(AXIS, domain=[0.5 + gap / 2, 1], anchor="y2", rangemode="tozero",
                                     title=dict(text="epoch", standoff=8)),
                         yaxis2=dict(AXIS, anchor="x2", rangemode="tozero",
                                     title=dict(text="van Rossum distance", standoff=8)),
                         annotations=[dict(text=t, x=x, y=1.0, xref="paper", yref="paper", xanchor="center",
                                           yanchor="bottom", showarrow=False, font=dict(size=15))
                                      for t, x in (("L2 at 1 ms", 0.22), ("van Rossum (LIF kernel)", 0.78))])
    return figure(data, layout)


def fig_fano(history: Mapping[str, Sequence[float]] | None) -> go.Figure:
    """Fano factor of the stochastic network's hidden and output layers over epochs (Fig. 6D)."""
    data = []
    if history:
        x = _epochs(history)
        data = [line_trace(x, _series(history, "fano_hidden"), "hidden layer", COLORS["stoch"], width=2.5),
                line_trace(x, _series(history, "fano_output"), "output layer", COLORS["affine"], width=2.5,
                           dash="dash")]
    layout = base_layout("Fano factor (stochastic network)", "epoch", "Fano factor", legend=_BELOW, height=340,
                         margin=dict(b=90), yaxis=dict(range=[0, 1.05]))
    return figure(data, layout)


def fig_activity(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> go.Figure:
    """Fraction of neurons x steps active in the backward pass (non-zero SD or estimate) over epochs."""
    data = []
    for key, label, color in _NETS:
        hist = histories.get(key)
        if hist:
            data.append(line_trace(_epochs(hist), _series(hist, "active_fraction"), label, color, width=2.5))
    layout = base_layout("Active in the backward pass", "epoch", "fraction active", legend=_BELOW, height=340,
                         margin=dict(b=90), yaxis=dict(range=[0, 1.05], tickformat=".0%"))
    return figure(data, layout)


def fig_trials(raster: np.ndarray | None, label: str) -> go.Figure:
    """One neuron's spikes over the trials of the stochastic network (trial-to-trial variability)."""
    data = []
    if raster is not None:
        z = np.asarray(raster, dtype=np.uint8)
        data.append(dict(type="heatmap", z=z, zmin=0, zmax=1, showscale=False, y=np.arange(1, z.shape[0] + 1),
                         colorscale=[[0, "#ffffff"], [1, COLORS["stoch"]]], ygap=1,
                         hovertemplate="step %{x}<br>trial %{y}<br>spike %{z}<extra></extra>"))
    layout = base_layout(label, "time step", "trial", height=260, hovermode="closest", margin=dict(t=45, b=50),
                         yaxis=dict(autorange="reversed", showgrid=False), xaxis=dict(showgrid=False))
    return figure(data, layout)


def fig_lif(traces: Mapping[str, Mapping[str, Sequence[float]]], threshold: float = 1.0) -> go.Figure:
    """One LIF neuron: synaptic current, membrane potential and spikes, for each reset variant."""
    colors = {"same": COLORS["det"], "next": COLORS["stoch"]}
    names = {"same": "reset at the same step", "next": "reset at the next step (Eq. 21)"}
    data = []
    for key, tr in traces.items():
        steps = np.arange(len(tr["membrane"]))
        color = colors.get(key, COLORS["grey"])
        data.append(line_trace(steps, tr["membrane"], f"U, {names.get(key, key)}", color, width=2.5,
                               shape="hv") | dict(legendgroup=key))
        spikes = np.asarray(tr["spike_steps"], dtype=int)
        data.append(dict(type="scatter", mode="markers", x=spikes, y=np.full(spikes.size, threshold * 1.25),
                         name=f"spikes, {names.get(key, key)}", legendgroup=key, showlegend=False,
                         marker=dict(symbol="line-ns-open", size=18, color=color, line=dict(width=3, color=color))))
        data.append(line_trace(steps, tr["current"], f"I, {names.get(key, key)}", color, width=1.5, dash="dot",
                               shape="hv") | dict(legendgroup=key, xaxis="x", yaxis="y2"))
    layout = base_layout("", "time step n", "membrane potential U[n]", legend=_BELOW, height=440,
                         hovermode="x unified", margin=dict(b=100),
                         shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=threshold, y1=threshold,
                                      line=dict(color=COLORS["grey"], dash="dash"))],
                         xaxis=dict(anchor="y2"),
                         yaxis=dict(domain=[0.36, 1]),
                         yaxis2=dict(AXIS, domain=[0, 0.28], anchor="x", title=dict(text="current I[n]", standoff=8)))
    return figure(data, layout)
