"""Shared plotly styling and the unvalidated figure wrapper.

Figures are written as plain plotly specs and wrapped without plotly's per-property
validation (which costs ~100 ms per page); the test suite validates every figure with
plotly's validating constructor instead. NumPy arrays are kept as arrays, so plotly
serialises them as compact typed arrays. Colours follow Gygax & Zenke Fig. 1:
deterministic / true in blue, stochastic / surrogate in amber.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

#: The figures' colours by role: ``det`` / ``stoch`` the deterministic and stochastic networks, ``sd`` the
#: surrogate derivative, ``right`` / ``left`` / ``affine`` stochAD's derivatives, ``hist`` histograms.
COLORS = {
    "det": "#1f5fa8",
    "stoch": "#e0a100",
    "sd": "#1f5fa8",
    "grey": "#7a7a7a",
    "right": "#0f8b8d",
    "left": "#7fb8e6",
    "affine": "#c0392b",
    "hist": "rgba(224,161,0,0.45)",
}

AXIS = dict(gridcolor="#e5e9f0", zerolinecolor="#c9d1dc", linecolor="#c9d1dc", ticks="", automargin=True,
             title=dict(standoff=8))


def base_layout(title: str = "", xlab: str = "", ylab: str = "", **extra: Any) -> dict:
    layout = dict(
        font=dict(size=15, color="#1f2d3d", family="Source Sans Pro, Arial, sans-serif"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=60, r=15, t=45, b=55),
        height=380,
        hovermode="x unified",
        legend=dict(yanchor="top", y=0.99, xanchor="left", x=0.01, bgcolor="rgba(255,255,255,0.8)",
                    font=dict(size=13)),
        title=dict(text=title, x=0.01, y=0.97, yanchor="top", font=dict(size=17)),
        xaxis=dict(AXIS, title=dict(AXIS["title"], text=xlab)),
        yaxis=dict(AXIS, title=dict(AXIS["title"], text=ylab)),
    )
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def figure(data: list[dict], layout: dict) -> go.Figure:
    """Wrap a plotly spec without per-property validation (tests validate instead)."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def line_trace(x, y, name: str, color: str, width: float = 3, **kw: Any) -> dict:
    return dict(type="scatter", mode="lines", x=x, y=y, name=name, line=dict(color=color, width=width, **kw))


def log_axis(*arrays: np.ndarray) -> dict:
    """A log axis with readable ticks: 1, 10, 100 ... over two or more decades, else 1-2-5 steps, as plain numbers."""
    vals = np.concatenate([np.ravel(a) for a in arrays])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if not vals.size:
        return dict(type="log")
    lo, hi = float(vals.min()), float(vals.max())
    decades = math.log10(hi / lo)
    steps = (1.0,) if decades >= 2 else (1.0, 2.0, 5.0)
    every = max(1, math.ceil(decades / 6))  # at most about six labelled decades
    d_lo, d_hi = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    ticks = [m * 10.0**d for d in range(d_lo, d_hi + 1) if (d - d_hi) % every == 0 for m in steps]
    ticks = [t for t in ticks if lo / 1.05 <= t <= hi * 1.05]
    if len(ticks) < 2:  # a narrow range: plotly's own ticks
        return dict(type="log", tickformat=".2g")
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], exponentformat="power")
