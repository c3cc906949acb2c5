"""The loopback deployment (scripts/serve.sh): nginx with sticky sessions in front of two replicas.

Starts ``scripts/serve.sh 2`` on free loopback ports with the production profile, then checks that the
proxy and both replicas answer /_stcore/health, that new browsers are spread over both replicas and their
route cookie names the replica that answered, that one cookie always lands on the same replica, that a page
loads through the proxy in Chromium (its websocket works: the charts appear), that when the replica of a
Chromium tab is killed the tab reconnects to the survivor and its route cookie follows (set by the websocket
handshake), and that stopping serve.sh leaves no process behind. Also: a tab whose server restarted is told so
on its next interaction (sgapp.recovery, on a plain server). Needs Debian's nginx and chromium, which
scripts/test.sh installs. tests/test_serve.py covers restarts and routing at the protocol level.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from servehelpers import listening, stop_deployment

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, list[str]]]:
    req = urllib.request.Request(url)
    if cookie is not None:
        req.add_header("Cookie", f"sgeroute={cookie}")
    with urllib.request.urlopen(req, timeout=5) as resp:
        headers: dict[str, list[str]] = {}
        for key, value in resp.headers.items():
            headers.setdefault(key.lower(), []).append(value)
        return resp.status, resp.read().decode(errors="replace"), headers



@pytest.fixture
def deployment(tmp_path):
    """scripts/serve.sh 2 on free ports; yields (proxy URL, replica ports, run dir); stopped and checked after."""
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        pytest.fail("nginx not found: the loopback deployment needs Debian's nginx. scripts/test.sh installs it "
                    "(apt-get install nginx); run the suite with `bash scripts/test.sh`.")
    port, replica_ports = _free_port(), [_free_port(), _free_port()]
    run_dir = tmp_path / "run"
    log = tmp_path / "serve.log"
    env = dict(os.environ, SGE_PORT=str(port), SGE_REPLICA_PORTS=" ".join(map(str, replica_ports)),
               SGE_PYTHON=sys.executable, SGE_RUN_DIR=str(run_dir), SGE_STARTUP_TIMEOUT="60",
               SGE_SERVE_SECONDS="240")  # stops by itself even if this test process dies
    env.pop("STREAMLIT_SERVER_COOKIE_SECRET", None)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(["bash", str(REPO / "scripts" / "serve.sh"), "2"], cwd=REPO, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while "SGE_READY" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve.sh not ready (exit {proc.poll()}):\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.25)
        yield url, replica_ports, run_dir
    finally:
        stop_deployment(proc, run_dir, lambda: log.read_text(errors="replace"))
        assert not any(listening(p) for p in [port, *replica_ports]), "a port still listens after the stop"


def test_proxy_sticky_sessions_and_page(deployment, browser):
    url, replica_ports, run_dir = deployment
    # every replica and the proxy answer the health check
    for base in [url, *(f"http://127.0.0.1:{p}" for p in replica_ports)]:
        status, body, _ = _get(base + "/_stcore/health")
        assert (status, body.strip()) == (200, "ok"), base
    # the production profile reached the replicas
    assert "--client.showErrorDetails=none" in Path(f"/proc/{_pid_of(run_dir, 0)}/cmdline").read_text().replace(
        "\0", " ")

    # a first request gets a route cookie, and that cookie maps to the replica that answered it
    _, _, headers = _get(url + "/")
    cookie = _route(headers)
    first = headers["x-upstream"][0]
    assert all(_get(url + "/_stcore/health", cookie)[2]["x-upstream"][0] == first for _ in range(5))
    assert not _route(_get(url + "/", cookie)[2])  # a valid route is never set again

    # new browsers land on both replicas, each route always on the same one
    seen: dict[str, str] = {}
    for _ in range(16):
        _, _, headers = _get(url + "/_stcore/health")
        c, upstream = _route(headers), headers["x-upstream"][0]
        assert {_get(url + "/_stcore/health", c)[2]["x-upstream"][0] for _ in range(3)} == {upstream}
        seen.setdefault(upstream, c)
        if len(seen) == 2:
            break
    assert set(seen) == {f"127.0.0.1:{p}" for p in replica_ports}
    # a route the proxy does not know (an old or a made-up cookie) is replaced by a valid one
    _, _, headers = _get(url + "/_stcore/health", secrets.token_hex(16))
    assert _get(url + "/_stcore/health", _route(headers))[2]["x-upstream"] == headers["x-upstream"]

    # a page through the proxy in Chromium (the session's browser): the websocket works when the charts appear
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(url + "/Escape_noise?beta_sg=7", timeout=30_000)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot', timeout=30_000)
        page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=10_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        route = {c["name"]: c["value"] for c in context.cookies()}.get("sgeroute")
        assert route, "the browser got no route cookie"
        assert _get(url + "/_stcore/health", route)[2]["x-upstream"][0] in seen
    finally:
        context.close()
    access = (run_dir / "logs" / "access.log")
    deadline = time.monotonic() + 5  # the access log is flushed every 2 s
    while "/_stcore/stream" not in (access.read_text() if access.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f"route={route}" in access.read_text(), "the websocket did not go through the proxy with the cookie"


def _route(headers: dict[str, list[str]]) -> str:
    """The route cookie a response sets ("" when it sets none)."""
    return next((m.group(1) for v in headers.get("set-cookie", []) if (m := re.match(r"sgeroute=([^;]*)", v))), "")


def _pid_of(run_dir: Path, index: int) -> int:
    pid = None
    for line in (run_dir / "replicas.tsv").read_text().splitlines():
        i, _port, p = line.split()
        if int(i) == index:
            pid = int(p)  # the last start of that replica
    if pid is None:
        raise AssertionError(f"replica {index} not in replicas.tsv")
    return pid


def _recovery_wired() -> bool:
    import inspect

    from sgapp import layout

    return "notice_if_resumed" in inspect.getsource(layout.page_setup)


def test_killed_replica_moves_the_tab_and_its_route(deployment, browser):
    """Chromium: the tab of a killed replica reconnects through the proxy to the survivor, and the route cookie
    follows it (the websocket handshake sets it), so its uploads and media reach the session's replica even
    after the dead one is back."""
    url, replica_ports, run_dir = deployment
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(url + "/Escape_noise?beta_sg=7", timeout=30_000)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .js-plotly-plot', timeout=30_000)
        app = page.locator('[data-testid="stApp"]')
        page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=10_000)
        route = {c["name"]: c["value"] for c in context.cookies()}["sgeroute"]
        home = int(route.removeprefix("r"))
        other = 1 - home
        os.kill(_pid_of(run_dir, home), signal.SIGKILL)
        deadline = time.monotonic() + 45  # the frontend's reconnect backoff, bounded
        while {c["name"]: c["value"] for c in context.cookies()}.get("sgeroute") != f"r{other}":
            assert time.monotonic() < deadline, f"route still {route} after the kill: {context.cookies()}"
            page.wait_for_timeout(250)
        page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=30_000)
        assert _get(url + "/_stcore/health", f"r{other}")[2]["x-upstream"][0] == f"127.0.0.1:{replica_ports[other]}"
        if not _recovery_wired():
            pytest.skip("sgapp.layout.page_setup does not call sgapp.recovery.notice_if_resumed (yet): the route "
                        "moved; the notice is not checked")
        # the next interaction is the new session's first run: it carries the widget states -> the notice
        thumb = page.locator('[data-testid="stSlider"]').filter(has_text="SD steepness").get_by_role("slider")
        thumb.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_selector('[data-testid="stToast"]', timeout=30_000)
        assert "server restarted" in page.locator('[data-testid="stToast"]').inner_text()
        assert app.get_attribute("data-test-connection-state") == "CONNECTED"
    finally:
        context.close()


_RESUME_APP = """
import streamlit as st
from sgapp.recovery import notice_if_resumed

