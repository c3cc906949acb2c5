"""Gradient estimators: exact gradients in a tiny stochastic network vs SG, FD and REINFORCE (Gygax & Zenke 2024)."""

import hashlib
import json
import math

import numpy as np
import streamlit as st

from sgapp.caching import shared
from sgapp.charts import chart
from sgapp.controls import compute_or_keep, open_page, widget
from sgapp.layout import banner
from sgapp.tables import arrow
from sgcore.estimators import (
    BIAS_ALPHA,
    MAX_HIDDEN_UNITS,
    BinaryNet,
    EstimatorConfig,
    bias_sweep,
    estimator_view,
    spike_patterns,
)
from sgcore.export import csv_tables, to_jsonable
from sgcore.figures.estimators import SHORT_LABELS, estimator_figures
from sgcore.pages import PAGES

PAGE = PAGES["estimators"]
P = {p.name: p for p in PAGE.specs}
LAYER_KEYS = ("hidden1", "hidden2", "hidden3")
MAX_WEIGHT = 1e3  # hand-edited weights: beyond this every unit is saturated anyway
NET_KEYS = ("n_in", *LAYER_KEYS, "beta_n", "theta", "weight_scale", "seed")  # what the network depends on


def _net(cfg: EstimatorConfig, edited: str | None) -> BinaryNet | None:
    if edited is None:
        return None
    spec = json.loads(edited)
    return BinaryNet.from_lists(spec["input"], spec["weights"], spec["biases"], beta_n=cfg.beta_n, theta=cfg.theta)


@shared(max_entries=32)
def sweep_for(net_cfg: EstimatorConfig, edited: str | None):
    """The exact bias sweep depends on the network only (not on beta_SG, K or the estimators' settings)."""
    net = _net(net_cfg, edited) or net_cfg.net()
    return bias_sweep(net, net.beta_n)


@shared(max_entries=32)
def compute(cfg: EstimatorConfig, edited: str | None):
    """The view, the bias sweep and the figures; ``edited`` is a hand-edited network as JSON (or None)."""
    view = estimator_view(cfg, _net(cfg, edited))
    net_only = EstimatorConfig(**{k: getattr(cfg, k) for k in NET_KEYS})
    sweep = sweep_for(net_only, edited)
    return view, sweep, estimator_figures(view, sweep)


open_page(PAGE, "Gradient estimators: exact gradients in a tiny stochastic network",
          "Gygax & Zenke (2024), Sec. 3.2, 7, Fig. 3, Fig. S1. Every forward pass of a stochastic network is one "
          "path through a tree of spike patterns. In a network small enough to enumerate every path, E[y] and its "
          "gradient are known exactly, and each estimator can be held against them: the surrogate gradient of a "
          "stochastic network, of a deterministic one, finite differences and REINFORCE.")

with st.sidebar:
    st.markdown("**Network**")
    values = {name: widget(P[name]) for name in ("n_in", *LAYER_KEYS)}
    hidden = [values[k] for k in LAYER_KEYS]
    st.caption(f"{sum(hidden)} hidden units → {spike_patterns(hidden):,} spike patterns enumerated (at most "
               f"{MAX_HIDDEN_UNITS} units).")
    for name in ("beta_n", "theta", "weight_scale", "seed"):
        values[name] = widget(P[name])
    st.markdown("**Estimators**")
    for name in ("beta_sg", "samples"):
        values[name] = widget(P[name])
    with st.expander("Finite differences and REINFORCE"):
        for name in ("fd_eps", "fd_target", "baseline"):
            values[name] = widget(P[name])


def _tables(spec: dict) -> list[list[dict]]:
    return [[dict({f"from {k}": float(v) for k, v in enumerate(row)}, bias=float(bb)) for row, bb in zip(w, b,
                                                                                                       strict=True)]
            for w, b in zip(spec["weights"], spec["biases"], strict=True)]


