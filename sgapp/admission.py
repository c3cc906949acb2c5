"""Admission control for live training: at most a few trainings advance at once per server process.

Training is the heaviest thing the app does, and a whole class may press Play together. Each
process admits at most ``capacity`` sessions (one per core by default); the others wait in arrival
order and see their place. A session renews its slot (or its place in the queue) on every training
tick; one that stops renewing — a closed tab, a dropped connection — loses it after ``ttl``
seconds, so nothing waits forever for a session that has gone. No Streamlit inside: the page
holds one instance per process (``st.cache_resource``) and calls it from its fragment.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Admission", "TrainingSlots", "default_capacity", "process_slots"]


def default_capacity() -> int:
    """One training per core (at least one)."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Admission:
    """The answer to a request: admitted now, or waiting at ``position`` (1 = next) behind ``active`` trainings."""

    admitted: bool
    position: int
    active: int
    waiting: int
    capacity: int


class TrainingSlots:
    """A thread-safe set of ``capacity`` training slots with a first-come queue and expiry after ``ttl`` seconds."""

    def __init__(self, capacity: int | None = None, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic):
        capacity = default_capacity() if capacity is None else int(capacity)
        if capacity < 1:
            raise ValueError(f"capacity must be an integer >= 1; got {capacity}")
        if not ttl > 0:
            raise ValueError(f"ttl must be a number of seconds > 0; got {ttl!r}")
        self.capacity = capacity
        self.ttl = float(ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self._active: dict[str, float] = {}  # session -> last renewal
        self._queue: OrderedDict[str, float] = OrderedDict()  # waiting sessions in arrival order

    def _expire(self, now: float) -> None:
        for table in (self._active, self._queue):
            for sid in [s for s, seen in table.items() if now - seen > self.ttl]:
                del table[sid]

    def request(self, session: str) -> Admission:
        """Renew ``session``'s slot, or admit it if a slot is free and nobody queued earlier, or queue it."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if session in self._active:
                self._active[session] = now
            else:
                self._queue.setdefault(session, now)
                self._queue[session] = now
                while len(self._active) < self.capacity and self._queue:
                    first = next(iter(self._queue))
                    del self._queue[first]
                    self._active[first] = now
            admitted = session in self._active
            position = 0 if admitted else list(self._queue).index(session) + 1
            return Admission(admitted, position, len(self._active), len(self._queue), self.capacity)

    def release(self, session: str) -> None:
        """Give up the slot or the place in the queue (pause, reset, leaving the page)."""
        with self._lock:
            self._active.pop(session, None)
            self._queue.pop(session, None)

    def status(self) -> tuple[int, int]:
        """(active, waiting) after dropping expired sessions."""
        with self._lock:
            self._expire(self._clock())
            return len(self._active), len(self._queue)


_SLOTS: TrainingSlots | None = None
_SLOTS_LOCK = threading.Lock()


def process_slots() -> TrainingSlots:
    """The one instance of this server process (created on first use, one slot per core)."""
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None:
            _SLOTS = TrainingSlots()
        return _SLOTS
