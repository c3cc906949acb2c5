"""Classroom links, as TensorFlow Playground has them: a teacher's link fixes settings, hides controls, opens a lesson.

A link such as ``/LocalZO?delta=0.05&m=5&hide=delta,m&lesson=1``

* sets every control it names (the usual URL state of the pages);
* hides the controls listed in ``hide`` (comma-separated parameter names): their value stays as the
  link set it, so students explore only what the teacher left open;
* with ``lesson=1`` opens the page's short lesson text (:data:`LESSONS`) above the controls;
* adds a "Teacher's settings" preset, so students can always return to the link's values.

The link is remembered for the session on its first visit to a page; ``hide`` and ``lesson`` are
validated (unknown names are reported, the list is capped) like every other link parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import streamlit as st

from sgcore.params import ParamSpec, parse_query

from .lessons import LESSONS

__all__ = ["TEACHER", "classroom_link", "hidden", "hidden_value", "lesson_box", "remember_link", "share_panel",
           "teacher_values"]

TEACHER = "Teacher's settings"
MAX_HIDDEN = 60
_LINK_KEYS = ("hide", "lesson")


def _page() -> str:
    return st.session_state.get("sge_page", "")


def hidden(specs: Iterable[ParamSpec] | None = None) -> frozenset[str]:
    """Names the link hides (only declared ones when ``specs`` is given)."""
    raw = st.query_params.get("hide", "")
    names = [n.strip() for n in str(raw)[:4000].split(",") if n.strip()][:MAX_HIDDEN]
    if specs is not None:
        known = {s.name for s in specs}
        names = [n for n in names if n in known]
    return frozenset(names)


def hidden_value(spec: ParamSpec) -> Any:
    """The value of a hidden control: the link's value when valid, else the default."""
    values, _ = parse_query([spec], {spec.name: st.query_params.get_all(spec.name)} if spec.name in st.query_params
                            else {})
    return values.get(spec.name, spec.default)


def remember_link(specs: Iterable[ParamSpec]) -> None:
    """On a classroom link's first visit to this page, keep its values (for the Teacher's settings preset)."""
    specs = list(specs)
    store = st.session_state.setdefault("sge_lesson_links", {})
    if not any(k in st.query_params for k in _LINK_KEYS):
        return
    unknown = sorted({n.strip() for n in str(st.query_params.get("hide", ""))[:4000].split(",") if n.strip()}
                     - {s.name for s in specs})
    if unknown:
        shown = ", ".join(unknown[:8]) + (" …" if len(unknown) > 8 else "")
        st.warning(f"Link parameter ignored: hide names unknown controls ({shown[:200]}); valid names are the "
                   "page's parameters.", icon=":material/link_off:")
    lesson = str(st.query_params.get("lesson", "1"))
    if "lesson" in st.query_params and lesson not in ("0", "1", "true", "false", ""):
        st.warning("Link parameter ignored: lesson must be 1 or 0.", icon=":material/link_off:")
    if _page() not in store:
        query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
        values, _ = parse_query(specs, query)
        store[_page()] = values


def teacher_values() -> Mapping[str, Any] | None:
    """The remembered link's values on this page, or None when the page was not opened from a classroom link."""
    return st.session_state.get("sge_lesson_links", {}).get(_page())


def lesson_box() -> None:
    """The page's lesson, opened when the link says ``lesson=1``."""
    text = LESSONS.get(_page())
    if text and str(st.query_params.get("lesson", "0")) in ("1", "true"):
        with st.expander(f"Lesson: {text['title']}", expanded=True, icon=":material/school:"):
            st.markdown(text["body"])


def classroom_link(base: str, query: Mapping[str, Any], hide: Iterable[str], lesson: bool) -> str:
    """A shareable link: the current settings, the hidden controls and the lesson switch."""
    parts = {k: v for k, v in query.items() if k not in _LINK_KEYS}
    hide = sorted(set(hide))
    if hide:
        parts["hide"] = ",".join(hide)
    if lesson:
        parts["lesson"] = "1"
    return base + ("?" + urlencode(parts, doseq=True) if parts else "")


def share_panel(specs: Iterable[ParamSpec]) -> None:
    """Sidebar tool for teachers: choose controls to hide and copy the classroom link."""
    specs = [s for s in specs]
    with st.sidebar.expander("Share with a class", icon=":material/school:"):
        hide = st.multiselect("Hide these controls", [s.name for s in specs],
                              default=sorted(hidden(specs)), format_func=lambda n: _label(specs, n),
                              key="share_hide")
        lesson = st.toggle("Open the lesson text", value=_page() in LESSONS, key="share_lesson",
                           disabled=_page() not in LESSONS)
        url = st.context.url or ""
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path
        query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
        st.code(classroom_link(base, query, hide, lesson), language=None, wrap_lines=True)
        st.caption("Students who open this link get the current settings with the chosen controls hidden; "
                   f"“{TEACHER}” brings them back to it.")


def _label(specs: list[ParamSpec], name: str) -> str:
    spec = next((s for s in specs if s.name == name), None)
    return f"{spec.label} ({name})" if spec else name