def weight_editor(cfg: EstimatorConfig, store: dict, tag: str) -> None:
    """Editable tables of the current network's weights; a valid edit is kept in ``store[tag]`` as JSON."""
    seed_net = cfg.net().as_lists()
    current = json.loads(store[tag]) if tag in store else seed_net
    version = hashlib.sha1(json.dumps(current).encode()).hexdigest()[:10]  # a new base resets the editors
    names = [f"W{j + 1}" for j in range(len(cfg.hidden))] + ["Wout"]
    new_w, new_b = [], []
    for name, table in zip(names, _tables(current), strict=True):
        n_from = len(table[0]) - 1
        st.markdown(f"**{name}** and its biases ({len(table)} × {n_from})")
        out = list(st.data_editor(table, key=f"edit_{name}_{tag}_{version}", width="stretch", num_rows="fixed"))
        new_w.append([[r.get(f"from {k}") for k in range(n_from)] for r in out])
        new_b.append([r.get("bias") for r in out])
    flat = [v for m in new_w for row in m for v in row] + [v for bb in new_b for v in bb]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= MAX_WEIGHT
               for v in flat):
        st.error(f"Every weight and bias must be a finite number in [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}]; the last "
                 "valid network is kept.", icon=":material/error:")
    elif new_w != current["weights"] or new_b != current["biases"]:
        if new_w == seed_net["weights"] and new_b == seed_net["biases"]:
            store.pop(tag, None)
        else:
            store[tag] = json.dumps({"input": seed_net["input"], "weights": new_w, "biases": new_b})
        st.rerun()
    if tag in store and st.button("Back to the seed's weights", icon=":material/restart_alt:"):
        store.pop(tag, None)
        st.rerun()


try:
    cfg_now = EstimatorConfig.from_mapping(values)
except ValueError:
    cfg_now = None
edits = st.session_state.setdefault("estimator_edits", {})  # per network structure and seed, for this session
while len(edits) > 20:  # bounded per-session state: forget the oldest edited networks
    edits.pop(next(iter(edits)))
edited = None
if cfg_now is not None:
    tag = "_".join(str(v) for v in (cfg_now.n_in, *cfg_now.hidden, cfg_now.seed, cfg_now.weight_scale))
    label = "Edit the weights by hand" + (" — edited" if tag in edits else "")
    editor = st.expander(label, key="weights_open", on_change="rerun", icon=":material/edit:")
    if editor.open:
        with editor:
            st.caption("Change any entry and everything below is recomputed for your network (kept while you move "
                       "the other sliders and when you close this panel; not part of the link — download "
                       "network.json to keep it). The input x stays; rows are receiving units, columns sending units.")
            weight_editor(cfg_now, edits, tag)
    edited = edits.get(tag)

result = compute_or_keep("estimators", lambda: compute(EstimatorConfig.from_mapping(values), edited),
                         fallback=lambda: compute(EstimatorConfig(), None))
if result is None:
    st.stop()
view, sweep, figs = result
cfg = view.config
net = view.net
rel_sg, n_paths, ok = view.stochastic_sg_relative_bias, view.n_paths, view.stochastic_sg_is_exact
verdict = ("the stochastic SG <b>is</b> the exact gradient of E[y] (single unit, matched SD)" if ok else
           f"the stochastic SG is <b>biased</b>: ‖E[SG] − ∇E[y]‖ = {rel_sg:.1%} of ‖∇E[y]‖ (exact, by enumeration)")
banner(f"E[y] = <b>{view.exact_expected_output:.4f}</b> exactly (sum over {n_paths:,} path{'s' * (n_paths > 1)}); "
       f"{verdict}.", ok=ok)
for note in view.notes:
    st.info(note[0].upper() + note[1:] + ".", icon=":material/info:")

m1, m2, m3, m4 = st.columns(4)
m1.metric("Exact E[y]", f"{view.exact_expected_output:.4f}")
m2.metric(f"Monte Carlo E[y], K = {cfg.samples:,}", f"{view.mc_expected_output:.4f}",
          help=f"± {view.mc_expected_output_stderr:.4f} (one standard error)")
m3.metric("‖∇E[y]‖ (exact)", f"{view.exact_gradient_norm:.4g}")
m4.metric("SG bias (exact, relative)", f"{rel_sg:.2%}" if np.isfinite(rel_sg) else "undefined")

st.subheader("The tree of spike patterns")
t1, t2 = st.columns([3, 2])
with t1:
    if figs["tree"] is not None:
        chart(figs["tree"], key="fig_tree")
    else:
        st.info(f"The tree is drawn up to 8 hidden units; this network has {net.n_hidden}. The exact values below "
                "still enumerate all of its paths.", icon=":material/account_tree:")
