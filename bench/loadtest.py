"""Protocol-level load test of the app: a class of students against ``scripts/serve.sh N`` (or a running server).

Each student is one protocol-level browser tab (:mod:`stclient`: its own cookies, so its own sticky route;
checked against Chromium in ``tests/browser/test_stclient.py``), costing a small fraction of a core, so the
load generator does not starve the server it measures. A *page student* opens one of the analytic pages at
random and then, over and over, waits a think time (exponential, or uniform +-50 %, around ``--think``) and
moves that page's slider one step (a random walk). A *training student* (``--training-share``) opens
/Training, presses Play and stays connected: its tab runs the page's ``st.fragment(run_every=...)`` ticks as
the frontend does, and the banner ("Epoch N (deterministic) · M (stochastic)") of every tick gives its
epochs/s. A student whose connection drops reconnects as the frontend does (health probe with backoff, the
old session id, every widget state and the URL query string, so page and widget values survive).

Timeline: start the deployment (or use ``--url``), warm every page up on every replica, measure idle CPU
(``--idle`` s), open the students' pages over ``--ramp`` s, then measure for ``--duration`` s; moves still
in flight then may finish (bounded by ``--move-cap``); everything is closed and the deployment stopped.

Report (printed, and JSON with ``--out``): slider moves served/s; move latency (request -> script_finished)
p50/p95/p99/max and first delta; timeouts (a move slower than ``--move-timeout``) and errors; server CPU per
move (replica CPU over the window / moves, also net of the idle rate); each replica's RSS (start, peak, end)
and sessions (X-Upstream of the page requests); epochs/s of every training; the load generator's own CPU.

Fault runs (each bounded, one command):

* ``--fault kill``: SIGKILL the busier of two replicas ``--kill-at`` s into the window (30 students);
  serve.sh restarts it; per student the time until it works again, and ``--after-restart`` s after the
  restart the sessions each replica carries (students' connections, /_stcore/metrics, the page requests of
  ``--late-students`` new students arriving after the restart, and where the reconnects went).
* ``--fault burst``: one extra tab sends ``--burst`` rerun requests at once without waiting; /_stcore/health
  of its replica is polled every 100 ms throughout; reports health latency (max in and out of the burst), how
  many runs the burst caused and the CPU it cost, next to the CPU of one move.
* ``--fault silent``: ``--silent`` connections open the websocket and then never send or read anything
  (``--silent-mode load-noread``: they request the page first and never read the answer); reports the
  replicas' memory and the other students' latency before and during.

    python bench/loadtest.py --replicas 2 --students 100 --think 5 --training-share 0.2 --duration 60 --out out.json
    python bench/loadtest.py --fault kill --out kill.json
    python bench/loadtest.py --fault burst --out burst.json
    python bench/loadtest.py --fault silent --out silent.json
    python bench/loadtest.py --url http://127.0.0.1:8500 --run-dir RUN_DIR --students 10   # a running serve.sh

Loopback only. Every wait and loop is bounded; a watchdog (``--budget``) ends the run in any case, and the
deployment it started is stopped at exit (also on Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import http.client
import http.cookiejar
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the app's root: its page registry
from stclient import SUPERSEDED, Tab, TabError, TabTimeout  # noqa: E402

from sgcore.pages import PAGES as REGISTRY  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: analytic page (URL path) -> the slider a student moves (the registry's probe: it feeds a chart at default settings)
PAGES = {page.url_path: page.probe for page in REGISTRY.content() if page.probe}
TRAINING = REGISTRY["training"].url_path
TICKS = os.sysconf("SC_CLK_TCK")
EPOCH_RE = re.compile(r"Epoch\s*(?:<b>)?\s*([\d,]+)\s*(?:</b>)?\s*\(deterministic\)\s*·\s*(?:<b>)?\s*([\d,]+)\s*"
                      r"(?:</b>)?\s*\(stochastic\)\s*,?\s*([^—<]*)")
FAULT_DEFAULTS = {  # students, replicas, duration when not given
    None: (20, 1, 30.0),
    "kill": (30, 2, 0.0),
    "burst": (10, 1, 40.0),
    "silent": (20, 1, 40.0),
}


# --- processes ------------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of process ``pid`` (all its threads); None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            return None
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return None


def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (busy time of every core, from /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10]) if len(fields) > 9 else 0  # counted in user time already
    return (sum(fields) - idle - guest) / TICKS


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` (via /proc/net/tcp* and /proc/*/fd; bounded scans)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(parts[9])
        except OSError:
            continue
    targets = {f"socket:[{i}]" for i in inodes}
    if not targets:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    return int(pid)
        except OSError:
            continue
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5.0, jar: http.cookiejar.CookieJar | None = None) -> tuple[int, bytes, str]:
    """(status, body, X-Upstream) of a GET; raises OSError on a network error."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar or http.cookiejar.CookieJar()))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, resp.read(), resp.headers.get("X-Upstream", "")
    except urllib.error.HTTPError as err:
        return err.code, b"", err.headers.get("X-Upstream", "") if err.headers else ""


def last_upstream(header: str) -> str:
    return header.split(",")[-1].strip() if header else ""


def active_sessions(replica: str) -> float | None:
    """Streamlit's active_sessions gauge of one replica (its /_stcore/metrics), None if unavailable."""
    try:
        status, body, _ = http_get(f"http://{replica}/_stcore/metrics", timeout=5)
    except OSError:
        return None
    if status != 200:
        return None
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("active_sessions "):
            return float(line.split()[1])
    return None


class Replicas:
    """The replica processes (name ``host:port`` -> pid, re-read from serve.sh's replicas.tsv), their CPU and RSS.

    CPU is summed over every pid a replica has had (a killed one keeps its last sample), so that windows across
    a restart are right; RSS is sampled into a series per replica.
    """

    def __init__(self, static: dict[str, int | None], run_dir: Path | None = None):
        self.run_dir = run_dir
        self.pids: dict[str, int | None] = dict(static)
        self.index: dict[str, int] = {}
        self.history: dict[str, list[int]] = {n: [p] for n, p in static.items() if p}
        self.last_cpu: dict[int, float] = {}
        self.rss: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
        self.refresh()

    def refresh(self) -> None:
        if self.run_dir is None:
            return
        try:
            lines = (self.run_dir / "replicas.tsv").read_text().splitlines()
        except OSError:
            return
        for line in lines:  # "index port pid"; a restart appends a line
            parts = line.split()
            if len(parts) != 3 or not all(p.isdigit() for p in parts):
                continue
            name = f"127.0.0.1:{parts[1]}"
            pid = int(parts[2])
            self.index[name] = int(parts[0])
            self.pids[name] = pid
            if pid not in self.history.setdefault(name, []):
                self.history[name].append(pid)

    def sample(self, t: float) -> None:
        self.refresh()
        for name, pids in self.history.items():
            for pid in pids:
                c = cpu_seconds(pid)
                if c is not None:
                    self.last_cpu[pid] = c
            pid = self.pids.get(name)
            r = rss_mib(pid) if pid else None
            if r is not None:
                self.rss[name].append((t, r))

    def cpu(self, name: str | None = None) -> float:
        names = [name] if name else list(self.history)
        return sum(self.last_cpu.get(p, 0.0) for n in names for p in self.history.get(n, []))

    def cpu_by_replica(self) -> dict[str, float]:
        return {n: self.cpu(n) for n in self.history}

    def rss_now(self) -> dict[str, float | None]:
        return {n: (rss_mib(p) if p else None) for n, p in self.pids.items()}


