"""The app's launcher, ``sgexplorer``: it finds the app, hands it the app's settings, and says what to install.

That the installed command serves the app from a wheel is tested in a fresh environment (tests/test_packaging.py).
"""

import sys
from pathlib import Path

import pytest

import sgexplorer

ROOT = Path(__file__).resolve().parents[1]


def test_in_a_checkout_the_app_is_the_checkouts():
    assert sgexplorer.app_dir() == ROOT


def test_the_apps_settings_become_streamlit_run_flags():
    from streamlit import config

    flags = sgexplorer.config_flags(ROOT / ".streamlit" / "config.toml")
    assert "--client.showSidebarNavigation=false" in flags
    assert "--server.maxUploadSize=5" in flags
    assert "--theme.primaryColor=#1f5fa8" in flags
    known = config.get_config_options()
    for flag in flags:
        assert flag.removeprefix("--").split("=", 1)[0] in known, flag


def test_a_missing_config_gives_no_flags_and_a_nested_one_is_refused(tmp_path):
    assert sgexplorer.config_flags(tmp_path / "missing.toml") == []
    bad = tmp_path / "config.toml"
    bad.write_text("[server]\nheadless = true\n[theme.sidebar]\nx = 1\n")
    with pytest.raises(ValueError, match="theme.sidebar"):
        sgexplorer.config_flags(bad)


def test_without_streamlit_it_says_what_to_install(monkeypatch, capsys):
    for name in ("streamlit", "streamlit.web", "streamlit.web.cli"):
        monkeypatch.setitem(sys.modules, name, None)  # as in a plain install of the library
    assert sgexplorer.main(["--server.port", "1"]) == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1
    assert 'pip install "surrogate-gradient-explorer[app]"' in out.err


def test_it_runs_streamlit_on_the_app_with_the_settings_then_the_users_options(monkeypatch):
    from streamlit.web import cli as stcli

    seen = {}

    def fake_main(args, prog_name):
        seen.update(args=args, prog_name=prog_name)
        raise SystemExit(0)

    monkeypatch.setattr(stcli, "main", fake_main)
    assert sgexplorer.main(["--server.port", "8600"]) == 0
    args = seen["args"]
    assert args[:2] == ["run", str(ROOT / "app.py")]
    assert args[-2:] == ["--server.port", "8600"]  # after the app's settings: the user's options win
    assert "--client.showSidebarNavigation=false" in args
