"""Fixtures for end-to-end tests: a fresh Streamlit server and headless Chromium.

The server is started once per test session on a free port, so the first browser test of the
session is also the first request the app receives (see ``test_app_browser.py``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_FILE = "app.py"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0
#: Default timeout for waiting on the app in the browser (milliseconds).
APP_TIMEOUT_MS = 30_000


@dataclass
class StreamlitServer:
    """A running ``streamlit run app.py`` and what the tests have done with it so far."""

    base_url: str
    log_path: Path
    process: subprocess.Popen
    #: Number of browser requests sent to this server (counted by the ``page`` fixture).
    requests_seen: int = 0

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as err:  # pragma: no cover - diagnostics only
            return f"<could not read {self.log_path}: {err}>"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200 and resp.read().decode(errors="replace").strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """A fresh Streamlit server for this test session, stopped at the end."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", APP_FILE,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    server = StreamlitServer(base_url=f"http://127.0.0.1:{port}", log_path=log_path, process=proc)
    try:
        health = server.url("/_stcore/health")
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _health_ok(health):
            if proc.poll() is not None:
                pytest.fail(f"Streamlit exited with code {proc.returncode} before becoming healthy.\n"
                            f"--- {log_path} ---\n{server.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Streamlit not healthy at {health} after {STARTUP_TIMEOUT_S:.0f} s.\n"
                            f"--- {log_path} ---\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the system one; never downloaded)."""
    from playwright import sync_api

    executable = os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)
    if not (os.path.isfile(executable) or shutil.which(executable)):
        # A missing browser is a broken test environment, not a reason to skip: fail loudly.
        pytest.fail(f"Chromium not found at {executable!r}: install Debian's chromium or set CHROMIUM_PATH")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, streamlit_server: StreamlitServer):
    """A fresh browser context and page (1280x800) pointed at the session's server."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(APP_TIMEOUT_MS)

    def count(request) -> None:
        if request.url.startswith(streamlit_server.base_url):
            streamlit_server.requests_seen += 1

    context.on("request", count)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


_IDLE_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const script = app.getAttribute('data-test-script-state');
  if (script !== null && script !== 'notRunning') return false;
  const conn = app.getAttribute('data-test-connection-state');
  if (conn !== null && conn !== 'CONNECTED') return false;
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  if (status && (/running/i.test(status.innerText)
      || status.querySelector('[data-testid^="stStatusWidgetRunning"]'))) return false;
  return document.querySelectorAll('[data-testid="stSkeleton"]').length === 0;
}
"""


def wait_for_app(page, timeout_ms: int = APP_TIMEOUT_MS, settle_checks: int = 3) -> None:
    """Wait until the Streamlit app has finished running its script and rendering.

    Waits for ``stApp``, then until the script state is ``notRunning`` (where the frontend exposes
    it), no status-widget running indicator is shown and no ``stSkeleton`` placeholder is left,
    for ``settle_checks`` consecutive polls 100 ms apart.
    """
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    idle_in_a_row = 0
    while idle_in_a_row < settle_checks:
        if time.monotonic() > deadline:
            raise AssertionError(f"app still running after {timeout_ms} ms at {page.url}")
        idle_in_a_row = idle_in_a_row + 1 if page.evaluate(_IDLE_JS) else 0
        page.wait_for_timeout(100)
