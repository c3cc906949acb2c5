"""The API reference (docs/api, Sphinx) builds from the docstrings without a warning, documents every public name,
and a broken cross-reference fails its build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "api"


def reference_modules() -> list[str]:
    """The modules the reference documents: the toctree of docs/api/index.rst."""
    text = (DOCS / "index.rst").read_text(encoding="utf-8")
    return re.findall(r"^   (sgcore(?:\.\w+)*)$", text, flags=re.MULTILINE)


def sphinx(src: Path, out: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m sphinx -n -W --keep-going -b html SRC OUT``: nitpicky, every warning an error."""
    return subprocess.run([sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-q", "-b", "html",
                           str(src), str(out)], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("api-html")
    r = sphinx(DOCS, out)
    assert r.returncode == 0, f"the API reference did not build cleanly:\n{r.stderr[-5000:]}"
    assert not r.stderr.strip(), r.stderr[-5000:]
    return out


def test_the_reference_covers_every_public_package():
    modules = reference_modules()
    assert modules[0] == "sgcore" and len(modules) == len(set(modules))
    for sub in ("shapes", "escape", "lif", "spike", "signflip", "loop", "paths", "localzo", "estimators", "design",
                "initschemes", "snn", "classify", "sweep", "targets", "figures", "params", "export", "cli"):
        assert f"sgcore.{sub}" in modules, sub
    for module in modules:
        assert (DOCS / f"{module}.rst").is_file(), module


def test_every_public_name_has_its_entry_in_the_built_reference(built):
    import importlib

    for module in reference_modules():
        page = (built / f"{module}.html").read_text(encoding="utf-8")
        mod = importlib.import_module(module)
        if module == "sgcore":  # the top-level page links each name to its package's entry
            for name in mod.__all__:
                assert f">sgcore.{name}<" in page.replace("<span class=\"pre\">", "").replace("</span>", ""), name
            continue
        for name in mod.__all__:
            assert f'id="{module}.{name}"' in page, f"{module}.{name} has no entry in {module}.html"


def test_the_reference_names_the_package_version(built):
    import sgcore

    assert f"sgcore {sgcore.__version__} API reference" in (built / "index.html").read_text(encoding="utf-8")


def _scratch(tmp_path: Path, docstring: str) -> tuple[Path, dict[str, str]]:
    """A copy of docs/api whose index documents ``sgcore.escape`` (and the modules its signatures name) and a scratch
    module with ``docstring``."""
    src = tmp_path / "src"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "*.rst"))
    (tmp_path / "scratch_refs.py").write_text(f'"""{docstring}"""\n\n__all__: list[str] = []\n', encoding="utf-8")
    modules = ("sgcore.escape", "sgcore.shapes", "sgcore.params", "sgcore.registry")
    pages = "".join(f".. sgcore-module:: {m}\n\n" for m in modules)
    (src / "index.rst").write_text(f"Scratch\n=======\n\n{pages}.. automodule:: scratch_refs\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return src, env


def test_a_broken_reference_in_a_docstring_fails_the_build(tmp_path):
    src, env = _scratch(tmp_path, "See :func:`sgcore.escape.escape_veiw` and :data:`sgcore.escape.NO_SUCH`.")
    r = sphinx(src, tmp_path / "out", env)
    assert r.returncode != 0
    assert "py:func reference target not found: sgcore.escape.escape_veiw" in r.stderr
    assert "py:data reference target not found: sgcore.escape.NO_SUCH" in r.stderr


def test_a_reference_by_another_public_path_resolves(tmp_path):
    # sgcore.escape_view is documented as sgcore.escape.escape_view; a submodule resolves to its package's page
    src, env = _scratch(tmp_path, "See :func:`sgcore.escape_view`, :class:`sgcore.EscapeConfig` and "
                                  ":data:`sgcore.escape.ESCAPE_PARAMS`.")
    r = sphinx(src, tmp_path / "out", env)
    assert r.returncode == 0, r.stderr[-3000:]
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="#sgcore.escape.escape_view"' in page and 'href="#sgcore.escape.EscapeConfig"' in page
