"""Plotly figure builders (no Streamlit): the same figures work in a notebook.

Colours follow Gygax & Zenke Fig. 1: deterministic in blue, stochastic in amber.
Rasters are heatmaps of small integer arrays, light on the wire.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .escape import ESCAPE_FAMILIES, EscapeView

__all__ = ["COLORS", "escape_figures"]

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

_LAYOUT = dict(
    template="plotly_white",
    font=dict(size=15),
    margin=dict(l=60, r=15, t=45, b=55),
    legend=dict(yanchor="top", y=0.99, xanchor="left", x=0.01, bgcolor="rgba(255,255,255,0.8)",
                font=dict(size=13)),
    height=380,
)


def _base(title: str, xlab: str, ylab: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title=dict(text=title, x=0.01, y=0.97, yanchor="top", font=dict(size=17)),
                      xaxis_title=xlab, yaxis_title=ylab)
    return fig


def fig_expected_output(v: EscapeView) -> go.Figure:
    """Firing probability E[y] of the stochastic Perceptron vs the deterministic step (Fig. 1C, D)."""
    c = v.config
    fig = _base("Expected output E[y]", "membrane potential u", "E[y]")
    fig.add_trace(go.Scatter(x=v.u, y=v.step, name="deterministic H(u − θ)",
                             line=dict(color=COLORS["det"], width=3, shape="hv")))
    fig.add_trace(go.Scatter(x=v.u, y=v.firing_probability,
                             name=f"stochastic p(u) ({c.escape})",
                             line=dict(color=COLORS["stoch"], width=3)))
    rate = v.raster_stoch.mean(axis=0)
    fig.add_trace(go.Scatter(x=v.u_inputs, y=rate, mode="markers", name=f"spike rate over {c.n_trials} trials",
                             marker=dict(color=COLORS["stoch"], size=7, symbol="circle-open", line=dict(width=2))))
    fig.update_yaxes(range=[-0.05, 1.05])
    fig.update_layout(legend=dict(yanchor="bottom", y=0.03, xanchor="right", x=0.99))
    return fig


def fig_derivative(v: EscapeView) -> go.Figure:
    """d/du E[y] (Eq. 8) against the chosen surrogate derivative (Eq. 6)."""
    fig = _base("∂E[y]/∂u vs surrogate derivative", "membrane potential u", "derivative")
    fig.add_trace(go.Scatter(x=v.u, y=v.d_expected_output, name="∂E[y]/∂u (stochastic)",
                             line=dict(color=COLORS["stoch"], width=5)))
    fig.add_trace(go.Scatter(x=v.u, y=v.surrogate_derivative, name="surrogate derivative",
                             line=dict(color=COLORS["sd"], width=2.5, dash="dash")))
    fig.update_layout(legend=dict(xanchor="right", x=0.99))
    return fig


def fig_rasters(v: EscapeView) -> go.Figure:
    """Trial rasters of a deterministic and a stochastic Perceptron over an input sweep."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("Deterministic Perceptron", "Stochastic Perceptron"))
    trials = np.arange(1, v.config.n_trials + 1)
    for col, (z, color) in enumerate(((v.raster_det, COLORS["det"]), (v.raster_stoch, COLORS["stoch"])), 1):
        fig.add_trace(go.Heatmap(
            z=z, x=v.u_inputs, y=trials, zmin=0, zmax=1, showscale=False,
            colorscale=[[0, "#f4f4f4"], [0.5, "#bbbbbb"], [1, color]],
            hovertemplate="u=%{x:.3f}<br>trial %{y}<br>y=%{z}<extra></extra>", xgap=1, ygap=1),
            row=1, col=col)
        fig.update_xaxes(title_text="input potential u", row=1, col=col)
    fig.update_yaxes(title_text="trial", autorange="reversed", row=1, col=1)
    fig.update_layout(**_LAYOUT)
    fig.update_layout(margin=dict(t=40))
    return fig


def fig_thresholds(v: EscapeView) -> go.Figure:
    """Histogram of sampled noisy thresholds Theta = theta + xi against their density (Eq. 25)."""
    c = v.config
    fig = _base("Noisy-threshold view: Θ = θ + ξ", "threshold Θ", "density")
    centers = 0.5 * (v.hist_edges[1:] + v.hist_edges[:-1])
    fig.add_trace(go.Bar(x=centers, y=v.hist_density, width=np.diff(v.hist_edges),
                         name=f"{c.n_samples} sampled thresholds", marker_color=COLORS["hist"]))
    fig.add_trace(go.Scatter(x=v.threshold_grid, y=v.threshold_pdf, name="density of Θ",
                             line=dict(color=COLORS["stoch"], width=3)))
    fig.add_vline(x=c.theta, line=dict(color=COLORS["grey"], dash="dot"),
                  annotation_text="θ", annotation_position="top")
    fig.update_layout(bargap=0)
    return fig


def fig_stochad(v: EscapeView) -> go.Figure:
    """Smoothed left/right stochastic derivatives and their affine combination (App. B, Fig. S3)."""
    fig = _base("stochAD: smoothed derivatives, one realisation", "membrane potential u", "∂y/∂u")
    fig.add_trace(go.Scatter(x=v.u, y=v.stochad_right, name="right δ̃_R (if y = 0)",
                             line=dict(color=COLORS["right"], width=2)))
    fig.add_trace(go.Scatter(x=v.u, y=v.stochad_left, name="left δ̃_L (if y = 1)",
                             line=dict(color=COLORS["left"], width=2)))
    fig.add_trace(go.Scatter(x=v.u, y=v.d_expected_output, name="(1−p)δ̃_R + pδ̃_L",
                             line=dict(color=COLORS["affine"], width=3)))
    y = v.realisation
    u_in = v.u_inputs
    noise = v.config.noise
    val = np.where(y == 0, noise.stochad_right(u_in), noise.stochad_left(u_in))
    fig.add_trace(go.Scatter(x=u_in, y=val, mode="markers", name="sampled y: 0 ● / 1 ◆",
                             marker=dict(color=np.where(y == 0, COLORS["right"], COLORS["left"]),
                                         symbol=np.where(y == 0, "circle", "diamond"), size=8,
                                         line=dict(color="white", width=1))))
    fig.add_trace(go.Scatter(x=u_in, y=v.stochad_affine, mode="markers", name="affine comb. at sample",
                             marker=dict(color=COLORS["affine"], size=7, symbol="x")))
    finite = np.concatenate([v.d_expected_output, val[np.isfinite(val)]])
    top = float(np.nanmax(finite)) if finite.size else 1.0
    fig.update_yaxes(range=[-0.03 * top, 1.6 * top])
    return fig


def escape_figures(v: EscapeView) -> dict[str, go.Figure]:
    """All figures of the escape-noise page, keyed by panel."""
    return {
        "expected": fig_expected_output(v),
        "derivative": fig_derivative(v),
        "rasters": fig_rasters(v),
        "thresholds": fig_thresholds(v),
        "stochad": fig_stochad(v),
    }
