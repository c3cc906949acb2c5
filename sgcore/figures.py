"""Plotly figure builders (no Streamlit): the same figures work in a notebook.

Figures are written as plain plotly specs and wrapped without plotly's per-property
validation (which costs ~100 ms per page); the test suite validates every figure with
plotly's validating constructor instead. NumPy arrays are kept as arrays, so plotly
serialises them as compact typed arrays. Colours follow Gygax & Zenke Fig. 1:
deterministic in blue, stochastic in amber.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from .escape import EscapeView

__all__ = ["COLORS", "escape_figures", "figure"]

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

_AXIS = dict(gridcolor="#e5e9f0", zerolinecolor="#c9d1dc", linecolor="#c9d1dc", ticks="", automargin=True,
             title=dict(standoff=8))


def _layout(title: str = "", xlab: str = "", ylab: str = "", **extra: Any) -> dict:
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
        xaxis=dict(_AXIS, title=dict(_AXIS["title"], text=xlab)),
        yaxis=dict(_AXIS, title=dict(_AXIS["title"], text=ylab)),
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


def _line(x, y, name: str, color: str, width: float = 3, **kw: Any) -> dict:
    return dict(type="scatter", mode="lines", x=x, y=y, name=name, line=dict(color=color, width=width, **kw))


def fig_expected_output(v: EscapeView) -> go.Figure:
    """Firing probability E[y] of the stochastic Perceptron vs the deterministic step (Fig. 1C, D)."""
    c = v.config
    data = [
        _line(v.u, v.step, "deterministic H(u − θ)", COLORS["det"], shape="hv"),
        _line(v.u, v.firing_probability, f"stochastic p(u) ({c.escape})", COLORS["stoch"]),
        dict(type="scatter", mode="markers", x=v.u_inputs, y=v.raster_stoch.mean(axis=0),
             name=f"spike rate over {c.n_trials} trials",
             marker=dict(color=COLORS["stoch"], size=7, symbol="circle-open", line=dict(width=2))),
    ]
    layout = _layout("Expected output E[y]", "membrane potential u", "E[y]",
                     yaxis=dict(range=[-0.05, 1.05]),
                     legend=dict(yanchor="bottom", y=0.03, xanchor="right", x=0.99))
    return figure(data, layout)


def fig_derivative(v: EscapeView) -> go.Figure:
    """d/du E[y] (Eq. 8) against the chosen surrogate derivative (Eq. 6)."""
    data = [
        _line(v.u, v.d_expected_output, "∂E[y]/∂u (stochastic)", COLORS["stoch"], width=5),
        _line(v.u, v.surrogate_derivative, "surrogate derivative", COLORS["sd"], width=2.5, dash="dash"),
    ]
    layout = _layout("∂E[y]/∂u vs surrogate derivative", "membrane potential u", "derivative",
                     legend=dict(xanchor="right", x=0.99))
    return figure(data, layout)


def fig_rasters(v: EscapeView) -> go.Figure:
    """Trial rasters of a deterministic and a stochastic Perceptron over an input sweep."""
    trials = np.arange(1, v.config.n_trials + 1)
    data = []
    for i, (z, color) in enumerate(((v.raster_det, COLORS["det"]), (v.raster_stoch, COLORS["stoch"]))):
        axis = "" if i == 0 else "2"
        data.append(dict(
            type="heatmap", z=z, x=v.u_inputs, y=trials, zmin=0, zmax=1, showscale=False,
            colorscale=[[0, "#f4f4f4"], [0.5, "#bbbbbb"], [1, color]], xgap=1, ygap=1,
            xaxis=f"x{axis}", yaxis=f"y{axis}",
            hovertemplate="u=%{x:.3f}<br>trial %{y}<br>y=%{z}<extra></extra>"))
    gap = 0.04
    layout = _layout(
        "", "input potential u", "trial", margin=dict(t=40), hovermode="closest",
        xaxis=dict(domain=[0, 0.5 - gap / 2]),
        yaxis=dict(autorange="reversed"),
        xaxis2=dict(_AXIS, domain=[0.5 + gap / 2, 1], anchor="y2", title=dict(text="input potential u")),
        yaxis2=dict(_AXIS, anchor="x2", matches="y", showticklabels=False, autorange="reversed"),
        annotations=[
            dict(text=title, x=x, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                 showarrow=False, font=dict(size=16))
            for title, x in (("Deterministic Perceptron", 0.25 - gap / 4), ("Stochastic Perceptron", 0.75 + gap / 4))
        ],
    )
    return figure(data, layout)


def fig_thresholds(v: EscapeView) -> go.Figure:
    """Histogram of sampled noisy thresholds Theta = theta + xi against their density (Eq. 25)."""
    c = v.config
    centers = 0.5 * (v.hist_edges[1:] + v.hist_edges[:-1])
    data = [
        dict(type="bar", x=centers, y=v.hist_density, width=np.diff(v.hist_edges),
             name=f"{c.n_samples} sampled thresholds", marker=dict(color=COLORS["hist"])),
        _line(v.threshold_grid, v.threshold_pdf, "density of Θ", COLORS["stoch"]),
    ]
    layout = _layout(
        "Noisy-threshold view: Θ = θ + ξ", "threshold Θ", "density", bargap=0, height=440,
        shapes=[dict(type="line", x0=c.theta, x1=c.theta, y0=0, y1=1, yref="paper",
                     line=dict(color=COLORS["grey"], dash="dot"))],
        annotations=[dict(text="θ", x=c.theta, y=1.0, yref="paper", showarrow=False, yanchor="bottom")],
    )
    return figure(data, layout)


def fig_stochad(v: EscapeView) -> go.Figure:
    """Smoothed left/right stochastic derivatives and their affine combination (App. B, Fig. S3)."""
    y = v.realisation
    val = np.where(y == 0, v.realised_right, v.realised_left)
    data = [
        _line(v.u, v.stochad_right, "δ̃_R (if y = 0)", COLORS["right"], width=2),
        _line(v.u, v.stochad_left, "δ̃_L (if y = 1)", COLORS["left"], width=2),
        _line(v.u, v.d_expected_output, "(1−p)δ̃_R + pδ̃_L", COLORS["affine"], width=3),
        _line(v.u, v.surrogate_derivative, "chosen SD", COLORS["sd"], width=2, dash="dash"),
        dict(type="scatter", mode="markers", x=v.u_inputs, y=val, name="sample ● y=0 ◆ y=1",
             marker=dict(color=np.where(y == 0, COLORS["right"], COLORS["left"]).tolist(),
                         symbol=np.where(y == 0, "circle", "diamond").tolist(), size=8,
                         line=dict(color="white", width=1))),
        dict(type="scatter", mode="markers", x=v.u_inputs, y=v.stochad_affine, name="affine at sample",
             marker=dict(color=COLORS["affine"], size=7, symbol="x")),
    ]
    finite = np.concatenate([v.d_expected_output, v.surrogate_derivative, val[np.isfinite(val)]])
    top = float(np.nanmax(finite)) if finite.size else 1.0
    layout = _layout("stochAD: smoothed derivatives, one realisation", "membrane potential u", "∂y/∂u",
                     yaxis=dict(range=[-0.03 * top, 1.25 * top]), height=440,
                     legend=dict(orientation="h", yanchor="top", y=-0.2, x=0.0, bgcolor="rgba(0,0,0,0)"),
                     margin=dict(b=110))
    return figure(data, layout)


def escape_figures(v: EscapeView) -> dict[str, go.Figure]:
    """All figures of the escape-noise page, keyed by panel."""
    return {
        "expected": fig_expected_output(v),
        "derivative": fig_derivative(v),
        "rasters": fig_rasters(v),
        "thresholds": fig_thresholds(v),
        "stochad": fig_stochad(v),
    }
