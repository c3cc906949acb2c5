"""One kind of registry for every concept that code outside the library may extend (surrogate shapes, escape-noise
families, the trainer's backward methods): records by name, read-only to readers, extended only through
:meth:`NamedRegistry.register`.

A registry is a live :class:`~collections.abc.Mapping`: a ``ParamSpec(kind="choice", choices=registry)`` and every
view made by :meth:`NamedRegistry.where` see a record the moment it is registered, so one definition reaches
every page, the CLI and the library at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

__all__ = ["NamedRegistry"]

T = TypeVar("T")


class NamedRegistry(Mapping[str, T], Generic[T]):
    """Records of type ``record_type`` by their ``name``; the records given at construction are built in.

    ``kind`` names the concept in messages (``"shape"``, ``"escape family"``); ``param`` is the parameter name
    an unknown key is reported under (``"shape"``, ``"escape"``); ``check`` validates a record before it is
    registered (raising ``ValueError``), e.g. that the shape an escape family names exists.
    """

    def __init__(self, kind: str, record_type: type, records: Iterable[T], *, param: str | None = None,
                 check: Callable[[T], object] | None = None) -> None:
        self._kind = kind
        self._check = check
        self._type = record_type
        self._param = param or kind
        self._items: dict[str, T] = {}
        for record in records:
            self.register(record)
        self._built_in = frozenset(self._items)

    # -- reading -------------------------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"NamedRegistry({self._kind!r}: {', '.join(self._items)})"

    def lookup(self, name: Any) -> T:
        """The record named ``name``, or ``ValueError`` naming the parameter and listing the valid names."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise ValueError(f"{self._param} must be one of {', '.join(self._items)}; got {name!r}") from None

    def where(self, predicate: Callable[[T], bool]) -> Mapping[str, T]:
        """A live read-only view of the records for which ``predicate`` holds."""
        return _Filtered(self, predicate)

    # -- extending -----------------------------------------------------------------------------------------------
    def register(self, record: T) -> T:
        """Add ``record``: everything that reads the registry offers it at once. A taken name raises
        ``ValueError``. Register at start-up: the registry is shared by every session of a server."""
        if not isinstance(record, self._type):
            raise TypeError(f"a {self._kind} registry takes {self._type.__name__} records; got {type(record).__name__}")
        name = record.name  # type: ignore[attr-defined]
        if name in self._items:
            raise ValueError(f"{self._kind} {name!r} is already registered")
        if self._check is not None:
            self._check(record)
        self._items[name] = record
        return record

    def unregister(self, name: str) -> T:
        """Remove a record added by :meth:`register` (the built-in ones stay)."""
        if name in self._built_in:
            raise ValueError(f"{self._kind} {name!r} is built in and cannot be removed")
        return self._items.pop(self.lookup(name).name)  # type: ignore[attr-defined]

    @contextmanager
    def registered(self, *records: T) -> Iterator[tuple[T, ...]]:
        """Register ``records`` for the duration of a ``with`` block (tests, notebooks), then remove them."""
        done: list[str] = []
        try:
            for record in records:
                done.append(self.register(record).name)  # type: ignore[attr-defined]
            yield records
        finally:
            for name in reversed(done):
                self._items.pop(name, None)


class _Filtered(Mapping[str, T]):
    def __init__(self, base: NamedRegistry[T], predicate: Callable[[T], bool]) -> None:
        self._base, self._predicate = base, predicate

    def __getitem__(self, name: str) -> T:
        record = self._base[name]
        if not self._predicate(record):
            raise KeyError(name)
        return record

    def __iter__(self) -> Iterator[str]:
        return (name for name, record in self._base.items() if self._predicate(record))

    def __len__(self) -> int:
        return sum(1 for _ in self)
