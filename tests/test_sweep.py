"""Sweeps: the plan (validation, ids, resolution), the store, one run, the CLI, and Dask execution with kills."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sgcore.cli import main
from sgcore.shapes import SHAPES
from sgcore.sweep.execute import Progress, execute
from sgcore.sweep.runner import run_one
from sgcore.sweep.spec import MAX_RUNS, SubGrid, load_toml, make_plan, parse_random
from sgcore.sweep.store import Store

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_in": 20, "n_hidden": 20, "n_out": 10, "n_steps": 40}  # a spike-train run of ~10 ms per epoch


def small_plan(epochs: int = 3, seeds: int = 2, values=(1.0, 10.0), **kw):
    return make_plan("spiketrain", [SubGrid("g", {}, {"beta_sg": values})], fixed=SMALL, seeds=seeds,
                     epochs=epochs, **kw)


def cli(*args: str, timeout: float = 600, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "sgcore", "sweep", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env)


# --- the plan ---------------------------------------------------------------------------------------------------------
def test_plan_is_the_product_of_the_grid_times_the_seeds_with_stable_distinct_ids():
    p = make_plan("classify", [SubGrid("damp", {"sharpness": 1.0}, {"shape": ("sigmoid", "exponential"),
                                                                    "gamma": (0.5, 1.0, 2.0)})], seeds=3, epochs=2)
    assert len(p.runs) == 2 * 3 * 3
    assert len({r.run_id for r in p.runs}) == len(p.runs)
    again = make_plan("classify", [SubGrid("other-name", {"sharpness": 1.0},
                                           {"gamma": (2.0, 1.0, 0.5), "shape": ("exponential", "sigmoid")})],
                      seeds=3, epochs=2, name="renamed")
    assert {r.run_id for r in again.runs} == {r.run_id for r in p.runs}  # ids depend on what is run, not on names
    other_epochs = make_plan("classify", [SubGrid("damp", {"sharpness": 1.0}, {"shape": ("sigmoid", "exponential"),
                                                                               "gamma": (0.5, 1.0, 2.0)})],
                             seeds=3, epochs=3)
    assert not {r.run_id for r in other_epochs.runs} & {r.run_id for r in p.runs}


def test_sharpness_becomes_beta_sg_of_each_shape_and_gamma_switches_the_scale():
    p = make_plan("classify", [SubGrid("s", {"gamma": 0.8}, {"shape": ("sigmoid", "superspike", "exponential"),
                                                             "sharpness": (2.0,)})], epochs=1)
    for r in p.runs:
        shape = r.values["shape"]
        assert r.values["beta_sg"] == pytest.approx(2.0 / SHAPES[shape].beta_to_s, rel=1e-15)
        assert r.values["scale"] == "gamma" and r.values["gamma"] == 0.8
        assert "sharpness" not in r.values and r.params["sharpness"] == 2.0
    plain = make_plan("classify", [SubGrid("b", {}, {"beta_sg": (5.0,)})], epochs=1)
    assert plain.runs[0].values["scale"] == "auto"  # the preset's own scaling when gamma and s are not set
    given = make_plan("classify", [SubGrid("b", {"scale": "peak"}, {"gamma": (2.0,)})], epochs=1)
    assert given.runs[0].values["scale"] == "peak"


def test_a_point_shared_by_two_groups_is_run_once():
    p = make_plan("spiketrain", [SubGrid("a", {}, {"beta_sg": (1.0, 10.0)}),
                                 SubGrid("b", {}, {"beta_sg": (10.0, 20.0)})], fixed=SMALL, epochs=1)
    assert len(p.runs) == 3 and [r.group for r in p.runs] == ["a", "a", "b"]


def test_random_samples_are_drawn_in_their_range_and_again_on_a_restart():
    kw = {"random": {"lr": {"dist": "loguniform", "low": 1e-5, "high": 1e-2},
                     "shape": {"dist": "choice", "values": ["sigmoid", "atan"]},
                     "n_hidden": {"dist": "int", "low": 10, "high": 12}}, "samples": 40, "epochs": 1,
          "fixed": {"n_in": 20, "n_out": 10, "n_steps": 40}}
    a, b = make_plan("spiketrain", **kw), make_plan("spiketrain", **kw)
    assert [r.run_id for r in a.runs] == [r.run_id for r in b.runs]
    lrs = [r.params["lr"] for r in a.runs]
    assert all(1e-5 <= v <= 1e-2 for v in lrs) and min(lrs) < 1e-4 < 1e-3 < max(lrs)  # spread over decades
    assert {r.params["shape"] for r in a.runs} == {"sigmoid", "atan"}
    assert {r.params["n_hidden"] for r in a.runs} == {10, 11, 12}
    assert parse_random("lr=loguniform:1e-4:1e-2") == ("lr", {"dist": "loguniform", "low": "1e-4", "high": "1e-2"})


@pytest.mark.parametrize(("kw", "message"), [
    ({"subgrids": [SubGrid("g", {}, {"foo": (1,)})]}, "unknown parameter 'foo' for task classify"),
    ({"subgrids": [SubGrid("g", {}, {"gamma": (1.0, -1.0)})]}, "gamma must be a finite number in (0, 10000]"),
    ({"subgrids": [SubGrid("g", {}, {"shape": ("sigmoid", "nope")})]}, "shape must be one of"),
    ({"subgrids": [SubGrid("g", {}, {"gamma": ()})]}, "grid 'g': gamma has no values"),
    ({"subgrids": []}, "the sweep is empty"),
    ({"subgrids": [SubGrid("g", {}, {"lr": tuple(i * 1e-4 for i in range(1, 101))})], "seeds": 101},
     "over 10,000"),
    ({"subgrids": [SubGrid("g", {}, {"seed": (1, 2)})]}, "seed: give seeds with --seeds"),
    ({"subgrids": [SubGrid("g", {}, {"lr": (0.1,)})], "epochs": 0}, "epochs must be an integer in [1, 100000]"),
    ({"subgrids": [SubGrid("g", {}, {"lr": (0.1,)})], "preset": "nope"}, "preset must be one of"),
    ({"random": {"lr": {"dist": "uniform", "low": 0.1, "high": 0.01}}, "samples": 2}, "lr: uniform needs low < high"),
    ({"random": {"lr": {"dist": "uniform", "low": 0.1, "high": 0.2}}}, "give samples > 0"),
])
def test_bad_plans_fail_at_once_with_one_line(kw, message):
    with pytest.raises(ValueError) as err:
        make_plan("classify", **kw)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_over_ten_thousand_runs_need_confirmation():
    grid = [SubGrid("g", {}, {"lr": tuple(i * 1e-4 for i in range(1, 101)), "n_hidden": tuple(range(8, 109))})]
    with pytest.raises(ValueError, match="10,100 runs"):
        make_plan("classify", grid, epochs=1)
    assert len(make_plan("classify", grid, epochs=1, confirm=True).runs) == 10_100 > MAX_RUNS


def test_toml_file_with_several_groups_and_its_errors():
    kw = load_toml("""
