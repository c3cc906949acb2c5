"""One decorator for the pages' shared caches of pure computations: ``st.cache_resource`` with cheap config keys.

Results and figures are immutable and shared read-only across sessions, so ``st.cache_resource`` (no copy per
hit) is right. Its key hashing, though, turns a config dataclass into ``dataclasses.asdict`` and hashes every
field recursively: a few milliseconds per cached call on a slider move (py-spy on a running server, the loop
page makes three such calls). Every :class:`~sgcore.params.DeclaredConfig` is a frozen dataclass of plain
values whose ``repr`` is exact (floats print round-trip), so it is hashed by its ``repr`` instead: the same
equality, at the cost of one short string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from sgcore.params import DeclaredConfig

__all__ = ["config_hash_funcs", "shared"]

F = TypeVar("F", bound=Callable[..., Any])


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def config_hash_funcs() -> dict[type, Callable[[Any], str]]:
    """``hash_funcs`` for every config class defined so far (Streamlit matches the exact type)."""
    return {cls: repr for cls in _subclasses(DeclaredConfig)}


def shared(max_entries: int | None = None) -> Callable[[F], F]:
    """``st.cache_resource(max_entries=..., show_spinner=False)`` keyed cheaply by configs (see module doc)."""

    def decorate(fn: F) -> F:
        return st.cache_resource(max_entries=max_entries, show_spinner=False, hash_funcs=config_hash_funcs())(fn)

    return decorate