with t2:
    st.latex(r"u_l = W_l h_{l-1} + b_l,\qquad p_l = \sigma\big(\beta_N (u_l - \theta)\big)")
    st.latex(r"h_l \sim \mathrm{Ber}(p_l)")
    st.latex(r"\mathbb{E}[y] = \sum_{\text{paths}} P(h_1,\dots,h_L)\; p_{\mathrm{out}}(h_L)")
    st.latex(r"\frac{\partial\,\mathbb{E}[y]}{\partial W_l} = \sum_{\text{paths}} P\,p_{\mathrm{out}}\,\beta_N "
             r"(h_l - p_l)\,h_{l-1}^{\top}")
    path = view.path
    rows = [f"h{j + 1} = {''.join(str(int(b)) for b in h)},  E[h{j + 1} | h{j}] = "
            f"({', '.join(f'{p:.2f}' for p in pr)})" for j, (h, pr) in enumerate(zip(path.h[:-1], path.p[:-1],
                                                                                        strict=True))]
    rows.append(f"y = {path.y},  E[y | h_L] = {path.output_rate:.3f}")
    st.markdown("**One sampled forward pass** (the yellow path, P = "
                f"{path.path_probability:.3g}):\n\n" + "\n".join(f"- `{r}`" for r in rows))
    st.caption("The stochastic SG back-propagates along this path through the conditional expectations "
               "E[h_l | h_{l−1}] — the smoothed stochastic derivative of Fig. 3. The exact gradient averages over "
               "every path; the deterministic SG follows the single Heaviside roll-out instead.")

st.subheader("Every estimator against the exact gradient")
stats_rows = []
for name, s in view.stats.items():
    stats_rows.append({
        "estimator": SHORT_LABELS[name], "‖mean − ∇E[y]‖": s.bias_norm, "± s.e.": s.bias_norm_stderr,
        "noise floor": s.noise_floor, "variance tr S": s.variance, "cosine of mean": s.cosine,
        "p (H0: unbiased)": s.p_value, "bias": s.verdict})
st.dataframe(arrow(stats_rows), hide_index=True, width="stretch",
             column_config={k: st.column_config.NumberColumn(format="%.4g") for k in
                            ("‖mean − ∇E[y]‖", "± s.e.", "noise floor", "variance tr S", "cosine of mean",
                             "p (H0: unbiased)")})
st.caption(f"K = {cfg.samples:,} independent estimates each. An unbiased estimator's ‖mean − ∇E[y]‖ sits at its "
           "noise floor √(tr S / K); the p-value is a split-sample t-test of the bias along the direction the first "
           f"half of the samples suggests ('biased' when p < {BIAS_ALPHA:g}). Finite differences use ε = "
           f"{cfg.fd_eps:g} (bias O(ε²)); REINFORCE uses a baseline from an independent batch.")

c1, c2 = st.columns(2)
with c1:
    chart(figs["convergence"], key="fig_convergence")
    st.caption("Solid: error of the average of the first K estimates; dotted: each estimator's noise floor (what an "
               "unbiased one reaches). Dashed amber: the stochastic SG's exact bias — its error stops falling there.")
with c2:
    chart(figs["cosines"], key="fig_cosines")
    st.caption("Single estimates (cf. Fig. S1B): the SG's per-sample directions are close to the true gradient; "
               "finite differences and REINFORCE are right only on average.")

st.subheader("Where the bias comes from")
d1, d2 = st.columns([3, 2])
with d1:
    st.markdown("With **no hidden layer** and β_SG = β_N the stochastic SG is the exact derivative of E[y] "
                "(Eq. 6 = Eq. 8). With hidden layers, the chain rule along one sampled path multiplies conditional "
                "derivatives, and the expectation of a product is not the product of expectations: "
                "**in multilayer networks, SGs do not correspond to the derivative of the expected output** "
                "(Gygax & Zenke, flash-talk abstract).")
with d2:
    st.latex(r"\mathbb{E}_{\text{paths}}\Big[\prod_l \mathrm{SD}(u_l)\,W_l\Big] \;\neq\; "
             r"\frac{\partial\,\mathbb{E}[y]}{\partial h_0}")
chart(figs["sweep"], key="fig_sweep")
st.caption("Left: bias of the SGs' expectations against β_SG at the current β_N (dotted line); the stochastic SG's "
           "is smallest near β_SG = β_N. Right: matched SGs (β_SG = β_N) with the same weights as the noise "
           "changes: the bias vanishes as β_N → 0 (every unit near p = ½, the network nearly linear) and, over random "
           "networks, typically grows as the noise sharpens. All exact, by enumeration — no sampling noise.")
chart(figs["parameters"], key="fig_parameters")

st.subheader("Download the numbers")
e1, e2 = st.columns(2)
e1.download_button("gradients.csv", data=lambda: csv_tables(view)["gradients"], file_name="estimator_gradients.csv",
                   mime="text/csv", icon=":material/download:", on_click="ignore", key="dl_gradients")
e2.download_button("network.json", data=lambda: json.dumps(to_jsonable(view.net), indent=1),
                   file_name="estimator_network.json", mime="application/json", icon=":material/download:",
                   on_click="ignore", key="dl_network")
st.caption(", ".join(f"{SHORT_LABELS[k]}" for k in view.stats) + ": means per parameter in gradients.csv, in the "
           "order W1 (row-major), b1, …, Wout, bout.")
