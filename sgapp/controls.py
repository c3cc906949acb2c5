"""Widgets built from ParamSpecs and bound to the URL; presets; bad-URL notices; errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import streamlit as st

from sgcore.pages import Page
from sgcore.params import ParamSpec, parse_query

from .classroom import TEACHER, hidden, hidden_value, lesson_box, remember_link, share_panel, teacher_values
from .layout import page_setup

T = TypeVar("T")


def _label(spec: ParamSpec) -> str:
    sym = f" ${spec.symbol}$" if spec.symbol else ""
    return f"{spec.label}{sym}"


def widget(spec: ParamSpec, *, format_func: Callable[[str], str] | None = None, disabled: bool = False) -> Any:
    """One keyed widget for ``spec``, bound to the query string under ``spec.name``.

    A control that does not apply in the current state is shown ``disabled`` rather than hidden, so
    that a preset which sets it still reaches the URL (a widget created later is not written there).
    """
    if spec.name in hidden():
        return hidden_value(spec)  # a classroom link fixed this control and hid it
    common = dict(key=spec.name, help=spec.help or None, bind="query-params", disabled=disabled)
    if spec.kind == "choice":
        return st.selectbox(_label(spec), spec.choice_list, index=spec.choice_list.index(spec.default),
                            format_func=format_func or str, **common)
    if spec.kind == "bool":
        return st.toggle(_label(spec), value=spec.default, **common)
    if spec.kind == "floats":
        picked = st.multiselect(_label(spec), list(spec.options), default=list(spec.default),
                                max_selections=spec.max_items, format_func=lambda v: f"{v:g}", **common)
        return tuple(picked)
    lo, hi = spec.slider if spec.slider else spec.domain
    if spec.kind == "int":
        # Seeds too are integer sliders: a link's inf or 1e999 in an integer number box crashes Streamlit's URL
        # seeding (int(float('inf'))), while a slider drops it.
        return st.slider(_label(spec), min_value=int(lo), max_value=int(hi), value=int(spec.default),
                         step=int(spec.step or 1), **common)
    return st.slider(_label(spec), min_value=float(lo), max_value=float(hi), value=float(spec.default),
                     step=float(spec.step) if spec.step else None, **common)


def surrogate_widgets(specs: Mapping[str, ParamSpec], title: str = "Surrogate derivative",
                      beta: str | None = "beta_sg") -> dict[str, Any]:
    """The SD choice (shape, steepness, scaling, and gamma / q when they apply), the same on every page.

    ``beta`` names the steepness parameter of the page (a single ``beta_sg`` or a list), or None.
    """
    from sgcore import SHAPES

    st.markdown(f"**{title}**")
    values = {"shape": widget(specs["shape"])}
    st.caption(SHAPES[values["shape"]].label)
    if beta is not None:
        values[beta] = widget(specs[beta])
    values["scale"] = widget(specs["scale"])
    if values["scale"] == "gamma":
        values["gamma"] = widget(specs["gamma"])
    for own in SHAPES[values["shape"]].params:  # the shape's own parameters (q-PseudoSpike's q)
        values[own.name] = widget(specs.get(own.name, own))
    return values


def url_notices(specs: Iterable[ParamSpec]) -> None:
    """Warn about query-string values that cannot be used (they fall back to defaults).

    Must run before the widgets are created: Streamlit drops invalid bound values silently.
    """
    specs = list(specs)
    query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    _, problems = parse_query(specs, query)
    for msg in problems.values():
        st.warning(f"Link parameter ignored: {escape_markdown(msg)}.", icon=":material/link_off:")


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*[]()!|<>$~"})  # not "_": parameter names keep it


def escape_markdown(text: str) -> str:
    """Text from a link shown literally: no links, images, maths or HTML can come from the URL."""
    return str(text).translate(_MARKDOWN)


def apply_values(specs: Iterable[ParamSpec], values: Mapping[str, Any]) -> None:
    """Callback: set every widget of ``specs`` to ``values`` (defaults where not given)."""
    for spec in specs:
        value = values.get(spec.name, spec.default)
        st.session_state[spec.name] = list(value) if spec.kind == "floats" else value


RESET = "Reset to defaults"


def _apply_preset(specs: list[ParamSpec], presets: Mapping[str, Mapping[str, Any]]) -> None:
    choice = st.session_state.get("preset")
    if choice is not None:
        apply_values(specs, presets.get(choice, {}))
    st.session_state["preset"] = None  # a preset is an action, not a state to keep


def preset_bar(specs: Iterable[ParamSpec], presets: Mapping[str, Mapping[str, Any]]) -> None:
    """One row of preset chips (paper figures) and a reset-to-defaults chip; classroom links add theirs.

    Also remembers a classroom link, opens its lesson and offers teachers the link builder (see
    :mod:`sgapp.classroom`).
    """
    specs = list(specs)
    remember_link(specs)
    lesson_box()
    teacher = teacher_values()
    if teacher is not None:
        presets = {TEACHER: teacher, **presets}
    st.pills("Presets", [*presets, RESET], key="preset", on_change=_apply_preset, args=(specs, presets),
             label_visibility="collapsed")
    fixed = hidden(specs)
    if fixed:
        st.sidebar.caption(f"{len(fixed)} control(s) fixed by your teacher's link.")
    share_panel(specs)


#: What a computation may raise for values it cannot handle, with the message shown for each (``None``: its own).
#: Deliberately not ``Exception``: a programming error (TypeError, KeyError, ...) must still surface in tests.
COMPUTE_ERRORS: dict[type[Exception], str | None] = {
    ValueError: None,
    MemoryError: "Not enough memory for these values: lower the sample counts or resolutions",
    OverflowError: "A number overflowed for these values: choose less extreme values",
    FloatingPointError: "A floating-point error for these values: choose less extreme values",
}


def compute_or_keep(key: str, compute: Callable[[], T], fallback: Callable[[], T] | None = None) -> T | None:
    """Run ``compute``; on one of ``COMPUTE_ERRORS`` (``ValueError``, ``MemoryError``, ``OverflowError``,
    ``FloatingPointError``) show it and return the last good result instead.

    With no good result yet in this session (e.g. a link whose values clash), ``fallback`` (the page's
    default view) is shown instead. Any other exception propagates: it is a bug, not a bad value.
    """
    store = f"last_good::{key}"
    try:
        result = compute()
    except tuple(COMPUTE_ERRORS) as err:
        message = next(text for kind, text in COMPUTE_ERRORS.items() if isinstance(err, kind)) or str(err)
        if store not in st.session_state and fallback is not None:
            st.error(f"{message}. Showing the defaults.", icon=":material/error:")
            result = fallback()
            st.session_state[store] = result
            return result
        st.error(f"{message}. Showing the last valid view.", icon=":material/error:")
        return st.session_state.get(store)
    st.session_state[store] = result
    return result


def open_page(page: Page, title: str, caption: str) -> None:
    """A page's opening, the same on every page: chrome and sidebar (:func:`~sgapp.layout.page_setup` with the
    registry title), the heading and its paper caption, notices for unusable link values (before any widget), and
    the preset chips. ``page`` is the page's :mod:`sgcore.pages` entry."""
    page_setup(page.title)
    st.title(title)
    st.caption(caption)
    url_notices(page.specs)
    preset_bar(page.specs, page.presets)
