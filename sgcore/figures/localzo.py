"""Figures of the LocalZO page (Mukhoty et al. 2023, Fig. 1, Sec. 4.5-4.6)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..localzo import LocalZOView
from ._style import AXIS, COLORS, base_layout, figure, line_trace, log_axis

__all__ = ["localzo_figures"]

_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, bgcolor="rgba(0,0,0,0)")
_SPARSE = "#c0392b"
_DRAW = "rgba(122,122,122,0.55)"


def _finite_top(*arrays: np.ndarray) -> float:
    vals = np.concatenate([a[np.isfinite(a)] for a in arrays if a is not None])
    return float(vals.max()) if vals.size else 1.0


def fig_estimator(v: LocalZOView) -> go.Figure:
    """One LocalZO draw per u, the average of many, the expected surrogate and SparseGrad's truncation."""
    c = v.config
    name = "c·E[G2] (Theorem 3: = g)" if v.target is not None else f"E[G2] ({v.method})"
    data = [
        dict(type="scatter", mode="markers", x=v.u, y=v.one_draw, name=f"one draw per u (m = {c.m}, own z each)",
             marker=dict(color=_DRAW, size=5)),
        line_trace(v.u, v.mc_mean, f"average of {c.n_samples} draws", COLORS["stoch"], width=3),
        line_trace(v.u, np.where(np.isfinite(v.expected), v.expected, np.nan), name, COLORS["sd"], width=3,
                   dash="dash"),
        line_trace(v.u, v.sparse_sd, "SparseGrad: SD where |u| < B_th", _SPARSE, width=2, dash="dot"),
    ]
    if v.target is not None:
        data.insert(2, line_trace(v.u, v.target, "target g", "#1f2d3d", width=1.5))
    top = _finite_top(v.mc_mean, v.expected, v.target if v.target is not None else v.mc_mean)
    shapes = []
    if math.isfinite(v.bth):
        shapes = [dict(type="rect", x0=-v.bth, x1=v.bth, y0=0, y1=1, yref="paper", fillcolor="rgba(192,57,43,0.06)",
                       line=dict(width=0), layer="below")]
    layout = base_layout("LocalZO estimate of the Heaviside's derivative", "membrane potential u − θ",
                         "dH/du estimate", yaxis=dict(range=[-0.03 * top, 1.3 * top]), legend=_BELOW,
                         margin=dict(b=120), height=470, shapes=shapes)
    return figure(data, layout)


def fig_variance(v: LocalZOView) -> go.Figure:
    """Variance of a single-sample estimate and of the m-average (Eq. 7), log scale; infinite values marked."""
    c = v.config
    fin = np.isfinite(v.variance_1)
    var1 = np.where(fin & (v.variance_1 > 0), v.variance_1, np.nan)
    data = [line_trace(v.u, var1, "one sample", COLORS["stoch"], width=3)]
    if c.m > 1:
        data.append(line_trace(v.u, var1 / c.m, f"average of m = {c.m}", COLORS["sd"], width=2.5, dash="dash"))
    annotations, shapes = [], []
    for x in v.infinite_variance_at:
        shapes.append(dict(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line=dict(color=_SPARSE, dash="dot")))
        annotations.append(dict(text="∞ at u = 0", x=x, y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                                font=dict(color=_SPARSE, size=15)))
    layout = base_layout("Variance of the estimate", "membrane potential u − θ", "variance",
                         yaxis=log_axis(var1, var1 / c.m), legend=_BELOW, margin=dict(b=120, t=60), height=470,
                         shapes=shapes, annotations=annotations)
    return figure(data, layout)


def fig_density(v: LocalZOView) -> go.Figure:
    """Sampling density lambda(z) and a histogram of inverse-transform samples."""
    edges = np.linspace(v.z[0], v.z[-1], 81)
    counts, _ = np.histogram(v.samples, bins=edges)
    width = edges[1] - edges[0]
    dens = counts / (v.samples.size * width)
    centers = 0.5 * (edges[1:] + edges[:-1])
    data = [dict(type="bar", x=centers, y=dens, width=width, name=f"histogram of {v.samples.size:,} samples",
                 marker=dict(color=COLORS["hist"]))]
    if np.any(v.density > 0):
        data.append(line_trace(v.z, v.density, "λ(z)", COLORS["stoch"], width=3))
    outside = float(np.mean(np.abs(v.samples) > v.z[-1]))
    if outside > 0:
        data[0]["name"] += f"; {outside:.1%} beyond the axis"
    layout = base_layout("Sampling density λ(z)", "z", "density", bargap=0, legend=_BELOW, margin=dict(b=110),
                         height=430)
    return figure(data, layout)


