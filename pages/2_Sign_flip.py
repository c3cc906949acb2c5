"""Sign-flip landscape: where surrogate gradients point the wrong way (Gygax & Zenke Sec. 4.1, Fig. 4)."""

import streamlit as st

from sgapp.caching import shared
from sgapp.charts import chart
from sgapp.controls import compute_or_keep, open_page, surrogate_widgets, widget
from sgapp.layout import banner
from sgapp.tables import arrow
from sgcore.export import csv_tables
from sgcore.figures import signflip_figures
from sgcore.loop import CIRCULATION_TOLERANCE
from sgcore.pages import PAGES
from sgcore.signflip import SignflipConfig, signflip_view

PAGE = PAGES["signflip"]
P = {p.name: p for p in PAGE.specs}


@shared(max_entries=64)
def compute(cfg: SignflipConfig):
    view = signflip_view(cfg)
    return view, signflip_figures(view)


open_page(PAGE, "Sign-flip landscape",
          "Gygax & Zenke (2024), Sec. 4.1, Eqs. 10–12, Table 1, Fig. 4: in a small differentiable network, "
          "replacing each node's derivative by a flatter surrogate can make the surrogate gradient point "
          "against the true gradient.")

with st.sidebar:
    st.markdown("**Network (Eq. 10)**")
    values = {n: widget(P[n]) for n in ("w", "v1", "v2", "u1", "u2", "x")}
    values["step"] = widget(P["step"])
    if not values["step"]:
        values["beta_f"] = widget(P["beta_f"])
    values |= surrogate_widgets(P, "Surrogate derivative (Eq. 11)")
    with st.expander("Sweep and landscape"):
        for name in ("w_min", "w_max", "n_sweep", "plane_x", "plane_y", "plane_min", "plane_max", "n_grid",
                     "betas_landscape", "component"):
            values[name] = widget(P[name])
    with st.expander("Square path (in the landscape's plane)"):
        for name in ("square_x", "square_y", "square_half"):
            values[name] = widget(P[name])

result = compute_or_keep("signflip", lambda: compute(SignflipConfig.from_mapping(values)),
                         fallback=lambda: compute(SignflipConfig()))
if result is None:
    st.stop()
view, figs = result
cfg, pt = view.config, view.point

fwd = "step (Heaviside, H(0) = 1/2)" if cfg.step else f"sigmoid, β_f = {cfg.beta_f:g}"
if cfg.step:
    banner(f"<b>Step forward</b>: the true dy/dw is 0 almost everywhere, so there is no sign to compare; "
           f"the SG gives dy/dw = {pt.grad_surrogate['w']:.3g} at w = {cfg.w:g}.", ok=True)
elif pt.sign_flip:
    banner(f"<b>Sign flip</b> at the current point: true dy/dw = {pt.grad_true['w']:+.3g}, "
           f"SG dy/dw = {pt.grad_surrogate['w']:+.3g} (β_SG = {cfg.beta_sg:g}, {fwd}).", ok=False)
else:
    banner(f"<b>SG agrees with the gradient</b> at the current point: true dy/dw = {pt.grad_true['w']:+.3g}, "
           f"SG dy/dw = {pt.grad_surrogate['w']:+.3g} (β_SG = {cfg.beta_sg:g}, {fwd}).", ok=True)

m = st.columns(3)
for col, label, true, sg in ((m[0], "two-path", pt.two_path_true, pt.two_path_sg),
                             (m[1], "positive", pt.positive_true, pt.positive_sg),
                             (m[2], "dy/dw", pt.grad_true["w"], pt.grad_surrogate["w"])):
    a, b = col.columns(2)
    a.metric(f"{label}, true", f"{true:+.3g}")
    b.metric(f"{label}, SG", f"{sg:+.3g}")
st.caption("Eq. 12 at the current point: dy/dw = two-path factor × positive factor, with the forward's own "
           "derivative s′ (true) or with the SD (SG).")
if not cfg.w_min <= cfg.w <= cfg.w_max:
    st.caption(f"The current w = {cfg.w:g} lies outside the sweep [{cfg.w_min:g}, {cfg.w_max:g}] "
               "(change it under 'Sweep and landscape').")

st.latex(r"\text{(10)}\quad g = s(wx),\quad h_1 = s(v_1 g),\quad h_2 = s(v_2 g),\quad y = s(u_1 h_1 + u_2 h_2),"
         r"\qquad \text{(11)}\quad \widetilde{s'}(a) \leftarrow \mathrm{SD}(a)")
st.latex(r"\text{(12)}\quad \frac{\partial y}{\partial w} \leftarrow "
         r"\underbrace{\left(u_1 v_1 \mathrm{SD}(v_1 g) + u_2 v_2 \mathrm{SD}(v_2 g)\right)}_{\text{two paths: "
         r"decides the sign}}\ \cdot\ \underbrace{\mathrm{SD}(z)\,\mathrm{SD}(wx)\,x}_{\text{positive for } x>0}")
