"""Figures of the loop-integral page (Gygax & Zenke Fig. 5, plus the curl map)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..loop import LoopConfig, LoopCurl, LoopHeatmaps, LoopIntegrals
from ._style import AXIS, base_layout, figure, line_trace

__all__ = ["fig_accumulated", "fig_convergence", "fig_curl", "fig_heatmaps"]

_AMBER = ["#f6d47a", "#e0a100", "#b8860b", "#7a5200"]
_BLUE = "#1f5fa8"
_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, bgcolor="rgba(0,0,0,0)")
_OUTPUT_SCALE = [[0, "#f7fbff"], [0.5, "#c6dbef"], [1, "#4a8fc8"]]


def _shade(i: int, n: int) -> str:
    return _AMBER[min(len(_AMBER) - 1, round(i * (len(_AMBER) - 1) / max(n - 1, 1)))] if n > 1 else _AMBER[1]


def _path(cfg: LoopConfig, axis: str = "", legend: bool = True) -> list[dict]:
    """The path in plane coordinates: circle (a, b) = r (sin t, cos t) or the square of half side r, both from
    (0, r) and clockwise; an arrowhead shows the direction."""
    path = cfg.closed_path
    a, b = path.outline()
    x, y = f"x{axis}", f"y{axis}"
    t0 = np.radians(25.0) if path.kind == "circle" else np.pi / 8  # on the circle, or halfway to the first corner
    a0, b0, da, db = (float(v[0]) for v in path.plane(np.array([t0])))
    heading = np.degrees(np.arctan2(da, db))  # plotly's marker angle: clockwise from up
    return [
        dict(type="scatter", mode="lines", x=a, y=b, name="path",
             line=dict(color="#c0392b", width=2.5), showlegend=legend, legendgroup="path", xaxis=x, yaxis=y,
             hoverinfo="skip"),
        dict(type="scatter", mode="markers", x=[0.0], y=[path.r], name="start (t = 0)", showlegend=legend,
             marker=dict(symbol="circle", size=11, color="#c0392b", line=dict(color="white", width=1.5)),
             xaxis=x, yaxis=y),
        dict(type="scatter", mode="markers", x=[a0], y=[b0], showlegend=False,
             marker=dict(symbol="triangle-up", size=15, color="#c0392b", angle=heading),
             xaxis=x, yaxis=y, hoverinfo="skip"),
    ]


def fig_heatmaps(h: LoopHeatmaps, cfg: LoopConfig) -> go.Figure:
    """Fig. 5A: output over the plane for the step network and a sigmoid network, with the path."""
    data: list[dict] = []
    layout = base_layout("", "a (along d1)", "b (along d2)", height=430, hovermode="closest",
                         legend=_BELOW, margin=dict(t=40, b=100))
    titles = ("step forward (H(0) = 1/2)", f"sigmoid forward, β_f = {cfg.beta_f:g}")
    annotations = []
    for i, z in enumerate((h.output_step, h.output_sigmoid)):
        axis = "" if i == 0 else "2"
        lo = 0.0 if i == 0 else 0.53
        data.append(dict(type="heatmap", x=h.grid, y=h.grid, z=z.astype(np.float32), zmin=0, zmax=1,
                         colorscale=_OUTPUT_SCALE,
                         showscale=i == 1, colorbar=dict(title=dict(text="y"), thickness=12),
                         xaxis=f"x{axis}", yaxis=f"y{axis}",
                         hovertemplate="a=%{x:.2f}<br>b=%{y:.2f}<br>y=%{z:.3f}<extra></extra>"))
        data += _path(cfg, axis, legend=i == 0)
        layout[f"xaxis{axis}"] = dict(AXIS, domain=[lo, lo + 0.44], anchor=f"y{axis}", showgrid=False,
                                      title=dict(text="a (along d1)"))
        layout[f"yaxis{axis}"] = dict(AXIS, anchor=f"x{axis}", showgrid=False, scaleanchor=f"x{axis}",
                                      title=dict(text="b (along d2)" if i == 0 else ""))
        annotations.append(dict(text=titles[i], x=lo + 0.22, y=1.0, xref="paper", yref="paper", showarrow=False,
                                xanchor="center", yanchor="bottom", font=dict(size=15)))
    layout["annotations"] = annotations
    return figure(data, layout)


def fig_accumulated(li: LoopIntegrals, cfg: LoopConfig) -> go.Figure:
    """Fig. 5B: accumulated SG integrals along the angle vs the actual output along the path."""
    deg = np.degrees(li.alpha)
    n = len(li.cumulative_sg)
    data = [line_trace(deg, cum, f"∫ SG, β_SG = {b:g}", _shade(i, n), width=3)
            for i, (b, cum) in enumerate(li.cumulative_sg.items())]
    fwd = "step" if cfg.forward == "step" else f"sigmoid β_f = {cfg.beta_f:g}"
    data.append(line_trace(deg, li.output_along, f"output y ({fwd})", _BLUE, width=3))
    if cfg.forward == "step":
        data.append(line_trace(deg, li.output_along_sigmoid, f"output y (sigmoid β_f = {cfg.beta_f:g})", _BLUE,
                               width=2, dash="dash"))
    for i, (b, cum) in enumerate(li.cumulative_exact.items()):
        trace = line_trace(deg, cum, "∫ exact ∇y of each β_SG sigmoid net", "#7a7a7a", width=1.5, dash="dot")
        data.append(dict(trace, legendgroup="exact", showlegend=i == 0,
                         hovertemplate=f"exact, β = {b:g}: %{{y:.4f}}<extra></extra>"))
    if cfg.path == "circle":
        xlab, dtick, shapes = "angle α (degrees)", 60, []
    else:  # t runs at constant speed along the perimeter; corners at 45, 135, 225 and 315 degrees
        xlab, dtick = "t along the square (degrees; corners dotted)", 45
        shapes = [dict(type="line", x0=k, x1=k, y0=0, y1=1, yref="paper", line=dict(color="#c7ccd1", width=1,
                                                                                    dash="dot"))
                  for k in (45, 135, 225, 315)]
    layout = base_layout(f"Accumulated integral along the {cfg.path}", xlab, "value", height=440, shapes=shapes,
                         legend=_BELOW, margin=dict(b=120), xaxis=dict(range=[0, 360], dtick=dtick))
    return figure(data, layout)


def fig_convergence(li: LoopIntegrals) -> go.Figure:
    """Fig. 5C: |closed-loop value| of the midpoint rule against the number of steps."""
    data = []
    n = len(li.ladder_sg)
    floor = 1e-17
    for i, (b, vals) in enumerate(li.ladder_sg.items()):
        color = _shade(i, n)
        data.append(dict(type="scatter", mode="lines+markers", x=li.ladder, y=np.maximum(np.abs(vals), floor),
                         name=f"|∮ SG|, β_SG = {b:g}", line=dict(color=color, width=2.5), marker=dict(size=7)))
        data.append(dict(type="scatter", mode="lines", x=[li.ladder[0], li.ladder[-1]],
                         y=[abs(li.loop_sg[b])] * 2, showlegend=False, hoverinfo="skip",
                         line=dict(color=color, width=1.5, dash="dash")))
    for i, (b, vals) in enumerate(li.ladder_exact.items()):
        data.append(dict(type="scatter", mode="lines+markers", x=li.ladder[: len(vals)],
                         y=np.maximum(np.abs(vals), floor), legendgroup="exact",
                         name="|∮ exact ∇y|" if i == 0 else f"|∮ exact ∇y|, β = {b:g}",
                         showlegend=i == 0, line=dict(color="#7a7a7a", width=1.5, dash="dot"),
                         marker=dict(size=5, color="#7a7a7a")))
    layout = base_layout("Closed-loop value vs number of steps", "midpoint-rule steps N", "|closed-loop integral|",
                         height=440, legend=_BELOW, margin=dict(b=130), hovermode="closest",
                         xaxis=dict(type="log"), yaxis=dict(type="log", exponentformat="power"))
    return figure(data, layout)


def fig_curl(cu: LoopCurl, cfg: LoopConfig) -> go.Figure:
    """Curl of the SG field in the plane (smooth forward), with the path."""
    lim = float(np.max(np.abs(cu.curl))) or 1.0
    data = [dict(type="heatmap", x=cu.axis, y=cu.axis, z=cu.curl.astype(np.float32), zmin=-lim, zmax=lim,
                 colorscale="RdBu",
                 reversescale=True, colorbar=dict(title=dict(text="curl"), thickness=12),
                 hovertemplate="a=%{x:.2f}<br>b=%{y:.2f}<br>curl=%{z:.3g}<extra></extra>")]
    data += _path(cfg)
    title = f"Curl of the SG field (β_f = {cfg.curl_beta_f:g}, β_SG = {cfg.curl_beta_sg:g})"
    layout = base_layout(title, "a (along d1)", "b (along d2)", height=480, hovermode="closest", legend=_BELOW,
                         margin=dict(b=100), xaxis=dict(showgrid=False),
                         yaxis=dict(showgrid=False, scaleanchor="x"))
    return figure(data, layout)