task = "spiketrain"
epochs = 2
seeds = [3, 4]
[fixed]
n_in = 20
[[grid]]
group = "steep"
fixed = {shape = "sigmoid"}
beta_sg = [1, 10]
[[grid]]
group = "shapes"
shape = ["atan", "gaussian"]
""")
    p = make_plan(**kw)
    assert [(r.group, r.params["seed"]) for r in p.runs][:2] == [("steep", 3), ("steep", 4)]
    assert len(p.runs) == 8 and all(r.values["n_in"] == 20 for r in p.runs)
    assert {r.values["shape"] for r in p.runs if r.group == "steep"} == {"sigmoid"}
    for text, message in (("task = ", "not valid TOML"), ("colour = 1", "unknown key 'colour'"),
                          ("[grid]\nbeta_sg = 3", "beta_sg must be a list")):
        with pytest.raises(ValueError, match=message):
            load_toml(text)


def test_example_sweep_file_plans():
    path = ROOT / "sgcore" / "sweep" / "examples" / "hc_randman.toml"
    p = make_plan(**load_toml(path.read_text()))
    groups = {r.group for r in p.runs}
    assert {"dampening", "sharpness", "tail"} <= groups
    assert len(p.runs) <= 400


# --- the store --------------------------------------------------------------------------------------------------------
def test_store_round_trip_nan_and_replacement(tmp_path):
    plan = small_plan(epochs=1, seeds=1, values=(1.0,))
    run = plan.runs[0]
    path = tmp_path / "s.sqlite"
    with Store(path) as st:
        st.add_sweep("x", "spiketrain", plan.spec, "v")
        st.record("x", run, {"status": "failed", "error": "boom", "metrics": {}, "score": None})
        assert st.finished() == {run.run_id} and st.finished(include_failed=False) == set()
        st.record("x", run, {"status": "done", "metrics": {"l2": math.nan, "van_rossum": 0.5}, "score": 0.5,
                             "curves": {"l2": [1.0, math.nan, 0.25]}})
        assert st.counts() == {"done": 1}
    with Store(path, read_only=True) as st:
        (row,) = st.runs()
        assert row["status"] == "done" and row["metrics"] == {"l2": None, "van_rossum": 0.5}
        assert st.curves([run.run_id]) == {run.run_id: {"l2": [1.0, None, 0.25]}}
        assert st.sweeps()[0]["spec"]["task"] == "spiketrain"
        with pytest.raises(sqlite3.OperationalError):
            st._db.execute("DELETE FROM runs")  # read-only really is


def test_store_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(ValueError, match="no results file"):
        Store(tmp_path / "none.sqlite", read_only=True)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match="not a sweep results store"):
        Store(junk, read_only=True)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ValueError, match="not a sweep results store"):
        Store(other, read_only=True)


# --- one run ----------------------------------------------------------------------------------------------------------
def test_run_one_trains_and_reports_its_curves():
    run = small_plan(epochs=4, seeds=1, values=(10.0,)).runs[0]
    res = run_one(run)
    assert res["status"] == "done" and res["error"] is None
    assert len(res["curves"]["van_rossum"]) == 4 and res["score"] == res["curves"]["van_rossum"][-1]
    assert res["metrics"]["best_van_rossum"] == min(res["curves"]["van_rossum"])
    assert res["code_version"].count("+") == 1 and res["wall_time"] > 0
    again = run_one(run)  # the same run gives the same numbers (all but its speed)
    assert {k: v for k, v in again["metrics"].items() if k != "epochs_per_second"} == {
        k: v for k, v in res["metrics"].items() if k != "epochs_per_second"}
    assert again["curves"] == res["curves"]


def test_run_one_classify_reports_accuracies():
    p = make_plan("classify", [SubGrid("g", {"n_hidden": 16, "samples_per_class": 10}, {"shape": ("sigmoid",)})],
                  epochs=2)
    res = run_one(p.runs[0])
    assert res["status"] == "done"
    m = res["metrics"]
    assert 0 <= m["val_accuracy"] <= 1 and 0 <= m["test_accuracy"] <= 1
    assert res["score"] == m["val_accuracy"] == res["curves"]["val_accuracy"][-1]


def test_a_run_that_raises_is_recorded_as_failed_and_the_sweep_goes_on(tmp_path):
    p = make_plan("classify", [SubGrid("g", {"n_hidden": 8, "samples_per_class": 10},
                                       {"dataset": ("shd", "randman")})], epochs=1,
                  paths={"path": str(tmp_path / "no.h5")})
    s = execute(p, tmp_path / "s.sqlite", workers=0)
    assert (s.done, s.failed) == (1, 1)
    with Store(tmp_path / "s.sqlite", read_only=True) as st:
        failed = [r for r in st.runs() if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["params"]["dataset"] == "shd"
    assert failed[0]["error"].startswith("ValueError:") and "no.h5" in failed[0]["error"]
    again = execute(p, tmp_path / "s.sqlite", workers=0)
    assert (again.skipped, again.done, again.failed) == (2, 0, 0)
    retried = execute(p, tmp_path / "s.sqlite", workers=0, retry_failed=True)
    assert (retried.skipped, retried.failed) == (1, 1)


def test_progress_line_counts_runs_and_gives_an_eta():
    import io

    out = io.StringIO()
    pr = Progress(4, 1, stream=out)
    pr(None)
    pr({"status": "done"})
    pr({"status": "failed"})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[") and "1/4 runs (1 from before)" in lines[0]
    assert "3/4 runs" in lines[-1] and "1 failed" in lines[-1] and "ETA" in lines[-1]


# --- the command line -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "message"), [
    (["--grid", "foo=1,2"], "unknown parameter 'foo'"),
    (["--grid", "gamma=1,-2"], "gamma must be"),
    (["--grid", "gamma="], "empty value"),
    (["--task", "spiketrain"], "the sweep is empty"),
    (["--grid", "lr=0.1,0.2", "--grid", "n_hidden=" + ",".join(map(str, range(8, 508))), "--seeds", "11"],
     "pass --yes"),
    (["--config", "missing.toml"], "config: no file"),
    (["--grid", "lr=0.1", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "cannot be combined"),
])
def test_cli_bad_grids_exit_2_with_one_line(argv, message, capsys, tmp_path):
    assert main(["sweep", "--store", str(tmp_path / "s.sqlite"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "s.sqlite").exists()  # nothing was started


def test_cli_dry_run_lists_runs_and_what_the_store_holds(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    args = ["sweep", "--task", "spiketrain", *sum((["--set", f"{k}={v}"] for k, v in SMALL.items()), []),
            "--grid", "beta_sg=1,10", "--epochs", "1", "--store", str(store)]
    assert main([*args, "--dry-run"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 2 and out["already_in_store"] == 0 and not store.exists()
    assert main([*args, "--workers", "0", "--quiet"]) == 0
    capsys.readouterr()
    assert main([*args, "--grid", "shape=sigmoid,atan", "--dry-run"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 4 and out["already_in_store"] == 0  # a different shape: different runs


# --- Dask -------------------------------------------------------------------------------------------------------------
def test_embedded_cluster_gives_the_numbers_of_an_inline_run(tmp_path):
    common = ["--task", "spiketrain", *sum((["--set", f"{k}={v}"] for k, v in SMALL.items()), []),
              "--grid", "beta_sg=1,10", "--grid", "network=deterministic,stochastic", "--seeds", "2",
              "--epochs", "3", "--quiet"]
    a = cli(*common, "--workers", "2", "--store", str(tmp_path / "dask.sqlite"))
    assert a.returncode == 0, a.stderr
    summary = json.loads(a.stdout)
    assert summary["workers"] == 2 and summary["scheduler"] == "local" and summary["done_now"] == 8
    b = cli(*common, "--workers", "0", "--store", str(tmp_path / "inline.sqlite"))
    assert b.returncode == 0, b.stderr
    with Store(tmp_path / "dask.sqlite", read_only=True) as sa, Store(tmp_path / "inline.sqlite", read_only=True) as sb:
        ra = {r["run_id"]: r for r in sa.runs()}
        rb = {r["run_id"]: r for r in sb.runs()}
        assert ra.keys() == rb.keys() and len(ra) == 8
        assert len({r["worker"] for r in ra.values()}) == 2  # both workers ran some
        for rid in ra:
            ma, mb = dict(ra[rid]["metrics"]), dict(rb[rid]["metrics"])
            ma.pop("epochs_per_second"), mb.pop("epochs_per_second")
            assert ma == mb
        assert sa.curves(ra) == sb.curves(rb)


def _wait_for(predicate, timeout: float = 120.0, every: float = 0.1):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return True
        time.sleep(every)
    return False


def _done(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with Store(path, read_only=True) as st:
            return st.counts().get("done", 0)
    except (ValueError, sqlite3.Error):
        return 0


def test_a_killed_sweep_resumes_with_no_run_lost_or_done_twice(tmp_path):
    store = tmp_path / "s.sqlite"
    args = ["--task", "spiketrain", *sum((["--set", f"{k}={v}"] for k, v in SMALL.items()), []),
            "--grid", "beta_sg=1,2,5,10,20,50", "--seeds", "2", "--epochs", "40", "--workers", "2", "--quiet",
            "--store", str(store)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sgcore", "sweep", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert _wait_for(lambda: _done(store) >= 3), "the sweep did not get going"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its cluster, mid-run
        proc.wait(timeout=30)
    before = _done(store)
    assert 3 <= before < 12
    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["runs"] == 12 and out["skipped"] == before and out["done_now"] == 12 - before
    with Store(store, read_only=True) as st:
        runs = st.runs()
        assert len(runs) == 12 and {r["status"] for r in runs} == {"done"}
        assert len({r["run_id"] for r in runs}) == 12
        curves = st.curves([r["run_id"] for r in runs])
        assert all(len(c["van_rossum"]) == 40 for c in curves.values())  # every run complete, none half-written


@pytest.fixture
def cluster():
    import logging

    from distributed import Client, LocalCluster

    def start(allowed_failures: int):
        import dask

        with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
            lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.CRITICAL)
        made.append(lc)
        return lc, Client(lc)

    made: list = []
    yield start
    for lc in made:
        lc.close()


def _kill_a_worker_mid_run(client, store: Path, plan, result: dict) -> threading.Thread:
    def kill() -> None:
        def busy() -> dict:
            return {w: len(tasks) for w, tasks in client.processing().items() if tasks}

        if not _wait_for(lambda: _done(store) >= 1 and busy(), timeout=120, every=0.05):
            return
        addr = next(iter(busy()))
        pids = client.run(os.getpid, workers=[addr])
        os.kill(pids[addr], signal.SIGKILL)
        result["killed"] = addr

    t = threading.Thread(target=kill, daemon=True)
    t.start()
    return t


def _sweep_with_a_worker_killed(cluster, allowed_failures: int, store: Path):
    """8 runs on a 2-worker cluster whose scheduler allows ``allowed_failures``; one worker is SIGKILLed mid-run."""
    lc, client = cluster(allowed_failures)
    plan = small_plan(epochs=60, seeds=2, values=(1.0, 2.0, 5.0, 10.0))
    result: dict = {}
    t = _kill_a_worker_mid_run(client, store, plan, result)
    s = execute(plan, store, scheduler=lc.scheduler_address)
    t.join(timeout=10)
    client.close()
    assert result.get("killed"), "no worker was killed mid-run"
    return lc, plan, s


@pytest.mark.filterwarnings("ignore")
def test_a_killed_worker_is_retried_by_dask(cluster, tmp_path):
    store = tmp_path / "s.sqlite"
    lc, _, s = _sweep_with_a_worker_killed(cluster, 3, store)
    assert s.scheduler == lc.scheduler_address and (s.done, s.failed) == (8, 0)
    with Store(store, read_only=True) as st:
        assert len(st.runs()) == 8 and {r["status"] for r in st.runs()} == {"done"}


@pytest.mark.filterwarnings("ignore")
def test_a_run_whose_worker_keeps_dying_is_recorded_as_failed(cluster, tmp_path):
    store = tmp_path / "s.sqlite"
    _, plan, s = _sweep_with_a_worker_killed(cluster, 0, store)  # no retries: the first death is final
    assert s.failed >= 1 and s.done + s.failed == 8  # none dropped
    with Store(store, read_only=True) as st:
        failed = [r for r in st.runs() if r["status"] == "failed"]
        assert len(st.runs()) == 8 and failed and all("KilledWorker" in r["error"] for r in failed)
    resumed = execute(plan, store, workers=0, retry_failed=True)
    assert resumed.done == len(failed) and resumed.skipped == 8 - len(failed)


def test_the_same_sweep_runs_on_an_existing_dask_cluster(tmp_path):
    """`dask scheduler` and `dask worker` processes started as the README says; the sweep is pointed at them."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", ":0", "--scheduler-file", str(sched_file)],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        assert _wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, timeout=60)
        address = json.loads(sched_file.read_text())["address"]
        procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", "2",
                                       "--nthreads", "1", "--no-dashboard"], cwd=tmp_path, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        args = ["--task", "spiketrain", *sum((["--set", f"{k}={v}"] for k, v in SMALL.items()), []),
                "--grid", "beta_sg=1,3,10", "--seeds", "2", "--epochs", "3", "--quiet"]
        ext = cli(*args, "--scheduler", address, "--store", str(tmp_path / "ext.sqlite"))
        assert ext.returncode == 0, ext.stderr
        out = json.loads(ext.stdout)
        assert out["scheduler"] == address and out["workers"] == 2 and out["done_now"] == 6
        inline = cli(*args, "--workers", "0", "--store", str(tmp_path / "inline.sqlite"))
        assert inline.returncode == 0, inline.stderr
        with (Store(tmp_path / "ext.sqlite", read_only=True) as a,
              Store(tmp_path / "inline.sqlite", read_only=True) as b):
            assert a.curves(r["run_id"] for r in a.runs()) == b.curves(r["run_id"] for r in b.runs())
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)


def test_a_default_spelled_out_is_the_same_run():
    a = make_plan("classify", [SubGrid("a", {}, {"shape": ("sigmoid",)})], epochs=1)
    b = make_plan("classify", [SubGrid("b", {"init": "fluctuation", "conditions": "none"},
                                       {"shape": ("sigmoid",), "beta_noise": (10.0,)})], epochs=1)
    assert a.runs[0].run_id == b.runs[0].run_id
    assert a.runs[0].values == b.runs[0].values and a.runs[0].values["init"] == "fluctuation"  # the full config