resumed = notice_if_resumed()
st.markdown(f"resumed={resumed}")
st.slider("Steepness", 0, 10, 3, key="beta")
"""


def _start_plain_server(script: Path, port: int, log: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true",
                                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                                cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(f"http://127.0.0.1:{port}/_stcore/health")[1].strip() == "ok":
                return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit not healthy (exit {proc.poll()}):\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def test_resumed_session_notice_after_server_restart(browser, tmp_path):
    """Chromium against a plain server that is killed and started again: the reconnected tab shows nothing until
    its next interaction, whose rerun (the new session's first, with the tab's widget states) shows the notice
    once; a reload (no widget states) shows none. This is what sgapp.recovery relies on."""
    script = tmp_path / "resume_app.py"
    script.write_text(_RESUME_APP)
    port, log = _free_port(), tmp_path / "server.log"
    proc = _start_plain_server(script, port, log)
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/", timeout=30_000)
        page.wait_for_selector("text=resumed=False", timeout=30_000)
        thumb = page.get_by_role("slider")
        thumb.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        deadline = time.monotonic() + 10
        while thumb.input_value() != "5":
            assert time.monotonic() < deadline
            page.wait_for_timeout(100)
        page.wait_for_timeout(500)  # the move's rerun reached the server
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc = _start_plain_server(script, port, log)
        page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=45_000)
        assert page.locator('[data-testid="stToast"]').count() == 0
        thumb.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_selector('[data-testid="stToast"]', timeout=30_000)
        assert "training progress" in page.locator('[data-testid="stToast"]').inner_text()
        page.wait_for_selector("text=resumed=True", timeout=10_000)
        assert thumb.input_value() == "6"  # the settings came back from the browser
        page.keyboard.press("ArrowRight")
        page.wait_for_selector("text=resumed=False", timeout=10_000)  # once
        page.reload()
        page.wait_for_selector("text=resumed=False", timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.locator('[data-testid="stToast"]').count() == 0
    finally:
        context.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