st.caption("s is a sigmoid of steepness β_f (or the step); the paper's SD is β_SG σ(β_SG a)(1 − σ(β_SG a)) with "
           "no 1/β scaling (any registry shape here). The true derivative is Eq. 12 with s′ in place of SD. The "
           "paper writes the positive factor as β_SG³ σ′(·)σ′(·)x, with σ′ the standard sigmoid's derivative at "
           "the scaled argument; here each SD carries its own β_SG. Only dy/dw sums two paths, so only it can "
           "flip sign; dy/dv₁, dy/dv₂, dy/du₁ and dy/du₂ are single products with the same signed weights and "
           "keep the true sign (check with the component selector).")

c1, c2 = st.columns(2)
chart(figs["sweep_outputs"], key="fig_sweep_outputs", container=c1)
chart(figs["sweep_grads"], key="fig_sweep_grads", container=c2)
st.caption("Fig. 4B. The smoothed output is the network run forward with the SD's antiderivative (for the "
           "sigmoid SD: a sigmoid of steepness β_SG); the integrated SG starts at the output's value at the left "
           "end (trapezoid rule). Shaded: the SG and the true dy/dw have opposite signs. The SG curve has its own "
           "axis on the right; both axes are centred on zero. The paper's Fig. 4B prints β_SG = 15 and 25; the "
           "authors' notebook used 15 and 30: both are presets.")

st.subheader(f"Landscape over ({cfg.plane_x}, {cfg.plane_y}) (Fig. 4C)")
chart(figs["landscape"], key="fig_landscape")
st.caption("Heatmap: the network output y (it does not depend on β_SG). Arrows show directions of the true "
           "gradient ∇y (dark; none where it vanishes) and of the SG (orange) for each β_SG. Where the true "
           "gradient is numerically zero on a plateau, the SG still points somewhere: that is what lets SG "
           "descent leave plateaus (Fig. 4C).")

d1, d2 = st.columns([3, 2])
chart(figs["disagreement"], key="fig_disagreement", container=d1)
with d2:
    st.markdown(f"**Fraction of the plane where the SG points the wrong way** (β_SG = {cfg.beta_sg:g}, "
                f"{view.plane.a.size}×{view.plane.b.size} grid):")
    st.dataframe(arrow({"component": [f"dy/d{k}" for k in view.plane.fractions],
                        "opposite sign": [f"{f:.2%}" for f in view.plane.fractions.values()]}),
                 hide_index=True, width="stretch")
    st.caption("Opposite sign means strictly opposite: where the true component is exactly 0 (e.g. with the "
               "step forward, or where a sigmoid derivative underflows) the point is counted as neither.")

sq = view.square
st.subheader(f"Path test: the SG integrated around a square in ({sq.axis_x}, {sq.axis_y})")
lo_x, lo_y = sq.corners[2]
hi_x, hi_y = sq.corners[0]
worst = max(sq.loop_sg, key=lambda b: abs(sq.loop_sg[b]))
exact_txt = ("the true gradient of the step forward is 0 almost everywhere, so its integral is 0 and says nothing"
             if cfg.step else f"the true gradient integrates to {sq.loop_exact:+.1e} (estimated error "
             f"{sq.loop_exact_error:.0e})")
verdict = (f"not 0: on this plane the SG is not the gradient of any function of ({sq.axis_x}, {sq.axis_y})"
           if abs(sq.loop_sg[worst]) > CIRCULATION_TOLERANCE else
           "zero to within 1e-6 here: move or grow the square (the SG's curl sits where the forward is steep)")
st.markdown(f"Around the square [{lo_x:g}, {hi_x:g}] × [{lo_y:g}, {hi_y:g}] the SG integrates to "
            f"**{sq.loop_sg[worst]:+.4g}** (β_SG = {worst:g}), {verdict}; {exact_txt}.")
q1, q2 = st.columns([3, 2])
chart(figs["square"], key="fig_square", container=q1)
with q2:
    st.latex(r"\oint_{\square} \widetilde{\nabla} y \cdot d\theta = \int_0^{2\pi} \widetilde{\nabla}y(\theta(t))"
             r"\cdot \theta'(t)\, dt")
    st.dataframe(arrow({"field": [f"SG, β_SG = {b:g}" for b in sq.loop_sg] + ["true ∇y"],
                        "∮ around the square": [f"{v:+.6f}" for v in sq.loop_sg.values()]
                        + [f"{sq.loop_exact:+.1e}"],
                        "estimated error": [f"{e:.1e}" for e in sq.loop_sg_error.values()]
                        + [f"{sq.loop_exact_error:.1e}"]}),
                 hide_index=True, width="stretch")
    st.caption(f"The square starts at the middle of its top side (▶ on the landscape) and runs clockwise: right, "
               f"down, left, up; the other parameters stay at the current point. Gauss–Kronrod on the pieces "
               f"between the corners and the forward's {sq.breaks.size} transitions, halved until the estimated "
               "error is below 1e-10 of ∫|integrand|. The loop page integrates around circles and squares in any "
               "plane.")

st.subheader("Download the numbers")
for col, name in zip(st.columns(3), ("sweep", "plane", "square"), strict=True):
    col.download_button(f"{name}.csv", data=lambda name=name: csv_tables(view)[name],
                        file_name=f"signflip_{name}.csv", mime="text/csv", icon=":material/download:",
                        on_click="ignore", key=f"dl_{name}")