def fig_convergence(v: LocalZOView) -> go.Figure:
    """Largest error of the Monte Carlo average over the u grid, against the number of samples."""
    n = v.conv_n.astype(float)
    ok = v.conv_err > 0  # best-fitting C / sqrt(N) through the errors, in log space
    ref = math.exp(np.mean(np.log(v.conv_err[ok] * np.sqrt(n[ok])))) / np.sqrt(n) if ok.any() else n * np.nan
    data = [
        dict(type="scatter", mode="lines+markers", x=n, y=v.conv_err, name="max over u of |MC − expected|",
             line=dict(color=COLORS["stoch"], width=3), marker=dict(size=8)),
        dict(type="scatter", mode="lines+markers", x=n, y=v.conv_stderr, name="mean standard error",
             line=dict(color=COLORS["sd"], width=2), marker=dict(size=6)),
        line_trace(n, ref, "best fit C/√N", COLORS["grey"], width=2, dash="dot"),
    ]
    layout = base_layout("Monte Carlo convergence", "samples N (one z-set shared across u)", "error",
                         xaxis=dict(type="log"), yaxis=log_axis(v.conv_err, v.conv_stderr), legend=_BELOW,
                         margin=dict(b=110), height=430, hovermode="closest")
    return figure(data, layout)


def fig_active(v: LocalZOView) -> go.Figure:
    """Expected back-propagation threshold and the fraction of active neurons against m."""
    m = v.m_values
    gap = 0.1
    data = [
        dict(type="scatter", mode="lines+markers", x=m, y=v.bth_by_m, name="B_th/δ = E[max_k |z_k|]",
             line=dict(color=COLORS["sd"], width=3), marker=dict(size=8)),
        dict(type="scatter", mode="lines+markers", x=m, y=v.active_localzo_by_m, name="active: LocalZO",
             line=dict(color=COLORS["stoch"], width=3), marker=dict(size=8), xaxis="x2", yaxis="y2"),
        dict(type="scatter", mode="lines+markers", x=m, y=v.active_sparse_by_m, name="active: SparseGrad (same B_th)",
             line=dict(color=_SPARSE, width=2.5, dash="dot"), marker=dict(size=7), xaxis="x2", yaxis="y2"),
    ]
    notes = []
    if not np.all(np.isfinite(v.bth_by_m)):
        notes.append(dict(text="∞ for every m:<br>E|z| diverges (heavy tail)", x=0.23, y=0.5, xref="paper",
                          yref="paper", showarrow=False, font=dict(size=17, color=_SPARSE)))
    layout = base_layout(
        "", "samples per estimate m", "B_th / δ", hovermode="closest", legend=_BELOW, margin=dict(b=110, t=40),
        height=430,
        xaxis=dict(domain=[0, 0.5 - gap / 2], type="log", tickvals=list(m), ticktext=[str(k) for k in m]),
        xaxis2=dict(AXIS, domain=[0.5 + gap / 2, 1], anchor="y2", type="log", tickvals=list(m),
                    ticktext=[str(k) for k in m], title=dict(text="samples per estimate m")),
        yaxis2=dict(AXIS, anchor="x2", title=dict(text="fraction active"), tickformat=".0%", rangemode="tozero"),
        annotations=[dict(text=t, x=x, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                          showarrow=False, font=dict(size=16))
                     for t, x in (("Expected back-propagation threshold", 0.23),
                                  ("Neurons active in the backward pass", 0.78))] + notes,
    )
    return figure(data, layout)


def localzo_figures(v: LocalZOView) -> dict[str, go.Figure]:
    """All figures of the LocalZO page, keyed by panel."""
    return {
        "estimator": fig_estimator(v),
        "variance": fig_variance(v),
        "density": fig_density(v),
        "convergence": fig_convergence(v),
        "active": fig_active(v),
    }
