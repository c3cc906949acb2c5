"""The registry of shapes: name -> :class:`~.record.SurrogateShape`, and its views.

:data:`SHAPES` is a live :class:`~sgcore.registry.NamedRegistry` (the one kind of registry the library's
extensible concepts share); :data:`EVEN_SHAPES` the even shapes (LocalZO's surrogates, Definition 4.1);
:func:`register` / :func:`unregister` / :func:`registered` add shapes at run time and :func:`get_shape` looks one
up by name (an unknown name raises ``ValueError`` listing the valid ones). The built-in records come from
:mod:`.catalog`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..registry import NamedRegistry
from .catalog import _SHAPE_LIST
from .record import SurrogateShape

#: The registry: name -> :class:`SurrogateShape`, read-only to readers (:func:`register` adds to it).
SHAPES: NamedRegistry[SurrogateShape] = NamedRegistry("shape", SurrogateShape, _SHAPE_LIST)

#: The even shapes of the registry (surrogates in LocalZO's sense, Definition 4.1), as a live view.
EVEN_SHAPES: Mapping[str, SurrogateShape] = SHAPES.where(lambda shape: shape.symmetric)

#: Add a shape: every page, the CLI, the trainer and LocalZO offer it at once. A name already registered raises
#: ``ValueError``. Register at start-up (the registry is shared by every session of a server).
register = SHAPES.register
#: Remove a shape added by :func:`register` (the built-in shapes stay).
unregister = SHAPES.unregister
#: Register shapes for the duration of a ``with`` block (tests, notebooks), then remove them.
registered = SHAPES.registered
#: Look up a registered shape; an unknown name raises ``ValueError`` listing the valid ones.
get_shape = SHAPES.lookup
