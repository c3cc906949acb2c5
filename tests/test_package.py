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
