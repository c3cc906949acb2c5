"""Sphinx extension of sgcore's API reference: data documented where it is defined, references by any public path,
and the top-level summary.

* ``.. sgcore-module:: MODULE`` documents a module: its docstring, classes and functions (``automodule``), then
  every constant of its ``__all__`` (``autodata``), each by the ``#:`` comment above its assignment in the module
  that defines it (autodoc looks in the documented module only, and skips a constant a package re-exports, such as
  ``sgcore.shapes.SHAPES`` from ``sgcore.shapes.registry``); a value is shown when it is short.

* Each object is documented once, in the package whose ``__all__`` names it (``sgcore.escape.EscapeConfig``); the
  same object is often reachable by other paths (``sgcore.EscapeConfig``, ``sgcore.classify.engine.init_params``
  for ``sgcore.classify.init_params``, ``.scaling`` in ``sgcore.shapes``). A Python cross-reference that does not
  resolve as written is imported, and resolves to the documented name of the very same object (the same last
  name, the same object); a module that is not documented on its own resolves to the documented package holding
  it. A reference that imports nothing stays unresolved, and the nitpicky build fails on it.
* ``.. sgcore-summary:: MODULE`` lists every name of ``MODULE.__all__`` with a link to where it is documented and
  the first line of its docstring.
* The docstrings write their mathematics as plain text for ``help()`` and an editor (``|z|``, ``F_|z|``), where
  reStructuredText would read bars as a substitution and ``F_`` as a link: outside literals and roles, bars and
  word-final underscores are taken literally. NumPy-style sections are read in functions' and classes' docstrings.
* A default that prints as ``<factory>`` (a dataclass's ``default_factory``) is shown as ``...``, so that the
  signature still parses.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective

_MISSING = object()


def import_path(dotted: str) -> Any:
    """The object a dotted path names (module, then attributes), or ``_MISSING``."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


@functools.cache
def _sgcore_modules() -> tuple[str, ...]:
    import sgcore

    return ("sgcore", *(m.name for m in pkgutil.walk_packages(sgcore.__path__, "sgcore.")))


@functools.cache
def _attr_docs(modname: str) -> dict[tuple[str, str], list[str]]:
    try:
        return dict(ModuleAnalyzer.for_module(modname).find_attr_docs())
    except PycodeError:
        return {}


def attr_comment(name: str, obj: Any) -> list[str] | None:
    """The ``#:`` comment documenting module-level ``name`` in the sgcore module that assigns it (the same object)."""
    for modname in _sgcore_modules():
        lines = _attr_docs(modname).get(("", name))
        if lines and getattr(importlib.import_module(modname), name, _MISSING) is obj:
            return list(lines)
    return None


def _is_data(obj: Any) -> bool:
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


def _data_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    if what == "data":
        comment = attr_comment(name.rsplit(".", 1)[-1], obj)
        if comment:
            lines[:] = [*comment, ""]
        elif not type(obj).__module__.startswith("sgcore"):
            lines[:] = []  # not the docstring of tuple or dict (tests/test_package.py requires a comment)


def _index(env) -> dict[tuple[str, int], str]:
    """(last name, id of the object) -> its documented full name, built once per build."""
    cache = getattr(env, "_sgcore_alias_index", None)
    if cache is not None:
        return cache
    cache = {}
    objects = env.get_domain("py").objects
    for name, entry in sorted(objects.items(), key=lambda kv: (kv[1].aliased, len(kv[0]), kv[0])):
        if entry.aliased:
            continue
        obj = import_path(name)
        if obj is not _MISSING:
            cache.setdefault((name.rsplit(".", 1)[-1], id(obj)), name)
    env._sgcore_alias_index = cache
    return cache


def _defining_contexts(node) -> list[str]:
    """Where the object whose docstring holds the reference is defined (autodoc names the object in the node's
    source): its module, and its class for a method."""
    source = node.source or ""
    if "docstring of " not in source:
        return []
    obj = import_path(source.rsplit("docstring of ", 1)[1])
    if obj is _MISSING:
        return []
    if inspect.ismodule(obj):
        return [obj.__name__]
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        return []
    owner = getattr(obj, "__qualname__", "").rpartition(".")[0]
    return [f"{module}.{owner}", module] if owner and "<" not in owner else [module]


