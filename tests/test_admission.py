"""Admission control for live training: capacity, first-come queue, expiry of closed tabs, thread safety, and the
slot count from the CPU quota (cgroup v2 / v1 files, affinity) and the environment."""

import logging
import threading
from pathlib import Path

import pytest

from sgapp.admission import (
    ENV_REPLICAS,
    ENV_SHARE,
    ENV_SLOTS,
    TrainingSlots,
    cgroup_cpu_limit,
    cpu_quota,
    default_capacity,
    default_rate,
    process_slots,
    replicas,
    training_share,
)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_capacity_and_first_come_queue():
    slots = TrainingSlots(capacity=2, ttl=10, clock=Clock())
    assert slots.request("a").admitted and slots.request("b").admitted
    c = slots.request("c")
    d = slots.request("d")
    assert not c.admitted and c.position == 1 and c.active == 2 and c.capacity == 2
    assert not d.admitted and d.position == 2 and d.waiting == 2
    assert slots.request("a").admitted  # renewing keeps the slot
    slots.release("b")
    assert not slots.request("d").admitted  # c queued first: c gets the freed slot, d stays waiting
    assert slots.request("d").position == 1
    assert slots.request("c").admitted


def test_a_closed_tab_loses_its_slot_after_the_ttl():
    clock = Clock()
    slots = TrainingSlots(capacity=1, ttl=10, clock=clock)
    assert slots.request("gone").admitted
    assert not slots.request("next").admitted
    clock.t = 5
    assert not slots.request("next").admitted  # "gone" still within its ttl
    clock.t = 10.5
    assert slots.request("next").admitted  # "gone" did not renew for > 10 s
    assert slots.status() == (1, 0)


def test_waiting_sessions_that_leave_are_dropped_from_the_queue():
    clock = Clock()
    slots = TrainingSlots(capacity=1, ttl=10, clock=clock)
    slots.request("a")
    slots.request("left")
    slots.request("b")
    clock.t = 8
    slots.request("a")
    assert slots.request("b").position == 2
    clock.t = 12  # "left" last seen at 0: expired; "b" renewed at 8
    assert slots.request("b").position == 1


def test_release_of_unknown_session_is_harmless_and_pause_frees_the_slot():
    slots = TrainingSlots(capacity=1, clock=Clock())
    slots.release("nobody")
    slots.request("a")
    slots.release("a")
    assert slots.request("b").admitted


def test_concurrent_requests_never_exceed_capacity():
    slots = TrainingSlots(capacity=3)
    admitted = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        for _ in range(50):
            if slots.request(f"s{i}").admitted:
                with lock:
                    admitted.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(admitted)) == 3
    assert slots.status() == (3, 9)


@pytest.mark.parametrize("kw,needle", [({"capacity": 0}, "capacity must be"), ({"ttl": 0}, "ttl must be")])
def test_bad_arguments(kw, needle):
    with pytest.raises(ValueError, match=needle):
        TrainingSlots(**kw)


def test_process_slots_is_one_instance_sized_from_the_quota():
    assert process_slots() is process_slots()
    assert process_slots().capacity == default_capacity() >= 1
    assert process_slots().budget.rate == pytest.approx(default_rate())


# --- the slot count from the CPU quota ------------------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


@pytest.fixture
def no_proc(tmp_path) -> Path:
    """A /proc/self/cgroup that does not exist: only the cgroup root counts."""
    return tmp_path / "no-proc-cgroup"


def quota(root: Path, proc: Path, affinity: int | None = 64, count: int | None = 128) -> float:
    return cpu_quota(root, proc, affinity=lambda: affinity, cpu_count=lambda: count)


def test_cgroup_v2_quota_and_period(tmp_path, no_proc):
    _write(tmp_path / "cpu.max", "150000 100000")
    assert cgroup_cpu_limit(tmp_path, no_proc) == pytest.approx(1.5)
    assert quota(tmp_path, no_proc) == pytest.approx(1.5)  # the quota, not the 64 cores of the node
    assert default_capacity({}, quota=1.5) == 1  # whole trainings, rounded down
    _write(tmp_path / "cpu.max", "max 100000")  # no limit: the affinity counts
    assert cgroup_cpu_limit(tmp_path, no_proc) is None and quota(tmp_path, no_proc, affinity=3) == 3


def test_cgroup_v2_limit_of_the_process_own_cgroup_and_its_ancestors(tmp_path):
    proc = tmp_path / "proc-cgroup"
    _write(proc, "0::/kubepods/pod7/app")
    root = tmp_path / "fs"
    _write(root / "cpu.max", "max 100000")
    _write(root / "kubepods" / "pod7" / "cpu.max", "200000 100000")  # the pod: 2 cores
    _write(root / "kubepods" / "pod7" / "app" / "cpu.max", "50000 100000")  # the container: half a core
    assert cgroup_cpu_limit(root, proc) == pytest.approx(0.5)
    assert default_capacity({}, quota=quota(root, proc)) == 1  # at least one
    assert default_rate({}, quota=quota(root, proc)) == pytest.approx(0.6 * 0.5)


