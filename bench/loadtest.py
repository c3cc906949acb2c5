"""Load test of the loopback deployment: many browser sessions against nginx + N Streamlit replicas.

Not part of the test suite (no timing assertions). Each session is a fresh headless-Chromium *context* of
one shared browser (its own cookies, so its own sticky route). A session

1. opens a page from a deep link (rotating over /Escape_noise, /LocalZO, /Estimators, /Surrogate_design;
   ``--training-share`` of the sessions open /Training) and waits until its Plotly charts are drawn;
2. after every session has loaded (or failed to), all start their active phase together, for ``--duration``
   seconds: a page session focuses a slider (its <input>) and presses ArrowRight / ArrowLeft ``--moves``
   times, measuring press -> first Plotly chart whose data changed ("chart") and press -> app idle again
   ("idle"); a training session presses Play, waits, presses Pause and reads the epoch counts from the
   banner ("Epoch N (deterministic) · M (stochastic)");
3. stays connected until every session is done, so that the replicas' memory is sampled with all sessions
   open; then closes.

Memory: RSS of every replica process (/proc/PID/status) cold (fresh start), warm (after one visit of every
page per replica, so that imports and caches are not billed to the sessions), sampled every second during
the run (peak), with all sessions open, and after they closed (``--after-wait`` seconds later, to let
server.disconnectedSessionTTL expire). Per session = (with sessions - warm) summed over replicas / sessions.

    python bench/loadtest.py --replicas 2 --sessions 30 --training-share 0.2 --duration 20 --out out.json
    python bench/loadtest.py --url http://127.0.0.1:8500 --sessions 10     # an already running deployment

Every wait is bounded; ``--timeout`` bounds the whole run; the deployment it started is stopped at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    # many pages of one headless browser: do not throttle the ones that are not "in front"
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
#: page path -> label of the slider it moves (a slider that changes at least one chart)
PAGES = {
    "/Escape_noise": "SD steepness",
    "/LocalZO": "LocalZO step",
    "/Estimators": "SD steepness",
    "/Surrogate_design": "Sharpness",
}
TRAINING = "/Training"
#: a signature of every Plotly chart's data (base64 payloads or JSON), to see when a chart was redrawn
SIG_JS = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
  .map(gd => (gd.data || []).map(t => { const v = t.y ?? t.z ?? [];
     const s = (v && v.bdata) ? v.bdata : JSON.stringify(v); const h = s.length >> 1;
     return s.length + ':' + s.slice(0, 48) + s.slice(h, h + 48) + s.slice(-48); }).join('|')).join('#')"""
IDLE_JS = """() => {
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
}"""
CHARTS_SEL = '[data-testid="stPlotlyChart"] .js-plotly-plot'
EPOCH_RE = re.compile(r"Epoch\s+([\d,]+)\s*\(deterministic\)\s*·\s*([\d,]+)\s*\(stochastic\)")


# --- processes and memory -------------------------------------------------------------------------------

