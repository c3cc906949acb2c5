"""sgcore as a researcher installs it: a wheel built with ``python -m build`` from this checkout, installed into a
fresh virtual environment in a temporary folder outside the checkout, used from another folder.

Slow (a virtual environment, pip, torch's wheel; about two minutes), so one environment serves every test here: the
plain install first, then the ``[app]`` extra on top of it for the last test. Pinned versions come from
requirements.txt as constraints (``pip install -c requirements.txt``), so torch stays the 2.13.0 CPU build.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from threadloop import call_in_thread

ROOT = Path(__file__).resolve().parents[1]
WHEEL_APP = "sgexplorer/streamlit-app"
PIP_TIMEOUT = 900


@dataclass(frozen=True)
class Fresh:
    venv: Path
    wheel: Path
    sdist: Path
    cwd: Path  # a folder outside the checkout that the commands run in

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *cmd: str, timeout: float = 300, check: bool = False) -> subprocess.CompletedProcess:
        return _run(list(cmd), cwd=self.cwd, timeout=timeout, check=check)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env


def _run(cmd: list[str], cwd: Path, timeout: float, check: bool = False) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def _checkout_state() -> str:
    """Every untracked or ignored path in the checkout (bytecode caches aside): a build must add none."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return "\n".join(sorted(line for line in out.splitlines()
                            if "__pycache__" not in line and ".pytest_cache" not in line))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Fresh:
    base = tmp_path_factory.mktemp("fresh-install")
    assert ROOT not in base.resolve().parents
    dist, cwd = base / "dist", base / "elsewhere"
    cwd.mkdir()
    before = _checkout_state()
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], cwd=cwd, timeout=PIP_TIMEOUT, check=True)
    assert _checkout_state() == before, "building the wheel left files in the checkout"
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(dist.iterdir())
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=cwd, timeout=300, check=True)
    env = Fresh(venv, wheels[0], sdists[0], cwd)
    env.run(env.python, "-m", "pip", "install", "-q", "-c", str(ROOT / "requirements.txt"), str(env.wheel),
            timeout=PIP_TIMEOUT, check=True)
    return env


def _wheel_names(fresh: Fresh) -> set[str]:
    with zipfile.ZipFile(fresh.wheel) as zf:
        return set(zf.namelist())


