"""Sphinx configuration of sgcore's API reference (``docs/api``), built from the docstrings.

Build it (any warning fails the build, an unresolved cross-reference included)::

    python -m sphinx -n -W --keep-going -b html docs/api docs/api/_build/html

``tests/test_docs.py`` builds it on every run of the test suite. The extension ``_ext/sgcore_docs.py`` documents each
module from its ``__all__`` and resolves references by any public path.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # this checkout's sgcore, installed or not
sys.path.insert(0, str(HERE / "_ext"))

import sgcore  # noqa: E402

project = "sgcore"
author = "the Surrogate Gradient Explorer contributors"
copyright = author
release = version = sgcore.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax", "sphinx.ext.viewcode", "sgcore_docs"]
root_doc = "index"
exclude_patterns = ["_build", "_ext"]

# Every cross-reference must resolve: a renamed function, a misspelt :func: or a stale dotted path is an error
# (with -W). Other projects (NumPy, torch, plotly, the standard library) have no inventory here, since the reference
# builds offline, so references into them are let through; so are private names and type variables, which are not
# documented by design.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|npt|scipy|torch|plotly|go|pandas|pd|PIL|h5py|argparse|collections|typing|types|"
               r"dataclasses|pathlib|io|os|datetime|enum|functools|sqlite3)(\..+)?"),
    (r"py:.*", r"(Path|ArrayLike|NDArray|Tensor|Figure|Namespace|ArgumentParser|TextIO|Iterable|Iterator|Sequence|"
               r"Mapping|MutableMapping|Callable|Generator|MappingProxyType|Image|Any|Self|Literal|ModuleType|TypeVar|"
               r"SimpleNamespace)"),
    (r"py:.*", r"sgcore(\.\w+)*\._\w+"),
    (r"py:(class|obj)", r"sgcore(\.\w+)*\.T"),
]

autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
# NumPy-style sections ("Parameters" over a dashed rule) are read by sgcore_docs in the docstrings of functions and
# classes only; napoleon's own pass would take the first colon of an attribute's comment for a type. Parameter
# types stay text ({"density", "peak"}, array_like and optional are no cross-references).
napoleon_numpy_docstring = False
napoleon_google_docstring = False
napoleon_use_param = False
napoleon_use_rtype = False
napoleon_preprocess_types = False

html_theme = "alabaster"
html_title = f"sgcore {release} API reference"
html_theme_options = {"description": "The compute library of Surrogate Gradient Explorer", "fixed_sidebar": True}
