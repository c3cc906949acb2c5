"""The registry of shapes: name -> :class:`~.record.SurrogateShape`, and its views.

:data:`SHAPES` is a read-only live view over the one registry dict; :data:`EVEN_SHAPES` the
even shapes (LocalZO's surrogates, Definition 4.1); :func:`register` / :func:`unregister` /
:func:`registered` add shapes at run time and :func:`get_shape` looks one up by name (an unknown
name raises ``ValueError`` listing the valid ones). The built-in records come from :mod:`.catalog`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

from ..params import lookup
from .catalog import _SHAPE_LIST
from .record import SurrogateShape

_REGISTRY: dict[str, SurrogateShape] = {s.name: s for s in _SHAPE_LIST}
#: Read-only registry: name -> :class:`SurrogateShape` (a live view: :func:`register` adds to it).
SHAPES: Mapping[str, SurrogateShape] = MappingProxyType(_REGISTRY)


class _EvenShapes(Mapping[str, SurrogateShape]):
    """Live view of the registered shapes that are even (f(-v) = f(v))."""

    def __getitem__(self, name: str) -> SurrogateShape:
        shp = _REGISTRY[name]
        if not shp.symmetric:
            raise KeyError(name)
        return shp

    def __iter__(self) -> Iterator[str]:
        return (name for name, shp in _REGISTRY.items() if shp.symmetric)

    def __len__(self) -> int:
        return sum(1 for _ in self)


#: The even shapes of the registry (surrogates in LocalZO's sense, Definition 4.1), as a live view.
EVEN_SHAPES: Mapping[str, SurrogateShape] = _EvenShapes()


def register(shape: SurrogateShape) -> SurrogateShape:
    """Add ``shape`` to :data:`SHAPES`; every page, the CLI, the trainer and LocalZO offer it at once.

    A name already registered raises ``ValueError``. Register at start-up (the registry is shared by
    every session of a server).
    """
    if not isinstance(shape, SurrogateShape):
        raise TypeError(f"register takes a SurrogateShape; got {type(shape).__name__}")
    if shape.name in _REGISTRY:
        raise ValueError(f"shape {shape.name!r} is already registered")
    _REGISTRY[shape.name] = shape
    return shape


def unregister(name: str) -> SurrogateShape:
    """Remove a shape added by :func:`register` (the built-in shapes stay)."""
    if name in _BUILT_IN:
        raise ValueError(f"shape {name!r} is built in and cannot be removed")
    return _REGISTRY.pop(get_shape(name).name)


@contextmanager
def registered(*shapes: SurrogateShape) -> Iterator[tuple[SurrogateShape, ...]]:
    """Register ``shapes`` for the duration of a ``with`` block (tests, notebooks), then remove them."""
    done: list[str] = []
    try:
        for shape in shapes:
            done.append(register(shape).name)
        yield shapes
    finally:
        for name in reversed(done):
            _REGISTRY.pop(name, None)


_BUILT_IN = frozenset(_REGISTRY)


def get_shape(name: str) -> SurrogateShape:
    """Look up a registered shape; an unknown name raises ``ValueError`` listing valid ones."""
    return lookup(SHAPES, name, "shape")
