"""LocalZO: zeroth-order surrogates, sampling any surrogate, sparse backward passes (Mukhoty et al. 2023)."""

import math

import pandas as pd
import streamlit as st

from sgapp.caching import shared
from sgapp.charts import chart
from sgapp.controls import compute_or_keep, open_page, widget
from sgapp.layout import banner
from sgapp.tables import arrow
from sgcore import SHAPES
from sgcore.export import csv_tables
from sgcore.figures import localzo_figures
from sgcore.localzo import DISTRIBUTIONS, LocalZOConfig, localzo_view, paper_checks
from sgcore.pages import PAGES

PAGE = PAGES["localzo"]
P = {p.name: p for p in PAGE.specs}


@shared(max_entries=64)
def compute(cfg: LocalZOConfig):
    view = localzo_view(cfg)
    return view, localzo_figures(view)


@shared()
def checks() -> pd.DataFrame:
    """The paper's printed numbers recomputed, as a table built once per process (not on every rerun)."""
    rows = paper_checks()
    return arrow(pd.DataFrame(
        {"where": [r.where for r in rows], "quantity": [r.quantity for r in rows],
         "printed": [r.printed for r in rows], "computed": [f"{r.computed:.6g}" for r in rows],
         "holds": ["✓" if r.holds else "✗" for r in rows], "comment": [r.comment for r in rows]}))


open_page(PAGE, "LocalZO: surrogates from zeroth-order estimates",
          "Mukhoty et al. (2023), Sec. 3–4 and App. A. A 2-point finite difference of the Heaviside with a random "
          "step z·δ is zero or |z|^α/(2δ): averaged over z it is a surrogate derivative, any surrogate can be "
          "reproduced by choosing z's distribution (Theorem 3), and most neurons get an exact zero in the backward "
          "pass.")

with st.sidebar:
    st.markdown("**Where z comes from**")
    values = {"source": widget(P["source"])}
    from_dist = values["source"] == "distribution"
    values["dist"] = widget(P["dist"], disabled=not from_dist)
    if from_dist:
        st.caption(f"{DISTRIBUTIONS[values['dist']].label} — {DISTRIBUTIONS[values['dist']].method}")
    values["target"] = widget(P["target"], disabled=from_dist)
    values["k"] = widget(P["k"], disabled=from_dist)
    if not from_dist:
        target = SHAPES[values["target"]]
        st.caption(f"{target.name} = the paper's {target.target_label}" if target.target_label else target.label)
    if any(own.name == "q" for own in SHAPES[values["target"]].params):
        values["q"] = widget(P["q"], disabled=from_dist)
    st.markdown("**Estimator**")
    for name in ("delta", "m", "alpha"):
        values[name] = widget(P[name])
    st.markdown("**Membrane potentials (active fraction)**")
    values["u_dist"] = widget(P["u_dist"])
    for name in (("u_lo", "u_hi") if values["u_dist"] == "uniform" else ("u_mean", "u_std")):
        values[name] = widget(P[name])
    with st.expander("Sampling and resolution"):
        for name in ("n_samples", "u_span", "n_points", "seed"):
            values[name] = widget(P[name])

result = compute_or_keep("localzo", lambda: compute(LocalZOConfig.from_mapping(values)),
                         fallback=lambda: compute(LocalZOConfig()))
if result is None:
    st.stop()
view, figs = result
cfg = view.config

if view.target is not None:
    rel = float(abs(view.expected - view.target).max() / view.target.max())
    banner(f"<b>Theorem 3</b>: sampling z from λ and scaling by c = {view.weight:.4g} reproduces "
           f"{view.source_label} (largest gap between c·E[G2] and g: {rel:.1e} of its peak).", ok=True)
else:
    banner(f"<b>{view.source_label}</b>, δ = {cfg.delta:g}, m = {cfg.m}, α = {cfg.a}: the expected estimate is a "
           f"surrogate with area {view.area:.4g} ({view.method}).", ok=True)
for note in view.notes:
    st.warning(note[0].upper() + note[1:] + ".", icon=":material/all_inclusive:")

bth_text = "∞" if math.isinf(view.bth) else f"{view.bth:.4g}"
m1, m2, m3, m4 = st.columns(4)
bth_help = (None if view.bth_over_delta_error is None or math.isinf(view.bth_over_delta)
            else f"Quadrature of 1 − R(y)^m; estimated error ≤ {view.bth_over_delta_error:.1e}.")
