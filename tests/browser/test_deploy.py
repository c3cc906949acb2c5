"""The loopback deployment (scripts/serve.sh): nginx with sticky sessions in front of two replicas.

Starts ``scripts/serve.sh 2`` on free loopback ports with the production profile, then checks that the
proxy and both replicas answer /_stcore/health, that route cookies spread sessions over both replicas while
one cookie always lands on the same one, that a page loads through the proxy in Chromium (its websocket
works: the charts appear), and that stopping serve.sh leaves no process behind. Needs Debian's nginx and
chromium, which scripts/test.sh installs.
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

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 40.0


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


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


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
        pids = [int(line.split()[2]) for line in (run_dir / "replicas.tsv").read_text().split("\n") if line.strip()] \
            if (run_dir / "replicas.tsv").exists() else []
        nginx_pid = (run_dir / "nginx.pid").read_text().strip() if (run_dir / "nginx.pid").exists() else ""
        if nginx_pid.isdigit():
            pids.append(int(nginx_pid))
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            pytest.fail(f"serve.sh did not stop within {STOP_TIMEOUT_S:.0f} s of SIGTERM")
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in pids if _alive(p)]
        for p in left:  # do not leak them into the rest of the suite, but fail
            os.kill(p, signal.SIGKILL)
        assert not left, f"processes left after stopping serve.sh: {left}\n{log.read_text(errors='replace')[-2000:]}"
        assert proc.returncode == 0, f"serve.sh exited {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}"
        assert not any(_listening(p) for p in [port, *replica_ports]), "a port still listens after the stop"


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
    cookie = next(m.group(1) for v in headers["set-cookie"] if (m := re.match(r"sgeroute=([^;]+)", v)))
    first = headers["x-upstream"][0]
    assert all(_get(url + "/_stcore/health", cookie)[2]["x-upstream"][0] == first for _ in range(5))
    assert "set-cookie" not in {k for k, v in _get(url + "/", cookie)[2].items() if any("sgeroute" in x for x in v)}

    # different cookies land on both replicas; each cookie always on the same one
    seen: dict[str, str] = {}
    for _ in range(64):
        c = secrets.token_hex(16)
        upstream = _get(url + "/_stcore/health", c)[2]["x-upstream"][0]
        assert _get(url + "/_stcore/health", c)[2]["x-upstream"][0] == upstream
        seen.setdefault(upstream, c)
        if len(seen) == 2:
            break
    assert set(seen) == {f"127.0.0.1:{p}" for p in replica_ports}

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


def _pid_of(run_dir: Path, index: int) -> int:
    for line in (run_dir / "replicas.tsv").read_text().splitlines():
        i, _port, pid = line.split()
        if int(i) == index:
            return int(pid)
    raise AssertionError(f"replica {index} not in replicas.tsv")
