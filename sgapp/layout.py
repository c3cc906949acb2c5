"""Page chrome: page config, the shared sidebar navigation (read from the page registry), styling."""

from __future__ import annotations

import streamlit as st

from sgcore import pages as registry
from sgcore.pages import Page

from .recovery import notice_if_resumed
from .runtime import install as install_runtime_patch

APP_TITLE = "Surrogate Gradient Explorer"


def nav_pages() -> tuple[Page, ...]:
    """Every page of the app in navigation order (home first), as the page registry lists them now."""
    return tuple(registry.PAGES.values())


#: The pages at import time (see :func:`nav_pages`, which the sidebar reads).
PAGES: tuple[Page, ...] = nav_pages()

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
        for page in nav_pages():
            st.page_link(page.path, label=page.label, icon=page.icon)
        st.divider()


def banner(text: str, ok: bool) -> None:
    """A large coloured status line (readable on a projector)."""
    css = "sge-ok" if ok else "sge-warn"
    st.markdown(f'<div class="sge-banner {css}">{text}</div>', unsafe_allow_html=True)
