"""House rules of the library: no Streamlit in sgcore, torch only when asked for, explicit API."""

import subprocess
import sys

import sgcore


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, timeout=120)
    return set(out.stdout.split())


def test_sgcore_never_imports_streamlit():
    mods = _modules_after("import sgcore, sgcore.figures, sgcore.export, sgcore.cli, sgcore.spike")
    assert not any(m == "streamlit" or m.startswith("streamlit.") for m in mods)


def test_torch_is_loaded_only_for_the_spike_function():
    assert "torch" not in _modules_after("import sgcore, sgcore.figures")
    assert "torch" in _modules_after("import sgcore; sgcore.spike_fn")


def test_public_api_is_explicit_and_resolvable():
    for name in sgcore.__all__:
        assert getattr(sgcore, name) is not None


def _public_names():
    """(module, name, object) for every name in the ``__all__`` of the modules the API reference documents."""
    import importlib

    from test_docs import reference_modules

    for module in reference_modules():
        mod = importlib.import_module(module)
        for name in mod.__all__:
            yield module, name, getattr(mod, name)


def _own_docstring(obj) -> str:
    import inspect

    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and doc.startswith(obj.__name__ + "("):
        return ""  # the signature a dataclass writes for itself
    return doc


def test_every_public_name_is_documented():
    """A docstring for classes and functions; for a constant, the ``#:`` comment above its assignment (where it is
    defined), or the docstring of its own sgcore class (a registry, a lazy mapping)."""
    import inspect
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "api" / "_ext"))
    try:
        from sgcore_docs import attr_comment
    finally:
        sys.path.pop(0)

    missing = []
    for module, name, obj in _public_names():
        if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
            ok = bool(_own_docstring(obj).strip())
        else:
            own_class = type(obj).__module__.startswith("sgcore") and bool(_own_docstring(type(obj)).strip())
            ok = bool(attr_comment(name, obj)) or own_class
        if not ok:
            missing.append(f"{module}.{name}")
    assert not missing, f"undocumented public names: {missing}"


def test_public_functions_and_methods_are_typed():
    """Every parameter and return value of the public functions and of the public classes' methods is annotated."""
    import inspect

    untyped = []
    for module, name, obj in _public_names():
        funcs = [(name, obj)] if inspect.isfunction(obj) else []
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                if inspect.isfunction(fn) and fn.__name__ == attr and (attr == "__init__" or not attr.startswith("_")):
                    funcs.append((f"{name}.{attr}", fn))
        for label, fn in funcs:
            sig = inspect.signature(fn)
            bare = [p.name for p in sig.parameters.values()
                    if p.annotation is inspect.Parameter.empty and p.name not in ("self", "cls")]
            if sig.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
                bare.append("return")
            if bare:
                untyped.append(f"{module}.{label}: {bare}")
    assert not untyped, "\n".join(untyped)


def test_the_package_declares_its_types():
    from pathlib import Path

    assert (Path(sgcore.__file__).parent / "py.typed").is_file()  # PEP 561: type checkers read sgcore's annotations
