"""sgcore.sweep.background: a sweep started as a child process, checked first, followed through its store, stopped."""

from __future__ import annotations

import math
import time

import pytest

from sgcore.sweep.background import BackgroundSweep, SweepProgress, clock, dry_run
from sgcore.sweep.store import Store

TINY = ["--grid", "gamma=0.5,1", "--seeds", "1", "--epochs", "1", "--workers", "0", "--name", "tiny"]


def test_dry_run_is_the_command_s_plan_and_its_messages(tmp_path):
    plan = dry_run(TINY, tmp_path / "s.sqlite")
    assert plan["runs"] == 2 and plan["already_in_store"] == 0 and plan["sweep"] == "tiny"
    with pytest.raises(ValueError, match="shape must be one of"):
        dry_run(["--grid", "shape=boxcar"], tmp_path / "s.sqlite")
    with pytest.raises(ValueError, match="unrecognized arguments"):
        dry_run(["--bogus"], tmp_path / "s.sqlite")
    for reserved in ("--store", "--dry-run", "--scheduler=tcp://x:1"):
        with pytest.raises(ValueError, match="set by the page"):
            dry_run([reserved], tmp_path / "s.sqlite")


def test_a_bad_grid_starts_nothing(tmp_path):
    with pytest.raises(ValueError, match="unknown parameter"):
        BackgroundSweep(["--grid", "nope=1,2"], tmp_path / "s.sqlite")
    assert not (tmp_path / "s.sqlite").exists()


def _wait(job: BackgroundSweep, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while job.running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not job.running, job.log_tail()


def test_a_tiny_sweep_runs_to_the_end_and_resumes_with_nothing_to_do(tmp_path):
    store = tmp_path / "s.sqlite"
    job = BackgroundSweep(TINY, store, log_dir=tmp_path)
    assert job.total == 2 and job.before == 0 and job.argv[-1] == "--quiet" and str(store) in job.argv
    _wait(job)
    p = job.progress()
    assert (p.finished, p.failed, p.running, p.returncode, p.fraction) == (2, 0, False, 0, 1.0)
    assert '"done_now": 2' in job.log_tail()
    with Store(store, read_only=True) as st:
        assert st.counts() == {"done": 2}
    again = BackgroundSweep(TINY, store, log_dir=tmp_path)
    assert again.before == 2
    _wait(again)
    assert again.progress().finished == 2 and '"skipped": 2' in again.log_tail()


def test_stop_ends_the_sweep_and_its_workers(tmp_path):
    job = BackgroundSweep(["--grid", "gamma=0.5,1,2", "--seeds", "2", "--epochs", "50", "--workers", "1"],
                          tmp_path / "s.sqlite", log_dir=tmp_path)
    time.sleep(1.0)
    assert job.running
    job.stop(timeout=20)
    p = job.progress()
    assert not p.running and p.returncode is not None and p.finished < p.total


def test_progress_text_and_clock():
    p = SweepProgress(total=40, before=3, finished=12, failed=1, running=True, returncode=None, elapsed=125.0,
                      eta=250.0)
    assert p.describe() == "12 / 40 runs (3 from before, 1 failed), 2m05s elapsed, about 4m10s left"
    assert SweepProgress(4, 0, 0, 0, True, None, 3.0, math.nan).describe().endswith("time left unknown yet")
    assert SweepProgress(4, 0, 4, 0, False, 0, 3.0, 0.0).describe() == "4 / 4 runs, 0m03s elapsed"
    assert clock(3725) == "1h02m" and clock(math.nan) == "?"
