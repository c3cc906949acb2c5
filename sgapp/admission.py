"""Admission control and a shared CPU budget for live training, so a whole class can press Play at once.

Training is the heaviest thing the app does. Each server process (a *replica*) therefore

* **admits** at most ``capacity`` trainings at once (default: the CPU quota the process really has — cgroup v2
  ``cpu.max``, cgroup v1 ``cpu.cfs_quota_us``/``cpu.cfs_period_us``, CPU affinity, else ``os.cpu_count()`` —
  divided by the number of replicas ``SGE_REPLICAS``, at least one; ``SGE_TRAINING_SLOTS`` overrides it). The
  others wait first-come and see their place;
* grants the admitted trainings a **budget of CPU time per second** (``SGE_TRAINING_SHARE`` of the replica's cores,
  default 60 %, leaving headroom for slider moves), split equally: each tick of an admitted session trains for at
  most its fair share, ``rate * interval / admitted``, measured as the CPU time (``time.thread_time``) of its own
  training loop. What a tick overshoots (the last epoch) is owed and paid back by later ticks, so shares stay fair
  over many ticks; time a session does not tick is not saved up beyond one tick.

A session renews its slot (or its place in the queue) on every tick; one that stops renewing — a closed tab, a
dropped connection — loses it after ``ttl`` seconds. The page's fragments tick at :data:`TRAINING_TICK` seconds
while admitted, at the slower :data:`QUEUED_TICK` (and draw only their status) while queued, and not at all while
paused (:func:`tick_intervals`). No Streamlit inside: the page holds one instance per process
(:func:`process_slots`) and calls it from its fragments; every clock is injectable for tests.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CHARTS_TICK", "ENV_REPLICAS", "ENV_SHARE", "ENV_SLOTS", "PAUSED", "QUEUED", "QUEUED_TICK", "TRAINING",
           "TRAINING_TICK", "Admission", "RateMeter", "SpeedBook", "Tick", "Trained", "TrainingBudget", "TrainingSlots",
           "cgroup_cpu_limit", "cpu_quota", "default_capacity", "default_rate", "estimate_rates", "process_slots",
           "redraw", "replicas", "tick_intervals", "train_within", "training_share"]

log = logging.getLogger(__name__)

ENV_SLOTS = "SGE_TRAINING_SLOTS"  #: trainings admitted at once per replica (integer 1..MAX_SLOTS)
ENV_SHARE = "SGE_TRAINING_SHARE"  #: fraction in (0, 1] of the replica's CPU quota that training may use
ENV_REPLICAS = "SGE_REPLICAS"  #: replicas sharing this machine's CPU quota (set by scripts/serve.sh; default 1)
MAX_SLOTS = 1024
MAX_REPLICAS = 1024
DEFAULT_SHARE = 0.6

TRAINING_TICK = 0.5  #: seconds between ticks of an admitted training (train a chunk, update the status)
CHARTS_TICK = 1.0  #: seconds between chart redraws of an admitted training
QUEUED_TICK = 2.0  #: seconds between ticks of a queued session (renew its place, show it; no charts)
MAX_TICK_FRACTION = 0.6  #: the most of a tick interval one session may train, whatever its share (time to draw)
#: Credit a session may bank, in wall seconds of its share: on a busy replica ticks come late (a tick waits for
#: the other sessions' reruns), and a late tick then trains what its session earned meanwhile instead of losing
#: it (measured: with one tick's worth, 100 students on two replicas left admitted trainings ~8 % of a core).
BANK_SECONDS = 2.0

PAUSED, TRAINING, QUEUED = "paused", "training", "queued"


# --- the CPU quota ---------------------------------------------------------------------------------------
def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    """controller (``""`` for cgroup v2) -> this process's cgroup path, from ``/proc/self/cgroup``."""
    out: dict[str, str] = {}
    for line in (_read(proc_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                out[controller] = parts[2]
    return out


def _chain(base: Path, rel: str) -> list[Path]:
    """``base/rel`` and its ancestors up to ``base`` (a limit anywhere up the hierarchy applies)."""
    parts = [p for p in rel.strip("/").split("/") if p and p != ".."]
    return [base.joinpath(*parts[:k]) for k in range(len(parts), -1, -1)]


def _v2_limit(path: Path) -> float | None:
    text = _read(path / "cpu.max")
    if text is None:
        return None
    fields = text.split()
    try:
        if len(fields) >= 1 and fields[0] != "max":
            period = float(fields[1]) if len(fields) > 1 else 100_000.0
            quota = float(fields[0])
            if quota > 0 and period > 0:
                return quota / period
    except ValueError:
        log.warning("unreadable %s: %r", path / "cpu.max", text)
    return None


def _v1_limit(path: Path) -> float | None:
    quota, period = _read(path / "cpu.cfs_quota_us"), _read(path / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    try:
        q, p = float(quota), float(period)
    except ValueError:
        log.warning("unreadable %s / %s: %r / %r", path / "cpu.cfs_quota_us", path / "cpu.cfs_period_us", quota,
                    period)
        return None
    return q / p if q > 0 and p > 0 else None  # -1: no limit


def cgroup_cpu_limit(root: str | os.PathLike = "/sys/fs/cgroup",
                     proc_cgroup: str | os.PathLike = "/proc/self/cgroup") -> float | None:
    """Cores this process may use by its cgroup's CPU quota (quota / period), or None without a quota.

    cgroup v2: ``cpu.max`` ("quota period", "max period" = no limit) of the process's cgroup (from
    ``proc_cgroup``) and every ancestor up to ``root``; cgroup v1: ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
    (-1 = no limit) under ``root/cpu`` or ``root/cpu,cpuacct``. The smallest limit found wins. Both paths are
    parameters so tests can point them at temporary files.
    """
    root, own = Path(root), _own_cgroups(Path(proc_cgroup))
    limits = [lim for d in _chain(root, own.get("", "/")) if (lim := _v2_limit(d)) is not None]
    if not limits:
        for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
            base = root / mount
            if base.is_dir():
                limits += [lim for d in _chain(base, own.get("cpu", "/")) if (lim := _v1_limit(d)) is not None]
    return min(limits) if limits else None


def _affinity() -> int | None:
    try:
        return len(os.sched_getaffinity(0)) or None
    except (AttributeError, OSError):  # not on Linux
        return None


def cpu_quota(root: str | os.PathLike = "/sys/fs/cgroup", proc_cgroup: str | os.PathLike = "/proc/self/cgroup",
              affinity: Callable[[], int | None] = _affinity,
              cpu_count: Callable[[], int | None] = os.cpu_count) -> float:
    """Cores this process really has: the cgroup quota (:func:`cgroup_cpu_limit`) and the CPU affinity, whichever
    is smaller; without either, ``os.cpu_count()`` (1 if even that is unknown). May be fractional (0.5 core)."""
    found = [x for x in (cgroup_cpu_limit(root, proc_cgroup), affinity()) if x]
    return float(min(found)) if found else float(cpu_count() or 1)


# --- settings from the environment --------------------------------------------------------------------------
def _env(env: Mapping[str, str], name: str, parse: Callable[[str], Any], ok: Callable[[Any], bool],
         valid: str, fallback: Any, why: str) -> Any:
    """``env[name]`` parsed and checked, or ``fallback`` with a logged warning naming the variable and range."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return fallback
    try:
        value = parse(raw.strip())
        if not ok(value):
            raise ValueError
    except (ValueError, OverflowError):
        log.warning("%s=%r is not valid (it must be %s); using %s (%s) instead", name, raw, valid, fallback, why)
        return fallback
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def replicas(env: Mapping[str, str] | None = None) -> int:
    """Replicas sharing the machine's CPU quota: ``SGE_REPLICAS`` (integer 1..1024), default 1."""
    env = os.environ if env is None else env
    return _env(env, ENV_REPLICAS, int, lambda v: 1 <= v <= MAX_REPLICAS, f"an integer from 1 to {MAX_REPLICAS}",
                1, "one replica")


def training_share(env: Mapping[str, str] | None = None) -> float:
    """Fraction of the replica's cores training may use: ``SGE_TRAINING_SHARE`` in (0, 1], default 0.6."""
    env = os.environ if env is None else env
    return _env(env, ENV_SHARE, _finite_float, lambda v: 0 < v <= 1, "a fraction greater than 0 and at most 1",
                DEFAULT_SHARE, "the default")


def default_capacity(env: Mapping[str, str] | None = None, quota: float | None = None) -> int:
    """Trainings admitted at once per replica: ``SGE_TRAINING_SLOTS`` (integer 1..1024) if set and valid, else
    the CPU quota (:func:`cpu_quota`) divided by :func:`replicas`, rounded down, at least one.

    A bad ``SGE_TRAINING_SLOTS`` does not stop the server: it is logged as a warning naming the variable and
    its valid range, and the quota-derived value is used.
    """
    env = os.environ if env is None else env
    quota = cpu_quota() if quota is None else quota
    derived = max(1, math.floor(quota / replicas(env) + 1e-9))
    return _env(env, ENV_SLOTS, int, lambda v: 1 <= v <= MAX_SLOTS, f"an integer from 1 to {MAX_SLOTS}", derived,
                "from the CPU quota")


def default_rate(env: Mapping[str, str] | None = None, quota: float | None = None) -> float:
    """CPU seconds of training per second for this replica: share x quota / replicas."""
    env = os.environ if env is None else env
    quota = cpu_quota() if quota is None else quota
    return training_share(env) * quota / replicas(env)


# --- the budget ---------------------------------------------------------------------------------------------
class TrainingBudget:
    """``rate`` CPU seconds of training per wall second for one replica, shared equally by the admitted sessions.

    Each session holds a credit that grows at its share (:meth:`share`) per wall second since its last grant, up
    to ``bank`` seconds' worth (at least one tick's); :meth:`grant` returns the credit (what this tick may train),
    :meth:`charge` deducts what the tick really used, overshoot included, so the debt of an expensive last epoch
    is paid by later ticks. Ticking more often earns nothing extra: credit grows with wall time only.
    """

    def __init__(self, rate: float, *, max_fraction: float = MAX_TICK_FRACTION, bank: float = BANK_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"rate must be a number of CPU seconds per second > 0; got {rate!r}")
        if not 0 < max_fraction <= 1:
            raise ValueError(f"max_fraction must be in (0, 1]; got {max_fraction!r}")
        self.rate = float(rate)
        self.max_fraction = float(max_fraction)
        if not (bank >= 0 and math.isfinite(bank)):
            raise ValueError(f"bank must be a finite number of seconds >= 0; got {bank!r}")
        self.bank = float(bank)
        self._clock = clock
        self._lock = threading.Lock()
        self._credit: dict[str, tuple[float, float]] = {}  # session -> (credit, time of last grant)
        self._used: dict[str, float] = {}  # session -> CPU seconds charged so far

    def share(self, admitted: int) -> float:
        """CPU seconds per second one of ``admitted`` sessions may train (never more than ``max_fraction``)."""
        return min(self.rate / max(1, int(admitted)), self.max_fraction)

    def grant(self, session: str, admitted: int, interval: float) -> float:
        """CPU seconds ``session`` may train in this tick (0 while it is paying back an overshoot)."""
        share = self.share(admitted)
        first = share * float(interval)
        cap = share * max(float(interval), self.bank)
        with self._lock:
            now = self._clock()
            if session in self._credit:
                credit, last = self._credit[session]
                credit = min(credit + max(0.0, now - last) * share, cap)
            else:
                credit = first
            self._credit[session] = (credit, now)
            return max(0.0, credit)

    def charge(self, session: str, seconds: float) -> None:
        """Deduct the CPU time ``session``'s tick really trained."""
        seconds = max(0.0, float(seconds))
        with self._lock:
            if session in self._credit:
                credit, last = self._credit[session]
                self._credit[session] = (credit - seconds, last)
            self._used[session] = self._used.get(session, 0.0) + seconds

    def used(self, session: str) -> float:
        """CPU seconds charged to ``session`` so far (for tests and monitoring)."""
        with self._lock:
            return self._used.get(session, 0.0)

    def forget(self, session: str) -> None:
        with self._lock:
            self._credit.pop(session, None)
            self._used.pop(session, None)


class SpeedBook:
    """Measured CPU seconds per epoch and unit of work (an exponential average per kind of network), so a session
    that never trained can be told what it would get. Thread-safe; ``work`` is any measure proportional to an
    epoch's cost (the page uses trials x steps x synapses)."""

    def __init__(self, alpha: float = 0.3):
        self.alpha = float(alpha)
        self._lock = threading.Lock()
        self._per_unit: dict[Hashable, float] = {}

    def observe(self, kind: Hashable, work: float, epochs: int, cpu_seconds: float) -> None:
        if epochs <= 0 or work <= 0 or not cpu_seconds > 0:
            return
        value = cpu_seconds / (epochs * work)
        with self._lock:
            old = self._per_unit.get(kind)
            self._per_unit[kind] = value if old is None else old + self.alpha * (value - old)

    def seconds_per_epoch(self, kind: Hashable, work: float) -> float | None:
        with self._lock:
            per_unit = self._per_unit.get(kind)
        return None if per_unit is None else per_unit * work


@dataclass(frozen=True)
class Admission:
    """The answer to a request: admitted now, or waiting at ``position`` (1 = next) behind ``active`` trainings."""

    admitted: bool
    position: int
    active: int
    waiting: int
    capacity: int


@dataclass(frozen=True)
class Tick:
    """What one tick of a session does: its ``mode`` (PAUSED, TRAINING or QUEUED), its admission (None when paused)
    and the CPU seconds it may train (0 unless admitted and in credit)."""

    mode: str
    admission: Admission | None
    train_seconds: float = 0.0

    @property
    def intervals(self) -> tuple[float | None, float | None]:
        return tick_intervals(self.mode)


def tick_intervals(mode: str) -> tuple[float | None, float | None]:
    """(status, charts) fragment intervals in ``mode``: admitted tabs train and update their status every
    TRAINING_TICK and redraw charts every CHARTS_TICK; queued tabs only renew and show their place every
    QUEUED_TICK; paused tabs do not tick."""
    return {TRAINING: (TRAINING_TICK, CHARTS_TICK), QUEUED: (QUEUED_TICK, None), PAUSED: (None, None)}[mode]


class TrainingSlots:
    """A thread-safe set of ``capacity`` training slots with a first-come queue, expiry after ``ttl`` seconds, and
    the replica's :class:`TrainingBudget` (``rate`` CPU seconds per second) shared by the admitted sessions."""

    def __init__(self, capacity: int | None = None, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 rate: float | None = None, speeds: SpeedBook | None = None):
        quota = cpu_quota() if capacity is None or rate is None else None
        capacity = default_capacity(quota=quota) if capacity is None else int(capacity)
        if capacity < 1:
            raise ValueError(f"capacity must be an integer >= 1; got {capacity}")
        if not ttl > 0:
            raise ValueError(f"ttl must be a number of seconds > 0; got {ttl!r}")
        self.capacity = capacity
        self.ttl = float(ttl)
        self.budget = TrainingBudget(default_rate(quota=quota) if rate is None else rate, clock=clock)
        self.speeds = SpeedBook() if speeds is None else speeds
        self._clock = clock
        self._lock = threading.Lock()
        self._active: dict[str, float] = {}  # session -> last renewal
        self._queue: OrderedDict[str, float] = OrderedDict()  # waiting sessions in arrival order

    def _expire(self, now: float) -> None:
        for table in (self._active, self._queue):
            for sid in [s for s, seen in table.items() if now - seen > self.ttl]:
                del table[sid]
                self.budget.forget(sid)

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

    def grant(self, session: str, interval: float = TRAINING_TICK) -> float:
        """CPU seconds ``session`` may train in a tick of ``interval`` seconds: its fair share of the budget if
        admitted (less while it pays back an overshoot), else 0."""
        with self._lock:
            if session not in self._active:
                return 0.0
            admitted = len(self._active)
        return self.budget.grant(session, admitted, interval)

    def charge(self, session: str, cpu_seconds: float) -> None:
        """Account the CPU time ``session``'s tick really trained."""
        self.budget.charge(session, cpu_seconds)

    def tick(self, session: str, running: bool, interval: float = TRAINING_TICK) -> Tick:
        """One tick's decision: paused (nothing to do), queued (renewed place, no training) or training (renewed
        slot and this tick's CPU seconds)."""
        if not running:
            return Tick(PAUSED, None)
        adm = self.request(session)
        if not adm.admitted:
            return Tick(QUEUED, adm)
        return Tick(TRAINING, adm, self.grant(session, interval))

    def share(self, admitted: int | None = None) -> float:
        """CPU seconds per second one training gets with ``admitted`` trainings (default: all slots busy, what a
        queued session can count on once it is admitted)."""
        return self.budget.share(self.capacity if admitted is None else admitted)

    def release(self, session: str) -> None:
        """Give up the slot or the place in the queue (pause, reset, leaving the page)."""
        with self._lock:
            self._active.pop(session, None)
            self._queue.pop(session, None)
        self.budget.forget(session)

    def status(self) -> tuple[int, int]:
        """(active, waiting) after dropping expired sessions."""
        with self._lock:
            self._expire(self._clock())
            return len(self._active), len(self._queue)


# --- a tick's work ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trained:
    """Epochs each job ran in one tick and the CPU seconds each used."""

    epochs: tuple[int, ...]
    cpu: tuple[float, ...]

    @property
    def total_cpu(self) -> float:
        return sum(self.cpu)


def train_within(steps: Sequence[Callable[[], bool]], cpu_seconds: float, wall_seconds: float | None = None, *,
                 cpu_clock: Callable[[], float] = time.thread_time,
                 wall_clock: Callable[[], float] = time.perf_counter) -> Trained:
    """Run each job's ``step()`` (one epoch; it returns False when it cannot run another) in turn within
    ``cpu_seconds`` of this thread's CPU time and ``wall_seconds`` of wall time, split equally (what one job leaves
    goes to the next). A job with any time left runs at least one epoch, so the last epoch may overshoot: charge
    the returned CPU time to the budget."""
    epochs, cpu = [], []
    if cpu_seconds <= 0:
        return Trained(tuple(0 for _ in steps), tuple(0.0 for _ in steps))
    wall_total = math.inf if wall_seconds is None else wall_seconds
    used = wall_used = 0.0
    for i, step in enumerate(steps):
        left = len(steps) - i
        allow, wall_allow = (cpu_seconds - used) / left, (wall_total - wall_used) / left
        c0, w0, n = cpu_clock(), wall_clock(), 0
        while allow > 0 and wall_allow > 0 and cpu_clock() - c0 < allow and wall_clock() - w0 < wall_allow:
            if not step():
                break
            n += 1
        spent = cpu_clock() - c0
        used, wall_used = used + spent, wall_used + (wall_clock() - w0)
        epochs.append(n)
        cpu.append(spent)
    return Trained(tuple(epochs), tuple(cpu))


class RateMeter:
    """Epochs per wall second of each job over the last ``window`` ticks (what the student sees live)."""

    def __init__(self, window: int = 6, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._records: deque[tuple[float, tuple[int, ...]]] = deque(maxlen=max(2, int(window)))

    def record(self, counts: Sequence[int]) -> None:
        self._records.append((self._clock(), tuple(int(c) for c in counts)))

    def reset(self) -> None:
        self._records.clear()

    def rates(self) -> tuple[float, ...] | None:
        """Epochs per second of each job, or None before two ticks (or within one instant)."""
        if len(self._records) < 2:
            return None
        (t0, c0), (t1, c1) = self._records[0], self._records[-1]
        if t1 - t0 <= 0 or len(c0) != len(c1):
            return None
        return tuple(max(0.0, (b - a) / (t1 - t0)) for a, b in zip(c0, c1, strict=True))


def estimate_rates(share: float, seconds_per_epoch: Sequence[float | None]) -> tuple[float | None, ...]:
    """Epochs per second each job would get from ``share`` CPU seconds per second, split equally."""
    each = share / max(1, len(seconds_per_epoch))
    return tuple(each / s if s and s > 0 else None for s in seconds_per_epoch)


def redraw(store: MutableMapping[str, tuple[Hashable, Any]], name: str, version: Hashable,
           build: Callable[[], Any]) -> Any:
    """``build()`` only when ``version`` changed since the last draw of ``name`` (else the stored result): a tick,
    a paused tab's widget or a queued tab's full rerun rebuilds no figure whose inputs did not change."""
    hit = store.get(name)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = build()
    store[name] = (version, value)
    return value


_SLOTS: TrainingSlots | None = None
_SLOTS_LOCK = threading.Lock()


def process_slots() -> TrainingSlots:
    """The one instance of this server process (created on first use from the CPU quota and the environment)."""
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None:
            _SLOTS = TrainingSlots()
            log.info("training: %d slot(s), %.2f CPU s/s budget per replica", _SLOTS.capacity, _SLOTS.budget.rate)
        return _SLOTS