def _candidates(node) -> list[str]:
    """Where the reference may point: in the documented context, as written, and in the module that defines the
    docstring's object (the context its author wrote it in)."""
    target = node["reftarget"].lstrip(".~")
    mod, cls = node.get("py:module"), node.get("py:class")
    out = []
    if mod and cls:
        out.append(f"{mod}.{cls}.{target}")
    if mod:
        out.append(f"{mod}.{target}")
    out.append(target)
    out += [f"{context}.{target}" for context in _defining_contexts(node) if context != mod]
    return out


def _resolve(app: Sphinx, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    modules = domain.modules
    index = _index(env)
    for path in _candidates(node):
        obj = import_path(path)
        if obj is _MISSING:
            continue
        if inspect.ismodule(obj):
            name = obj.__name__
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if not name:
                continue
            return domain.resolve_xref(env, node["refdoc"], app.builder, "mod", name, node, contnode)
        name = index.get((path.rsplit(".", 1)[-1], id(obj)))
        if name is None:
            continue
        return domain.resolve_xref(env, node["refdoc"], app.builder, "obj", name, node, contnode)
    return None


def _short_value(obj: Any) -> bool:
    scalar = (bool, int, float, str)
    if isinstance(obj, scalar):
        return len(repr(obj)) <= 60
    if isinstance(obj, tuple) and all(isinstance(x, scalar) for x in obj):
        return len(repr(obj)) <= 80
    return False


class Module(SphinxDirective):
    """``.. sgcore-module:: MODULE``: the module's API, its constants last (see the module docstring)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        modname = self.arguments[0]
        module = importlib.import_module(modname)
        data = [name for name in module.__all__ if _is_data(getattr(module, name))]
        lines = [f".. automodule:: {modname}"]
        if data:
            lines += [f"   :exclude-members: {', '.join(data)}", "", ".. rubric:: Constants", ""]
            for name in data:
                lines.append(f".. autodata:: {modname}.{name}")
                if not _short_value(getattr(module, name)):
                    lines.append("   :no-value:")
                lines.append("")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=modname), self.content_offset, container)
        return container.children


_LITERAL = re.compile(r"(``.+?``|:[\w:]+:`[^`]*`|`[^`]*`_?)")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=\W|$)")
_REPR_DEFAULT = re.compile(r"= <[^<>]*>")


def plain_text(line: str) -> str:
    """``line`` with bars and word-final underscores outside literals and roles escaped for reStructuredText."""
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else _TRAILING_UNDERSCORE.sub(r"\_", p.replace("|", r"\|"))
                   for i, p in enumerate(parts))


def _docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    if what in ("function", "method", "class", "exception"):
        from sphinx.ext.napoleon.docstring import NumpyDocstring

        lines[:] = NumpyDocstring(lines, app.config, app, what, name, obj, options).lines()
    lines[:] = [plain_text(line) for line in lines]


def _signature(app: Sphinx, what: str, name: str, obj: Any, options: Any, signature: str | None,
               return_annotation: str | None) -> tuple[str | None, str | None]:
    if signature and "<" in signature:
        signature = _REPR_DEFAULT.sub("= ...", signature)
    return signature, return_annotation


_ROLE = re.compile(r":[\w:]+:`([^`]*)`")


def _role_text(match: re.Match[str]) -> str:
    text = match.group(1)
    if "<" in text:
        text = text.split("<", 1)[0].strip()
    elif text.startswith("~"):
        text = text.rsplit(".", 1)[-1]
    return f"``{text.lstrip('.!')}``"


def first_line(obj: Any, name: str) -> str:
    """The first paragraph of ``obj``'s documentation (its ``#:`` comment for a constant), on one line, its roles
    as literals (a summary line has no context to resolve them in)."""
    if _is_data(obj):
        doc = "\n".join(attr_comment(name, obj) or [])
    else:
        doc = inspect.getdoc(obj) or ""
    return _ROLE.sub(_role_text, doc.strip().split("\n\n")[0].replace("\n", " "))


class Summary(SphinxDirective):
    """``.. sgcore-summary:: MODULE``: every name of the module's ``__all__``, linked, with its first line."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module = importlib.import_module(self.arguments[0])
        lines = []
        for name in module.__all__:
            first = plain_text(first_line(getattr(module, name), name))
            lines.append(f"* :py:obj:`{module.__name__}.{name}`" + (f" -- {first}" if first else ""))
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.arguments[0]), self.content_offset, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _data_docstring, priority=400)
    app.connect("autodoc-process-docstring", _docstring)
    app.connect("autodoc-process-signature", _signature)
    app.connect("missing-reference", _resolve)
    app.add_directive("sgcore-module", Module)
    app.add_directive("sgcore-summary", Summary)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