def test_the_wheel_holds_the_library_and_keeps_the_app_out_of_import_reach(fresh):
    names = _wheel_names(fresh)
    tops = {n.split("/")[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"sgcore", "sgexplorer"}  # no sgapp, pages or app.py at the top
    app = [f"{WHEEL_APP}/app.py", f"{WHEEL_APP}/sgapp/__init__.py", f"{WHEEL_APP}/.streamlit/config.toml"]
    app += [f"{WHEEL_APP}/pages/{p.name}" for p in (ROOT / "pages").glob("*.py")]
    app += [f"{WHEEL_APP}/assets/targets/{p.name}" for p in (ROOT / "assets" / "targets").iterdir()]
    assert set(app) <= names
    # package data sgcore reads or ships: the typing marker and the bundled sweep examples
    assert "sgcore/py.typed" in names
    examples = {f"sgcore/sweep/examples/{p.name}" for p in (ROOT / "sgcore" / "sweep" / "examples").iterdir()
                if p.suffix in (".toml", ".sqlite")}
    assert examples and examples <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    with zipfile.ZipFile(fresh.wheel) as zf:
        meta = email.message_from_bytes(zf.read(f"{dist_info.pop()}/METADATA"))
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    requires = meta.get_all("Requires-Dist")
    assert {"app", "sweep"} <= set(meta.get_all("Provides-Extra"))
    for dep in ("numpy", "scipy", "plotly", "torch"):
        assert any(r.startswith(dep + "<") or r.startswith(dep + ">=") for r in requires if "extra ==" not in r), dep
    assert any(r.startswith("streamlit") and "extra == 'app'" in r for r in requires)
    assert not any(r.startswith("streamlit") and "extra" not in r for r in requires)
    assert "sgcore = sgcore.cli:main" in entry_points and "sgexplorer = sgexplorer:main" in entry_points


def test_a_plain_install_imports_sgcore_without_streamlit_or_torch(fresh):
    code = ("import json, sys, sgcore, sgcore.cli, sgcore.figures; "
            "print(json.dumps([sgcore.__version__, sgcore.__file__, 'streamlit' in sys.modules, "
            "'torch' in sys.modules]))")
    r = fresh.run(fresh.python, "-c", code, check=True)
    version, path, streamlit, torch = json.loads(r.stdout)
    assert fresh.venv in Path(path).parents  # the installed copy, not this checkout
    assert version == _project_version()
    assert not streamlit and not torch
    r = fresh.run(fresh.python, "-c", "import sgcore; sgcore.spike_fn; print('torch ok')", check=True)
    assert r.stdout.strip() == "torch ok"


@pytest.mark.parametrize("module", ["sgapp", "pages", "app", "streamlit"])
def test_the_app_is_no_importable_pollution_in_a_plain_install(fresh, module):
    r = fresh.run(fresh.python, "-c", f"import {module}")
    assert r.returncode != 0 and f"No module named '{module}'" in r.stderr


def test_the_cli_runs_from_the_installed_package(fresh):
    r = fresh.run(fresh.bin("sgcore"), "escape", "--escape", "sigmoid", "--beta-n", "5", "--shape", "sigmoid",
                  "--beta-sg", "5", "--u", "0", check=True)
    out = json.loads(r.stdout)
    assert out["resolved_scale"] == "density" and len(out["points"]["u"]) == 1
    for cmd in ([fresh.bin("sgcore"), "--version"], [fresh.python, "-m", "sgcore", "--version"]):
        r = fresh.run(*cmd, check=True)
        assert r.stdout.strip() == f"sgcore {_project_version()}"
    r = fresh.run(fresh.bin("sgcore"), "escape", "--beta-n", "-1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_optional_parts_say_what_to_install(fresh):
    r = fresh.run(fresh.bin("sgexplorer"))
    assert r.returncode == 1 and r.stdout == "" and r.stderr.count("\n") == 1
    assert 'pip install "surrogate-gradient-explorer[app]"' in r.stderr
    r = fresh.run(fresh.bin("sgcore"), "sweep", "--grid", "shape=sigmoid", "--epochs", "1", "--store",
                  str(fresh.cwd / "nodask.sqlite"))
    assert r.returncode == 1 and 'pip install "surrogate-gradient-explorer[sweep]"' in r.stderr, r.stderr


def _project_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(fresh) -> Iterator[str]:
    """``pip install "<wheel>[app]"`` into the same environment, then ``sgexplorer`` on a free loopback port."""
    fresh.run(fresh.python, "-m", "pip", "install", "-q", "-c", str(ROOT / "requirements.txt"),
              f"{fresh.wheel}[app]", timeout=PIP_TIMEOUT, check=True)
    port = _free_port()
    log = fresh.cwd / "sgexplorer.log"
    with log.open("w") as out:
        proc = subprocess.Popen([fresh.bin("sgexplorer"), "--server.port", str(port), "--server.address",
                                 "127.0.0.1", "--server.fileWatcherType", "none"],
                                cwd=fresh.cwd, env=_env(), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"sgexplorer exited {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no healthy /_stcore/health in 120 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


def test_the_app_extra_serves_the_app_from_the_installed_files(served):
    with urllib.request.urlopen(f"{served}/_stcore/health", timeout=5) as r:
        assert r.status == 200 and r.read().strip() == b"ok"
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import stclient
    finally:
        sys.path.remove(str(ROOT / "bench"))

    async def visit(page: str):
        async with stclient.Tab(served, page, timeout=90) as tab:
            return await tab.load()

    # A session runs app.py (it imports sgapp) and a page found in pages/ beside it.
    for page in ("/", "/Sign_flip"):
        run = call_in_thread(asyncio.run, visit(page))
        assert run.status == "FINISHED_SUCCESSFULLY" and not run.errors, (page, run.status, run.errors)
        assert run.elements, page
