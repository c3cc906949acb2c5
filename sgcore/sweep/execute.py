"""Running a plan: on Dask distributed (an embedded ``LocalCluster``, or an existing cluster's scheduler), or inline.

The driver submits every run that the store does not already hold, and writes each result to the store as it
arrives (only the driver writes), so a killed sweep restarted with the same arguments skips what finished and loses
nothing; a run in flight when it was killed is simply run again (it was never recorded). A worker that dies is
Dask's to handle: the scheduler reschedules its tasks on another worker, up to
``distributed.scheduler.allowed-failures`` times; a run that exhausts them (``KilledWorker``) is recorded as failed
with that message, never dropped. Runs that raise are recorded as failed by :func:`~.runner.run_one` itself.

The embedded cluster has one single-threaded worker process per core (torch and the BLAS single-threaded, as Dask's
nannies set them; glibc's default trim threshold, not Dask's 64 KiB one, which slows these runs), no dashboard, and
the workers import ``sgcore`` from the driver's ``sys.path``. An external cluster's workers need ``sgcore``
importable (start them from a checkout, or install it).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .runner import code_version, run_one
from .spec import Plan, Run
from .store import Store

__all__ = ["Progress", "Summary", "execute"]

_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass
class Summary:
    """What one call of :func:`execute` did."""

    store: str
    total: int  # runs in the plan
    skipped: int  # already in the store
    done: int  # finished now
    failed: int  # recorded as failed now
    seconds: float
    workers: int  # 0 = inline
    scheduler: str  # "inline", "local" or the address

    @property
    def runs_per_minute(self) -> float:
        n = self.done + self.failed
        return 60.0 * n / self.seconds if self.seconds > 0 else float("nan")


class Progress:
    """A progress line on ``stream``: runs done / total, failures and the time left (rewritten in place on a
    terminal, one line per run otherwise)."""

    def __init__(self, total: int, skipped: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.skipped, self.width = total, skipped, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.done = self.failed = 0

    def __call__(self, result: dict[str, Any] | None) -> None:
        if result is not None:
            if result["status"] == "done":
                self.done += 1
            else:
                self.failed += 1
        finished = self.skipped + self.done + self.failed
        new = self.done + self.failed
        left = self.total - finished
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / new * left if new else float("nan")
        fill = int(self.width * finished / self.total) if self.total else self.width
        bar = "#" * fill + "." * (self.width - fill)
        text = (f"[{bar}] {finished}/{self.total} runs"
                + (f" ({self.skipped} from before)" if self.skipped else "")
                + (f", {self.failed} failed" if self.failed else "")
                + f", {_clock(elapsed)} elapsed" + (f", ETA {_clock(eta)}" if new and left else ""))
        if self.tty:
            self.stream.write("\r" + text + ("\n" if not left else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _silent(result: dict[str, Any] | None) -> None:
    """No progress report."""


def _failed(run: Run, message: str) -> dict[str, Any]:
    return {"run_id": run.run_id, "status": "failed", "error": message, "metrics": {}, "curves": {}, "score": None,
            "wall_time": None, "worker": None, "code_version": code_version(), "started": None}


def execute(plan: Plan, store: str | Path, *, workers: int | None = None, scheduler: str | None = None,
            retry_failed: bool = False, progress: Callable[[dict[str, Any] | None], None] | None = None,
            on_result: Callable[[Run, dict[str, Any]], None] | None = None) -> Summary:
    """Run every run of ``plan`` that ``store`` does not hold yet, recording each as it finishes.

    ``scheduler``: an existing Dask scheduler's address (``tcp://host:port``), or None for an embedded
    ``LocalCluster`` of ``workers`` single-threaded processes (default: one per core); ``workers=0`` runs inline in
    this process, one after another. ``retry_failed``: run again the runs recorded as failed. ``progress`` is called
    once before the first run (with None) and after each (with its result).
    """
    t0 = time.perf_counter()
    with Store(store) as st:
        st.add_sweep(plan.name, plan.task, plan.spec, code_version())
        have = st.finished(include_failed=not retry_failed)
        todo = [r for r in plan.runs if r.run_id not in have]
        skipped = len(plan.runs) - len(todo)
        counts = {"done": 0, "failed": 0}
        if progress is None:
            progress = _silent
        elif isinstance(progress, Progress):
            progress.total, progress.skipped = len(plan.runs), skipped
        progress(None)

        def record(run: Run, result: dict[str, Any]) -> None:
            st.record(plan.name, run, result)
            counts[result["status"]] += 1
            progress(result)
            if on_result is not None:
                on_result(run, result)

        n_workers = 0
        where = "inline"
        if todo and (scheduler or workers != 0):
            n_workers, where = _on_dask(todo, record, workers, scheduler)
        elif todo:
            for run in todo:
                record(run, run_one(run))
    return Summary(str(store), len(plan.runs), skipped, counts["done"], counts["failed"], time.perf_counter() - t0,
                   n_workers, where)


def _on_dask(todo: list[Run], record: Callable[[Run, dict[str, Any]], None], workers: int | None,
             scheduler: str | None) -> tuple[int, str]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
        where = scheduler
    else:
        n = workers or os.cpu_count() or 1
        import dask

        os.environ.update(_THREAD_ENV)  # inherited by the worker processes
        # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 to hand memory back sooner; it makes glibc trim on every
        # large free, and these NumPy-heavy runs took up to 1.8x longer on a worker than inline (bench/README.md)
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR, env=dict(_THREAD_ENV))
        client = Client(cluster)
        where = "local"
    try:
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
        by_key = {f"sgsweep-{r.run_id}": r for r in todo}
        futures = client.map(run_one, todo, key=list(by_key), pure=False)
        for fut in as_completed(futures):
            run = by_key[fut.key]
            try:
                result = fut.result()
            except Exception as err:  # noqa: BLE001 - a lost worker (KilledWorker) or a transport error
                result = _failed(run, f"{type(err).__name__}: {err}")
            record(run, result)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return n_workers, where