def test_cgroup_v1_cfs_quota(tmp_path, no_proc):
    _write(tmp_path / "cpu" / "cpu.cfs_quota_us", "300000")
    _write(tmp_path / "cpu" / "cpu.cfs_period_us", "100000")
    assert cgroup_cpu_limit(tmp_path, no_proc) == pytest.approx(3.0)
    assert quota(tmp_path, no_proc) == pytest.approx(3.0)
    _write(tmp_path / "cpu" / "cpu.cfs_quota_us", "-1")  # no limit
    assert cgroup_cpu_limit(tmp_path, no_proc) is None


def test_cgroup_v1_under_the_combined_mount_and_a_nested_group(tmp_path):
    proc = tmp_path / "proc-cgroup"
    _write(proc, "4:memory:/x\n3:cpu,cpuacct:/docker/abc\n0::/")
    base = tmp_path / "fs" / "cpu,cpuacct"
    _write(base / "cpu.cfs_quota_us", "-1")
    _write(base / "cpu.cfs_period_us", "100000")
    _write(base / "docker" / "abc" / "cpu.cfs_quota_us", "100000")
    _write(base / "docker" / "abc" / "cpu.cfs_period_us", "100000")
    assert cgroup_cpu_limit(tmp_path / "fs", proc) == pytest.approx(1.0)


def test_without_cgroup_the_affinity_then_the_cpu_count(tmp_path, no_proc):
    assert cgroup_cpu_limit(tmp_path, no_proc) is None
    assert quota(tmp_path, no_proc, affinity=2, count=32) == 2  # pinned to 2 of 32 cores
    assert quota(tmp_path, no_proc, affinity=None, count=6) == 6
    assert quota(tmp_path, no_proc, affinity=None, count=None) == 1
    _write(tmp_path / "cpu.max", "400000 100000")
    assert quota(tmp_path, no_proc, affinity=2) == 2  # the smaller of quota and affinity


def test_unreadable_cgroup_files_are_ignored(tmp_path, no_proc, caplog):
    _write(tmp_path / "cpu.max", "lots 100000")
    with caplog.at_level(logging.WARNING, logger="sgapp.admission"):
        assert cgroup_cpu_limit(tmp_path, no_proc) is None
    assert "cpu.max" in caplog.text


@pytest.mark.parametrize("env,quota_,expected", [
    ({}, 2.0, 2),
    ({ENV_REPLICAS: "2"}, 2.0, 1),  # serve.sh 2 on 2 cores: one training per replica
    ({ENV_REPLICAS: "4"}, 2.0, 1),  # at least one
    ({ENV_REPLICAS: "2"}, 8.0, 4),
    ({ENV_SLOTS: "3"}, 2.0, 3),  # the override wins
    ({ENV_SLOTS: " 5 ", ENV_REPLICAS: "2"}, 2.0, 5),
])
def test_capacity_from_quota_replicas_and_override(env, quota_, expected):
    assert default_capacity(env, quota=quota_) == expected


@pytest.mark.parametrize("raw", ["0", "-2", "two", "1.5", "100000", "1e3"])
def test_bad_slot_override_is_a_warning_naming_the_variable_and_range(raw, caplog):
    with caplog.at_level(logging.WARNING, logger="sgapp.admission"):
        assert default_capacity({ENV_SLOTS: raw}, quota=3.0) == 3  # falls back to the quota's value
    assert ENV_SLOTS in caplog.text and repr(raw) in caplog.text and "an integer from 1 to 1024" in caplog.text


@pytest.mark.parametrize("raw", ["0", "-1", "x", "2.0"])
def test_bad_replica_count_is_a_warning_and_counts_as_one(raw, caplog):
    with caplog.at_level(logging.WARNING, logger="sgapp.admission"):
        assert replicas({ENV_REPLICAS: raw}) == 1
    assert ENV_REPLICAS in caplog.text and "an integer from 1 to 1024" in caplog.text


def test_training_share_and_rate(caplog):
    assert training_share({}) == 0.6
    assert training_share({ENV_SHARE: "0.25"}) == 0.25 and training_share({ENV_SHARE: "1"}) == 1.0
    assert default_rate({ENV_SHARE: "0.5", ENV_REPLICAS: "2"}, quota=2.0) == pytest.approx(0.5)
    for raw in ("0", "1.5", "-0.1", "nan", "inf", "half"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="sgapp.admission"):
            assert training_share({ENV_SHARE: raw}) == 0.6
        assert ENV_SHARE in caplog.text and "greater than 0 and at most 1" in caplog.text


def test_slots_built_from_the_environment(monkeypatch):
    monkeypatch.setenv(ENV_SLOTS, "7")
    monkeypatch.setenv(ENV_SHARE, "0.5")
    monkeypatch.setenv(ENV_REPLICAS, "1")
    slots = TrainingSlots(clock=Clock())
    assert slots.capacity == 7 and slots.budget.rate == pytest.approx(0.5 * cpu_quota())
