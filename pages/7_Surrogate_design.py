"""Surrogate design: shapes, dampening, sharpness, tails, Eq. 2 and the initialisation conditions (Herranz-Celotti)."""

import math

import pandas as pd
import streamlit as st

from sgapp.caching import shared
from sgapp.charts import chart
from sgapp.controls import compute_or_keep, open_page, widget
from sgapp.layout import banner
from sgapp.tables import arrow
from sgcore.design import (
    DESIGN_PARAMS,
    NAME_COLLISIONS,
    PAPER_DISCREPANCIES,
    TRANSLATIONS,
    UNMAPPABLE,
    DesignConfig,
    InitConfig,
    design_view,
    gallery,
    theory_check,
)
from sgcore.design_page import IN, OPTIONAL, SET
from sgcore.export import csv_tables
from sgcore.figures.design import fig_eq2, fig_gallery, fig_theory
from sgcore.pages import PAGES
from sgcore.shapes import SHAPES

PAGE = PAGES["design"]
D = {p.name: p for p in DESIGN_PARAMS}


@shared(max_entries=64)
def design(cfg: DesignConfig):
    view = design_view(cfg)
    return view, fig_gallery(view), fig_eq2(view)


@shared(max_entries=32)
def calculator(cfg: InitConfig):
    tc = theory_check(cfg)
    return tc, fig_theory(tc)


def _tail_text(p: float) -> str:
    """v² f ~ |v|^-p far out; the tail moment is finite iff p > 1."""
    if p == 0:
        return "infinite: v²f tends to a constant"
    return f"infinite: v²f ~ |v|^{-p:.3g}" if p > 0 else f"infinite: v²f grows like |v|^{-p:.3g}"


@shared(max_entries=16)
def gallery_rows(q: float):
    rows = []
    for m in gallery(q):
        rows.append({"shape": m.label, "peak": m.peak, "area": m.area, "∫f²": m.int_f_sq,
                     "∫v²f": m.tail_moment if m.tail_finite else math.inf,
                     "tail": "finite" if m.tail_finite else _tail_text(m.tail_exponent),
                     "closed forms": ", ".join(f"{k} = {v:.6g}" for k, v in m.closed.items())})
    return arrow(pd.DataFrame(rows))  # converted once per q, not on every rerun (read-only, shared)


TABS = ("Shapes", "Library translation", "Eq. 2: gradient variance", "Initialisation (CI–CIV)", "Paper checks")

open_page(PAGE, "Surrogate design: shape, dampening, sharpness, tails",
          "Herranz-Celotti & Rouat, Sec. 2.2, 2.6, 3, 4, Table S1, App. B. A surrogate derivative is γ f(s v): a "
          "standard shape f (peak 1, area 1), a dampening γ (height) and a sharpness s (inverse width). Choose them "
          "deliberately — with the moments that matter, a translation to the libraries you use, Eq. 2 and the four "
          "initialisation conditions — instead of by grid search.")

with st.sidebar:
    st.markdown("**Surrogate σ'(v) = γ f(s v)**")
    values = {"shape": widget(D["shape"])}
    for name in ("gamma", "sharpness"):
        values[name] = widget(D[name])
    values["q"] = widget(D["q"], disabled=not SHAPES[values["shape"]].pick_params(q=D["q"].default))
    st.markdown("**Eq. 2: voltages y ~ U[y_min, y_max]**")
    for name in ("thr", "y_min", "y_max"):
        values[name] = widget(D[name])
    with st.expander("Resolution and Monte Carlo"):
        for name in ("v_span", "n_points", "mc_samples", "seed"):
            values[name] = widget(D[name])

result = compute_or_keep("design", lambda: design(DesignConfig.from_mapping(values)),
                         fallback=lambda: design(DesignConfig()))
if result is None:
    st.stop()
view, fig_g, fig_e = result
cfg = view.config
mom = view.moments

# The open tab is in the link. The two reference tabs (static tables) are drawn only while open: they were a
# third of a slider move's server time. Tabs with link-bound controls are always drawn, so their values stay in
# the link whichever tab is open.
tab_shapes, tab_libs, tab_eq2, tab_init, tab_paper = st.tabs(list(TABS), key="tab", bind="query-params")