m1.metric("B_th / δ = E[max |z_k|]", "∞" if math.isinf(view.bth_over_delta) else f"{view.bth_over_delta:.4f}",
          help=bth_help)
m2.metric("Expected threshold B_th", bth_text)
m3.metric("Active: LocalZO", f"{view.active_localzo:.2%}")
m4.metric("Active: SparseGrad", f"{view.active_sparse:.2%}",
          delta=f"{view.active_sparse - view.active_localzo:+.2%} vs LocalZO", delta_color="off")

c1, c2 = st.columns(2)
with c1:
    chart(figs["estimator"], key="fig_estimator")
    st.latex(r"\text{(8)}\quad G_2(u; z, \delta) = \begin{cases}\frac{|z|^\alpha}{2\delta} & |u| \le |z|\,\delta\\"
             r" 0 & \text{otherwise}\end{cases}")
    st.latex(r"\text{(7)}\quad \widehat{\tfrac{dH}{du}} = \frac{1}{m}\sum_{k=1}^m G_2(u; z_k, \delta)")
    st.latex(r"\text{(9)}\quad \mathbb{E}_{z\sim\lambda}[G_2] = \frac{1}{\delta}\int_{|u|/\delta}^{\infty} "
             r"z^\alpha \lambda(z)\,dz")
    if cfg.source == "distribution" and cfg.a == 1 and DISTRIBUTIONS[cfg.dist].expected_latex:
        st.latex(r"\mathbb{E}[G_2] = " + DISTRIBUTIONS[cfg.dist].expected_latex)
    st.caption("Grey: one estimate per u with its own z (what one neuron gets in one backward pass). Amber: the "
               "average of many. Red dotted: SparseGrad (paper Eq. 4) keeps the expected surrogate only where "
               "|u| < B_th (shaded).")
with c2:
    chart(figs["variance"], key="fig_variance")
    st.latex(r"\mathrm{Var}[cG_2] = \frac{c^2}{4\delta^2}\,\mathbb{E}\!\left[|z|^{2\alpha};\,|z| \ge "
             r"\tfrac{|u|}{\delta}\right] - \left(c\,\mathbb{E}[G_2]\right)^2")
    st.latex(r"\mathrm{Var}\Big[\tfrac{1}{m}\textstyle\sum_{k=1}^m cG_2(u; z_k)\Big] = \mathrm{Var}[cG_2]/m")
    st.caption("Exact, from the same tail integrals as the mean. Where E[|z|^{2α}] diverges (the fast sigmoid with "
               "α = −1 at u = 0, or any λ with λ(0) > 0 and α < 0) the variance is infinite and is marked, "
               "not printed as a number.")

st.subheader("Sampling z: inverse transform and Monte Carlo")
c3, c4 = st.columns(2)
with c3:
    chart(figs["density"], key="fig_density")
    if cfg.source == "surrogate":
        st.latex(r"\text{Thm. 3}\quad \lambda(z) = -\frac{\delta^2\, g'(z\delta)}{c\, z^\alpha},\qquad "
                 r"c\,\mathbb{E}[G_2] = g")
        st.latex(r"c = -2\delta^2 \int_0^\infty \frac{g'(z\delta)}{z^\alpha}\,dz = " + f"{view.weight:.5g}")
        if view.table_error is not None:
            st.caption(f"Sampler: {view.sampler}, largest CDF error {view.table_error:.1e} (Kolmogorov distance). "
                       "The table inverts |z|'s CDF (closed form, or cumulative Gauss–Legendre quadrature for the "
                       "sigmoid with α = 1) on 60 000 log-spaced points; the sign of z is drawn separately, so the "
                       "samples are exactly symmetric.")
        elif view.sampler == "point mass":
            st.caption("Sampler: a point mass at |z| = 1/(2sδ) (the rectangular surrogate's g' is two spikes), "
                       "with a random sign.")
        else:
            st.caption(f"Sampler: {view.sampler} of |z| in closed form, exact (no table); the sign of z is drawn "
                       "separately.")
    else:
        st.latex(r"\lambda(z) = " + DISTRIBUTIONS[cfg.dist].pdf_latex)
        st.latex(r"\text{(13, 14)}\quad F_{|z|}(x) = 2\,(F_z(x) - F_z(0))")
        st.caption(f"Sampler: {view.sampler}.")
