"""A sweep started in the background: ``python -m sgcore sweep ... --store FILE --quiet`` as a child process, its
progress read from the store it writes.

The options are first checked in this process with the command's own parser and a dry run (the same plan the child
will make), so a bad grid is refused with the command's one-line message before anything starts, and the plan's run
ids are known: progress is then how many of them the store holds, read with a read-only connection while the child
writes (the store commits each run in one transaction). The child runs in its own process group, so stopping it
stops the Dask workers it started too; a stopped sweep resumes with the same options (finished runs are skipped).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .commands import run_sweep, sweep_arguments
from .store import Store

__all__ = ["BackgroundSweep", "SweepProgress", "clock", "dry_run"]

#: Options the caller may not give: the store and the mode are set here.
_RESERVED = ("--store", "--dry-run", "--quiet", "--yes", "--scheduler")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


def dry_run(options: Sequence[str], store: str | Path) -> dict[str, Any]:
    """The plan ``python -m sgcore sweep OPTIONS --store STORE`` would run, as its ``--dry-run`` prints it
    (``ValueError`` with the command's message for bad options)."""
    for opt in options:
        if str(opt).split("=", 1)[0] in _RESERVED:
            raise ValueError(f"{opt}: set by the page, not an option here")
    args = _Parser(prog="sweep", add_help=False)
    sweep_arguments(args)
    parsed = args.parse_args([*map(str, options), "--store", str(store), "--dry-run"])
    return run_sweep(parsed)


@dataclass(frozen=True)
class SweepProgress:
    """Where a background sweep is: runs of its plan in the store (``finished``, of which ``failed``) out of
    ``total``, ``before`` of them there when it started; whether the process still runs and its exit code;
    seconds since the start and the estimated seconds left (NaN until a run finished)."""

    total: int
    before: int
    finished: int
    failed: int
    running: bool
    returncode: int | None
    elapsed: float
    eta: float

    @property
    def fraction(self) -> float:
        return self.finished / self.total if self.total else 1.0

    def describe(self) -> str:
        """E.g. '12 / 40 runs (3 from before, 1 failed), 2m05s elapsed, about 4m10s left'."""
        notes = (f"{self.before:,} from before" if self.before else "",
                 f"{self.failed:,} failed" if self.failed else "")
        extra = ", ".join(n for n in notes if n)
        text = f"{self.finished:,} / {self.total:,} runs" + (f" ({extra})" if extra else "")
        text += f", {clock(self.elapsed)} elapsed"
        if self.running and self.finished < self.total:
            text += f", about {clock(self.eta)} left" if math.isfinite(self.eta) else ", time left unknown yet"
        return text


def clock(seconds: float) -> str:
    """Seconds as '4m10s' or '1h02m' ('?' for NaN)."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(max(seconds, 0.0)))
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class BackgroundSweep:
    """Start ``python -m sgcore sweep OPTIONS --store STORE --quiet`` with ``python`` (default: this interpreter)
    after a dry run of the same options; poll it with :meth:`progress`, end it with :meth:`stop`."""

    def __init__(self, options: Sequence[str], store: str | Path, *, python: str | None = None,
                 log_dir: str | Path | None = None) -> None:
        self.store = Path(store).expanduser().resolve()
        self.options = [str(o) for o in options]
        plan = dry_run(self.options, self.store)
        self.name = str(plan["sweep"])
        self.run_ids = frozenset(r["run_id"] for r in plan["plan"])
        self.total = len(self.run_ids)
        self.before = int(plan["already_in_store"])
        self.argv = [python or sys.executable, "-m", "sgcore", "sweep", *self.options, "--store", str(self.store),
                     "--quiet"]
        root = Path(__file__).resolve().parents[2]  # the directory that holds the sgcore package
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)}
        log = tempfile.NamedTemporaryFile(prefix="sge-sweep-", suffix=".log", dir=log_dir, delete=False)  # noqa: SIM115
        self.log_path = Path(log.name)
        self.started = time.time()
        try:
            self.process = subprocess.Popen(self.argv, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        self._last: tuple[int, int] = (self.before, 0)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def _counts(self) -> tuple[int, int]:
        try:
            with Store(self.store, read_only=True) as st:
                every = st.finished() & self.run_ids
                done = st.finished(include_failed=False) & self.run_ids
        except ValueError:  # not created yet, or being created
            return self._last
        self._last = (len(every), len(every - done))
        return self._last

    def progress(self) -> SweepProgress:
        code = self.process.poll()
        finished, failed = self._counts()
        elapsed = time.time() - self.started
        new = finished - self.before
        left = self.total - finished
        eta = elapsed / new * left if new > 0 else (0.0 if not left else math.nan)
        return SweepProgress(self.total, self.before, finished, failed, code is None, code, elapsed, eta)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of what the child printed (its summary, or its error)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text[-chars:]

    def stop(self, timeout: float = 10.0) -> None:
        """End the child and every process it started (its process group): SIGTERM, then SIGKILL after
        ``timeout`` seconds."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            self.process.wait(timeout=timeout)