with tab_shapes:
    tail = f"{mom.tail_moment:.5g}" if mom.tail_finite else "∞"
    banner(f"<b>{SHAPES[cfg.shape].label}</b>: peak γ = {cfg.gamma:g}, width ∝ 1/s = {1 / cfg.sharpness:.3g}; "
           f"standard form f has area {mom.area:.4g}, ∫f² = {mom.int_f_sq:.4g} and tail moment "
           f"∫v²f = {tail}.",
           ok=mom.tail_finite)
    g1, g2 = st.columns([3, 2])
    with g1:
        chart(fig_g, key="fig_gallery")
    with g2:
        st.latex(r"\sigma'(v) = \gamma\, f(s\,v)")
        st.latex(r"\max f = f(0) = 1,\qquad \int f\,dv = 1")
        st.latex(r"\int \sigma'\,dv = \frac{\gamma}{s},\qquad \int \sigma'^2 dv = \frac{\gamma^2}{s}\int f^2")
        st.latex(r"\int v^2 \sigma'\,dv = \frac{\gamma}{s^3}\int v^2 f")
        st.markdown("The **tail moment** measures how much gradient reaches neurons far from threshold: fat tails "
                    "(q-PseudoSpike with small q) keep it large — infinite for q ≤ 3 — which the paper found to "
                    "help (Sec. 3.2).")
    rows = gallery_rows(cfg.q)
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={k: st.column_config.NumberColumn(format="%.6g")
                                for k in ("peak", "area", "∫f²", "∫v²f")})
    st.caption(f"Standard forms f (γ = s = 1), by adaptive quadrature and checked against the closed forms; "
               f"q-PseudoSpike at q = {cfg.q:g}. ∞ marks an infinite tail moment.")

if tab_libs.open:
    with tab_libs:
        st.markdown("What the popular presets of **snnTorch**, **SpikingJelly** and **Norse** are in (shape, γ, s), "
                    "derived from what each library's code back-propagates (tested against its backward); "
                    "where the docs say otherwise, the last column says how.")
        lib_rows = []
        for t in TRANSLATIONS:
            o = t.ours()
            lib_rows.append({"library": t.library, "call": t.call, "our shape": SHAPES[t.shape].label,
                             "γ": o["gamma"], "s": o["sharpness"], "γ rule": t.gamma_rule, "s rule": t.s_rule,
                             "SD in the code": t.code, "documented SD": t.documented, "note": t.notes,
                             "docs vs code": t.docs_vs_code})
        st.dataframe(lib_rows, hide_index=True, width="stretch", height="content",
                     column_config={"γ": st.column_config.NumberColumn(format="%.4g"),
                                    "s": st.column_config.NumberColumn(format="%.4g"),
                                    "note": st.column_config.TextColumn(width="large"),
                                    "docs vs code": st.column_config.TextColumn(width="large")})
        l1, l2 = st.columns([2, 3])
        with l1:
            pick = st.selectbox("Translate a preset", [t.call for t in TRANSLATIONS], key="lib_pick")
            tr = next(t for t in TRANSLATIONS if t.call == pick)
            # a parameter whose preset value is 0 (PiecewiseLeakyReLU's c) may be 0; the others are positive
            given = {p: st.number_input(p, value=float(v), key=f"lib_{p}", min_value=0.0 if v == 0 else 1e-6,
                                        max_value=1e6, format="%.4g") for p, v in tr.params.items()}
            try:
                o = tr.ours(**given)
            except ValueError as err:
                st.error(str(err))
                o = tr.ours()
            st.markdown(f"Our shape: **{SHAPES[o['shape']].label}**")
            c1, c2 = st.columns(2)
            c1.metric("γ (dampening)", f"{o['gamma']:.4g}")
            c2.metric("s (sharpness)", f"{o['sharpness']:.4g}")
            if o["offset"]:
                st.caption(f"Centred at u = {o['offset']:g} (not at the threshold).")
            if o["q"] is not None:
                st.caption(f"Tail q = {o['q']:g}.")
            if tr.docs_vs_code:
                st.info(tr.docs_vs_code, icon=":material/difference:")
        with l2:
            st.markdown("**Names that collide**")
            st.warning("\n".join(f"- **{c.name}**: {c.warning}" for c in NAME_COLLISIONS), icon=":material/warning:")
            with st.expander("What each name means where"):
                st.table([{"name": c.name, "where": where, "meaning": meaning} for c in NAME_COLLISIONS
                          for where, meaning in c.meanings])
        with st.expander("Presets that are not γ f(s v) for any registry shape"):
            st.table([{k: r.get(k, "") for k in ("library", "call", "documented", "code", "why")} for r in UNMAPPABLE])
        st.caption("Sources: " + "; ".join(sorted({t.source for t in TRANSLATIONS})))

with tab_eq2:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("E[σ'²] (quadrature)", f"{view.sd_second_moment:.5g}")
    m2.metric("Monte Carlo", f"{view.mc_mean:.5g}", help=f"± {view.mc_stderr:.2g} (one standard error)")
    m3.metric("E[σ']", f"{view.sd_first_moment:.5g}")
    m4.metric("Peak² (upper bound)", f"{cfg.gamma**2:.4g}")
    for note in view.notes:
        st.warning(note, icon=":material/info:")
    e1, e2 = st.columns([3, 2])
    with e1:
        chart(fig_e, key="fig_eq2")
    with e2:
        st.latex(r"\text{(2)}\quad \mathbb{E}[\sigma'^2]")
        st.latex(r"= \frac{1}{y_{\max} - y_{\min}}\int_{y_{\min}}^{y_{\max}}"
                 r"\gamma^2 f\big(s\,(y - \vartheta)\big)^2\,dy")
        st.markdown("The variance of the gradient that flows through a layer scales with E[σ'²] (Condition IV). "
                    "For fixed γ it falls as the SD narrows (larger s) and can never exceed γ², since f ≤ 1.")
        if view.check is not None:
            verdict = "agrees." if view.check.agree else "**does not agree**: " + view.check.note
            st.markdown(f"**Appendix B's closed form (exponential)**: printed {view.check.printed:.6g}, integral "
                        f"{view.check.integral:.6g} — {verdict}")

