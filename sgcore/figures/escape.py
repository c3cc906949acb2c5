"""Figures of the escape-noise page (Gygax & Zenke Fig. 1, Fig. S3)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go  # noqa: F401  (return type)

from ..escape import EscapeView
from ._style import AXIS, COLORS, base_layout, figure, line_trace

__all__ = ["escape_figures"]

def fig_expected_output(v: EscapeView) -> go.Figure:
    """Firing probability E[y] of the stochastic Perceptron vs the deterministic step (Fig. 1C, D)."""
    c = v.config
    data = [
        line_trace(v.u, v.step, "deterministic H(u − θ)", COLORS["det"], shape="hv"),
        line_trace(v.u, v.firing_probability, f"stochastic p(u) ({c.escape})", COLORS["stoch"]),
        dict(type="scatter", mode="markers", x=v.u_inputs, y=v.raster_stoch.mean(axis=0),
             name=f"spike rate over {c.n_trials} trials",
             marker=dict(color=COLORS["stoch"], size=7, symbol="circle-open", line=dict(width=2))),
    ]
    layout = base_layout("Expected output E[y]", "membrane potential u", "E[y]",
                     yaxis=dict(range=[-0.05, 1.05]),
                     legend=dict(yanchor="bottom", y=0.03, xanchor="right", x=0.99))
    return figure(data, layout)


def fig_derivative(v: EscapeView) -> go.Figure:
    """d/du E[y] (Eq. 8) against the chosen surrogate derivative (Eq. 6)."""
    data = [
        line_trace(v.u, v.d_expected_output, "∂E[y]/∂u (stochastic)", COLORS["stoch"], width=5),
        line_trace(v.u, v.surrogate_derivative, "surrogate derivative", COLORS["sd"], width=2.5, dash="dash"),
    ]
    layout = base_layout("∂E[y]/∂u vs surrogate derivative", "membrane potential u", "derivative",
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
    layout = base_layout(
        "", "input potential u", "trial", margin=dict(t=40), hovermode="closest",
        xaxis=dict(domain=[0, 0.5 - gap / 2]),
        yaxis=dict(autorange="reversed"),
        xaxis2=dict(AXIS, domain=[0.5 + gap / 2, 1], anchor="y2", title=dict(text="input potential u")),
        yaxis2=dict(AXIS, anchor="x2", matches="y", showticklabels=False, autorange="reversed"),
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
        line_trace(v.threshold_grid, v.threshold_pdf, "density of Θ", COLORS["stoch"]),
    ]
    layout = base_layout(
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
        line_trace(v.u, v.stochad_right, "δ̃_R (if y = 0)", COLORS["right"], width=2),
        line_trace(v.u, v.stochad_left, "δ̃_L (if y = 1)", COLORS["left"], width=2),
        line_trace(v.u, v.d_expected_output, "(1−p)δ̃_R + pδ̃_L", COLORS["affine"], width=3),
        line_trace(v.u, v.surrogate_derivative, "chosen SD", COLORS["sd"], width=2, dash="dash"),
        dict(type="scatter", mode="markers", x=v.u_inputs, y=val, name="sample ● y=0 ◆ y=1",
             marker=dict(color=np.where(y == 0, COLORS["right"], COLORS["left"]).tolist(),
                         symbol=np.where(y == 0, "circle", "diamond").tolist(), size=8,
                         line=dict(color="white", width=1))),
        dict(type="scatter", mode="markers", x=v.u_inputs, y=v.stochad_affine, name="affine at sample",
             marker=dict(color=COLORS["affine"], size=7, symbol="x")),
    ]
    finite = np.concatenate([v.d_expected_output, v.surrogate_derivative, val[np.isfinite(val)]])
    top = float(np.nanmax(finite)) if finite.size else 1.0
    layout = base_layout("stochAD: smoothed derivatives, one realisation", "membrane potential u", "∂y/∂u",
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
