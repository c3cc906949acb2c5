"""scripts/serve.sh heals: restarts of dead and of hung replicas, and routing that comes back to them.

Unit tests of deploy/tools.py (the rendered nginx config passes ``nginx -t``; health checks run concurrently and
bounded), then one real ``scripts/serve.sh 2`` on free loopback ports with short health-check settings, on
which: a replica killed with SIGKILL is restarted and new cookie-less sessions land on both replicas again
within seconds; a websocket that fails over to the survivor moves the browser's route cookie there and keeps it
there after the dead replica is back; a replica that stops answering (SIGSTOP) is killed and restarted within
the sustained-failure window; every replica sees SGE_REPLICAS. All requests go to 127.0.0.1; every wait is
bounded. Needs Debian's nginx (scripts/test.sh installs it).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servehelpers import alive, stop_deployment

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy"))
import tools  # noqa: E402  (deploy/tools.py, standard library only)

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
READY_TIMEOUT_S = 120.0
#: serve.sh's checks in this test: every second, answer within 1 s, 3 failures in a row, KILL 2 s after TERM
CHECK = {"SGE_CHECK_INTERVAL": "1", "SGE_CHECK_TIMEOUT": "1", "SGE_UNHEALTHY_CHECKS": "3", "SGE_KILL_GRACE": "2"}
#: the longest a sustained failure may last before serve.sh restarts the replica: 3 x (1 + 1) s + KILL grace,
#: plus slack for a loaded machine
UNHEALTHY_WINDOW_S = 3 * (1 + 1) + 2 + 12


def _need_nginx() -> str:
    if NGINX is None:
        pytest.fail("nginx not found: the loopback deployment needs Debian's nginx. scripts/test.sh installs it "
                    "(apt-get install nginx); run the suite with `bash scripts/test.sh`.")
    return NGINX


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------------------
# deploy/tools.py


@pytest.mark.parametrize("n", [1, 2, 3])
def test_rendered_nginx_config_is_valid(tmp_path, n):
    nginx = _need_nginx()
    (tmp_path / "logs").mkdir()
    (tmp_path / "tmp").mkdir()
    replicas = [f"127.0.0.1:{8510 + i}" for i in range(n)]
    text = tools.render_nginx((REPO / "deploy" / "nginx.conf.template").read_text(), str(tmp_path),
                              "127.0.0.1:8500", replicas, "root" if os.getuid() == 0 else None)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    out = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-e", str(tmp_path / "logs" / "error.log"),
                          "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "@" not in re.sub(r"#.*", "", text)  # every placeholder filled
    for i, r in enumerate(replicas):
        block = re.search(rf"upstream sge_r{i} \{{(.*?)\}}", text, re.S).group(1)
        servers = re.findall(r"server (\S+) ([^;]*);", block)
        assert servers[0] == (r, "max_fails=1 fail_timeout=3s")  # its own replica first, not a backup
        assert sorted(s for s, _ in servers[1:]) == sorted(set(replicas) - {r})
        assert all(flags.endswith("backup") for _, flags in servers[1:])
        assert re.search(rf"^\s*r{i} sge_r{i};$", text, re.M)


def test_render_refuses_duplicate_replicas():
    with pytest.raises(ValueError, match="must differ"):
        tools.render_nginx("@RUN_DIR@", "/x", "127.0.0.1:1", ["127.0.0.1:2", "127.0.0.1:2"], None)


def test_check_is_concurrent_and_bounded():
    # Two "hung" servers: they accept connections (the kernel's backlog) but never answer.
    socks = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        socks.append(s)
    ok_port = _free_port()
    server = _OkServer(ok_port)
    try:
        urls = [f"http://127.0.0.1:{s.getsockname()[1]}/_stcore/health" for s in socks]
        urls.append(f"http://127.0.0.1:{ok_port}/_stcore/health")
        urls.append(f"http://127.0.0.1:{_free_port()}/_stcore/health")  # nothing listens: refused
        t0 = time.monotonic()
        assert tools.check_all(urls, timeout=1.0) == [False, False, True, False]
        assert time.monotonic() - t0 < 2.5  # one timeout for all, not one per hung server
        out = subprocess.run([sys.executable, str(REPO / "deploy" / "tools.py"), "check", *urls, "--timeout", "1"],
                             capture_output=True, text=True, timeout=20)
        assert (out.returncode, out.stdout.split()) == (0, ["fail", "fail", "ok", "fail"])
    finally:
        server.close()
        for s in socks:
            s.close()


class _OkServer:
    """A tiny HTTP server answering 200 "ok" (as /_stcore/health does)."""

    def __init__(self, port: int) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


# --------------------------------------------------------------------------------------------------------------
# a real serve.sh 2


class Deployment:
    def __init__(self, url: str, replica_ports: list[int], run_dir: Path, log: Path) -> None:
        self.url, self.replica_ports, self.run_dir, self.log_path = url, replica_ports, run_dir, log
        self.addrs = [f"127.0.0.1:{p}" for p in replica_ports]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pid(self, index: int) -> int:
        pids = [int(line.split()[2]) for line in (self.run_dir / "replicas.tsv").read_text().splitlines()
                if line.split()[0] == str(index)]
        return pids[-1]

    def all_pids(self) -> list[int]:
        return [int(line.split()[2]) for line in (self.run_dir / "replicas.tsv").read_text().splitlines() if line]

    def wait_log(self, pattern: str, count: int, timeout: float) -> float:
        """Seconds until ``pattern`` (a regex) occurs ``count`` times in serve.sh's output; fails after ``timeout``."""
        t0 = time.monotonic()
        while len(re.findall(pattern, self.log(), re.M)) < count:
            if time.monotonic() - t0 > timeout:
                pytest.fail(f"no {count} x {pattern!r} within {timeout:.0f} s:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        return time.monotonic() - t0

    def get(self, path: str, route: str | None = None, jar: http.cookiejar.CookieJar | None = None,
            timeout: float = 30) -> tuple[int, str, str]:
        """(status, the replica that answered (last X-Upstream address), route cookie set or "")."""
        req = urllib.request.Request(self.url + path)
        if route is not None:
            req.add_header("Cookie", f"sgeroute={route}")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar if jar is not None else
                                                                                http.cookiejar.CookieJar()))
        try:
            resp = opener.open(req, timeout=timeout)
        except urllib.error.HTTPError as err:
            resp = err
        with resp:
            resp.read()
            up = (resp.headers.get("X-Upstream") or "").split(",")[-1].strip()
            return resp.status, up, _route(resp.headers.get_all("Set-Cookie") or [])

    def websocket(self, route: str, timeout: float = 30) -> tuple[str, str]:
        """Open Streamlit's websocket as a browser does (XSRF cookie + subprotocol) with a route cookie; returns
        (the replica that answered the handshake, route cookie the handshake set or "")."""
        from websockets.sync.client import connect

        jar = http.cookiejar.CookieJar()
        self.get("/_stcore/health", route, jar)  # the XSRF cookie, as the page request gives a browser
        xsrf = {c.name: c.value for c in jar}.get("_streamlit_xsrf", "")
        assert xsrf, "no XSRF cookie from the replica"
        headers = {"Cookie": f"sgeroute={route}; _streamlit_xsrf={xsrf}", "Origin": self.url}
        with connect(self.url.replace("http", "ws", 1) + "/_stcore/stream", additional_headers=headers,
                     subprotocols=["streamlit", xsrf], open_timeout=timeout, close_timeout=2) as ws:
            up = (ws.response.headers.get("X-Upstream") or "").split(",")[-1].strip()
            return up, _route(ws.response.headers.get_all("Set-Cookie"))

    def new_sessions(self, count: int, *, strict: bool = True) -> dict[str, int]:
        """``count`` new browsers (no cookie): page request, then websocket with the cookie it got. Replica ->
        sessions (where the websocket, i.e. the session, landed).

        ``strict``: each websocket must land where its page did. Otherwise (just after a restart, while nginx's
        per-replica upstream still counts the replica as failed for up to fail_timeout although the pool already
        serves it) a websocket may fail over, but then its cookie must move to exactly the replica that holds the
        session."""
        seen: dict[str, int] = {}
        for _ in range(count):
            status, up, route = self.get("/")
            assert status == 200 and route in ("r0", "r1") and self.addrs[int(route[1])] == up
            ws_up, moved = self.websocket(route)
            if strict or ws_up == up:
                assert (ws_up, moved) == (up, ""), "a new session's websocket left the replica of its page"
            else:
                assert ws_up in self.addrs and moved == f"r{self.addrs.index(ws_up)}", (
                    f"a failed-over websocket on {ws_up} did not move the route cookie there (got {moved!r})")
            seen[ws_up] = seen.get(ws_up, 0) + 1
        return seen


