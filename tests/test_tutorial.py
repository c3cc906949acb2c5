"""The tutorial notebook (examples/tutorial.ipynb) runs from top to bottom: executed here with nbclient in a fresh
kernel on this checkout's sgcore, so it cannot rot. Its cells assert what they show (the matching holds, the sign
flips, the loop does not close, LocalZO lands on its target, both networks learn)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"


def test_the_notebook_is_kept_without_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code), \
        "commit the tutorial without outputs (Kernel > Restart & Clear Output)"


def test_the_tutorial_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own paths, no deprecation warning
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's sgcore
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PLOTLY_RENDERER", "json")  # small outputs: the figures' data, not plotly.js
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    start = time.monotonic()
    client.execute()
    seconds = time.monotonic() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"sgcore {__import__('sgcore').__version__}" in text
    assert "sign flip = True" in text
    figures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if o.output_type in ("display_data", "execute_result")
                  and any("plotly" in k or k == "application/json" for k in o.get("data", {})))
    assert figures >= 6, f"{figures} figures shown"
    if os.environ.get("SGE_TUTORIAL_BUDGET"):  # optional timing check on a known machine
        assert seconds < float(os.environ["SGE_TUTORIAL_BUDGET"]), seconds


@pytest.mark.parametrize("name", ["nbclient", "nbformat", "ipykernel"])
def test_the_notebook_tools_are_pinned(name):
    pins = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(f"{name}==") for line in pins), name
