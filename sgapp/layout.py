"""Page chrome: page config, the shared sidebar navigation, styling."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from .recovery import notice_if_resumed
from .runtime import install as install_runtime_patch

APP_TITLE = "Surrogate Gradient Explorer"


@dataclass(frozen=True)
class PageInfo:
    path: str
    label: str
    icon: str
    blurb: str


#: Every page of the app, in navigation order (home first).
PAGES: tuple[PageInfo, ...] = (
    PageInfo("app.py", "Home", ":material/home:", "The story in a few sentences."),
    PageInfo(
        "pages/1_Escape_noise.py",
        "Escape noise vs SD",
        ":material/ssid_chart:",
        "A single stochastic Perceptron: its expected output, the matching principle, trial "
        "rasters, the noisy-threshold view and stochAD's smoothed derivatives.",
    ),
    PageInfo(
        "pages/2_Sign_flip.py",
        "Sign-flip landscape",
        ":material/swap_vert:",
        "The network of Eq. 10: where the surrogate gradient points against the true gradient, along w "
        "and over a plane of parameters, with the two-path factor of Eq. 12 that decides the sign.",
    ),
    PageInfo(
        "pages/3_Loop_integrals.py",
        "Loop integrals",
        ":material/all_inclusive:",
        "The SG integrated around closed circles in parameter space: non-zero for SGs, zero for true "
        "gradients, with convergence in the number of steps, the curl map and Stokes' theorem.",
    ),
    PageInfo(
        "pages/4_LocalZO.py",
        "LocalZO",
        ":material/casino:",
        "Zeroth-order estimates of the Heaviside's derivative: the surrogate they average to, the density that "
        "reproduces any surrogate (Theorem 3), their variance, and how few neurons are active in the backward pass.",
    ),
    PageInfo(
        "pages/5_Estimators.py",
        "Gradient estimators",
        ":material/account_tree:",
        "A stochastic network small enough to enumerate every spike pattern: the exact gradient of E[y] against "
        "stochastic and deterministic SGs, finite differences and REINFORCE — and why multilayer SGs are biased.",
    ),
    PageInfo(
        "pages/6_Training.py",
        "Live training",
        ":material/model_training:",
        "Fig. 6 trained live: a stochastic and a deterministic spiking network learn the same target picture side "
        "by side, with rasters, losses, Fano factors, the fraction active in the backward pass, and one LIF neuron.",
    ),
    PageInfo(
        "pages/7_Surrogate_design.py",
        "Surrogate design",
        ":material/tune:",
        "Choose a surrogate deliberately: every shape's moments and tails, what the snnTorch, SpikingJelly and Norse "
        "presets are, Eq. 2's gradient variance, and the four initialisation conditions with a check by simulation.",
    ),
)

_CSS = """
<style>
  .block-container {padding-top: 1.2rem; max-width: 1500px;}
  h1 {padding-top: 0.5rem;}
  [data-testid="stSidebar"] [data-testid="stPageLink"] p {font-size: 1.02rem;}
  [data-testid="stMain"] .katex-display {font-size: 0.92em; overflow-x: auto; overflow-y: hidden;}
  [data-testid="stMetricValue"] {font-size: 1.9rem;}
  [data-testid="stMetricLabel"] p {font-size: 0.95rem;}
  .sge-banner {padding: 0.6rem 1rem; border-radius: 0.5rem; font-size: 1.1rem; margin-bottom: 0.4rem;}
  .sge-ok {background: #e6f4ea; border: 1px solid #34a853; border-left: 8px solid #34a853; color: #124d24;}
  .sge-warn {background: #fff4e0; border: 1px solid #e0a100; border-left: 8px solid #e0a100; color: #5c4100;}
</style>
"""


def page_setup(title: str) -> None:
    """Configure the page and draw the shared sidebar navigation."""
    install_runtime_patch()  # once per process: see sgapp.runtime
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", page_icon="⚡", layout="wide",
                       initial_sidebar_state="expanded")
    st.session_state["sge_page"] = title  # lessons and classroom links are keyed by the page
    notice_if_resumed()  # a tab that lost its server session (replica crash) is told what came back
    st.markdown(_CSS, unsafe_allow_html=True)
    with st.sidebar:
        st.markdown(f"### {APP_TITLE}")
        for page in PAGES:
            st.page_link(page.path, label=page.label, icon=page.icon)
        st.divider()


def banner(text: str, ok: bool) -> None:
    """A large coloured status line (readable on a projector)."""
    css = "sge-ok" if ok else "sge-warn"
    st.markdown(f'<div class="sge-banner {css}">{text}</div>', unsafe_allow_html=True)
