"""Figures of the surrogate-design page (Herranz-Celotti & Rouat: shapes, Eq. 2, initialisation conditions)."""

from __future__ import annotations

import plotly.graph_objects as go

from ..design import DesignView, TheoryCheck
from ..shapes import SHAPES
from ._style import AXIS, COLORS, base_layout, figure, line_trace, log_axis

__all__ = ["design_figures", "fig_eq2", "fig_gallery", "fig_theory"]

_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, bgcolor="rgba(0,0,0,0)")
_PALETTE = ("#1f5fa8", "#e0a100", "#0f8b8d", "#c0392b", "#7a4fa0", "#5b8c2a", "#d16ba5", "#7a7a7a", "#8c564b")


def fig_gallery(v: DesignView) -> go.Figure:
    """Every registry shape as gamma f(s v) at the chosen dampening and sharpness; the chosen one bold."""
    c = v.config
    data = []
    for i, (name, y) in enumerate(v.curves.items()):
        chosen = name == c.shape
        data.append(line_trace(v.v, y, SHAPES[name].label, _PALETTE[i % len(_PALETTE)], width=4 if chosen else 1.6)
                    | dict(opacity=1.0 if chosen else 0.75))
    layout = base_layout(f"Surrogate derivatives γ f(s v), γ = {c.gamma:g}, s = {c.sharpness:g}", "v = y − ϑ",
                         "σ'(v)", legend=dict(_BELOW, font=dict(size=12), y=-0.22), height=520,
                         margin=dict(b=170), hovermode="closest",
                         yaxis=dict(rangemode="tozero"))
    return figure(data, layout)


def fig_eq2(v: DesignView) -> go.Figure:
    """Eq. 2, E[σ'(v)²] for y uniform on [y_min, y_max], against the sharpness s; the chosen s marked."""
    c = v.config
    data = [
        line_trace(v.s_grid, v.second_moment_vs_s, f"Eq. 2 by quadrature ({c.shape})", COLORS["det"], width=3),
        dict(type="scatter", mode="markers", x=[c.sharpness], y=[v.sd_second_moment], name="chosen s (quadrature)",
             marker=dict(size=12, color=COLORS["det"], symbol="circle")),
        dict(type="scatter", mode="markers", x=[c.sharpness], y=[v.mc_mean], name=f"Monte Carlo, {c.mc_samples:,} y",
             marker=dict(size=14, color=COLORS["stoch"], symbol="diamond-open", line=dict(width=2)),
             error_y=dict(type="data", array=[2 * v.mc_stderr], color=COLORS["stoch"], thickness=2)),
    ]
    if v.check is not None:
        data.append(dict(type="scatter", mode="markers", x=[c.sharpness], y=[v.check.printed],
                         name="Appendix B as printed (Eqs. 65–67)",
                         marker=dict(size=13, color=COLORS["affine"], symbol="x")))
    layout = base_layout("E[σ'²] for y ~ U[y_min, y_max] (Eq. 2)", "sharpness s", "E[σ'(y − ϑ)²]",
                         xaxis=log_axis(v.s_grid), yaxis=log_axis(v.second_moment_vs_s), legend=_BELOW,
                         margin=dict(b=120), height=430, hovermode="closest")
    return figure(data, layout)


def fig_theory(tc: TheoryCheck) -> go.Figure:
    """The simulated layer: firing fraction (CI) and the gradient's maximum and variance (CIII, CIV) over time."""
    traces = ((tc.calculator, COLORS["det"], "calculator"), (tc.naive, COLORS["stoch"], "naive (Glorot)"))
    data = []
    for tr, color, name in traces:
        data.append(line_trace(tc.t, tr.firing_fraction, name, color, width=2.5) | dict(legendgroup=name))
        data.append(line_trace(tc.t, tr.grad_max, name, color, width=2.5)
                    | dict(legendgroup=name, showlegend=False, xaxis="x2", yaxis="y2"))
        data.append(line_trace(tc.t, tr.grad_var, name, color, width=2.5)
                    | dict(legendgroup=name, showlegend=False, xaxis="x3", yaxis="y3"))
    gap = 0.11
    w = (1 - 2 * gap) / 3
    doms = [[0, w], [w + gap, 2 * w + gap], [2 * (w + gap), 1]]
    max_axis = log_axis(*(tr.grad_max for tr, _, _ in traces))
    var_axis = log_axis(*(tr.grad_var for tr, _, _ in traces))
    layout = base_layout("", "time step t", "fraction of neurons firing", legend=_BELOW, height=400,
                         margin=dict(t=45, b=110), hovermode="x unified",
                         shapes=[dict(type="line", xref="x", yref="y", x0=0, x1=float(tc.t[-1]), y0=0.5, y1=0.5,
                                      line=dict(color=COLORS["grey"], dash="dot"))],
                         xaxis=dict(domain=doms[0]), yaxis=dict(range=[0, 1]),
                         xaxis2=dict(AXIS, domain=doms[1], anchor="y2", title=dict(text="time step t", standoff=8)),
                         yaxis2=dict(AXIS, anchor="x2", **max_axis, title=dict(text="max |dy_t/da|", standoff=8)),
                         xaxis3=dict(AXIS, domain=doms[2], anchor="y3", title=dict(text="time step t", standoff=8)),
                         yaxis3=dict(AXIS, anchor="x3", **var_axis, title=dict(text="Var[dy_t/da]", standoff=8)),
                         annotations=[dict(text=t, x=(d[0] + d[1]) / 2, y=1.0, xref="paper", yref="paper",
                                           xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=15))
                                      for t, d in zip(("CI: firing fraction (want ½)", "CIII: gradient maximum",
                                                       "CIV: gradient variance"), doms, strict=True)])
    return figure(data, layout)


def design_figures(v: DesignView) -> dict[str, go.Figure]:
    return {"gallery": fig_gallery(v), "eq2": fig_eq2(v)}

