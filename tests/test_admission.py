"""Admission control for live training: capacity, first-come queue, expiry of closed tabs, thread safety."""

import threading

import pytest

from sgapp.admission import TrainingSlots, default_capacity, process_slots


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


def test_process_slots_is_one_instance_with_one_slot_per_core():
    assert process_slots() is process_slots()
    assert process_slots().capacity == default_capacity() >= 1
