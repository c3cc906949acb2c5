"""Short lessons a classroom link can open (``lesson=1``), keyed by the page title given to ``page_setup``.

The texts live in the page registry (:mod:`sgcore.pages`); :data:`LESSONS` reads it on every lookup.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sgcore import pages as registry

__all__ = ["LESSONS"]


class _Lessons(Mapping[str, dict[str, str]]):
    """Page title -> ``{"title": ..., "body": ...}`` for every registered page with a lesson."""

    @staticmethod
    def _table() -> dict[str, dict[str, str]]:
        return {p.title: {"title": p.lesson.title, "body": p.lesson.body}
                for p in registry.PAGES.values() if p.lesson is not None}

    def __getitem__(self, title: str) -> dict[str, str]:
        return self._table()[title]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


LESSONS: Mapping[str, dict[str, str]] = _Lessons()
