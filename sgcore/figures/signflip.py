"""Figures of the sign-flip page (Gygax & Zenke Fig. 4B, 4C)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..signflip import SignflipView
from ._style import AXIS, COLORS, base_layout, figure, line_trace

__all__ = ["signflip_figures"]

TRUE = "#1f2d3d"
SG = "#e0a100"
SMOOTH = "#7a7a7a"
PATH = "#c0392b"
FLIP = "rgba(192,57,43,0.16)"
_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, bgcolor="rgba(0,0,0,0)")
# light blues so that both arrow colours stay visible on every output value
_OUTPUT_SCALE = [[0, "#f7fbff"], [0.5, "#c6dbef"], [1, "#6baed6"]]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges [i, j] of consecutive True values."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2] - 1, strict=True))


def fig_sweep_outputs(v: SignflipView) -> go.Figure:
    """Output, smoothed output and integrated SG along w, minima marked (Fig. 4B top)."""
    sw, c = v.sweep, v.config
    curves = (("output", sw.output, "output y", TRUE, "solid"),
              ("smoothed_output", sw.smoothed_output, "smoothed output", SMOOTH, "dash"),
              ("integrated_sg", sw.integrated_sg, "integrated SG", SG, "solid"))
    data = [line_trace(sw.w, y, name, color, dash=dash) for _, y, name, color, dash in curves]
    lo = float(min(np.min(sw.output), np.min(sw.smoothed_output), np.min(sw.integrated_sg)))
    hi = float(max(np.max(sw.output), np.max(sw.smoothed_output), np.max(sw.integrated_sg)))
    pad = 0.08 * (hi - lo or 1.0)
    data.append(dict(type="scatter", mode="markers", x=[sw.w[sw.argmin[k]] for k, *_ in curves],
                     y=[lo - pad] * 3, name="minima ▲", showlegend=True, hoverinfo="x",
                     marker=dict(symbol="triangle-up", size=14, color=[col for *_, col, _ in curves],
                                 line=dict(color="white", width=1))))
    layout = base_layout("Along w: output, smoothed output, integrated SG", "w", "y",
                         yaxis=dict(range=[lo - 1.6 * pad, hi + 1.5 * pad]),
                         shapes=_vline(c.w, sw.w[0], sw.w[-1]), height=420, legend=_BELOW, margin=dict(b=95),
                         xaxis=_xrange(sw))
    return figure(data, layout)


def _vline(x: float, lo: float, hi: float) -> list[dict]:
    """A dotted line at the current w, if it lies inside the sweep."""
    if not lo <= x <= hi:
        return []
    return [dict(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line=dict(color=COLORS["grey"], dash="dot"))]


def _xrange(sw) -> dict:
    return dict(range=[float(sw.w[0]), float(sw.w[-1])])


def fig_sweep_grads(v: SignflipView) -> go.Figure:
    """True dy/dw and SG dy/dw along w with sign-disagreement regions shaded (Fig. 4B bottom).

    The two live on different scales, so the SG has its own axis on the right; both axes
    share the zero line, so a sign disagreement is a curve above zero against one below it.
    """
    sw, c = v.sweep, v.config
    shapes = [dict(type="rect", x0=sw.w[i], x1=sw.w[j], y0=0, y1=1, yref="paper", fillcolor=FLIP, line_width=0,
                   layer="below") for i, j in _runs(sw.flip)]
    shapes += _vline(c.w, sw.w[0], sw.w[-1])
    data = [
        line_trace(sw.w, sw.grad_true_w, "true dy/dw (left)", TRUE),
        line_trace(sw.w, sw.grad_sg_w, "SG dy/dw (right)", SG),
    ]
    data[1]["yaxis"] = "y2"
    data.append(dict(type="scatter", mode="markers", x=[None], y=[None], name="signs disagree",
                     marker=dict(symbol="square", size=14, color=FLIP)))
    t_max = float(np.max(np.abs(sw.grad_true_w))) or 1.0
    s_max = float(np.max(np.abs(sw.grad_sg_w))) or 1.0
    layout = base_layout(
        "Along w: true vs surrogate dy/dw", "w", "true dy/dw", shapes=shapes, height=420, legend=_BELOW,
        yaxis=dict(range=[-1.1 * t_max, 1.1 * t_max], title=dict(font=dict(color=TRUE))),
        yaxis2=dict(AXIS, overlaying="y", side="right", range=[-1.1 * s_max, 1.1 * s_max], showgrid=False,
                    title=dict(text="SG dy/dw", font=dict(color=SG))),
        margin=dict(r=70, b=95), xaxis=_xrange(sw),
    )
    return figure(data, layout)


def _arrows(a, b, gx, gy, n_arrows: int, color: str, name: str, axis: str, shift: float) -> list[dict]:
    """Unit-length direction arrows of (gx, gy) on a subsampled grid; zero vectors are skipped."""
    idx = np.unique(np.linspace(0, len(a) - 1, n_arrows).round().astype(int))
    jj, ii = np.meshgrid(idx, idx)
    ax, by = a[jj], b[ii]
    ux, uy = gx[ii, jj], gy[ii, jj]
    norm = np.hypot(ux, uy)
    keep = norm > 1e-12
    cell = (a[-1] - a[0]) / max(len(idx) - 1, 1)
    length = 0.42 * cell
    ux, uy = np.where(keep, ux / np.where(keep, norm, 1), 0), np.where(keep, uy / np.where(keep, norm, 1), 0)
    x0, y0 = ax[keep] + shift * cell, by[keep] + shift * cell
    x1, y1 = x0 + length * ux[keep], y0 + length * uy[keep]
    nan = np.full(x0.shape, np.nan)
    seg_x = np.column_stack([x0, x1, nan]).ravel()
    seg_y = np.column_stack([y0, y1, nan]).ravel()
    angle = np.degrees(np.arctan2(ux[keep], uy[keep]))  # plotly: 0 = up, clockwise
    xa, ya = f"x{axis}", f"y{axis}"
    return [
        dict(type="scatter", mode="lines", x=seg_x, y=seg_y, line=dict(color=color, width=1.6), name=name,
             legendgroup=name, showlegend=axis == "", hoverinfo="skip", xaxis=xa, yaxis=ya),
        dict(type="scatter", mode="markers", x=x1, y=y1, marker=dict(symbol="triangle-up", size=7, color=color,
                                                                     angle=angle),
             legendgroup=name, showlegend=False, hoverinfo="skip", xaxis=xa, yaxis=ya),
    ]


def _square(v: SignflipView, axis: str = "", legend: bool = True) -> list[dict]:
    """The square path on a landscape panel: outline, start and direction."""
    sq = v.square
    x, y = sq.corners[:, 0], sq.corners[:, 1]
    start = (0.5 * (x[0] + x[3]), y[0])
    return [
        dict(type="scatter", mode="lines", x=[start[0], *x[:4], start[0]], y=[start[1], *y[:4], start[1]],
             name="square path", line=dict(color=PATH, width=2.5), showlegend=legend, legendgroup="square",
             xaxis=f"x{axis}", yaxis=f"y{axis}", hoverinfo="skip"),
        dict(type="scatter", mode="markers", x=[start[0]], y=[start[1]], showlegend=False, legendgroup="square",
             marker=dict(symbol="triangle-right", size=13, color=PATH, line=dict(color="white", width=1)),
             xaxis=f"x{axis}", yaxis=f"y{axis}", hovertemplate="start of the square path<extra></extra>"),
    ]


def fig_square(v: SignflipView) -> go.Figure:
    """Accumulated integrals around the square: each SG ends away from the start, the true gradient returns."""
    sq, c = v.square, v.config
    frac = sq.t / (2 * np.pi)
    betas = sorted(sq.cumulative_sg)  # flatter SDs lighter, steeper darker (as on the loop page)
    shades = ["#f6c343", "#e0a100", "#b8860b", "#7a5200"]
    data = [line_trace(frac, sq.cumulative_sg[b], f"∫ SG, β_SG = {b:g}",
                       shades[round(i * (len(shades) - 1) / max(len(betas) - 1, 1))] if len(betas) > 1 else SG,
                       width=3)
            for i, b in enumerate(betas)]
    fwd = "step" if c.step else f"sigmoid β_f = {c.beta_f:g}"
    data.append(line_trace(frac, sq.output_along, f"output y ({fwd})", "#1f5fa8", width=3))
    data.append(line_trace(frac, sq.cumulative_exact, "∫ true ∇y", TRUE, width=2, dash="dot"))
    corners = [dict(type="line", x0=k / 8, x1=k / 8, y0=0, y1=1, yref="paper",
                    line=dict(color="#c7ccd1", width=1, dash="dot")) for k in (1, 3, 5, 7)]
    layout = base_layout("Accumulated integral around the square", "fraction of the perimeter travelled", "value",
                         height=420, legend=_BELOW, margin=dict(b=110), shapes=corners,
                         xaxis=dict(range=[0, 1], dtick=0.125, tickformat=".3~f"))
    return figure(data, layout)


def fig_landscape(v: SignflipView, n_arrows: int = 11) -> go.Figure:
    """Output over the chosen plane with true-gradient and SG direction fields, one panel per beta_SG."""
    pl, c = v.plane, v.config
    betas = list(pl.grad_sg)
    k = len(betas)
    gap = 0.03
    width = (1 - gap * (k - 1)) / k
    data: list[dict] = []
    layout = base_layout("", c.plane_x, c.plane_y, height=430, hovermode="closest",
                         margin=dict(t=40, b=100, l=60, r=20),
                         legend=dict(_BELOW, y=-0.22))
    annotations = []
    for i, beta in enumerate(betas):
        axis = "" if i == 0 else str(i + 1)
        lo = i * (width + gap)
        data.append(dict(type="heatmap", x=pl.a, y=pl.b, z=pl.output.astype(np.float32),
                         xaxis=f"x{axis}", yaxis=f"y{axis}",
                         colorscale=_OUTPUT_SCALE, zmin=0, zmax=1, showscale=i == k - 1,
                         colorbar=dict(title=dict(text="y"), thickness=12, len=0.9),
                         hovertemplate=f"{c.plane_x}=%{{x:.2f}}<br>{c.plane_y}=%{{y:.2f}}<br>y=%{{z:.3f}}"
                                       "<extra></extra>"))
        data += _arrows(pl.a, pl.b, *pl.grad_true, n_arrows, TRUE, "true ∇y (direction)", axis, shift=0.0)
        data += _arrows(pl.a, pl.b, *pl.grad_sg[beta], n_arrows, "#e66100", "SG (direction)", axis, shift=0.0)
        data.append(dict(type="scatter", mode="markers", x=[getattr(c, c.plane_x)], y=[getattr(c, c.plane_y)],
                         marker=dict(symbol="x", size=11, color="#c0392b"), name="current point",
                         showlegend=i == 0, xaxis=f"x{axis}", yaxis=f"y{axis}"))
        data += _square(v, axis, legend=i == 0)
        layout[f"xaxis{axis}"] = dict(AXIS, domain=[lo, lo + width], anchor=f"y{axis}", showgrid=False,
                                      range=[pl.a[0], pl.a[-1]], title=dict(text=c.plane_x))
        layout[f"yaxis{axis}"] = dict(AXIS, anchor=f"x{axis}", showgrid=False, range=[pl.b[0], pl.b[-1]],
                                      scaleanchor=f"x{axis}", showticklabels=i == 0,
                                      title=dict(text=c.plane_y if i == 0 else ""))
        annotations.append(dict(text=f"β_SG = {beta:g}", x=lo + width / 2, y=1.0, xref="paper", yref="paper",
                                xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=16)))
    layout["annotations"] = annotations
    return figure(data, layout)


def fig_disagreement(v: SignflipView) -> go.Figure:
    """Where the SG component has the opposite sign of the true one (main beta_SG)."""
    pl, c = v.plane, v.config
    z = np.where(pl.disagree, 1, np.where(pl.true_zero, 2, 0)).astype(np.int8)
    colorscale = [[0, "#eef3f8"], [0.333, "#eef3f8"], [0.334, "#c0392b"], [0.666, "#c0392b"],
                  [0.667, "#9aa5b1"], [1, "#9aa5b1"]]
    data = [
        dict(type="heatmap", x=pl.a, y=pl.b, z=z, zmin=0, zmax=2, colorscale=colorscale, showscale=False,
             customdata=np.array(["same sign", "opposite sign", "true gradient 0"])[z],
             hovertemplate=f"{c.plane_x}=%{{x:.2f}}<br>{c.plane_y}=%{{y:.2f}}<br>%{{customdata}}<extra></extra>"),
        dict(type="scatter", mode="markers", x=[getattr(c, c.plane_x)], y=[getattr(c, c.plane_y)],
             marker=dict(symbol="x", size=12, color="black"), name="current point"),
    ]
    for name, color in (("opposite sign", "#c0392b"), ("same sign", "#eef3f8"), ("true gradient = 0", "#9aa5b1")):
        data.append(dict(type="scatter", mode="markers", x=[None], y=[None], name=name,
                         marker=dict(symbol="square", size=14, color=color, line=dict(color="#9aa5b1", width=1))))
    title = f"Sign of dy/d{pl.component}, SG vs true: {pl.fraction:.1%} flips"
    layout = base_layout(title, c.plane_x, c.plane_y, height=440, hovermode="closest",
                         xaxis=dict(range=[pl.a[0], pl.a[-1]], showgrid=False),
                         yaxis=dict(range=[pl.b[0], pl.b[-1]], showgrid=False, scaleanchor="x"),
                         legend=dict(orientation="h", yanchor="top", y=-0.16, x=0, bgcolor="rgba(0,0,0,0)"),
                         margin=dict(b=90))
    return figure(data, layout)


def signflip_figures(v: SignflipView) -> dict[str, go.Figure]:
    """All figures of the sign-flip page, keyed by panel."""
    return {
        "sweep_outputs": fig_sweep_outputs(v),
        "sweep_grads": fig_sweep_grads(v),
        "landscape": fig_landscape(v),
        "disagreement": fig_disagreement(v),
        "square": fig_square(v),
    }
