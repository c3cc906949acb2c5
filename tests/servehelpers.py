"""What the tests that run ``scripts/serve.sh`` share: process checks and the one way to stop a deployment.

Imported by ``tests/test_serve.py`` and ``tests/browser/test_deploy.py`` (``tests`` is on pytest's pythonpath).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

#: How long serve.sh may take to stop its replicas and nginx after SIGTERM.
STOP_TIMEOUT_S = 40.0


def alive(pid: int) -> bool:
    """Is ``pid`` a running (not zombie) process?"""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(port: int) -> bool:
    """Does something accept connections on 127.0.0.1:``port``?"""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def deployment_pids(run_dir: Path) -> list[int]:
    """The replicas' and nginx's process ids that serve.sh wrote into its run folder."""
    table = run_dir / "replicas.tsv"
    pids = [int(line.split()[2]) for line in table.read_text().splitlines() if line.strip()] if table.exists() else []
    nginx = run_dir / "nginx.pid"
    nginx_pid = nginx.read_text().strip() if nginx.exists() else ""
    return [*pids, int(nginx_pid)] if nginx_pid.isdigit() else pids


def stop_deployment(proc: subprocess.Popen, run_dir: Path, log: Callable[[], str]) -> None:
    """Stop serve.sh with SIGTERM and fail unless it exits 0 within :data:`STOP_TIMEOUT_S` leaving no process.

    Stopped (SIGSTOP) replicas are continued first; leftovers are killed so they never leak into the rest of the
    suite, and the test fails naming them.
    """
    pids = deployment_pids(run_dir)
    for p in pids:  # never leave a stopped process behind
        if alive(p):
            os.kill(p, signal.SIGCONT)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        pytest.fail(f"serve.sh did not stop within {STOP_TIMEOUT_S:.0f} s of SIGTERM")
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in pids if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"processes left after stopping serve.sh: {left}\n{log()[-2000:]}"
    assert proc.returncode == 0, f"serve.sh exited {proc.returncode}:\n{log()[-3000:]}"
