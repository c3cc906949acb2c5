"""Loop integrals: surrogate gradients are not the gradient of any loss (Gygax & Zenke Sec. 4.2, Fig. 5)."""

import streamlit as st

from sgapp.caching import shared
from sgapp.charts import chart
from sgapp.controls import compute_or_keep, open_page, surrogate_widgets, widget
from sgapp.layout import banner
from sgapp.tables import arrow
from sgcore.export import csv_tables
from sgcore.figures import fig_accumulated, fig_convergence, fig_curl, fig_heatmaps
from sgcore.loop import LoopConfig, loop_curl, loop_heatmaps, loop_integrals, part_key
from sgcore.pages import PAGES

PAGE = PAGES["loop"]
P = {p.name: p for p in PAGE.specs}


# Each part depends on a subset of the parameters: a slider recomputes only the parts it affects.
@shared(max_entries=32)
def heatmaps(key: LoopConfig):
    hm = loop_heatmaps(key)
    return hm, fig_heatmaps(hm, key)


@shared(max_entries=32)
def integrals(key: LoopConfig):
    li = loop_integrals(key)
    return li, fig_accumulated(li, key), fig_convergence(li)


@shared(max_entries=32)
def curl(key: LoopConfig):
    cu = loop_curl(key)
    return cu, fig_curl(cu, key)


def compute(cfg: LoopConfig):
    return cfg, heatmaps(part_key(cfg, "heatmaps")), integrals(part_key(cfg, "integrals")), curl(part_key(cfg, "curl"))


open_page(PAGE, "Loop integrals: SGs are not gradients",
          "Gygax & Zenke (2024), Sec. 4.2, Fig. 5, Methods 8.3: if a vector field is the gradient of some "
          "function, its integral around every closed path is zero. The SG field of the Eq. 10 network is not.")

with st.sidebar:
    st.markdown("**Plane and path**")
    values = {"plane": widget(P["plane"])}
    if values["plane"] == "random":
        values["seed"] = widget(P["seed"])
    if values["plane"] == "axes":
        values["axis_a"], values["axis_b"] = widget(P["axis_a"]), widget(P["axis_b"])
    values["path"] = widget(P["path"])
    values["radius"] = widget(P["radius"])
    with st.expander("Centre c (w, v1, v2, u1, u2)"):
        for n in ("c_w", "c_v1", "c_v2", "c_u1", "c_u2"):
            values[n] = widget(P[n])
    values["x"] = widget(P["x"])
    st.markdown("**Forward**")
    values["forward"] = widget(P["forward"])
    values["beta_f"] = widget(P["beta_f"])
    values |= surrogate_widgets(P, "Surrogate derivative", beta="betas_sg")
    with st.expander("Convergence, curl map, resolution"):
        for n in ("max_steps", "curl_beta_f", "curl_beta_sg", "n_grid"):
            values[n] = widget(P[n])

result = compute_or_keep("loop", lambda: compute(LoopConfig.from_mapping(values)),
                         fallback=lambda: compute(LoopConfig()))
if result is None:
    st.stop()
cfg, (hm, fig_hm), (li, fig_acc, fig_conv), (cu, fig_cu) = result

if li.circulates:
    banner(f"<b>Not conservative</b>: ∮ SG · dθ = {li.worst_loop_sg:+.4g} around the {cfg.path} (β_SG = "
           f"{li.worst_beta:g}, estimated quadrature error {li.loop_sg_error[li.worst_beta]:.0e}), while the exact "
           f"gradients integrate to |∮ ∇y · dθ| ≤ {li.exact_loop_max:.1e} (estimated error ≤ "
           f"{max(li.loop_exact_error.values()):.0e}).",
           ok=False)
else:
    banner(f"<b>No circulation on this {cfg.path}</b>: |∮ SG · dθ| ≤ {abs(li.worst_loop_sg):.1e} for every β_SG "
           "(e.g. where the field vanishes or the plane misses the non-conservative part); try another plane, "
           "centre or radius.", ok=True)

if cfg.path == "circle":
    st.latex(r"\theta(\alpha) = c + r\,(d_1 \sin\alpha + d_2 \cos\alpha),\qquad "
             r"I_{SG} = \int_{0}^{2\pi} \widetilde{\nabla}y(\theta(\alpha)) \cdot \frac{d\theta}{d\alpha}\, d\alpha,"
             r"\qquad \frac{d\theta}{d\alpha} = r\,(d_1 \cos\alpha - d_2 \sin\alpha)")
else:
    st.latex(r"\theta(t) = c + a(t)\,d_1 + b(t)\,d_2,\quad (a, b)\ \text{runs round}\ [-r, r]^2\ \text{from}\ (0, r)"
             r"\ \text{at speed}\ \tfrac{8r}{2\pi},\qquad I_{SG} = \int_{0}^{2\pi} \widetilde{\nabla}y(\theta(t))"
             r"\cdot \theta'(t)\, dt")
