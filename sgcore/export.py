"""Exports of results (JSON, CSV), shared by the CLI, the pages and notebooks.

One result path: a page's view (a dataclass of named arrays) is what the page draws, what the CLI prints and what
the CSV downloads export.

:func:`view_to_dict` turns any view into a JSON-able dictionary (arrays -> lists, NaN/inf -> null, nested dataclasses
-> dictionaries, a config -> its ``as_dict()``), optionally keeping only some fields. A view declares its downloadable
tables with a ``tables()`` method returning ``{table name: {column name: 1-D array}}``; :func:`csv_tables` writes each
one as CSV text. Pages and the CLI call these two functions, never a per-page dictionary or CSV builder.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Tiny:
...     x: np.ndarray
...     y: float
...     def tables(self):
...         return {"xs": {"x": self.x}}
>>> view_to_dict(Tiny(np.array([1.0, np.nan]), np.inf))
{'x': [1.0, None], 'y': None}
>>> csv_tables(Tiny(np.array([1.0, 2.0]), 0.0))["xs"]
'x\\n1.0\\n2.0\\n'
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["columns_to_csv", "csv_tables", "to_jsonable", "view_to_dict"]


def _key(k: Any) -> str:
    """Dictionary keys as JSON strings: floats (e.g. a beta) as ``f"{k:g}"``."""
    if isinstance(k, str):
        return k
    if isinstance(k, (float, np.floating)):
        return f"{float(k):g}"
    return str(k)


def to_jsonable(obj: Any) -> Any:
    """Arrays -> lists, NaN/inf -> null, dataclasses -> dictionaries (a config via ``as_dict``), recursively."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        as_dict = getattr(obj, "as_dict", None)
        if callable(as_dict):
            return to_jsonable(as_dict())
        return view_to_dict(obj)
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, Mapping):
        return {_key(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def view_to_dict(view: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A view dataclass as a JSON-able dictionary, its fields in declaration order (or only ``fields``, in that
    order; a selection may also name a property, e.g. a derived verdict).

    Raises
    ------
    TypeError
        ``view`` is not a dataclass instance.
    KeyError
        A name in ``fields`` is neither a field nor a property of the view.
    """
    if not dataclasses.is_dataclass(view) or isinstance(view, type):
        raise TypeError(f"expected a dataclass instance; got {type(view).__name__}")
    names = [f.name for f in dataclasses.fields(view)]
    if fields is not None:
        wanted = list(fields)
        unknown = [n for n in wanted if n not in names and not isinstance(getattr(type(view), n, None), property)]
        if unknown:
            raise KeyError(f"{type(view).__name__} has no field {unknown[0]!r}; fields: {', '.join(names)}")
        names = wanted
    return {name: to_jsonable(getattr(view, name)) for name in names}


def _cell(x: Any) -> str:
    if isinstance(x, float):
        return "" if x != x else repr(x)
    return str(x)


def columns_to_csv(columns: Mapping[str, np.ndarray]) -> str:
    """Equal-length 1-D columns -> CSV text with a header row (NaN written as empty)."""
    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError("columns must be 1-D arrays of equal length")
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    for row in zip(*arrays, strict=True):
        buf.write(",".join(_cell(v.item()) for v in row) + "\n")
    return buf.getvalue()


def csv_tables(view: Any) -> dict[str, str]:
    """Every table the view declares (its ``tables()``), as CSV text by table name."""
    tables = getattr(view, "tables", None)
    if not callable(tables):
        raise TypeError(f"{type(view).__name__} declares no tables()")
    return {name: columns_to_csv(columns) for name, columns in tables().items()}