@st.fragment
def init_panel() -> None:
    """The calculator reruns on its own when its controls move (a fragment): the design tabs are not redrawn."""
    st.markdown("Conditions for a LIF layer at initialisation (Sec. 2.6, App. B): **I** fire half the time, "
                "**II** recurrent and input currents of equal variance, **III** equal gradient maxima through time, "
                "**IV** equal gradient variance — which fixes E[σ'²] and, through Eq. 2, the sharpness.")
    ivalues = {}
    cols = st.columns(4)
    for i, name in enumerate(("n_rec", "n_in", "alpha_decay", "thr", "mean_z", "var_z", "var_w_in", "xi")):
        with cols[i % 4]:
            ivalues[name] = widget(IN[name])
    c1, c2 = st.columns(2)
    with c1:
        ivalues["shape"] = widget(IN["shape"])
    with c2:
        ivalues["q"] = widget(IN["q"], disabled=not SHAPES[ivalues["shape"]].pick_params(q=IN["q"].default))
    with st.expander("Values the calculator derives unless you set them"):
        ocols = st.columns(2)
        for i, name in enumerate(OPTIONAL):
            with ocols[i % 2]:
                if widget(SET[name]):
                    ivalues[name] = widget(IN[name])
    with st.expander("Simulation size"):
        for name in ("n_steps", "batch", "seed"):
            ivalues[name] = widget(IN[name])
    res_pair = compute_or_keep("design_init", lambda: calculator(InitConfig.from_mapping(ivalues)),
                               fallback=lambda: calculator(InitConfig()))
    if res_pair is not None:
        tc, fig_t = res_pair
        r = tc.result
        k1, k2, k3, k4, k5 = st.columns(5)
        k1.metric("CI: Mean[w_rec]", f"{r.mean_w_rec:.4g}")
        k2.metric("CII: Var[w_rec]", f"{r.var_w_rec:.4g}",
                  help=f"Eq. 28 re-derived. The authors' code gives {r.var_w_rec_authors_code:.4g} (it drops the "
                       "factor 2 on the input term).")
        k3.metric("CIII: dampening γ", f"{r.dampening:.4g}")
        k4.metric("CIV: E[σ'²]", f"{r.sd_second_moment:.4g}")
        k5.metric("CIV: sharpness s", "none" if r.sharpness is None else f"{r.sharpness:.4g}",
                  help=f"s solving Eq. 2 = CIV with γ = {r.gamma_for_sharpness:.4g} on y in "
                       f"[{r.y_min:.3g}, {r.y_max:.3g}]")
        for note in r.notes:
            st.warning(note, icon=":material/report:")
        st.dataframe(arrow([{"value": k, "how": v} for k, v in r.derived.items()]), hide_index=True,
                     width="stretch")
        st.latex(r"\text{CI: } \mathrm{Mean}[w_{rec}] = \frac{(3 - 2\alpha)\,\vartheta}{n_{rec} - 1}\qquad"
                 r"\text{CII: } \mathrm{Var}[w_{rec}] = \frac{2 n_{in}}{n_{rec} - 1}(\mathrm{Var}\,z + \mathrm{Mean}"
                 r"\,z^2)\,\mathrm{Var}[w_{in}] - \frac{\mathrm{Mean}[w_{rec}]^2}{2}")
        st.subheader("Does the theory hold?")
        chart(fig_t, key="fig_theory")
        st.caption(f"A recurrent LIF layer (Eq. 1) initialised by the calculator (blue: γ, s as above, or 1 where "
                   f"no value exists) and naively (amber: Glorot uniform, γ = s = 1), on the same spike input "
                   f"({ivalues.get('batch', IN['batch'].default)} sequences). Computed in {tc.seconds * 1000:.0f} ms.")
        for note in tc.notes:
            if note.startswith("simulation"):
                st.info(note[len("simulation: "):], icon=":material/science:")
        st.download_button("calculator.csv", data=lambda: csv_tables(tc)["simulation"],
            file_name="init_simulation.csv", mime="text/csv", icon=":material/download:", on_click="ignore",
            key="dl_init")


with tab_init:
    init_panel()

if tab_paper.open:
    with tab_paper:
        st.markdown("Where the printed formulas and the integrals or re-derivations part ways. The page and the CLI "
                    "follow the integral or derivation.")
        st.table([{"where": d.where, "printed": d.printed, "followed here": d.followed, "evidence": d.evidence}
                  for d in PAPER_DISCREPANCIES])

st.download_button("sd_curves.csv", data=lambda: csv_tables(view)["sd_curves"],
                   file_name="sd_curves.csv", mime="text/csv", icon=":material/download:", on_click="ignore",
                   key="dl_curves")
