"""The replica's training budget: CPU seconds per second shared fairly by the admitted sessions, with fake clocks."""

import pytest

from sgapp.admission import (
    BANK_SECONDS,
    CHARTS_TICK,
    PAUSED,
    QUEUED,
    QUEUED_TICK,
    TRAINING,
    TRAINING_TICK,
    RateMeter,
    SpeedBook,
    TrainingBudget,
    TrainingSlots,
    estimate_rates,
    redraw,
    tick_intervals,
    train_within,
)


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_two_admitted_sessions_each_get_half_and_a_queued_one_nothing():
    clock = Clock()
    slots = TrainingSlots(capacity=2, rate=1.0, clock=clock)
    for s in "abc":  # all three press Play; then each tick asks for its grant
        slots.request(s)
    a, b, c = (slots.tick(s, running=True) for s in "abc")
    assert a.mode == b.mode == TRAINING and c.mode == QUEUED
    assert a.train_seconds == pytest.approx(1.0 * TRAINING_TICK / 2)  # budget x interval / admitted
    assert b.train_seconds == pytest.approx(0.25)
    assert c.train_seconds == 0 and c.admission.position == 1
    assert slots.grant("c") == 0.0  # a queued session is granted nothing, whatever it asks
    assert slots.tick("a", running=False) == slots.tick("z", running=False)  # paused: no request, no grant
    assert slots.tick("z", running=False).mode == PAUSED and slots.status() == (2, 1)


def test_a_single_session_never_gets_more_than_a_tick_can_spare():
    slots = TrainingSlots(capacity=4, rate=2.0, clock=Clock())  # a big budget, one session
    tick = slots.tick("solo", running=True)
    assert tick.train_seconds == pytest.approx(0.6 * TRAINING_TICK)  # MAX_TICK_FRACTION of the interval
    assert slots.share(1) == pytest.approx(0.6) and slots.share() == pytest.approx(0.5)  # 4 admitted: 2.0 / 4


def test_shares_follow_the_number_admitted():
    clock = Clock()
    slots = TrainingSlots(capacity=3, rate=0.9, clock=clock)
    slots.request("a")
    first = slots.grant("a")
    assert first == pytest.approx(0.6 * TRAINING_TICK)  # alone: min(0.9, 0.6) per second
    slots.charge("a", first)  # trained all of it
    slots.request("b")
    slots.request("c")
    clock.t += TRAINING_TICK
    assert slots.grant("b") == pytest.approx(0.9 / 3 * TRAINING_TICK)
    slots.release("c")
    clock.t += TRAINING_TICK
    # a earned the current share (two admitted: 0.45 per second) over the 2 ticks since its last grant
    assert slots.grant("a") == pytest.approx(0.9 / 2 * 2 * TRAINING_TICK)


def test_fair_over_many_ticks_whatever_each_session_does():
    """Three admitted sessions: one overshoots every grant by a long epoch, one uses half of it, one ticks
    four times as often (a burst of reruns). Over many ticks each trains about rate / 3 per second."""
    clock = Clock()
    rate, seconds = 0.9, 200.0
    budget = TrainingBudget(rate, clock=clock)
    used = {"over": 0.0, "half": 0.0, "fast": 0.0}
    step = TRAINING_TICK / 4
    for k in range(int(seconds / step)):
        clock.t = k * step
        todo = ["fast"] + (["over", "half"] if k % 4 == 0 else [])
        for s in todo:
            g = budget.grant(s, admitted=3, interval=TRAINING_TICK)
            spent = {"over": g + 0.04 if g > 0 else 0.0, "half": g / 2, "fast": g}[s]
            budget.charge(s, spent)
            used[s] += spent
    fair = rate / 3 * seconds
    assert used["over"] == pytest.approx(fair, rel=0.02)  # its overshoots were paid back by later ticks
    assert used["fast"] == pytest.approx(fair, rel=0.02)  # ticking 4x as often earns nothing extra
    assert used["half"] <= fair * 1.02  # what it leaves is banked (up to BANK_SECONDS), never beyond its share
    assert sum(used.values()) <= rate * seconds + 3 * rate / 3 * BANK_SECONDS
    assert budget.used("over") == pytest.approx(used["over"])


def test_an_overshoot_is_owed_and_idle_time_is_not_hoarded():
    clock = Clock()
    budget = TrainingBudget(0.5, clock=clock)
    assert budget.grant("s", 1, TRAINING_TICK) == pytest.approx(0.25)
    budget.charge("s", 1.0)  # one epoch of a huge network took a whole second
    clock.t += TRAINING_TICK
    assert budget.grant("s", 1, TRAINING_TICK) == 0.0  # in debt: this tick trains nothing
    clock.t += 1.0  # 1.5 s after the first grant: 0.25 + 1.5 x 0.5 = 1.0 s earned, 1.0 s spent
    assert budget.grant("s", 1, TRAINING_TICK) == pytest.approx(0.0)
    clock.t += 1000.0  # a long pause earns at most BANK_SECONDS of its share
    assert budget.grant("s", 1, TRAINING_TICK) == pytest.approx(0.5 * BANK_SECONDS)
    budget.forget("s")
    assert budget.used("s") == 0.0


def test_late_ticks_on_a_busy_replica_still_get_the_fair_share():
    """Ticks that come every 1.5 s instead of every 0.5 s (the replica is busy) train what was earned meanwhile."""
    clock = Clock()
    rate, seconds = 0.6, 300.0
    budget = TrainingBudget(rate, clock=clock)
    used = 0.0
    k = 0
    while clock.t < seconds:
        g = budget.grant("late", admitted=1, interval=TRAINING_TICK)
        budget.charge("late", g)
        used += g
        k += 1
        clock.t = k * 1.5
    assert used == pytest.approx(rate * seconds, rel=0.02)
    with pytest.raises(ValueError, match="bank"):
        TrainingBudget(1.0, bank=float("nan"))