def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def pss_mib(pid: int) -> float | None:
    """Proportional set size (shared pages split between the processes that map them)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return rss_mib(pid)
    return rss_mib(pid)


def mem_available_mib() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` (via /proc/net/tcp* and /proc/*/fd)."""
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
    if not inodes:
        return None
    targets = {f"socket:[{i}]" for i in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    return int(pid)
        except OSError:
            continue
    return None


def descendants(root: int) -> list[int]:
    """``root``'s descendant processes (the Chromium processes this script started)."""
    children: dict[int, list[int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    todo, seen = list(children.get(root, [])), set()
    for _ in range(100_000):  # bounded walk
        if not todo:
            break
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(children.get(pid, []))
    return sorted(seen)


def upstream_of(base_url: str, cookie: str | None, timeout: float = 5.0) -> tuple[str | None, str | None]:
    """(X-Upstream, new route cookie) of a health request with route cookie ``cookie``."""
    req = urllib.request.Request(base_url + "/_stcore/health")
    if cookie:
        req.add_header("Cookie", f"sgeroute={cookie}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        new = None
        for value in resp.headers.get_all("Set-Cookie") or []:
            m = re.match(r"sgeroute=([^;]+)", value)
            if m:
                new = m.group(1)
        return resp.headers.get("X-Upstream"), new


def session_metrics(upstream: str) -> dict[str, float]:
    """active_sessions and session events of one replica (Streamlit's /_stcore/metrics), {} if unavailable."""
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(f"http://{upstream}/_stcore/metrics", timeout=10) as resp:
            for line in resp.read().decode(errors="replace").splitlines():
                if line.startswith(("active_sessions", "session_events_total")):
                    name, _, value = line.rpartition(" ")
                    out[name.replace('session_events_total{type="', "").rstrip('"}')] = float(value)
    except (OSError, ValueError):
        pass
    return out


def discover_replicas(base_url: str, probes: int = 64) -> dict[str, str]:
    """upstream address -> a route cookie that lands there, by probing random cookies (bounded)."""
    found: dict[str, str] = {}
    for _ in range(probes):
        cookie = secrets.token_hex(16)
        upstream, _ = upstream_of(base_url, cookie)
        if upstream and upstream not in found:
            found[upstream] = cookie
    return found


# --- the deployment -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


class Deployment:
    """scripts/serve.sh N on free loopback ports; stopped (process group) on close."""

    def __init__(self, replicas: int, timeout: float, log_dir: Path):
        self.port = free_port()
        ports = [free_port() for _ in range(replicas)]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / "serve.log"
        env = dict(os.environ, SGE_PORT=str(self.port), SGE_REPLICA_PORTS=" ".join(map(str, ports)),
                   SGE_PYTHON=sys.executable, SGE_SERVE_SECONDS=str(int(timeout) + 120),
                   SGE_RUN_DIR=str(log_dir / "run"))
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(["bash", str(REPO / "scripts" / "serve.sh"), str(replicas)], cwd=REPO,
                                         env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + 180
        while not (self.log.read_text(errors="replace").count("SGE_READY") and healthy(self.url + "/_stcore/health")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"serve.sh did not come up:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


# --- sessions -------------------------------------------------------------------------------------------

@dataclass
class Session:
    index: int
    path: str
    upstream: str | None = None
    load_s: float | None = None
    chart_ms: list[float] = field(default_factory=list)
    idle_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    send_ms: list[float] = field(default_factory=list)
    no_change: int = 0
    exceptions: int = 0
    timeouts: int = 0
    page_errors: int = 0
    errors: list[str] = field(default_factory=list)
    play_s: float | None = None
    epochs_det: int | None = None
    epochs_sto: int | None = None
    waited_for_slot: bool = False
    # websocket frames seen by the browser (arrival time in this process): rerun requests, finished runs
    ws_sent: list[float] = field(default_factory=list, repr=False)
    ws_finished: list[float] = field(default_factory=list, repr=False)


def watch_websocket(s: Session):
    """Record when the page sends a rerun (BackMsg.rerun_script) and when a run finishes (script_finished)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    def sent(payload) -> None:
        if isinstance(payload, bytes):
            try:
                if BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
                    s.ws_sent.append(time.perf_counter())
            except Exception:  # noqa: BLE001 - not a BackMsg
                pass

    def received(payload) -> None:
        if isinstance(payload, bytes) and len(payload) < 4096:  # script_finished is tiny; skip big deltas
            try:
                if ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
                    s.ws_finished.append(time.perf_counter())
            except Exception:  # noqa: BLE001
                pass

    def on_ws(ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framesent", sent)
            ws.on("framereceived", received)

    return on_ws


class Barrier:
    def __init__(self, parties: int):
        self.parties, self.count, self.event = parties, 0, asyncio.Event()

    async def wait(self, timeout: float) -> None:
        self.count += 1
        if self.count >= self.parties:
            self.event.set()
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            pass  # go on without the stragglers


async def wait_idle(page, timeout_s: float, settle: int = 2) -> None:
    deadline = time.monotonic() + timeout_s
    ok = 0
    while ok < settle:
        if time.monotonic() > deadline:
            raise TimeoutError("app not idle")
        ok = ok + 1 if await page.evaluate(IDLE_JS) else 0
        await asyncio.sleep(0.1)


async def count_exceptions(page) -> int:
    return await page.locator('[data-testid="stException"]').count()


async def run_session(browser, base: str, s: Session, args, loaded: Barrier, done: Barrier) -> None:
    from playwright.async_api import TimeoutError as PwTimeout

    await asyncio.sleep(s.index * args.ramp)
    if mem_available_mib() < args.min_free_mib:  # never push the machine into the OOM killer
        s.errors.append(f"not started: less than {args.min_free_mib} MiB of memory available")
        await loaded.wait(args.load_timeout + args.ramp * args.sessions + 30)
        args.active_started.set()
        await done.wait(args.duration + args.step_timeout * (args.moves + 2) + 60)
        return
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    ctx.set_default_timeout(args.step_timeout * 1000)
    page = await ctx.new_page()
    page.on("pageerror", lambda _err: setattr(s, "page_errors", s.page_errors + 1))
    page.on("websocket", watch_websocket(s))
    ok = False
    try:
        start = time.perf_counter()
        await page.goto(base + s.path, wait_until="domcontentloaded", timeout=args.load_timeout * 1000)
        await page.wait_for_selector(CHARTS_SEL, timeout=args.load_timeout * 1000)
        await wait_idle(page, args.load_timeout)
        s.load_s = time.perf_counter() - start
        cookies = {c["name"]: c["value"] for c in await ctx.cookies()}
        if "sgeroute" in cookies:
            s.upstream = await asyncio.to_thread(lambda: upstream_of(base, cookies["sgeroute"])[0])
        ok = True
    except (PwTimeout, TimeoutError) as err:
        s.timeouts += 1
        s.errors.append(f"load: {type(err).__name__}: {str(err)[:120]}")
    except Exception as err:  # noqa: BLE001 - a load test records every failure and goes on
        s.errors.append(f"load: {type(err).__name__}: {str(err)[:160]}")
    await loaded.wait(args.load_timeout + args.ramp * args.sessions + 30)
    args.active_started.set()
    try:
        if ok and s.path == TRAINING:
            await training_phase(page, s, args)
        elif ok:
            await slider_phase(page, s, args)
        if ok:
            s.exceptions = await count_exceptions(page)
    except (PwTimeout, TimeoutError) as err:
        s.timeouts += 1
        s.errors.append(f"active: {type(err).__name__}: {str(err)[:120]}")
    except Exception as err:  # noqa: BLE001
        s.errors.append(f"active: {type(err).__name__}: {str(err)[:160]}")
    await done.wait(args.duration + args.step_timeout * (args.moves + 2) + 60)
    # every session still open here: the main task samples memory, then sets close_now
    await args.close_now.wait()
    try:
        await ctx.close()
    except Exception as err:  # noqa: BLE001
        s.errors.append(f"close: {type(err).__name__}")


async def slider_phase(page, s: Session, args) -> None:
    from playwright.async_api import TimeoutError as PwTimeout

    slider = page.locator('[data-testid="stSlider"]').filter(has_text=PAGES[s.path]).first.locator("input")
    await slider.focus()
    end = time.monotonic() + args.duration
    gap = args.duration / max(1, args.moves)
    for k in range(args.moves):
        before = await page.evaluate(SIG_JS)
        t = time.perf_counter()
        await page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
        try:
            await page.wait_for_function(f"(s0) => ({SIG_JS})() !== s0", arg=before, polling=50,
                                         timeout=args.step_timeout * 1000)
            s.chart_ms.append((time.perf_counter() - t) * 1000)
            sent = next((x for x in s.ws_sent if x >= t), None)
            done = next((x for x in s.ws_finished if sent is not None and x >= sent), None)
            if sent is not None and done is not None:
                s.send_ms.append((sent - t) * 1000)
                s.server_ms.append((done - sent) * 1000)
        except PwTimeout:
            # no chart changed in time: a timeout unless the app is idle again (then the move changed nothing)
            if await page.evaluate(IDLE_JS):
                s.no_change += 1
            else:
                s.timeouts += 1
            continue
        await wait_idle(page, args.step_timeout, settle=1)
        s.idle_ms.append((time.perf_counter() - t) * 1000)
        pause = min(gap, max(0.0, end - time.monotonic()) / max(1, args.moves - k - 1))
        await asyncio.sleep(max(0.3, pause))


async def training_phase(page, s: Session, args) -> None:
    banner = page.locator(".sge-banner").first
    await page.locator(".st-key-play button").click()
    t = time.perf_counter()
    deadline = time.monotonic() + args.duration
    for _ in range(int(args.duration * 2) + 2):  # bounded: look for the queue notice while playing
        if time.monotonic() >= deadline:
            break
        if not s.waited_for_slot and await page.get_by_text("Waiting for a training slot").count():
            s.waited_for_slot = True
        await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    await page.locator(".st-key-pause button").click()
    s.play_s = time.perf_counter() - t
    # the next fragment run shows "paused"; read the counts from it
    deadline = time.monotonic() + args.step_timeout
    text = ""
    while time.monotonic() < deadline:
        text = await banner.inner_text()
        if "paused" in text or "Press Play" in text:
            break
        await asyncio.sleep(0.2)
    m = EPOCH_RE.search(text)
    s.epochs_det, s.epochs_sto = (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) if m else (0, 0)
    if "paused" not in text and "Press Play" not in text:
        raise TimeoutError(f"banner did not show 'paused': {text[:80]!r}")


# --- orchestration --------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


async def warm_up(browser, base: str, routes: dict[str, str], args) -> None:
    """Open every page once on every replica (a route cookie per replica), so sessions are billed fairly."""
    for upstream, cookie in routes.items():
        ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
        host = base.split("//", 1)[1].split("/", 1)[0].split(":")[0]
        await ctx.add_cookies([{"name": "sgeroute", "value": cookie, "domain": host, "path": "/"}])
        page = await ctx.new_page()
        for path in [*PAGES, TRAINING]:
            try:
                await page.goto(base + path, timeout=args.load_timeout * 1000)
                await page.wait_for_selector(CHARTS_SEL, timeout=args.load_timeout * 1000)
                await wait_idle(page, args.load_timeout)
            except Exception as err:  # noqa: BLE001
                print(f"warm-up of {path} on {upstream} failed: {err}", file=sys.stderr)
        await ctx.close()


async def run(args, base: str, replica_pids: dict[str, int]) -> dict:
    from playwright.async_api import async_playwright

    def mem() -> dict[str, float | None]:
        return {u: rss_mib(p) for u, p in replica_pids.items()}

    routes = await asyncio.to_thread(discover_replicas, base)
    result: dict = {"replica_pids": replica_pids, "rss_cold_mib": mem()}
    # training sessions spread evenly over the ramp (share 0.2: every fifth), the others rotate over PAGES
    paths, k = [], 0
    for i in range(args.sessions):
        if int((i + 1) * args.training_share + 1e-9) > int(i * args.training_share + 1e-9):
            paths.append(TRAINING)
        else:
            paths.append(list(PAGES)[k % len(PAGES)])
            k += 1
    sessions = [Session(i, p) for i, p in enumerate(paths)]
    samples: list[dict] = []
    args.close_now = asyncio.Event()
    args.active_started = asyncio.Event()

    async with async_playwright() as pw:
        extra = [f"--renderer-process-limit={args.renderer_limit}"] if args.renderer_limit else []
        browser = await pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS + extra)
        try:
            if not args.no_warm_up:
                await warm_up(browser, base, routes, args)
            await asyncio.sleep(2)
            result["rss_warm_mib"] = mem()

            async def sampler() -> None:
                for _ in range(int(args.timeout) + 1):
                    samples.append({"t": time.monotonic(), "avail": mem_available_mib(),
                                    **{u: v for u, v in mem().items() if v}})
                    await asyncio.sleep(1.0)

            sample_task = asyncio.create_task(sampler())
            cpu0 = {u: cpu_seconds(p) for u, p in replica_pids.items()}
            chrome0 = sum(cpu_seconds(p) for p in descendants(os.getpid()))
            loaded, done = Barrier(len(sessions)), Barrier(len(sessions))
            t0 = time.monotonic()
            tasks = [asyncio.create_task(run_session(browser, base, s, args, loaded, done)) for s in sessions]
            await asyncio.wait_for(args.active_started.wait(), args.timeout)
            t_active = time.monotonic()
            cpu1 = {u: cpu_seconds(p) for u, p in replica_pids.items()}
            chrome1 = sum(cpu_seconds(p) for p in descendants(os.getpid()))
            result["rss_loaded_mib"] = mem()
            # wait until all sessions are through their active phase (or gave up on the barrier)
            for _ in range(int(args.timeout * 10)):
                if done.event.is_set() or all(t.done() for t in tasks):
                    break
                if done.count >= len(sessions):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            result["rss_with_sessions_mib"] = mem()
            result["metrics_with_sessions"] = {u: session_metrics(u) for u in replica_pids}
            chrome = descendants(os.getpid())
            result["chromium_pss_mib"] = sum(pss_mib(p) or 0.0 for p in chrome)
            result["chromium_processes"] = len(chrome)
            result["wall_s"] = time.monotonic() - t0
            result["replica_cpu_s"] = {u: cpu_seconds(p) - cpu0[u] for u, p in replica_pids.items()}
            chrome_now = sum(cpu_seconds(p) for p in chrome)
            result["chromium_cpu_s"] = chrome_now - chrome0
            result["active_wall_s"] = time.monotonic() - t_active
            result["active_replica_cpu_s"] = {u: cpu_seconds(p) - cpu1[u] for u, p in replica_pids.items()}
            result["active_chromium_cpu_s"] = chrome_now - chrome1
            args.close_now.set()
            await asyncio.wait(tasks, timeout=60)
            for t in tasks:
                t.cancel()
            sample_task.cancel()
        finally:
            await browser.close()
    await asyncio.sleep(args.after_wait)
    result["rss_after_close_mib"] = mem()
    result["metrics_after_close"] = {u: session_metrics(u) for u in replica_pids}
    result["min_mem_available_mib"] = min((x["avail"] for x in samples), default=None)
    result["rss_peak_mib"] = {u: max((s.get(u) or 0.0) for s in samples) if samples else None for u in replica_pids}
    result["sessions"] = [{k: v for k, v in asdict(s).items() if not k.startswith("ws_")} for s in sessions]
    return result


def summarize(result: dict, args) -> dict:
    sessions = result["sessions"]
    chart = [v for s in sessions for v in s["chart_ms"]]
    server = [v for s in sessions for v in s["server_ms"]]
    send = [v for s in sessions for v in s["send_ms"]]
    idle = [v for s in sessions for v in s["idle_ms"]]
    loads = [s["load_s"] for s in sessions if s["load_s"] is not None]
    warm, withs = result["rss_warm_mib"], result["rss_with_sessions_mib"]
    delta = sum((withs.get(u) or 0) - (warm.get(u) or 0) for u in warm)
    loaded = sum(1 for s in sessions if s["load_s"] is not None)
    per_replica_sessions: dict[str, int] = {}
    per_replica_train: dict[str, dict] = {}
    for s in sessions:
        u = s["upstream"] or "?"
        per_replica_sessions[u] = per_replica_sessions.get(u, 0) + 1
        if s["path"] == TRAINING and s["play_s"]:
            r = per_replica_train.setdefault(u, {"sessions": 0, "epochs_det": 0, "epochs_sto": 0, "play_s": []})
            r["sessions"] += 1
            r["epochs_det"] += s["epochs_det"] or 0
            r["epochs_sto"] += s["epochs_sto"] or 0
            r["play_s"].append(s["play_s"])
    for r in per_replica_train.values():
        window = statistics.mean(r.pop("play_s"))
        r["det_epochs_per_s"] = r["epochs_det"] / window
        r["sto_epochs_per_s"] = r["epochs_sto"] / window
        r["window_s"] = window
    return {
        "replicas": args.replicas, "sessions": len(sessions), "loaded": loaded,
        "training_sessions": sum(1 for s in sessions if s["path"] == TRAINING),
        "slider_moves": len(chart) + sum(s["no_change"] for s in sessions),
        "chart_ms_p50": pct(chart, 0.5), "chart_ms_p95": pct(chart, 0.95),
        "idle_ms_p50": pct(idle, 0.5), "idle_ms_p95": pct(idle, 0.95),
        "server_ms_p50": pct(server, 0.5), "server_ms_p95": pct(server, 0.95),
        "send_ms_p50": pct(send, 0.5), "send_ms_p95": pct(send, 0.95),
        "load_s_p50": pct(loads, 0.5), "load_s_p95": pct(loads, 0.95),
        "exceptions": sum(s["exceptions"] for s in sessions), "timeouts": sum(s["timeouts"] for s in sessions),
        "page_errors": sum(s["page_errors"] for s in sessions),
        "other_errors": sum(1 for s in sessions for e in s["errors"] if "Timeout" not in e and "not started" not in e),
        "not_started_low_memory": sum(1 for s in sessions for e in s["errors"] if "not started" in e),
        "min_mem_available_mib": result.get("min_mem_available_mib"),
        "no_change_moves": sum(s["no_change"] for s in sessions),
        "waited_for_training_slot": sum(1 for s in sessions if s["waited_for_slot"]),
        "sessions_per_replica": per_replica_sessions,
        "rss_cold_mib": result["rss_cold_mib"], "rss_warm_mib": warm, "rss_with_sessions_mib": withs,
        "rss_peak_mib": result["rss_peak_mib"], "rss_after_close_mib": result["rss_after_close_mib"],
        "rss_per_session_mib": delta / loaded if loaded else None,
        "metrics_with_sessions": result.get("metrics_with_sessions"),
        "metrics_after_close": result.get("metrics_after_close"),
        "chromium_pss_mib": result["chromium_pss_mib"], "chromium_processes": result["chromium_processes"],
        "wall_s": result["wall_s"], "replica_cpu_s": result["replica_cpu_s"],
        "chromium_cpu_s": result["chromium_cpu_s"], "active_wall_s": result["active_wall_s"],
        "active_replica_cpu_s": result["active_replica_cpu_s"],
        "active_chromium_cpu_s": result["active_chromium_cpu_s"], "rss_loaded_mib": result["rss_loaded_mib"],
        "training_per_replica": per_replica_train,
        "loadavg": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=1, help="replicas to start with scripts/serve.sh (not with --url)")
    ap.add_argument("--sessions", type=int, default=10, help="concurrent browser sessions")
    ap.add_argument("--training-share", type=float, default=0.2, help="share of sessions on /Training")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of the active phase (moves, Play)")
    ap.add_argument("--moves", type=int, default=4, help="slider moves per page session")
    ap.add_argument("--url", default=None, help="use this running deployment instead of starting one")
    ap.add_argument("--out", default=None, help="write the full result as JSON here")
    ap.add_argument("--ramp", type=float, default=0.5, help="seconds between session starts")
    ap.add_argument("--load-timeout", type=float, default=180.0, help="seconds for a page to load")
    ap.add_argument("--step-timeout", type=float, default=60.0, help="seconds for one slider move / pause")
    ap.add_argument("--after-wait", type=float, default=35.0, help="seconds after closing before the last RSS")
    ap.add_argument("--timeout", type=float, default=1200.0, help="global timeout of the run (seconds)")
    ap.add_argument("--no-warm-up", action="store_true")
    ap.add_argument("--renderer-limit", type=int, default=16,
                    help="Chromium --renderer-process-limit (contexts share renderer processes beyond it; 0: none)")
    ap.add_argument("--min-free-mib", type=float, default=2048.0,
                    help="do not open another session when less memory than this is available")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    args = ap.parse_args(argv)
    if args.sessions < 1 or not 0 <= args.training_share <= 1 or args.replicas < 1:
        ap.error("need --sessions >= 1, --replicas >= 1 and 0 <= --training-share <= 1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    def _interrupt(_sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)  # stop the deployment in `finally` on SIGTERM too

    deployment = None
    tmp = Path(tempfile.mkdtemp(prefix="sge-loadtest-"))
    try:
        if args.url:
            base = args.url.rstrip("/")
        else:
            deployment = Deployment(args.replicas, args.timeout, tmp)
            base = deployment.url
        routes = discover_replicas(base)
        pids = {u: listening_pid(int(u.rsplit(":", 1)[1])) for u in routes}
        if args.url:
            args.replicas = len(routes)
        print(f"{base}: replicas {pids}", flush=True)
        result = asyncio.run(asyncio.wait_for(run(args, base, pids), args.timeout))
        summary = summarize(result, args)
        out = {"args": {k: v for k, v in vars(args).items() if k != "close_now"}, "summary": summary,
               "result": result}
        print(json.dumps(summary, indent=2, default=str))
        if args.out:
            Path(args.out).write_text(json.dumps(out, indent=2, default=str))
        return 0
    finally:
        if deployment is not None:
            deployment.close()


if __name__ == "__main__":
    sys.exit(main())