plane_txt = {"fig5": "the paper's Fig. 5 plane (the authors' vectors, re-orthonormalised in float64)",
             "random": f"random orthonormal directions from seed {cfg.seed}: Gram–Schmidt of "
                       f"numpy.random.default_rng({cfg.seed}).standard_normal((2, 5))",
             "axes": f"the ({cfg.axis_a}, {cfg.axis_b}) axes"}[cfg.plane]
start = "α = 0 at c + r d₂, increasing toward +d₁" if cfg.path == "circle" else \
    "t = 0 at c + r d₂ (the middle of the top side), running toward +d₁ (clockwise)"
st.caption(f"Plane: {plane_txt}. {start}. The integrand includes the step length dθ/dt (the authors' notebook "
           "summed directional derivatives without it). d₁ and d₂ over (w, v₁, v₂, u₁, u₂), to the last bit "
           "(copy them to rebuild the plane in another tool):")
st.code("\n".join(f"d{i + 1} = [{', '.join(repr(float(v)) for v in hm.basis[i])}]" for i in range(2)),
        language="python", wrap_lines=True)

chart(fig_hm, key="fig_heatmaps")
st.caption(f"Fig. 5A: the network output over the plane, with the {cfg.path}, its start and its direction.")

c1, c2 = st.columns(2)
chart(fig_acc, key="fig_accumulated", container=c1)
chart(fig_conv, key="fig_convergence", container=c2)
st.caption(f"Fig. 5B: the SG accumulations start at the output's value and end away from it; the exact gradient of "
           f"each smooth network (dotted) tracks its own output and returns to the start. Fig. 5C (the authors "
           f"published no code for it): the plain midpoint rule converges to the accurate values (dashed lines: "
           f"Gauss–Kronrod between the forward's {li.breaks.size} breaks, graded toward each break and halved "
           "until the estimate is below 1e-10 of ∫|integrand|; the exact loops are graded toward their own network's "
           "steep transitions), which are not zero for the SG and zero for exact gradients. With a step forward the "
           "midpoint rule's error falls only like 1/N (it cannot place the jumps); the table gives the accurate "
           "values' estimated errors. "
           + ("The exact gradients' ladder stops at N = 810: it is at round-off (~1e-16) from N ≈ 300."
              if cfg.path == "circle" else
              "The exact gradients' ladder stops at N = 810; on the square the integrand has kinks at the corners, "
              "so even smooth fields converge only like 1/N² there (on the circle they reach round-off by N ≈ 300)."))

rows = {"β_SG": [f"{b:g}" for b in li.loop_sg],
        "∮ SG (accurate)": [f"{v:+.6f}" for v in li.loop_sg.values()],
        "estimated error (SG)": [f"{v:.1e}" for v in li.loop_sg_error.values()],
        f"∮ SG (midpoint, N = {li.ladder[-1]:,})": [f"{v[-1]:+.6f}" for v in li.ladder_sg.values()],
        "∮ exact ∇y of the β_SG sigmoid net": [f"{v:+.1e}" for v in li.loop_exact.values()],
        "estimated error (exact)": [f"{v:.1e}" for v in li.loop_exact_error.values()]}
st.dataframe(arrow(rows), hide_index=True, width="stretch")

st.subheader("Where the SG field is not conservative: its curl")
d1, d2 = st.columns([3, 2])
chart(fig_cu, key="fig_curl", container=d1)
with d2:
    st.latex(r"\mathrm{curl}\,F = \frac{\partial F_b}{\partial a} - \frac{\partial F_a}{\partial b}")
    st.latex(r"\oint F\cdot d\theta = -\iint_{\text{inside}} \mathrm{curl}\,F\; dA")
    st.caption("F_a = SG · d₁ and F_b = SG · d₂ are the SG's components in the plane; the minus sign: the path "
               "runs clockwise in the (a, b) plane as drawn.")
    st.metric("loop integral ∮ F · dθ", f"{cu.stokes_loop:+.6f}")
    st.metric(f"− ∬ curl F dA inside the {cfg.path}", f"{cu.stokes_curl:+.6f}",
              delta=f"relative difference {cu.stokes_relative_difference:.1e}", delta_color="off")
    st.caption(f"A gradient field has zero curl everywhere. With a step forward the SG field jumps where the "
               f"forward state jumps, so its curl sits on those lines as delta functions; the map therefore uses "
               f"a smooth forward (sigmoid, β_f = {cfg.curl_beta_f:g}). The area integral uses Gauss–Legendre in "
               + ("the radius and the periodic rule in the angle" if cfg.path == "circle" else "both directions")
               + ", with the curl from central differences; Stokes "
               "holds to the stated relative difference (tests require < 1e-3).")

st.subheader("Download the numbers")
e1, e2 = st.columns(2)
for col, name in zip((e1, e2), ("accumulated", "convergence"), strict=True):
    col.download_button(f"{name}.csv", data=lambda name=name: csv_tables(li)[name], file_name=f"loop_{name}.csv",
                        mime="text/csv", icon=":material/download:", on_click="ignore", key=f"dl_{name}")