with c4:
    chart(figs["convergence"], key="fig_convergence")
    st.caption("Largest error over the plotted u of the average of N estimates, against the exact expected "
               "surrogate; it falls like 1/√N (dotted). Points where the variance is infinite are left out.")

st.subheader("Sparse backward pass: LocalZO vs SparseGrad at the same expected threshold")
chart(figs["active"], key="fig_active")
st.latex(r"\text{(15–17)}\quad \tilde B_{th} = \delta\,\mathbb{E}\big[\max_k |z_k|\big] = "
         r"\delta\int_0^\infty \left(1 - F_{|z|}(t)^m\right)dt,\qquad "
         r"P_{\text{active}} = \mathbb{E}_u\!\left[1 - F_{|z|}\!\left(\tfrac{|u|}{\delta}\right)^{m}\right]")
st.caption("Potentials: " + (f"uniform on [{cfg.u_lo:g}, {cfg.u_hi:g}]" if cfg.u_dist == "uniform"
                             else f"normal, mean {cfg.u_mean:g}, s.d. {cfg.u_std:g}")
           + ". LocalZO's threshold is random, SparseGrad's fixed; at the same expected threshold they keep "
             "different fractions of neurons. Any m works here (the official code handles m = 1 and 5 only).")

st.subheader("Correspondences and the paper's numbers")
k1, k2 = st.columns(2)
with k1:
    st.markdown("**LocalZO-Normal(δ) is the gaussian shape** with γ = s = 1/(δ√(2π)); **the sigmoid of steepness "
                "k is d-sigmoid** with γ = s = k/4 (Herranz-Celotti form γ f(s u)). Both are checked in the tests "
                "to machine precision.")
    st.latex(r"\frac{1}{\delta\sqrt{2\pi}}e^{-u^2/2\delta^2} = \gamma\,e^{-\pi s^2u^2}\Big|_{\gamma=s="
             r"\frac{1}{\delta\sqrt{2\pi}}}")
    st.latex(r"k\,\sigma'(ku) = \gamma\,4\sigma'(4su)\Big|_{\gamma=s=k/4}")
    st.markdown("**The sigmoid constant.** The paper's 1/a² = 0.4262 is")
    st.latex(r"2\int_0^\infty \frac{e^{-x}(1-e^{-x})}{x\,(1+e^{-x})^3}\,dx = \frac{1}{2}\int_0^\infty "
             r"\frac{\tanh y\,\mathrm{sech}^2 y}{y}\,dy")
    st.latex(r"= \frac{7\,\zeta(3)}{2\pi^2} = 0.426278\ldots")
    st.caption("With σ'' = −e^{−x}(1−e^{−x})/(1+e^{−x})³ = −¼ tanh(x/2) sech²(x/2), and "
               "∫₀^∞ tanh y sech² y / y dy = 7ζ(3)/π².")
with k2:
    st.info("**Does not hold: the fast sigmoid's B_th = 0.0461 (Sec. 5.2).** Integrating the paper's own formula "
            "(2/k)∫₀^{kδ·10} x²/(1+x)³ dx with k = 100, δ = 0.05 on the stated support [−10, 10] gives 0.0494 "
            "(0.0514 with the truncated density renormalised). Table 1's 1.569 (Normal, m = 5) and the constant "
            "0.4262 are truncated, not rounded (1.5698, 0.42628). Typographical slips with no numeric effect: the "
            "middle step of Eq. 10 drops the limit |u|/δ, Table 1 prints Unif([√3, √3]), Fig. 2 and Table 2 print "
            "Laplace(1, 1/√2) for the zero-mean Laplace(0, 1/√2), and Eq. 7 writes dx/dt for dx/du.",
            icon=":material/fact_check:")
st.table(checks(), hide_index=True, border="horizontal")

st.subheader("Download the numbers")
for col, name in zip(st.columns(2), ("curves", "threshold_by_m"), strict=True):
    col.download_button(f"{name}.csv", data=lambda name=name: csv_tables(view)[name],
                        file_name=f"localzo_{name}.csv", mime="text/csv", icon=":material/download:",
                        on_click="ignore", key=f"dl_{name}")
