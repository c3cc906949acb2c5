"""Figures of the gradient-estimator page (Gygax & Zenke 2024, Fig. 3, Fig. S1B, Sec. 3.2, 7)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..estimators import BiasSweep, EstimatorView, all_patterns
from ._style import COLORS, base_layout, figure, line_trace, log_axis

__all__ = ["ESTIMATOR_COLORS", "SHORT_LABELS", "estimator_figures", "fig_bias_sweep", "fig_cosines",
           "fig_convergence", "fig_parameters", "fig_tree"]

#: One colour per estimator, the same in every figure (stochastic amber and deterministic blue as in Fig. 1).
ESTIMATOR_COLORS = {
    "stochastic_sg": COLORS["stoch"],
    "deterministic_sg": COLORS["det"],
    "finite_difference": COLORS["grey"],
    "finite_difference_crn": COLORS["right"],
    "reinforce": COLORS["affine"],
}
SHORT_LABELS = {
    "stochastic_sg": "stochastic SG",
    "deterministic_sg": "deterministic SG",
    "finite_difference": "finite diff.",
    "finite_difference_crn": "finite diff. (CRN)",
    "reinforce": "REINFORCE",
}
_TICK_LABELS = {"stochastic_sg": "stoch.<br>SG", "deterministic_sg": "det.<br>SG", "finite_difference": "FD",
                "finite_difference_crn": "FD<br>(CRN)", "reinforce": "REIN-<br>FORCE"}
_BETA_TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
_PATH = "#f2b705"
_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, bgcolor="rgba(0,0,0,0)")
TREE_MAX_LEAVES = 64


def _bits(index: int, n: int) -> str:
    return "".join(str(int(b)) for b in all_patterns(n)[index]) if n else "·"


def _rates(r: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in r) + ")"


def _edge_traces(segments: list[tuple[float, float, float, float, float]], n_bins: int = 5) -> list[dict]:
    """Edges as a few traces binned by probability (a plotly line has one width per trace)."""
    if not segments:
        return []
    probs = np.array([s[4] for s in segments])
    edges = np.quantile(probs, np.linspace(0, 1, n_bins + 1)) if probs.size > n_bins else np.array([0.0, 1.0])
    bins = np.clip(np.searchsorted(edges[1:-1], probs, side="right"), 0, len(edges) - 2)
    out = []
    for b in range(len(edges) - 1):
        xs, ys = [], []
        for (x0, y0, x1, y1, _), k in zip(segments, bins, strict=True):
            if k == b:
                xs += [x0, x1, None]
                ys += [y0, y1, None]
        if xs:
            mean_p = float(probs[bins == b].mean())
            out.append(dict(type="scatter", mode="lines", x=xs, y=ys, hoverinfo="skip", showlegend=False,
                            line=dict(color=f"rgba(90,100,120,{0.25 + 0.6 * min(1.0, mean_p * 4):.2f})",
                                      width=0.8 + 5.0 * min(1.0, mean_p * 2))))
    return out


def _positive(a: np.ndarray) -> np.ndarray:
    """Zeros (no variation seen yet) cannot be drawn on a log axis: leave a gap."""
    return np.where(np.asarray(a) > 0, a, np.nan)


def fig_tree(v: EstimatorView) -> go.Figure | None:
    """The tree of spike patterns (Fig. 3): a node per path prefix, the sampled path in yellow.

    Above :data:`TREE_MAX_LEAVES` complete paths the identical subtrees are merged (the layers form a
    Markov chain, so a node's future depends only on its own pattern): one node per layer pattern, edges
    weighted by the joint probability of parent and child.
    """
    t = v.tree
    if t is None:
        return None
    path = v.path
    hidden = t.hidden
    n_layers = len(hidden)
    merged = len(t.path_probability) > TREE_MAX_LEAVES
    data: list[dict] = []
    segments: list[tuple[float, float, float, float, float]] = []
    node_x: list[float] = []
    node_y: list[float] = []
    node_size: list[float] = []
    node_text: list[str] = []
    node_hover: list[str] = []
    path_xy: list[tuple[float, float]] = [(0.0, 0.0)]
    if merged:
        ypos = [np.linspace(1, -1, 2**n) if 2**n > 1 else np.zeros(1) for n in hidden]
        for layer, n in enumerate(hidden):
            for k in range(2**n):
                p = float(t.marginal[layer][k])
                node_x.append(layer + 1.0)
                node_y.append(float(ypos[layer][k]))
                node_size.append(6 + 30 * np.sqrt(p))
                node_text.append(_bits(k, n) if 2**n <= 16 else "")
                node_hover.append(f"h{layer + 1} = {_bits(k, n)}<br>P(h{layer + 1}) = {p:.4f}")
                if layer == 0:
                    segments.append((0.0, 0.0, 1.0, float(ypos[0][k]), p))
                else:
                    for a in range(2 ** hidden[layer - 1]):
                        joint = float(t.marginal[layer - 1][a] * t.transition[layer][a, k])
                        segments.append((float(layer), float(ypos[layer - 1][a]), layer + 1.0, float(ypos[layer][k]),
                                         joint))
        for layer, k in enumerate(path.pattern_index):
            path_xy.append((layer + 1.0, float(ypos[layer][k])))
        leaf_y = ypos[-1] if hidden else np.zeros(1)
        leaf_rate = t.output_rate
    else:
        n_leaves = len(t.path_probability)
        leaf_y = np.linspace(1, -1, n_leaves) if n_leaves > 1 else np.zeros(1)
        leaf_rate = t.path_output_rate
        per_leaf = 1
        prev_y = np.zeros(1)
        for layer, n in enumerate(hidden):
            nodes, probs = t.nodes[layer], t.node_probability[layer]
            per_leaf = n_leaves // len(nodes)
            ys = leaf_y.reshape(len(nodes), per_leaf).mean(axis=1)
            parent_rates = t.cond_rate[layer]
            for i, (prefix, p) in enumerate(zip(nodes, probs, strict=True)):
                k = int(prefix[-1])
                parent = i // (2**n)
                node_x.append(layer + 1.0)
                node_y.append(float(ys[i]))
                node_size.append(6 + 30 * np.sqrt(float(p)))
                node_text.append(_bits(k, n) if len(nodes) <= 16 else "")
                parent_pattern = int(prefix[-2]) if layer > 0 else 0
                cond = parent_rates[parent_pattern] if layer > 0 else parent_rates[0]
                node_hover.append(f"path {' → '.join(_bits(int(q), hidden[j]) for j, q in enumerate(prefix))}"
                                  f"<br>P(path) = {float(p):.4f}<br>E[h{layer + 1} | h{layer}] = {_rates(cond)}")
                segments.append((float(layer), float(prev_y[parent]), layer + 1.0, float(ys[i]), float(p)))
            prev_y = ys
        # the sampled path: its prefix index at each layer
        idx = 0
        for layer, k in enumerate(path.pattern_index):
            idx = idx * 2 ** hidden[layer] + int(k)
            group = len(t.nodes[layer])
            ys = leaf_y.reshape(group, n_leaves // group).mean(axis=1)
            path_xy.append((layer + 1.0, float(ys[idx])))
    # output column: E[y | h_L] per leaf
    out_x = float(n_layers + 1)
    for y0, (lx, ly) in zip(leaf_y, [(n_layers, y) for y in leaf_y], strict=True):
        segments.append((float(lx), float(ly), out_x, float(y0), 0.0))
    path_xy.append((out_x, path_xy[-1][1]))
    data += _edge_traces(segments)
    px, py = zip(*path_xy, strict=True)
    data.append(dict(type="scatter", mode="lines", x=list(px), y=list(py), name="sampled path (one forward pass)",
                     line=dict(color=_PATH, width=7), hoverinfo="skip"))
    data.append(dict(type="scatter", mode="markers+text" if any(node_text) else "markers", x=node_x, y=node_y,
                     text=node_text, textposition="top center", textfont=dict(size=12), hovertext=node_hover,
                     hoverinfo="text", showlegend=False,
                     marker=dict(size=node_size, color="#1f2d3d", line=dict(color="white", width=1))))
    data.append(dict(type="scatter", mode="markers", x=[0.0], y=[0.0], text=["x"], hoverinfo="text",
                     hovertext=[f"input x = {_rates(v.net.x)}"], showlegend=False,
                     marker=dict(size=22, color=COLORS["det"], symbol="square")))
    data.append(dict(type="scatter", mode="markers", x=[out_x] * len(leaf_y), y=list(leaf_y), name="E[y | h_L]",
                     hovertext=[f"E[y | h_L] = {r:.3f}" for r in leaf_rate], hoverinfo="text",
                     marker=dict(size=11, color=list(leaf_rate), colorscale="Cividis", cmin=0, cmax=1,
                                 symbol="diamond", line=dict(color="#1f2d3d", width=0.5),
                                 colorbar=dict(title=dict(text="E[y | h_L]"), len=0.7, thickness=14))))
    ticks = ["x", *[f"h{j + 1} ({n} units)" for j, n in enumerate(hidden)], "y"]
    title = "Tree of spike patterns" + (" (identical subtrees merged)" if merged else "")
    layout = base_layout(title, "", "", height=460, hovermode="closest", showlegend=True, legend=_BELOW,
                         margin=dict(b=90, l=20, r=20),
                         xaxis=dict(tickvals=list(range(n_layers + 2)), ticktext=ticks, showgrid=False,
                                    zeroline=False, range=[-0.3, n_layers + 1.3]),
                         yaxis=dict(visible=False, range=[-1.12, 1.18]))
    return figure(data, layout)


def fig_convergence(v: EstimatorView) -> go.Figure:
    """||mean of n samples - exact gradient|| against n, with each estimator's noise floor."""
    data = []
    for name, conv in v.convergence.items():
        color = ESTIMATOR_COLORS[name]
        data.append(dict(type="scatter", mode="lines+markers", x=conv.n, y=_positive(conv.bias_norm),
                         name=SHORT_LABELS[name],
                         legendgroup=name, line=dict(color=color, width=3), marker=dict(size=7)))
        if name != "deterministic_sg":
            data.append(line_trace(conv.n, _positive(conv.noise_floor), f"{SHORT_LABELS[name]}: noise floor", color,
                                   width=1.5,
                                   dash="dot") | dict(legendgroup=name, showlegend=False))
    n = v.convergence["stochastic_sg"].n
    data.append(line_trace([n[0], n[-1]], [v.stochastic_sg_bias_norm] * 2, "exact bias of stochastic SG",
                           COLORS["stoch"], width=2, dash="dash"))
    curves = [c.bias_norm for c in v.convergence.values()] + [np.array([v.stochastic_sg_bias_norm])]
    layout = base_layout("Error of the averaged estimate", "samples K", "‖mean − ∇E[y]‖",
                         xaxis=log_axis(n), yaxis=log_axis(*curves), legend=_BELOW, margin=dict(b=130),
                         height=480, hovermode="closest")
    return figure(data, layout)


def fig_cosines(v: EstimatorView) -> go.Figure:
    """Cosine of each single-sample estimate with the exact gradient (cf. Fig. S1B)."""
    data = []
    for name, s in v.stats.items():
        color = ESTIMATOR_COLORS[name]
        cos = s.sample_cosines[np.isfinite(s.sample_cosines)]
        constant = cos.size == 0 or float(np.ptp(cos)) < 1e-9
        if constant:
            data.append(dict(type="scatter", mode="markers", x=[_TICK_LABELS[name]], y=cos[:1], showlegend=False,
                             name=SHORT_LABELS[name], marker=dict(color=color, size=16, symbol="line-ew-open",
                                                                  line=dict(width=4, color=color))))
        else:
            data.append(dict(type="violin", x=[_TICK_LABELS[name]] * cos.size, y=cos, name=SHORT_LABELS[name],
                             showlegend=False, line=dict(color=color), fillcolor=color, opacity=0.55,
                             points=False, spanmode="hard", meanline=dict(visible=True), box=dict(visible=False)))
    data.append(dict(type="scatter", mode="markers", x=[_TICK_LABELS[n] for n in v.stats],
                     y=[s.cosine for s in v.stats.values()], name="cosine of the mean estimate",
                     marker=dict(symbol="diamond", size=12, color="#1f2d3d")))
    layout = base_layout("Direction of single-sample estimates", "", "cos(estimate, ∇E[y])",
                         yaxis=dict(range=[-1.05, 1.05]), legend=_BELOW, margin=dict(b=110), height=480,
                         hovermode="closest", violinmode="overlay", xaxis=dict(tickangle=0))
    return figure(data, layout)


def fig_parameters(v: EstimatorView) -> go.Figure:
    """Per parameter: the exact gradient, the exact expectation of the stochastic SG and the deterministic SG."""
    names = list(v.param_names)
    det = v.stats["deterministic_sg"].mean
    data = [
        dict(type="bar", x=names, y=v.exact_gradient, name="exact ∇E[y] (enumeration)",
             marker=dict(color="rgba(31,45,61,0.8)")),
        dict(type="bar", x=names, y=v.stochastic_sg_mean, name="E[stochastic SG] (enumeration)",
             marker=dict(color=COLORS["stoch"])),
        dict(type="bar", x=names, y=det, name="deterministic SG", marker=dict(color=COLORS["det"])),
    ]
    layout = base_layout("Gradient by parameter: exact vs the SGs' expectations", "", "∂E[y]/∂parameter",
                         barmode="group", bargap=0.25, legend=dict(_BELOW, y=-0.32), margin=dict(b=150), height=470,
                         xaxis=dict(tickangle=-60, tickfont=dict(size=11)))
    return figure(data, layout)


def fig_bias_sweep(sweep: BiasSweep) -> go.Figure:
    """Relative bias of the SGs (exact, by enumeration) against beta_SG and, matched, against beta_N."""
    data = [
        dict(type="scatter", mode="lines", x=sweep.beta_sg, y=sweep.stochastic, name="stochastic SG, E over paths",
             line=dict(color=COLORS["stoch"], width=3)),
        dict(type="scatter", mode="lines", x=sweep.beta_sg, y=sweep.deterministic, name="deterministic SG",
             line=dict(color=COLORS["det"], width=3)),
        dict(type="scatter", mode="lines", x=sweep.beta_n, y=sweep.matched, xaxis="x2", yaxis="y2",
             name="stochastic SG with β_SG = β_N", line=dict(color=COLORS["stoch"], width=3, dash="dash")),
    ]
    shapes = [dict(type="line", x0=sweep.current_beta_n, x1=sweep.current_beta_n, y0=0, y1=1, yref="paper",
                   xref="x", line=dict(color=COLORS["grey"], dash="dot")),
              dict(type="line", x0=sweep.current_beta_n, x1=sweep.current_beta_n, y0=0, y1=1, yref="paper",
                   xref="x2", line=dict(color=COLORS["grey"], dash="dot"))]
    at = math.log10(sweep.current_beta_n)  # annotations on a log axis take log10 positions (shapes do not)
    annotations = [dict(text="β_SG = β_N", x=at, y=1.0, yref="paper", xref="x", showarrow=False,
                        yanchor="bottom", font=dict(size=13, color=COLORS["grey"])),
                   dict(text="current β_N", x=at, y=1.0, yref="paper", xref="x2", showarrow=False,
                        yanchor="bottom", font=dict(size=13, color=COLORS["grey"]))]
    lo, hi = math.log10(float(sweep.beta_sg.min())), math.log10(float(sweep.beta_sg.max()))
    ticks = [t for t in _BETA_TICKS if 10**lo / 1.01 <= t <= 10**hi * 1.01]
    layout = base_layout("Relative bias ‖E[estimate] − ∇E[y]‖ / ‖∇E[y]‖, exact", "β_SG (β_N fixed)",
                         "relative bias", legend=_BELOW, margin=dict(b=120, t=70), height=440, hovermode="closest",
                         shapes=shapes, annotations=annotations,
                         xaxis=dict(type="log", domain=[0, 0.45], range=[lo, hi], tickvals=ticks),
                         xaxis2=dict(type="log", domain=[0.57, 1], anchor="y2", gridcolor="#e5e9f0", range=[lo, hi],
                                     tickvals=ticks,
                                     title=dict(text="β_N (= β_SG, same weights)", standoff=8)),
                         yaxis=dict(rangemode="tozero"),
                         yaxis2=dict(anchor="x2", rangemode="tozero", gridcolor="#e5e9f0"))
    return figure(data, layout)


def estimator_figures(v: EstimatorView, sweep: BiasSweep) -> dict[str, go.Figure | None]:
    """The gradient-estimator page's figures by name: the tree of spike patterns (Gygax & Zenke Fig. 3), the
    convergence in the number of samples, the cosines to the exact gradient (Fig. S1B), the parameters and the
    exact bias sweep over beta_SG and beta_N (None where the view has no such part)."""
    return {"tree": fig_tree(v), "convergence": fig_convergence(v), "cosines": fig_cosines(v),
            "parameters": fig_parameters(v), "sweep": fig_bias_sweep(sweep)}

