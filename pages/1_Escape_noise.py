"""Escape noise vs surrogate derivative (Gygax & Zenke Sec. 3.1, Methods 8.2, App. B)."""

import streamlit as st

from sgapp.caching import shared
from sgapp.charts import chart
from sgapp.controls import compute_or_keep, open_page, surrogate_widgets, widget
from sgapp.layout import banner
from sgcore import ESCAPE_FAMILIES, SCALINGS, SHAPES, EscapeConfig, escape_view
from sgcore.export import csv_tables
from sgcore.figures import escape_figures
from sgcore.pages import PAGES

PAGE = PAGES["escape"]
P = {p.name: p for p in PAGE.specs}


# Results and figures are immutable and shared read-only across sessions: no copy per hit.
@shared(max_entries=64)
def compute(cfg: EscapeConfig):
    view = escape_view(cfg)
    return view, escape_figures(view)


open_page(PAGE, "Escape noise vs surrogate derivative",
          "Gygax & Zenke (2024), Sec. 3.1, Methods 8.2 and App. B: a single deterministic and "
          "stochastic Perceptron. When the surrogate derivative (SD) matches the derivative of "
          "the escape-noise function, it *is* the derivative of the expected output.")

with st.sidebar:
    st.markdown("**Stochastic neuron**")
    escape = widget(P["escape"])
    st.caption(ESCAPE_FAMILIES[escape].label)
    values = {"escape": escape, "beta_n": widget(P["beta_n"]), "theta": widget(P["theta"])}
    if escape == "exponential":
        values["rho0_dt"] = widget(P["rho0_dt"])
    values |= surrogate_widgets(P)
    with st.expander("Sampling and resolution"):
        for name in ("u_span", "n_inputs", "n_trials", "n_samples", "n_points", "seed"):
            values[name] = widget(P[name])

result = compute_or_keep("escape", lambda: compute(EscapeConfig.from_mapping(values)),
                         fallback=lambda: compute(EscapeConfig()))
if result is None:
    st.stop()
view, figs = result
cfg = view.config
shape = SHAPES[cfg.shape]
scale = cfg.resolved_scale
family = ESCAPE_FAMILIES[cfg.escape]

if view.matched:
    banner("<b>Matched</b>: the SD equals ∂E[y]/∂u exactly (Eq. 6 = Eq. 8). "
           f"Relative L2 distance {view.rel_l2_diff:.1e}.", ok=True)
else:
    banner(f"<b>Not matched</b>: relative L2 distance {view.rel_l2_diff:.1%}, "
           f"max |Δ| = {view.max_abs_diff:.3g}. " + "; ".join(view.mismatch) + ".", ok=False)
for note in view.notes:  # values beyond float range are not drawn; say where
    st.info(note[0].upper() + note[1:] + ".", icon=":material/info:")

m1, m2, m3, m4 = st.columns(4)
m1.metric("Peak ∂E[y]/∂u", f"{view.peak_d_expected_output:.3g}")
m2.metric("Peak SD", f"{view.peak_surrogate_derivative:.3g}")
m3.metric("SD scaling", scale, help=SCALINGS[scale])
m4.metric("SD sharpness s, dampening γ", f"{view.sd_s:.3g}, {view.sd_gamma:.3g}")

c1, c2 = st.columns(2)
with c1:
    chart(figs["expected"], key="fig_expected")
    st.latex(r"\text{(4, 5)}\quad u = W^\top x + b,\qquad y = H(u-\theta)")
    st.latex(r"\text{(7)}\quad y \sim \mathrm{Ber}(p),\qquad " + family.p_latex)
    st.caption("H(0) = 1/2, the step limit of a sigmoid at 0. "
               f"Escape noise: {family.label} (threshold noise {family.noise}).")
with c2:
    chart(figs["derivative"], key="fig_derivative")
    st.latex(r"\text{(8)}\quad \frac{\partial}{\partial u}\mathbb{E}[y] = \frac{\partial p}{\partial u}"
             r"\qquad\text{(6)}\quad \widetilde{\frac{\partial y}{\partial u}} \leftarrow \mathrm{SD}(u)")
    st.latex(r"\mathrm{SD}(u) = \gamma\, f\!\left(s\,(u-\theta)\right),\qquad f(v) = " + shape.f_latex)
    st.latex(shape.beta_to_s_latex.replace(r"\beta", r"\beta_{SG}") + r",\qquad \gamma = "
             + {"density": "s", "peak": "1", "gamma": rf"{cfg.gamma:g}"}[scale]
             + r"\ \text{(" + scale + ")}")
    st.caption(f"{shape.label}: {shape.reference}. f has peak 1 and unit area (Herranz-Celotti Table S1).")

st.subheader("Trial rasters over an input sweep (Fig. 1C, D)")
chart(figs["rasters"], key="fig_rasters")
st.caption(f"{cfg.n_trials} trials × {cfg.n_inputs} inputs. The deterministic Perceptron gives the "
           "same output in every trial; the stochastic one fires with probability p(u). Both share "
           "the same SD on the backward pass, so their weight updates differ only through y.")

c3, c4 = st.columns(2)
with c3:
    chart(figs["thresholds"], key="fig_thresholds")
    st.latex(r"\text{(25)}\quad y = H(u-\Theta),\qquad \Theta = \theta + \xi")
    st.latex(family.noise_latex + r",\qquad x\sim\mathcal{U}(0,1)")
    st.info("**Correction to Eq. 25.** The paper prints ξ = log(1/(1−x)): that is Exp(1) noise "
            "(mean 1, never negative), not zero-mean and not the sigmoid's. The noise that makes "
            "H(u − Θ) fire with probability σ(β_N(u − θ)) is logistic, ξ = (1/β_N) log(x/(1−x)), "
            f"used here. Family noise: {family.noise}. Sample mean of Θ: {view.threshold_mean:.3f}.",
            icon=":material/info:")
with c4:
    chart(figs["stochad"], key="fig_stochad")
    st.latex(r"\text{(App. B)}\quad \tilde\delta_R^{tot} = \frac{\mathbb{1}_{y=0}}{1-p}\frac{dp}{du},\qquad "
             r"\tilde\delta_L^{tot} = \frac{\mathbb{1}_{y=1}}{p}\frac{dp}{du}")
    st.latex(r"(1-p)\,\tilde\delta_R^{tot} + p\,\tilde\delta_L^{tot} = \frac{dp}{du}"
             r"\quad\text{for } y = 0 \text{ and } y = 1")
    st.caption("App. B, Fig. S3: for the sampled realisation (first stochastic trial), each input "
               "has either y = 0 (right derivative) or y = 1 (left derivative); the affine "
               "combination (red ×) lands on ∂E[y]/∂u in both cases, i.e. on the matched SD.")

st.subheader("Download the numbers")
for col, name in zip(st.columns(3), ("curves", "rasters", "thresholds"), strict=True):
    col.download_button(f"{name}.csv", data=lambda name=name: csv_tables(view)[name],
                        file_name=f"escape_{name}.csv", mime="text/csv", icon=":material/download:",
                        on_click="ignore", key=f"dl_{name}")
