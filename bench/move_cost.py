"""Server CPU and latency of one slider move on every analytic page, measured on a real Streamlit server.

Starts ``streamlit run app.py`` headless on a free loopback port (production profile flags: no file watcher),
opens each page with the protocol client (:mod:`stclient`), then moves one slider that feeds the page's
charts back and forth ``--moves`` times, one move at a time (no overlap). For each move it records

* server CPU: the replica's user+system time (``/proc/PID/stat``) consumed between request and finish;
* latency: request sent -> ``script_finished`` received, and -> first delta;
* bytes on the wire.

Prints a table and, with ``--out``, writes JSON. With ``--repo DIR`` it measures another checkout of the app
(for before/after figures in one run: run it once per checkout, interleaved with ``--rounds``).

    python bench/move_cost.py --moves 30
    python bench/move_cost.py --repo ../main-before --moves 30 --out before.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadtest  # noqa: E402
from loadtest import PAGES, free_port  # noqa: E402,F401 - one list of pages and sliders
from stclient import Tab  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (all its threads), as the load test reads it."""
    value = loadtest.cpu_seconds(pid)
    if value is None:
        raise RuntimeError(f"cannot read the CPU time of process {pid}")
    return value


def rss_mb(pid: int) -> float:
    value = loadtest.rss_mib(pid)
    return float("nan") if value is None else value


def start_server(repo: Path, port: int, python: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONUNBUFFERED": "1"}
    cmd = [python, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
           "--server.address=127.0.0.1", "--server.fileWatcherType=none", "--browser.gatherUsageStats=false",
           "--server.runOnSave=false"]
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not become healthy in 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate a server started by :func:`start_server` (kill it after 10 s) and reap it."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


async def measure_page(base: str, pid: int, page: str, key: str, moves: int) -> dict:
    async with Tab(base, "/" + page, timeout=60) as tab:
        await tab.load()
        # warm the caches of both neighbouring values once, as a class warms a shared replica
        for d in (1, -1):
            await tab.move(key, d)
        cpu, lat, first, nbytes = [], [], [], []
        for i in range(moves):
            c0 = cpu_seconds(pid)
            run = await tab.move(key, 1 if i % 2 == 0 else -1)
            await asyncio.sleep(0.05)  # let the server finish sending and go idle
            cpu.append(cpu_seconds(pid) - c0)
            lat.append(run.seconds)
            first.append(run.first_delta or float("nan"))
            nbytes.append(run.bytes)
            if run.errors:
                raise RuntimeError(f"{page}: {run.errors[:2]}")
        # a cold move: a value not seen before (cache miss) costs the computation too
        cold = []
        for i in range(min(5, moves)):
            c0 = cpu_seconds(pid)
            await tab.move(key, 2 + i)
            await asyncio.sleep(0.05)
            cold.append(cpu_seconds(pid) - c0)
        return {"page": page, "slider": key, "cpu_ms_median": 1e3 * statistics.median(cpu),
                "cpu_ms_mean": 1e3 * statistics.fmean(cpu),
                "cpu_ms_cold_median": 1e3 * statistics.median(cold),
                "latency_ms_median": 1e3 * statistics.median(lat),
                "first_delta_ms_median": 1e3 * statistics.median(first),
                "kb_median": statistics.median(nbytes) / 1024, "moves": moves}


async def main_async(args: argparse.Namespace) -> list[dict]:
    repo = Path(args.repo).resolve()
    port = free_port()
    proc = start_server(repo, port, args.python)
    base = f"http://127.0.0.1:{port}"
    try:
        rows = []
        for page, key in PAGES.items():
            if args.pages and page not in args.pages:
                continue
            rows.append(await measure_page(base, proc.pid, page, key, args.moves))
        rows.append({"page": "(process)", "rss_mb": rss_mb(proc.pid)})
        return rows
    finally:
        stop_server(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=str(REPO), help="checkout of the app to measure (default: this one)")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--moves", type=int, default=20)
    ap.add_argument("--pages", nargs="*", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if not 1 <= args.moves <= 500:
        ap.error("--moves must be 1..500")
    rows = asyncio.run(main_async(args))
    for r in rows:
        if "cpu_ms_median" in r:
            print(f"{r['page']:18s} {r['slider']:10s} cpu median {r['cpu_ms_median']:5.0f} ms, "
                  f"mean {r['cpu_ms_mean']:5.1f}"
                  f" (cold {r['cpu_ms_cold_median']:4.0f})"
                  f"  latency {r['latency_ms_median']:6.1f} ms  first delta {r['first_delta_ms_median']:6.1f} ms"
                  f"  {r['kb_median']:7.1f} kB")
        else:
            print(f"RSS {r['rss_mb']:.0f} MB")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