class Deployment:
    """``scripts/serve.sh N`` on free loopback ports, stopping by itself after ``serve_seconds``; stopped at close."""

    def __init__(self, replicas: int, serve_seconds: int, log_dir: Path, check_interval: float | None = None):
        self.port = free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.run_dir = log_dir / "run"
        self.log = log_dir / "serve.log"
        env = dict(os.environ, SGE_PORT=str(self.port), SGE_REPLICA_PORTS=" ".join(map(str, self.replica_ports)),
                   SGE_PYTHON=sys.executable, SGE_SERVE_SECONDS=str(int(serve_seconds)),
                   SGE_RUN_DIR=str(self.run_dir), SGE_KEEP_RUN_DIR="1", SGE_HOST="127.0.0.1")
        if check_interval:
            env["SGE_CHECK_INTERVAL"] = f"{check_interval:g}"
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(["bash", str(REPO / "scripts" / "serve.sh"), str(replicas)], cwd=REPO,
                                         env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.url = ""
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            m = re.search(r"^SGE_READY (\S+)", self.log.read_text(errors="replace"), re.M)
            if m:
                self.url = m.group(1).rstrip("/")
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        if not self.url:
            tail = self.log.read_text(errors="replace")[-3000:]
            self.close()
            raise RuntimeError(f"serve.sh did not print SGE_READY:\n{tail}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the process group this object started
                self.proc.wait(timeout=10)


def discover(base: str, replicas_hint: dict[str, int | None], probes: int = 48) -> dict[str, http.cookiejar.CookieJar]:
    """A cookie jar whose route lands on each replica (by X-Upstream of health requests; bounded probes).

    Without a proxy (no X-Upstream) the base URL's own address is the one replica.
    """
    found: dict[str, http.cookiejar.CookieJar] = {}
    want = set(replicas_hint)
    for k in range(probes):
        jar = http.cookiejar.CookieJar()
        try:
            _, _, up = http_get(base + "/_stcore/health", timeout=10, jar=jar)
        except OSError:
            continue
        up = last_upstream(up) or urllib.parse.urlsplit(base).netloc
        found.setdefault(up, jar)
        if want and want <= set(found):
            break
        if not want and len(found) >= 1 and k >= 8:
            break
    return found


# --- statistics -----------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(math.floor(k)), min(int(math.floor(k)) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def rnd(x: float | None, n: int = 3) -> float | None:
    return None if x is None else round(x, n)


# --- students -------------------------------------------------------------------------------------------

@dataclass
class Move:
    student: int
    t: float  # request sent, seconds since the window started
    seconds: float | None  # None: no answer within --move-cap (abandoned) or the connection dropped
    first_delta: float | None
    kb: float
    outcome: str  # ok | timeout (answered, but later than --move-timeout) | abandoned | dropped | error
    upstream: str = ""


@dataclass
class Recovery:
    student: int
    t_down: float  # the connection closed (window time)
    t_up: float | None  # the first rerun after reconnecting finished
    attempts: int = 0
    upstream_before: str = ""
    upstream_after: str = ""
    error: str = ""


@dataclass
class Student:
    index: int
    kind: str  # page | training | late
    page: str
    key: str = ""
    start_at: float = 0.0  # window time of opening the page
    upstream: str = ""  # X-Upstream of the page request
    load_s: float | None = None
    errors: list[str] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    # training
    play_at: float | None = None
    #: status ticks: window time, run status, epochs (deterministic, stochastic), status text
    ticks: list[tuple[float, str, int | None, int | None, str]] = field(default_factory=list)
    tab: Any = field(default=None, repr=False)


class LoadRun:
    """One load-test run: shared clock, records, the stop signal."""

    def __init__(self, args: argparse.Namespace, base: str, replicas: Replicas):
        self.args = args
        self.base = base
        self.replicas = replicas
        self.t0 = time.perf_counter() + 1e9  # window start (set when the window starts)
        self.moves: list[Move] = []
        self.students: list[Student] = []
        self.stop = asyncio.Event()  # students stop moving
        self.fault_done = asyncio.Event()
        self.release = asyncio.Event()  # students close their tabs
        self.marks: dict[str, float] = {}
        self.lag: list[float] = []

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def think(self, rng: random.Random) -> float:
        t = self.args.think
        if self.args.think_dist == "uniform":
            return rng.uniform(0.5 * t, 1.5 * t)
        return min(5 * t, rng.expovariate(1 / t)) if t > 0 else 0.0

    async def sleep_or_close(self, tab: Tab, seconds: float) -> bool:
        """Sleep ``seconds`` (not past the stop); True if the connection closed meanwhile."""
        if seconds <= 0:
            return tab.closed.is_set()
        waiters = [asyncio.ensure_future(tab.closed.wait()), asyncio.ensure_future(self.stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        return tab.closed.is_set() and not self.stop.is_set()

    async def recover(self, s: Student, tab: Tab, rng: random.Random) -> bool:
        rec = Recovery(s.index, self.now(), None, upstream_before=tab.ws_upstream or s.upstream)
        s.recoveries.append(rec)
        try:
            attempts, run = await tab.reconnect(deadline_s=self.args.reconnect_timeout, rng=rng)
            rec.attempts, rec.t_up, rec.upstream_after = attempts, self.now(), tab.ws_upstream
            if run.errors:
                s.errors.append("after reconnect: " + run.errors[0][:120])
            return True
        except (TabError, OSError) as err:
            rec.error = str(err)[:200]
            s.errors.append(f"reconnect: {err}"[:200])
            return False

    async def open(self, s: Student, rng: random.Random) -> Tab | None:
        delay = s.start_at - self.now()
        if delay > 0:
            await asyncio.sleep(delay)
        tab = Tab(self.base, "/" + s.page, timeout=self.args.load_timeout)
        s.tab = tab
        t = time.perf_counter()
        try:
            await tab.connect()
            s.upstream = tab.upstream or urllib.parse.urlsplit(self.base).netloc
            run = await tab.load(timeout=self.args.load_timeout)
            s.load_s = time.perf_counter() - t
            if run.errors:
                s.errors.append("load: " + run.errors[0][:160])
            return tab
        except (TabError, OSError, TimeoutError) as err:
            s.errors.append(f"load: {type(err).__name__}: {err}"[:200])
            if not tab.closed.is_set() and isinstance(err, TabTimeout):
                return tab  # still connected: it may answer later; the student goes on
            if await self.recover(s, tab, rng):
                return tab
            await tab.close()
            return None

    async def page_student(self, s: Student) -> None:
        rng = random.Random(self.args.seed * 100_003 + s.index)
        tab = await self.open(s, rng)
        if tab is None:
            return
        a = self.args
        for _ in range(100_000):  # bounded: ends at the stop in any case
            if self.stop.is_set():
                break
            if await self.sleep_or_close(tab, self.think(rng)):
                if not await self.recover(s, tab, rng):
                    return
                continue
            if self.stop.is_set():
                break
            if s.key not in tab.by_key:  # the first screen has not arrived yet (a slow load): wait, as a browser
                if any(not x.fragment_ids and x.status not in SUPERSEDED for x in tab.finished):
                    s.errors.append(f"no slider {s.key!r} on {s.page}")
                    return
                if await self.sleep_or_close(tab, 1.0) and not await self.recover(s, tab, rng):
                    return
                continue
            try:
                value = tab.value(s.key)[0]
                w = tab.widgets[tab.widget_id(s.key)]["el"]
            except (TabError, KeyError, IndexError, TypeError) as err:
                s.errors.append(f"no slider {s.key!r}: {err}"[:200])
                return
            step = rng.choice((-1, 1))
            if value + step * (w.step or 1) > w.max:
                step = -1
            elif value + step * (w.step or 1) < w.min:
                step = 1
            t = self.now()
            try:
                run = await tab.move(s.key, step, timeout=a.move_cap)
            except TabTimeout:
                self.moves.append(Move(s.index, t, None, None, 0.0, "abandoned", tab.ws_upstream))
                continue
            except TabError as err:
                self.moves.append(Move(s.index, t, None, None, 0.0, "dropped", tab.ws_upstream))
                if tab.closed.is_set():
                    if not await self.recover(s, tab, rng):
                        return
                else:
                    s.errors.append(f"move: {err}"[:200])
                continue
            outcome = "error" if run.errors else ("timeout" if run.seconds > a.move_timeout else "ok")
            if run.errors:
                s.errors.append("move: " + run.errors[0][:160])
            self.moves.append(Move(s.index, t, run.seconds, run.first_delta, run.bytes / 1024, outcome,
                                   tab.ws_upstream))

    async def training_student(self, s: Student) -> None:
        rng = random.Random(self.args.seed * 100_003 + s.index)
        tab = await self.open(s, rng)
        if tab is None:
            return
        seen = 0  # the last run (by sequence number) already read
        for _ in range(100_000):  # bounded: ends at the stop in any case
            if self.stop.is_set():
                break
            if "Press <b>Play</b>" in tab.banner or s.play_at is None:
                try:
                    await tab.click("play", timeout=self.args.move_cap)
                    if s.play_at is None:
                        s.play_at = self.now()
                except TabTimeout:
                    s.errors.append("play: no answer")
                    if s.play_at is None:
                        s.play_at = self.now()
                except TabError as err:
                    if not tab.closed.is_set():
                        s.errors.append(f"play: {err}"[:200])
                        return
            if await self.sleep_or_close(tab, 1.0):
                if not await self.recover(s, tab, rng):
                    return
            for acc in list(tab.finished):
                if acc.seq <= seen:
                    continue
                if acc.fragment_ids and acc.banner and acc.t_end is not None:
                    det, sto, status = parse_banner(acc.banner)
                    s.ticks.append((acc.t_end - self.t0, acc.status, det, sto, status))
            seen = max([seen, *(a.seq for a in tab.finished)])

    async def monitor(self, budget: float) -> None:
        """Sample replica CPU and RSS every 0.5 s and the event loop's lag (bounded)."""
        for _ in range(int(budget / 0.1) + 10):
            if self.release.is_set():
                return
            t = time.perf_counter()
            await asyncio.sleep(0.1)
            self.lag.append(time.perf_counter() - t - 0.1)
            if len(self.lag) % 5 == 0:
                self.replicas.sample(self.now())


def parse_banner(text: str) -> tuple[int | None, int | None, str]:
    m = EPOCH_RE.search(text)
    if not m:
        status = "waiting" if "waiting" in text else ("idle" if "Press" in text else "")
        return None, None, status
    status = re.sub(r"<[^>]+>", "", m.group(3)).strip(" —-")
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), status


class HealthPoller(threading.Thread):
    """GET /_stcore/health every ``interval`` s (each waits for its answer), in its own thread; bounded."""

    def __init__(self, url: str, clock: Any, interval: float, max_polls: int, headers: dict[str, str] | None = None):
        super().__init__(daemon=True)
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port or 80, u.path or "/"
        self.clock, self.interval, self.max_polls = clock, interval, max_polls
        self.headers = headers or {}
        self.samples: list[tuple[float, float, bool]] = []  # t, latency, ok
        self.halt = threading.Event()

    def run(self) -> None:
        for _ in range(self.max_polls):
            if self.halt.is_set():
                return
            t, t_rel = time.perf_counter(), self.clock()
            ok = False
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                conn.request("GET", self.path, headers=self.headers)
                resp = conn.getresponse()
                ok = resp.status == 200 and resp.read().strip() == b"ok"
                conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
            lat = time.perf_counter() - t
            self.samples.append((t_rel, lat, ok))
            self.halt.wait(max(0.0, self.interval - lat))


# --- the run --------------------------------------------------------------------------------------------

def assign(args: argparse.Namespace, n: int, first: int, kind: str, rng: random.Random,
           training_share: float) -> list[Student]:
    out = []
    for i in range(n):
        training = int((i + 1) * training_share + 1e-9) > int(i * training_share + 1e-9)
        if training:
            out.append(Student(first + i, "training", TRAINING))
        else:
            page = rng.choice(sorted(PAGES))
            out.append(Student(first + i, kind, page, PAGES[page]))
    return out


async def warm_up(base: str, routes: dict[str, http.cookiejar.CookieJar], timeout: float,
                  training: bool = True) -> list[str]:
    """Open every page used once on every replica (one route each), one after the other, so first-visit costs
    (imports, caches) are not billed to the students and a fresh server's first imports do not race."""
    problems = []
    for name, jar in routes.items():
        for page in [*PAGES, *([TRAINING] if training else [])]:
            tab = Tab(base, "/" + page, timeout=timeout)
            tab.cookies = jar
            try:
                await tab.connect()
                await tab.load(timeout=timeout)
                if page in PAGES:
                    await tab.move(PAGES[page], 1, timeout=timeout)
            except (TabError, OSError, TimeoutError) as err:
                problems.append(f"warm-up {page} on {name}: {err}"[:200])
            finally:
                await tab.close()
    return problems


async def measure_single_moves(run: LoadRun, tab: Tab, key: str, replica: str, n: int = 5) -> list[float]:
    """Server CPU of ``n`` single moves of ``tab`` (each alone: sampled before and after it settles)."""
    out = []
    for i in range(n):
        run.replicas.sample(run.now())
        c0 = run.replicas.cpu(replica)
        await tab.move(key, 1 if i % 2 == 0 else -1, timeout=run.args.move_cap)
        await asyncio.sleep(0.3)
        run.replicas.sample(run.now())
        out.append(run.replicas.cpu(replica) - c0)
    return out


async def burst_prepare(run: LoadRun, routes: dict[str, http.cookiejar.CookieJar]) -> tuple[Tab, dict]:
    """The burst's tab, opened before the students come, and the server CPU of a few of its moves alone."""
    a = run.args
    page = REGISTRY["escape"].url_path
    key = PAGES[page]
    tab = Tab(run.base, "/" + page, timeout=a.load_timeout)
    name = next(iter(routes))
    tab.cookies = routes[name]
    await tab.connect()
    await tab.load()
    replica = last_upstream(tab.upstream) or name
    info: dict[str, Any] = {"replica": replica, "requests": a.burst, "page": page, "slider": key}
    singles = await measure_single_moves(run, tab, key, replica)
    info["single_move_cpu_ms_median"] = rnd(1e3 * statistics.median(singles), 1)
    return tab, info


async def burst_fault(run: LoadRun, tab: Tab, info: dict, report: dict) -> None:
    a = run.args
    key, replica = info["slider"], info["replica"]
    report["fault"] = info
    try:
        wait = a.burst_at - run.now()
        if wait > 0:
            await asyncio.sleep(wait)
        # the replica's CPU rate just before the burst (the students'), to take out of the burst's CPU
        run.replicas.sample(run.now())
        c_base0, t_base0 = run.replicas.cpu(replica), run.now()
        await asyncio.sleep(3.0)
        run.replicas.sample(run.now())
        base_rate = (run.replicas.cpu(replica) - c_base0) / max(1e-6, run.now() - t_base0)
        seq0, t_send = tab.runs_started, time.perf_counter()
        run.marks["burst_start"] = run.now()
        c0 = run.replicas.cpu(replica)
        for i in range(a.burst):  # a flood: every request one more slider step, none waits for an answer
            tab.user_set(key, [tab.step_value(key, 1 if (i // 10) % 2 == 0 else -1)])
            await tab.send()
        info["send_s"] = rnd(time.perf_counter() - t_send)
        # served when a run finished and no new run started for a second after it (bounded by --burst-timeout)
        deadline = time.perf_counter() + a.burst_timeout
        done_at = None
        for _ in range(int(a.burst_timeout / 0.05) + 1):
            if time.perf_counter() > deadline or tab.closed.is_set():
                break
            await asyncio.sleep(0.05)
            mine = [x for x in tab.finished if x.seq > seq0]
            if mine and not tab.running and mine[-1].status not in SUPERSEDED \
                    and time.perf_counter() - (mine[-1].t_end or 0) > 1.0 and tab.runs_started == mine[-1].seq:
                done_at = mine[-1].t_end
                break
        mine = [x for x in tab.finished if x.seq > seq0]
        run.marks["burst_end"] = (done_at - run.t0) if done_at else run.now()
        run.replicas.sample(run.now())
        spent = run.replicas.cpu(replica) - c0  # 1 s of quiet after the last run is included
        window = run.now() - run.marks["burst_start"]
        info.update({
            "served_s": rnd(done_at - t_send) if done_at else None,
            "finished": done_at is not None,
            "runs_started": tab.runs_started - seq0,
            "runs_completed": sum(1 for x in mine if x.status not in SUPERSEDED),
            "runs_superseded": sum(1 for x in mine if x.status in SUPERSEDED),
            "cpu_s": rnd(spent),
            "cpu_net_s": rnd(spent - base_rate * window),
            "baseline_cpu_per_s": rnd(base_rate),
            "errors": sorted({e for x in mine for e in x.errors})[:5],
        })
        single = info["single_move_cpu_ms_median"] or 0
        info["cpu_net_in_single_moves"] = rnd(1e3 * info["cpu_net_s"] / single, 1) if single else None
    finally:
        run.fault_done.set()
    await run.release.wait()
    await tab.close()


async def silent_fault(run: LoadRun, report: dict) -> None:
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg

    a = run.args
    wait = a.silent_at - run.now()
    if wait > 0:
        await asyncio.sleep(wait)
    run.replicas.sample(run.now())
    info: dict[str, Any] = {"connections": a.silent, "mode": a.silent_mode, "rss_before_mib": run.replicas.rss_now()}
    report["fault"] = info
    run.marks["silent_start"] = run.now()
    conns, ups, failed = [], collections.Counter(), 0
    for i in range(a.silent):
        jar = http.cookiejar.CookieJar()
        page = sorted(PAGES)[i % len(PAGES)]
        try:
            _, _, up = await asyncio.to_thread(http_get, f"{run.base}/{page}", 10, jar)
            cookies = {c.name: c.value for c in jar}
            xsrf = cookies.get("_streamlit_xsrf", "")
            ws = await websockets.connect(
                run.base.replace("http", "ws", 1) + "/_stcore/stream", open_timeout=10, ping_interval=None,
                additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                                    "Origin": run.base},
                subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"], max_queue=1, max_size=2**27)
            if a.silent_mode == "load-noread":
                msg = BackMsg()
                msg.rerun_script.page_name = page
                await ws.send(msg.SerializeToString())
            conns.append(ws)
            ups[last_upstream(up) or urllib.parse.urlsplit(run.base).netloc] += 1
        except (OSError, TimeoutError, websockets.WebSocketException) as err:
            failed += 1
            info.setdefault("open_errors", []).append(str(err)[:120])
    info.update(opened=len(conns), failed=failed, per_replica=dict(ups),
                open_s=rnd(run.now() - run.marks["silent_start"]))
    await run.stop.wait()
    run.replicas.sample(run.now())
    info["rss_end_mib"] = run.replicas.rss_now()
    info["closed_by_server"] = sum(1 for ws in conns if ws.state.name in ("CLOSING", "CLOSED"))
    for ws in conns:
        ws.transport.abort()  # never read: do not wait for a closing handshake


async def kill_fault(run: LoadRun, report: dict, tasks: list) -> None:
    a = run.args
    wait = a.kill_at - run.now()
    if wait > 0:
        await asyncio.sleep(wait)
    carried = collections.Counter(s.tab.ws_upstream or s.upstream for s in run.students if s.tab is not None)
    names = [n for n in run.replicas.pids if run.replicas.pids[n]]
    victim = max(names, key=lambda n: (carried.get(n, 0), -names.index(n)))
    old_pid = run.replicas.pids[victim]
    info: dict[str, Any] = {"victim": victim, "victim_pid": old_pid, "sessions_before": dict(carried)}
    report["fault"] = info
    run.replicas.sample(run.now())
    os.kill(old_pid, signal.SIGKILL)  # a replica serve.sh started for this run
    run.marks["kill"] = run.now()
    # wait for serve.sh to restart it: a new pid in replicas.tsv whose port answers health (bounded)
    restarted = None
    for _ in range(int(a.restart_timeout / 0.2)):
        await asyncio.sleep(0.2)
        run.replicas.refresh()
        pid = run.replicas.pids.get(victim)
        if pid and pid != old_pid:
            try:
                status, body, _ = await asyncio.to_thread(http_get, f"http://{victim}/_stcore/health", 2)
            except OSError:
                continue
            if status == 200 and body.strip() == b"ok":
                restarted = run.now()
                info["new_pid"] = pid
                break
    info["restarted_after_s"] = rnd(restarted - run.marks["kill"]) if restarted is not None else None
    if restarted is None:
        run.marks["restart"] = run.now()
        run.stop.set()
        return
    run.marks["restart"] = restarted
    # new students arrive after the restart (fresh tabs: where does the proxy send them?)
    rng = random.Random(a.seed + 7)
    late = assign(a, a.late_students, len(run.students), "late", rng, 0.0)
    spread = min(30.0, a.after_restart / 2)
    for i, s in enumerate(late):
        s.start_at = restarted + spread * i / max(1, len(late))
        run.students.append(s)
        tasks.append(asyncio.create_task(run.page_student(s)))
    await asyncio.sleep(max(0.0, restarted + a.after_restart - run.now()))
    snap = collections.Counter(s.tab.ws_upstream or s.upstream for s in run.students
                               if s.tab is not None and not s.tab.closed.is_set())
    info["after_restart_s"] = a.after_restart
    info["sessions_after"] = {"students_connected": dict(snap),
                              "active_sessions_metric": {n: active_sessions(n) for n in run.replicas.pids},
                              "late_page_requests": dict(collections.Counter(s.upstream for s in late)),
                              "reconnects": dict(collections.Counter(
                                  r.upstream_after for s in run.students for r in s.recoveries if r.t_up))}
    run.stop.set()


async def main_async(args: argparse.Namespace, base: str, replicas: Replicas) -> dict:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=48))
    run = LoadRun(args, base, replicas)
    report: dict[str, Any] = {"base": base, "replicas": sorted(replicas.pids)}
    routes = await asyncio.to_thread(discover, base, replicas.pids)
    report["routes_found"] = sorted(routes)
    if not args.no_warm_up:
        report["warm_up_problems"] = await warm_up(base, routes, args.load_timeout,
                                                   training=args.training_share > 0)
    burst = await burst_prepare(run, routes) if args.fault == "burst" else None
    # idle: no sessions of ours (the warm-up tabs are closed; the burst's tab is open and quiet)
    replicas.sample(0.0)
    cpu_idle0, t_idle0 = replicas.cpu(), time.perf_counter()
    await asyncio.sleep(args.idle)
    replicas.sample(0.0)
    idle_rate = (replicas.cpu() - cpu_idle0) / max(1e-6, time.perf_counter() - t_idle0) if args.idle > 0 else 0.0
    rss_start = replicas.rss_now()

    rng = random.Random(args.seed)
    students = assign(args, args.students, 0, "page", rng, args.training_share)
    run.students = students
    # the window starts after the ramp; the students open their pages during the ramp
    run.t0 = time.perf_counter() + args.ramp
    for i, s in enumerate(students):
        s.start_at = -args.ramp + args.ramp * i / max(1, len(students))
    budget = args.ramp + (args.duration or 0) + args.move_cap + 600
    mon = asyncio.create_task(run.monitor(budget))
    tasks = [asyncio.create_task(run.training_student(s) if s.kind == "training" else run.page_student(s))
             for s in students]
    fault_task = None
    health = None
    if args.fault == "burst":
        # the burst tab's replica, polled directly (as a readiness probe would); without a proxy it is the base
        health = HealthPoller(f"http://{next(iter(routes))}/_stcore/health", run.now, 0.1, int((budget + 60) / 0.1))
        health.start()
        fault_task = asyncio.create_task(burst_fault(run, *burst, report))
    elif args.fault == "silent":
        fault_task = asyncio.create_task(silent_fault(run, report))
    elif args.fault == "kill":
        fault_task = asyncio.create_task(kill_fault(run, report, tasks))

    await asyncio.sleep(max(0.0, -run.now()))  # the ramp
    replicas.sample(0.0)
    cpu0, cpu0_by = replicas.cpu(), replicas.cpu_by_replica()
    client0, busy0 = os.times(), machine_busy_seconds()
    if args.fault == "kill":
        try:
            await asyncio.wait_for(run.stop.wait(), args.kill_at + args.restart_timeout + args.after_restart + 60)
        except TimeoutError:
            report.setdefault("problems", []).append("kill fault did not finish in time")
        run.stop.set()
    else:
        await asyncio.sleep(args.duration)
        if args.fault == "burst":  # the window lasts until the burst has been served (bounded)
            try:
                await asyncio.wait_for(run.fault_done.wait(), args.burst_timeout + 10)
            except TimeoutError:
                report.setdefault("problems", []).append("burst fault did not finish in time")
        run.stop.set()
    t_end = run.now()
    replicas.sample(t_end)
    cpu1, cpu1_by = replicas.cpu(), replicas.cpu_by_replica()
    client1, busy1 = os.times(), machine_busy_seconds()
    rss_end = replicas.rss_now()
    # moves in flight may finish (bounded), then everything closes
    pending = [t for t in tasks if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=args.move_cap + 5)
    if fault_task is not None and args.fault != "burst":
        await asyncio.wait([fault_task], timeout=30)
    sessions_now = {n: active_sessions(n) for n in replicas.pids} if args.metrics else {}
    run.release.set()
    if fault_task is not None:
        await asyncio.wait([fault_task], timeout=30)
    if health is not None:
        health.halt.set()
        health.join(timeout=35)
    for s in run.students:
        if s.tab is not None:
            await s.tab.close()
    for t in [*tasks, mon] + ([fault_task] if fault_task else []):
        if t.done() and not t.cancelled() and t.exception() is not None:  # a bug of this script: say so
            report.setdefault("problems", []).append(f"task failed: {t.exception()!r}"[:300])
        t.cancel()

    window = max(1e-6, t_end)
    report.update(summarize(run, window, cpu1 - cpu0, {n: cpu1_by.get(n, 0) - cpu0_by.get(n, 0) for n in cpu1_by},
                            idle_rate, rss_start, rss_end, client1, client0))
    report["active_sessions_at_end"] = sessions_now
    # everything else the machine ran meanwhile (other jobs, nginx, serve.sh's checks): a busy machine makes
    # the figures meaningless, so the report says how busy it was
    client_cpu = (client1.user + client1.system) - (client0.user + client0.system)
    others = max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - client_cpu)
    report["machine"] = {"cpus": os.cpu_count(), "busy_share": rnd((busy1 - busy0) / window / (os.cpu_count() or 1), 2),
                         "other_processes_cpu_s": rnd(others, 1),
                         "other_processes_cores": rnd(others / window, 2)}
    report["phases"] = phases(run, t_end)
    if health is not None:
        report["health"] = health_report(health.samples, run.marks)
    return report


def move_stats(moves: list[Move], window: float | None = None) -> dict:
    done = [m.seconds for m in moves if m.seconds is not None]
    first = [m.first_delta for m in moves if m.first_delta is not None]
    out = {
        "moves": len(done),
        "p50_s": rnd(pct(done, 0.5)), "p95_s": rnd(pct(done, 0.95)), "p99_s": rnd(pct(done, 0.99)),
        "max_s": rnd(max(done) if done else None),
        "first_delta_p50_s": rnd(pct(first, 0.5)),
        "timeouts": sum(1 for m in moves if m.outcome in ("timeout", "abandoned")),
        "abandoned": sum(1 for m in moves if m.outcome == "abandoned"),
        "dropped": sum(1 for m in moves if m.outcome == "dropped"),
        "errors": sum(1 for m in moves if m.outcome == "error"),
    }
    if window:
        out["per_s"] = rnd(len(done) / window, 2)
    return out


def phases(run: LoadRun, t_end: float) -> dict:
    m = run.marks
    a = run.args
    if a.fault == "kill" and "kill" in m:
        cuts = [("before_kill", 0.0, m["kill"]), ("kill_to_restart", m["kill"], m.get("restart", t_end)),
                ("after_restart", m.get("restart", t_end), t_end)]
    elif a.fault == "burst" and "burst_start" in m:
        cuts = [("before_burst", 0.0, m["burst_start"]), ("burst", m["burst_start"], m.get("burst_end", t_end) + 1),
                ("after_burst", m.get("burst_end", t_end) + 1, t_end)]
    elif a.fault == "silent" and "silent_start" in m:
        cuts = [("before_silent", 0.0, m["silent_start"]), ("silent", m["silent_start"], t_end)]
    else:
        return {}
    out = {}
    for name, lo, hi in cuts:
        if hi <= lo:
            continue
        sel = [x for x in run.moves if lo <= x.t < hi]
        out[name] = {"from_s": rnd(lo, 1), "to_s": rnd(hi, 1), **move_stats(sel, hi - lo if hi > lo else None)}
    return out


def health_report(samples: list[tuple[float, float, bool]], marks: dict) -> dict:
    lo, hi = marks.get("burst_start"), marks.get("burst_end")
    inside = [s for s in samples if lo is not None and lo <= s[0] <= (hi or lo) + 1]
    outside = [s for s in samples if not (lo is not None and lo <= s[0] <= (hi or lo) + 1)]
    return {"polls": len(samples), "failed": sum(1 for s in samples if not s[2]),
            "max_s_during_burst": rnd(max((s[1] for s in inside), default=None)),
            "p50_s_during_burst": rnd(pct([s[1] for s in inside], 0.5)),
            "polls_during_burst": len(inside),
            "max_s_otherwise": rnd(max((s[1] for s in outside), default=None))}


def training_report(s: Student, lo: float, hi: float) -> dict:
    ticks = [t for t in s.ticks if lo <= t[0] <= hi]
    counted = [t for t in ticks if t[2] is not None]
    done = [t for t in ticks if t[1] not in SUPERSEDED]  # status ticks that ran to the end
    out: dict[str, Any] = {"student": s.index, "upstream": s.upstream, "ticks": len(done),
                           "ticks_per_s": rnd(len(done) / (hi - lo), 2) if hi > lo else None}
    admitted = [t for t in counted if "waiting" not in t[4]]
    out["admitted"] = bool(admitted)
    out["status"] = (ticks[-1][4] if ticks else "no tick") or ""
    if len(admitted) >= 2:
        a0, a1 = admitted[0], admitted[-1]
        dt = a1[0] - a0[0]
        out["det_epochs_per_s"] = rnd((a1[2] - a0[2]) / dt, 1) if dt > 0 else None
        out["sto_epochs_per_s"] = rnd((a1[3] - a0[3]) / dt, 1) if dt > 0 else None
    out["epochs"] = [counted[-1][2], counted[-1][3]] if counted else None
    return out


def summarize(run: LoadRun, window: float, cpu: float, cpu_by: dict[str, float], idle_rate: float,
              rss_start: dict, rss_end: dict, client1: Any, client0: Any) -> dict:
    a = run.args
    in_window = [m for m in run.moves if 0 <= m.t < window]
    stats = move_stats(in_window, window)
    n = stats["moves"]
    loads = [s.load_s for s in run.students if s.load_s is not None]
    rss = {}
    for name in sorted(run.replicas.pids):
        series = [r for _, r in run.replicas.rss.get(name, [])]
        rss[name] = {"start": rnd(rss_start.get(name), 0), "peak": rnd(max(series) if series else None, 0),
                     "end": rnd(rss_end.get(name), 0)}
    errors = collections.Counter(re.sub(r"\d+(\.\d+)?", "N", e)[:120] for s in run.students for e in s.errors)
    recov = [r for s in run.students for r in s.recoveries]
    kill_t = run.marks.get("kill")
    works_again = [r.t_up - kill_t for r in recov if r.t_up is not None and kill_t is not None]
    trainings = [training_report(s, 0.0, window) for s in run.students if s.kind == "training"]
    client_cpu = (client1.user + client1.system) - (client0.user + client0.system)
    out = {
        "config": {k: v for k, v in vars(a).items() if k not in ("func",)},
        "window_s": rnd(window, 1),
        "students": {"page": sum(1 for s in run.students if s.kind == "page"),
                     "training": sum(1 for s in run.students if s.kind == "training"),
                     "late": sum(1 for s in run.students if s.kind == "late"),
                     "loaded": len(loads), "load_p50_s": rnd(pct(loads, 0.5)), "load_p95_s": rnd(pct(loads, 0.95)),
                     "load_max_s": rnd(max(loads) if loads else None)},
        "moves": stats,
        "moves_by_page": {p: move_stats([m for m in in_window if run.students[m.student].page == p])["p50_s"]
                          for p in PAGES},
        "server_cpu": {"window_s": rnd(cpu, 2), "per_replica_s": {k: rnd(v, 2) for k, v in cpu_by.items()},
                       "utilisation_per_replica": {k: rnd(v / window, 2) for k, v in cpu_by.items()},
                       "idle_per_s": rnd(idle_rate, 4),
                       "per_move_ms": rnd(1e3 * cpu / n, 1) if n else None,
                       "per_move_net_of_idle_ms": rnd(1e3 * (cpu - idle_rate * window) / n, 1) if n else None,
                       "note": "includes the training ticks when students train" if trainings else ""},
        "rss_mib": rss,
        "sessions_per_replica": dict(collections.Counter(s.upstream for s in run.students if s.upstream)),
        "training": trainings,
        "training_summary": {
            "admitted": sum(1 for t in trainings if t["admitted"]),
            "det_epochs_per_s_min": rnd(min((t.get("det_epochs_per_s") or 0 for t in trainings if t["admitted"]),
                                            default=None), 1),
            "det_epochs_per_s_median": rnd(pct([t.get("det_epochs_per_s") or 0 for t in trainings
                                                if t["admitted"]], 0.5), 1)},
        "recoveries": {"disconnects": len(recov), "recovered": sum(1 for r in recov if r.t_up is not None),
                       "failed": sum(1 for r in recov if r.t_up is None),
                       "students_affected": len({r.student for r in recov}),
                       "works_again_after_kill_p50_s": rnd(pct(works_again, 0.5), 2),
                       "works_again_after_kill_max_s": rnd(max(works_again) if works_again else None, 2),
                       "over_10_s": sum(1 for w in works_again if w > 10)},
        "errors": {"count": sum(errors.values()), "kinds": dict(errors.most_common(12))},
        "client": {"cpu_s": rnd(client_cpu, 2), "cpu_share_of_one_core": rnd(client_cpu / window, 3),
                   "loop_lag_p99_ms": rnd(1e3 * (pct(run.lag, 0.99) or 0), 1),
                   "loop_lag_max_ms": rnd(1e3 * max(run.lag, default=0), 1)},
        "marks": {k: rnd(v, 2) for k, v in run.marks.items()},
    }
    return out


def print_report(r: dict) -> None:
    m, c, cl = r["moves"], r["server_cpu"], r["client"]
    st = r["students"]

    def f(x: Any, unit: str = "") -> str:
        return "–" if x is None else f"{x}{unit}"

    print(f"\n== {r['config']['fault'] or 'load'}: {st['page'] + st['late']} page + {st['training']} training students"
          f" on {len(r['replicas'])} replica(s), think {r['config']['think']:g} s, window {r['window_s']} s")
    print(f"pages loaded {st['loaded']}  load p50/p95 {f(st['load_p50_s'])}/{f(st['load_p95_s'])} s")
    print(f"moves {m['moves']}  ({f(m.get('per_s'))}/s)  latency p50 {f(m['p50_s'])} s  p95 {f(m['p95_s'])} s  "
          f"p99 {f(m['p99_s'])} s  max {f(m['max_s'])} s  first delta p50 {f(m['first_delta_p50_s'])} s")
    print(f"timeouts {m['timeouts']} (abandoned {m['abandoned']})  dropped {m['dropped']}  "
          f"errors {r['errors']['count']}")
    print(f"server CPU per move {f(c['per_move_ms'])} ms (net of idle {f(c['per_move_net_of_idle_ms'])} ms; "
          f"idle {c['idle_per_s']} s/s)  utilisation {c['utilisation_per_replica']}")
    for name, x in r["rss_mib"].items():
        print(f"  {name}: RSS start/peak/end {f(x['start'])}/{f(x['peak'])}/{f(x['end'])} MiB, "
              f"sessions {r['sessions_per_replica'].get(name, 0)}")
    ts = r["training_summary"]
    if r["training"]:
        print(f"trainings admitted {ts['admitted']}/{len(r['training'])}  det. epochs/s min "
              f"{f(ts['det_epochs_per_s_min'])} median {f(ts['det_epochs_per_s_median'])}")
    rc = r["recoveries"]
    if rc["disconnects"]:
        print(f"disconnects {rc['disconnects']} ({rc['students_affected']} students), recovered {rc['recovered']}, "
              f"works again after the kill p50 {f(rc['works_again_after_kill_p50_s'])} s max "
              f"{f(rc['works_again_after_kill_max_s'])} s, over 10 s: {rc['over_10_s']}")
    for name, p in r.get("phases", {}).items():
        print(f"  phase {name:16s} [{p['from_s']}, {p['to_s']}] s: moves {p['moves']}  p50 {f(p['p50_s'])}  "
              f"p95 {f(p['p95_s'])}  timeouts {p['timeouts']}  dropped {p['dropped']}")
    if "fault" in r:
        print("fault:", json.dumps(r["fault"], default=str))
    if r.get("problems"):
        print("PROBLEMS:", json.dumps(r["problems"])[:1000])
    if "health" in r:
        print("health:", json.dumps(r["health"]))
    if r.get("serve_events"):
        print("serve.sh:", "; ".join(r["serve_events"][:8]))
    if r["errors"]["kinds"]:
        print("errors:", json.dumps(r["errors"]["kinds"])[:600])
    print(f"load generator CPU {cl['cpu_s']} s = {cl['cpu_share_of_one_core']:.1%} of one core; "
          f"event-loop lag p99 {cl['loop_lag_p99_ms']} ms, max {cl['loop_lag_max_ms']} ms")
    mc = r.get("machine", {})
    if mc:
        print(f"machine: {mc['cpus']} cores {mc['busy_share']:.0%} busy; other processes used "
              f"{mc['other_processes_cores']} cores on average")
        if (mc["other_processes_cores"] or 0) > 0.2:
            print("WARNING: other processes competed for the CPU during the window; these figures are not "
                  "representative of the app (run again on a quiet machine)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=None, help="replicas for scripts/serve.sh (default 1; kill: 2)")
    ap.add_argument("--url", default=None, help="use this running deployment instead of starting serve.sh")
    ap.add_argument("--run-dir", default=None, help="with --url: serve.sh's SGE_RUN_DIR (replica pids)")
    ap.add_argument("--pid", type=int, action="append", default=[], help="with --url: a server pid (repeatable)")
    ap.add_argument("--students", type=int, default=None, help="students (default 20; kill 30; burst 10)")
    ap.add_argument("--think", type=float, default=5.0, help="mean think time between moves (s)")
    ap.add_argument("--think-dist", choices=("exp", "uniform"), default="exp",
                    help="exponential (capped at 5x) or uniform +-50 %% around --think")
    ap.add_argument("--training-share", type=float, default=0.0, help="share of students pressing Play on /Training")
    ap.add_argument("--duration", type=float, default=None, help="measured window (s), after the ramp")
    ap.add_argument("--ramp", type=float, default=None, help="seconds over which students open pages (default "
                    "min(20, students/5))")
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measurement before the ramp")
    ap.add_argument("--move-timeout", type=float, default=10.0, help="a move slower than this is a timeout (s)")
    ap.add_argument("--move-cap", type=float, default=60.0, help="stop waiting for a move after this (s)")
    ap.add_argument("--load-timeout", type=float, default=120.0, help="seconds for a page to load")
    ap.add_argument("--reconnect-timeout", type=float, default=60.0, help="give up reconnecting after this (s)")
    ap.add_argument("--no-warm-up", action="store_true", help="skip opening every page once per replica")
    ap.add_argument("--metrics", action="store_true", help="read /_stcore/metrics of every replica at the end")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="write the report as JSON here")
    ap.add_argument("--check-interval", type=float, default=None, help="serve.sh's SGE_CHECK_INTERVAL")
    ap.add_argument("--budget", type=float, default=None, help="hard limit of the whole run (s); default computed")
    ap.add_argument("--fault", choices=("kill", "burst", "silent"), default=None)
    ap.add_argument("--kill-at", type=float, default=15.0, help="kill: seconds into the window")
    ap.add_argument("--restart-timeout", type=float, default=180.0, help="kill: wait this long for the restart")
    ap.add_argument("--after-restart", type=float, default=60.0, help="kill: count sessions this long after")
    ap.add_argument("--late-students", type=int, default=10, help="kill: new students arriving after the restart")
    ap.add_argument("--burst", type=int, default=200, help="burst: rerun requests sent at once")
    ap.add_argument("--burst-at", type=float, default=15.0, help="burst: seconds into the window")
    ap.add_argument("--burst-timeout", type=float, default=120.0, help="burst: wait this long for it to be served")
    ap.add_argument("--silent", type=int, default=50, help="silent: connections that never send or read")
    ap.add_argument("--silent-at", type=float, default=15.0, help="silent: seconds into the window")
    ap.add_argument("--silent-mode", choices=("idle", "load-noread"), default="idle")
    args = ap.parse_args(argv)
    students, replicas, duration = FAULT_DEFAULTS[args.fault]
    args.students = students if args.students is None else args.students
    args.replicas = replicas if args.replicas is None else args.replicas
    args.duration = duration if args.duration is None else args.duration
    if args.fault in ("burst", "silent"):
        at = args.burst_at if args.fault == "burst" else args.silent_at
        args.duration = max(args.duration, at + 20)
    if args.ramp is None:
        args.ramp = min(20.0, max(1.0, args.students / 5))
    bounds = [(0 <= args.students <= 2000, "--students 0..2000"), (1 <= args.replicas <= 16, "--replicas 1..16"),
              (0 <= args.training_share <= 1, "--training-share 0..1"), (args.think >= 0, "--think >= 0"),
              (args.fault == "kill" or 0 < args.duration <= 3600, "--duration 0..3600"),
              (0 < args.move_timeout <= args.move_cap <= 600, "0 < --move-timeout <= --move-cap <= 600"),
              (1 <= args.burst <= 10_000, "--burst 1..10000"), (0 <= args.silent <= 5000, "--silent 0..5000"),
              (0 <= args.late_students <= 1000, "--late-students 0..1000")]
    for ok, msg in bounds:
        if not ok:
            ap.error(msg)
    if args.fault == "kill" and args.url and not args.run_dir:
        ap.error("--fault kill with --url needs --run-dir (serve.sh's SGE_RUN_DIR) to find and watch the replicas")
    if args.fault == "kill" and args.replicas < 2 and not args.url:
        ap.error("--fault kill needs --replicas >= 2")
    for u in [args.url] if args.url else []:
        host = urllib.parse.urlsplit(u).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            ap.error("loopback only: --url must point at 127.0.0.1")
    window = (args.kill_at + args.restart_timeout + args.after_restart) if args.fault == "kill" else args.duration
    if args.fault == "burst":
        window += args.burst_timeout
    if args.budget is None:
        args.budget = 300 + 20 * args.replicas + args.idle + args.ramp + window + args.move_cap + 120
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    def _stop(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    old_handlers = {}
    if main_thread:
        old_handlers = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGALRM)}
        signal.alarm(int(args.budget) + 30)  # the watchdog: the run ends in any case
    deployment = None
    tmp = Path(tempfile.mkdtemp(prefix="sge-loadtest-"))
    t_start = time.time()
    try:
        if args.url:
            base = args.url.rstrip("/")
            static: dict[str, int | None] = {}
            if not args.run_dir:
                hint = discover(base, {}, probes=16)
                for name in hint:
                    static[name] = None
                if args.pid and len(static) == 1:
                    static = {next(iter(static)): args.pid[0]}
                else:
                    for name in static:
                        static[name] = listening_pid(int(name.rsplit(":", 1)[1]))
            replicas = Replicas(static, Path(args.run_dir) if args.run_dir else None)
        else:
            deployment = Deployment(args.replicas, int(args.budget) + 60, tmp, args.check_interval)
            base = deployment.url
            replicas = Replicas({}, deployment.run_dir)
        print(f"{base}: replicas {replicas.pids}", flush=True)
        report = asyncio.run(asyncio.wait_for(main_async(args, base, replicas), args.budget))
        if deployment is not None:  # what serve.sh itself reported: restarts, failed health checks
            lines = deployment.log.read_text(errors="replace").splitlines()
            report["serve_events"] = [x for x in lines if x.startswith(("SGE_RESTARTED", "SGE_HEALTHY"))
                                      or "health check" in x or "exited" in x][:50]
        report["wall_s"] = round(time.time() - t_start, 1)
        report["loadavg"] = os.getloadavg()
        print_report(report)
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=1, default=str))
        return 0
    finally:
        if main_thread:
            signal.alarm(0)
        try:
            if deployment is not None:
                deployment.close()
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