def _route(set_cookies: list[str]) -> str:
    for value in set_cookies:
        if m := re.match(r"sgeroute=([^;]*)", value):
            return m.group(1)
    return ""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    _need_nginx()
    tmp = tmp_path_factory.mktemp("serve")
    port, replica_ports = _free_port(), [_free_port(), _free_port()]
    run_dir, log = tmp / "run", tmp / "serve.log"
    env = dict(os.environ, SGE_PORT=str(port), SGE_REPLICA_PORTS=" ".join(map(str, replica_ports)),
               SGE_PYTHON=sys.executable, SGE_RUN_DIR=str(run_dir), SGE_STARTUP_TIMEOUT="90",
               SGE_MAX_RESTARTS="3", SGE_SERVE_SECONDS="400", **CHECK)  # stops by itself if this process dies
    env.pop("STREAMLIT_SERVER_COOKIE_SECRET", None)
    env.pop("SGE_REPLICAS", None)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(["bash", str(REPO / "scripts" / "serve.sh"), "2"], cwd=REPO, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    dep = Deployment(f"http://127.0.0.1:{port}", replica_ports, run_dir, log)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while "SGE_READY" not in dep.log():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve.sh not ready (exit {proc.poll()}):\n{dep.log()[-4000:]}")
            time.sleep(0.25)
        yield dep
    finally:
        stop_deployment(proc, run_dir, dep.log)


def _wait_spread(dep: Deployment, timeout: float) -> tuple[float, dict[str, int]]:
    """Seconds until new cookie-less sessions land on both replicas (bounded), and the last spread."""
    t0 = time.monotonic()
    while True:
        seen = dep.new_sessions(6, strict=False)
        if set(seen) == set(dep.addrs):
            return time.monotonic() - t0, seen
        if time.monotonic() - t0 > timeout:
            pytest.fail(f"new sessions still land only on {seen} {timeout:.0f} s after the restart:\n"
                        f"{dep.log()[-2000:]}")
        time.sleep(0.25)


def _wait_own_route(dep: Deployment, i: int, timeout: float = 10.0) -> None:
    """Wait (bounded) until route r<i> is served by its own replica again: nginx's per-replica upstream retries a
    failed server only after fail_timeout (3 s), which may end a moment after the pool already serves it."""
    deadline = time.monotonic() + timeout
    while dep.get("/_stcore/health", f"r{i}")[1] != dep.addrs[i]:
        if time.monotonic() > deadline:
            pytest.fail(f"route r{i} still not served by its replica {timeout:.0f} s after the spread")
        time.sleep(0.25)


def test_replicas_get_sge_replicas(deployment):
    for i in range(2):
        environ = Path(f"/proc/{deployment.pid(i)}/environ").read_bytes().split(b"\0")
        assert b"SGE_REPLICAS=2" in environ


def test_routes_name_the_replica(deployment):
    dep = deployment
    for i, addr in enumerate(dep.addrs):
        assert {dep.get("/_stcore/health", f"r{i}")[1:] for _ in range(4)} == {(addr, "")}  # no cookie change
    status, up, route = dep.get("/_stcore/health", "0123abcd")  # an unknown route is replaced
    assert status == 200 and route and dep.addrs[int(route[1])] == up


def test_killed_replica_is_restarted_and_new_sessions_spread_again(deployment):
    dep = deployment
    assert set(dep.new_sessions(6)) == set(dep.addrs)
    restarts = dep.log().count("SGE_RESTARTED 1 ")
    healthy = len(re.findall(r"^SGE_HEALTHY 1 ", dep.log(), re.M))
    old = dep.pid(1)
    os.kill(old, signal.SIGKILL)
    t_kill = time.monotonic()

    # while it is down: every new session and every browser routed to it is served by the survivor
    status, up, route = dep.get("/_stcore/health", "r1")
    assert (status, up, route) == (200, dep.addrs[0], "")  # a plain request does not move the route
    ws_up, moved = dep.websocket("r1")
    assert (ws_up, moved) == (dep.addrs[0], "r0")  # the reconnecting websocket does: its session is there now

    dep.wait_log(r"^SGE_RESTARTED 1 exited", restarts + 1, 30)
    assert dep.pid(1) != old
    dep.wait_log(r"^SGE_HEALTHY 1 ", healthy + 1, 90)
    t_healthy = time.monotonic()
    seconds, seen = _wait_spread(dep, 15)
    print(f"restart {t_healthy - t_kill:.1f} s after SIGKILL; new sessions on both replicas {seconds:.1f} s later "
          f"({seen})")
    # the route of replica 1 is its own again; the browser moved to replica 0 stays there with its session
    _wait_own_route(dep, 1)
    assert {dep.get("/_stcore/health", "r1")[1] for _ in range(4)} == {dep.addrs[1]}
    assert dep.websocket("r0") == (dep.addrs[0], "")
    assert dep.websocket("r1") == (dep.addrs[1], "")


def test_hung_replica_is_killed_and_restarted(deployment):
    dep = deployment
    restarts = dep.log().count("SGE_RESTARTED 0 ")
    healthy = len(re.findall(r"^SGE_HEALTHY 0 ", dep.log(), re.M))
    old = dep.pid(0)
    os.kill(old, signal.SIGSTOP)  # alive, accepts connections, answers nothing
    try:
        t0 = time.monotonic()
        # a new browser is still served meanwhile (by the other replica, at worst after nginx's 20 s read timeout
        # on the stopped one or when serve.sh kills it)
        status, up, route = dep.get("/", timeout=40)
        assert (status, up, route) == (200, dep.addrs[1], "r1")
        assert time.monotonic() - t0 < 25
        dep.wait_log(r"^SGE_RESTARTED 0 was unhealthy for 3 checks", restarts + 1,
                     max(1.0, UNHEALTHY_WINDOW_S - (time.monotonic() - t0)))
        waited = time.monotonic() - t0
        assert "runs but failed 3 health checks in a row; killing it" in dep.log()
        deadline = time.monotonic() + 10
        while alive(old) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(old), "the stopped replica was not killed"
        print(f"stopped replica restarted {waited:.1f} s after SIGSTOP")
    finally:
        if alive(old):
            os.kill(old, signal.SIGCONT)
    assert dep.pid(0) != old
    dep.wait_log(r"^SGE_HEALTHY 0 ", healthy + 1, 90)
    seconds, seen = _wait_spread(dep, 15)
    assert time.monotonic() - t0 < 120
    _wait_own_route(dep, 0)
    assert dep.get("/_stcore/health", "r0")[:2] == (200, dep.addrs[0])
