"""``sgexplorer``: starts the Surrogate Gradient Explorer dashboard (installed by the ``[app]`` extra).

The app's files (``app.py``, ``pages/``, ``sgapp/``, ``assets/``, ``.streamlit/``) are installed inside this
package, in a folder that is not an importable name, so a plain ``pip install`` of the library adds no ``sgapp``
or ``pages`` module to anyone's environment. ``sgexplorer [streamlit options]`` runs ``streamlit run`` on the
installed ``app.py`` (Streamlit puts that folder on ``sys.path`` while it runs the app) with the settings of the
app's ``.streamlit/config.toml``; options given on the command line override them, e.g.
``sgexplorer --server.port 8600``. In a checkout it runs the checkout's ``app.py``.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["INSTALL_HINT", "app_dir", "config_flags", "main"]

#: The one line ``sgexplorer`` prints when Streamlit is not installed.
INSTALL_HINT = ("sgexplorer: the app needs Streamlit, which a plain install of the library leaves out: "
                "pip install \"surrogate-gradient-explorer[app]\" (from a checkout: pip install \".[app]\")")

_INSTALLED = "streamlit-app"  # the folder the wheel puts the app's files in (see pyproject.toml)


def app_dir() -> Path:
    """The folder holding the app's ``app.py`` and ``pages/``: the installed copy, else the checkout's root."""
    here = Path(__file__).resolve().parent
    for folder in (here / _INSTALLED, here.parent):
        if (folder / "app.py").is_file() and (folder / "pages").is_dir():
            return folder
    raise FileNotFoundError(f"the app's files are neither in {here / _INSTALLED} nor in {here.parent}")


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def config_flags(config: str | Path) -> list[str]:
    """``--section.option=value`` for every option of a Streamlit ``config.toml`` (none if the file is missing).

    Streamlit reads ``.streamlit/config.toml`` from the working folder and the home folder only, not from the
    app's folder, so the installed app's settings are handed to ``streamlit run`` as flags.
    """
    path = Path(config)
    if not path.is_file():
        return []
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    flags = []
    for section, options in data.items():
        if not isinstance(options, dict):
            raise ValueError(f"{path}: [{section}] must be a table of options")
        for name, value in options.items():
            if isinstance(value, dict | list):
                raise ValueError(f"{path}: {section}.{name} must be a single value")
            flags.append(f"--{section}.{name}={_flag_value(value)}")
    return flags


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app with Streamlit; ``argv`` (default ``sys.argv[1:]``) are options of ``streamlit run``.

    Returns 1 after one line on stderr when Streamlit is not installed; otherwise Streamlit's exit status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from streamlit.web import cli as stcli
    except ModuleNotFoundError as err:
        if err.name is None or err.name.split(".")[0] != "streamlit":
            raise
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    folder = app_dir()
    run = ["run", str(folder / "app.py"), *config_flags(folder / ".streamlit" / "config.toml"), *args]
    try:
        stcli.main(args=run, prog_name="sgexplorer")
    except SystemExit as done:  # click ends with sys.exit(status)
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