def test_release_and_expiry_reset_a_sessions_account():
    clock = Clock()
    slots = TrainingSlots(capacity=1, ttl=10, rate=1.0, clock=clock)
    slots.request("a")
    slots.grant("a")
    slots.charge("a", 5.0)
    assert slots.budget.used("a") == 5.0
    clock.t = 20.0  # "a" stopped renewing: expired with its debt
    assert slots.request("b").admitted and slots.budget.used("a") == 0.0
    slots.release("b")
    assert slots.request("a").admitted and slots.grant("a") == pytest.approx(0.6 * 0.5)  # a fresh account


@pytest.mark.parametrize("kw,needle", [({"rate": 0}, "rate must be"), ({"rate": float("nan")}, "rate must be"),
                                       ({"rate": 1, "max_fraction": 0}, "max_fraction")])
def test_bad_budget_arguments(kw, needle):
    with pytest.raises(ValueError, match=needle):
        TrainingBudget(**kw)


def test_tick_rates_per_mode():
    assert tick_intervals(TRAINING) == (TRAINING_TICK, CHARTS_TICK)
    assert tick_intervals(QUEUED) == (QUEUED_TICK, None)  # queued: a slow status tick, charts never tick
    assert tick_intervals(PAUSED) == (None, None)
    assert QUEUED_TICK > TRAINING_TICK and CHARTS_TICK > TRAINING_TICK


class FakeJob:
    """One epoch costs ``cost`` CPU seconds on the fake CPU clock and ``wall`` on the wall clock."""

    def __init__(self, cpu: Clock, wall_clock: Clock, cost: float, wall: float | None = None, limit: int = 10**6):
        self.cpu, self.wall_clock, self.cost, self.wall, self.limit, self.epochs = cpu, wall_clock, cost, wall, limit, 0

    def __call__(self) -> bool:
        if self.epochs >= self.limit:
            return False
        self.cpu.t += self.cost
        self.wall_clock.t += self.cost if self.wall is None else self.wall
        self.epochs += 1
        return True


def test_train_within_splits_the_cpu_time_and_reports_the_overshoot():
    cpu, wall = Clock(), Clock()
    fast, slow = FakeJob(cpu, wall, 1 / 32), FakeJob(cpu, wall, 3 / 16)  # binary fractions: exact sums
    done = train_within([fast, slow], 0.5, cpu_clock=cpu, wall_clock=wall)
    assert done.epochs == (8, 2) and (fast.epochs, slow.epochs) == done.epochs
    assert done.cpu == (0.25, 0.375)  # half each; the slow one's last epoch overshoots
    assert done.total_cpu == 0.625


def test_train_within_runs_one_epoch_on_a_sliver_and_none_on_nothing():
    cpu, wall = Clock(), Clock()
    job = FakeJob(cpu, wall, 0.5)
    assert train_within([job], 0.001, cpu_clock=cpu, wall_clock=wall).epochs == (1,)
    assert train_within([job], 0.0, cpu_clock=cpu, wall_clock=wall).epochs == (0,)


def test_train_within_gives_what_a_finished_job_leaves_to_the_next_and_honours_the_wall_limit():
    cpu, wall = Clock(), Clock()
    done_job, other = FakeJob(cpu, wall, 1 / 64, limit=2), FakeJob(cpu, wall, 1 / 64)
    done = train_within([done_job, other], 0.25, cpu_clock=cpu, wall_clock=wall)
    assert done.epochs == (2, 14)  # the second gets 0.25 - 2/64 s
    starved = FakeJob(cpu, wall, 1 / 64, wall=1 / 8)  # a busy process: wall time runs 8x faster than CPU time
    assert train_within([starved], 0.25, wall_seconds=0.5, cpu_clock=cpu, wall_clock=wall).epochs == (4,)


def test_rate_meter_measures_the_last_ticks():
    clock = Clock()
    meter = RateMeter(window=3, clock=clock)
    assert meter.rates() is None
    meter.record([0, 0])
    assert meter.rates() is None  # one tick is no rate
    for k in range(1, 6):
        clock.t = k * 0.5
        meter.record([100 * k, 10 * k if k < 4 else 30])
    assert meter.rates() == pytest.approx((200.0, 0.0))  # window: ticks 3..5 (sto stalled at 30)
    meter.reset()
    assert meter.rates() is None


def test_estimates_from_the_budget_and_the_measured_speed():
    book = SpeedBook()
    assert book.seconds_per_epoch("deterministic", 100.0) is None
    book.observe("deterministic", 100.0, 10, 0.02)  # 2 ms per epoch of 100 units
    book.observe("deterministic", 100.0, 0, 0.5)  # no epochs: ignored
    assert book.seconds_per_epoch("deterministic", 200.0) == pytest.approx(0.004)  # twice the work
    det, sto = estimate_rates(0.6, [0.003, None])  # half of 0.6 s/s each
    assert det == pytest.approx(100.0) and sto is None


def test_redraw_builds_only_when_the_version_changes():
    store, built = {}, []

    def build():
        built.append(1)
        return object()

    first = redraw(store, "fig", (1, 0), build)
    assert redraw(store, "fig", (1, 0), build) is first and len(built) == 1
    assert redraw(store, "fig", (1, 1), build) is not first and len(built) == 2
