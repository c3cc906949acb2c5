"""The live-training controller on its own: state transitions, rebuild vs mid-run changes, the tick's CPU budget,
the epoch cap and the rates shown — with fake clocks and fake trainers where timing matters."""

from dataclasses import replace

import numpy as np
import pytest

from sgapp.admission import PAUSED, QUEUED, TRAINING, TRAINING_TICK, RateMeter, TrainingSlots
from sgapp.training_session import MAX_TICK_WALL, REBUILT_NOTE, WALL_FRACTION, Applied, TrainingSession, work
from sgcore.snn import History, TrainConfig, Trainer
from sgcore.targets import target_raster
from sgcore.training_page import FIXED, NETWORKS

SIZE = {"n_in": 20, "n_hidden": 15, "n_out": 10, "n_steps": 30}


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def configs(**changes) -> dict[str, TrainConfig]:
    """Both networks at a small size; ``changes`` apply to both (prefix ``sto_`` / ``det_`` for one)."""
    out = {}
    for net in NETWORKS:
        mine = {k[4:]: v for k, v in changes.items() if k.startswith(net[:3] + "_")}
        shared = {k: v for k, v in changes.items() if not k.startswith(("det_", "sto_"))}
        out[net] = TrainConfig(**{"network": net, **SIZE, "trials": 2, **shared, **mine})
    return out


def target(name: str = "wave", n_out: int = SIZE["n_out"], n_steps: int = SIZE["n_steps"]):
    return name, target_raster(name, n_out, n_steps)


def slots(capacity: int = 2) -> TrainingSlots:
    return TrainingSlots(capacity=capacity, rate=1.0, clock=Clock())


def session(state=None, pool=None, **kw) -> TrainingSession:
    return TrainingSession({} if state is None else state, pool or slots(), "me", **kw)


class FakeTrainer:
    """One epoch costs ``cost`` CPU seconds (and ``wall`` wall seconds) on the shared fake clocks."""

    def __init__(self, cfg: TrainConfig, target: np.ndarray, cpu: Clock, wall_clock: Clock, cost: float,
                 wall: float | None = None):
        self.cfg, self.target, self.epoch, self.history = cfg, target, 0, History()
        self.cpu, self.wall_clock, self.cost, self.wall = cpu, wall_clock, cost, wall

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.cpu.t += self.cost
            self.wall_clock.t += self.cost if self.wall is None else self.wall
            self.epoch += 1

    def set(self, **changes) -> None:
        self.cfg = replace(self.cfg, **changes)


def fake(costs: dict[str, float], walls: dict[str, float] | None = None, **kw) -> TrainingSession:
    """A session whose networks train on fake clocks at the given CPU (and wall) seconds per epoch."""
    cpu, wall = Clock(), Clock()

    def make(cfg, tgt):
        return FakeTrainer(cfg, tgt, cpu, wall, costs[cfg.network], (walls or {}).get(cfg.network))

    s = session(make_trainer=make, cpu_clock=cpu, wall_clock=wall, **kw)
    s.apply(configs(), target())
    return s


# --- settings ---------------------------------------------------------------------------------------
def test_a_new_session_is_paused_with_no_trainers_until_settings_apply():
    state = {}
    s = session(state)
    assert not s.ready and not s.running and s.note == "" and state["gen"] == 0
    assert isinstance(state["meter"], RateMeter) and state["figs"] == {}
    assert s.apply(None, target()) == Applied() and not s.ready  # invalid settings: nothing to build
    assert s.apply(configs(), None) == Applied() and not s.ready  # no target yet: nothing to build
    done = s.apply(configs(), target())
    assert done.built and not done.restarted and s.ready and s.note == ""
    assert set(s.trainers) == set(NETWORKS) and all(t.epoch == 0 for t in s.trainers.values())
    assert s.trainers["stochastic"].cfg.network == "stochastic" and state["gen"] == 1
    np.testing.assert_array_equal(s.target, target()[1])
    assert TrainingSession(state, s.slots, "me").trainers is s.trainers  # the state is the mapping, kept per tab


def test_unchanged_settings_change_nothing():
    s = session()
    s.apply(configs(), target())
    before = dict(s.trainers)
    s.step()
    done = s.apply(configs(), target())
    assert done == Applied() and dict(s.trainers) == before and s.trainers["deterministic"].epoch == 1


def test_learning_settings_apply_mid_run_and_keep_the_weights():
    s = session()
    s.apply(configs(), target())
    s.step()
    sto = s.trainers["stochastic"]
    w = sto.weights[0].copy()
    s.play()
    done = s.apply(configs(sto_beta_hid=20.0, lr=5e-3), target())
    assert not done.built and dict(done.changed) == {"deterministic": ("lr",), "stochastic": ("lr", "beta_hid")}
    assert s.trainers["stochastic"] is sto and sto.epoch == 1 and sto.cfg.beta_hid == 20.0 and sto.cfg.lr == 5e-3
    assert s.running  # a mid-run change does not pause
    np.testing.assert_array_equal(sto.weights[0], w)


@pytest.mark.parametrize("name", FIXED)
def test_a_fixed_setting_rebuilds_both_networks_paused_with_a_notice(name):
    pool = slots()
    s = session(pool=pool)
    s.apply(configs(), target())
    s.step()
    s.play()
    assert s.poll().mode == TRAINING and pool.status() == (1, 0)
    old = dict(s.trainers)
    value = {"n_in": 12, "n_hidden": 9, "n_out": 8, "n_steps": 24, "input_rate": 30.0, "init": "he_normal",
             "seed": 3}[name]
    cfgs = configs(**{name: value})
    tgt = target(n_out=cfgs["deterministic"].n_out, n_steps=cfgs["deterministic"].n_steps)
    done = s.apply(cfgs, tgt)
    assert done.built and done.restarted and s.note == REBUILT_NOTE
    assert all(s.trainers[n] is not old[n] and s.trainers[n].epoch == 0 for n in NETWORKS)
    assert all(getattr(s.trainers[n].cfg, name) == value for n in NETWORKS)
    assert not s.running and pool.status() == (0, 0)  # paused, and the slot given back


def test_a_new_target_rebuilds_and_a_refused_upload_keeps_the_current_one():
    s = session()
    s.apply(configs(), target("wave"))
    s.step()
    gen = s.version[0]
    assert s.apply(configs(), None) == Applied()  # a refused upload: the current target is kept, no rebuild
    assert s.trainers["deterministic"].epoch == 1
    done = s.apply(configs(), target("sg"))
    assert done.restarted and s.version[0] == gen + 1
    np.testing.assert_array_equal(s.target, target("sg")[1])


# --- the media player -------------------------------------------------------------------------------
def test_play_pause_step_reset():
    pool = slots()
    s = session(pool=pool)
    s.apply(configs(), target())
    assert s.poll().mode == PAUSED and pool.status() == (0, 0)  # paused: no request
    s.play()
    tick = s.poll()
    assert s.running and tick.mode == TRAINING and tick.train_seconds > 0 and pool.status() == (1, 0)
    s.pause()
    assert not s.running and s.poll().mode == PAUSED and pool.status() == (0, 0)
    assert s.step() == dict.fromkeys(NETWORKS, 1)
    assert all(t.epoch == 1 for t in s.trainers.values())
    s.play()
    s.poll()
    s.reset()
    assert not s.running and pool.status() == (0, 0)
    done = s.apply(configs(), target())  # same settings: new weights from the seed
    assert done.restarted and all(t.epoch == 0 for t in s.trainers.values())
    fresh = Trainer(configs()["deterministic"], target()[1])
    np.testing.assert_array_equal(s.trainers["deterministic"].weights[0], fresh.weights[0])


def test_a_full_server_queues_play():
    pool = slots(capacity=1)
    assert pool.request("other").admitted
    s = session(pool=pool)
    s.apply(configs(), target())
    s.play()
    tick = s.poll()
    assert tick.mode == QUEUED and tick.admission.position == 1 and tick.train_seconds == 0
    pool.release("other")
    assert s.poll().mode == TRAINING


# --- ticks --------------------------------------------------------------------------------------------
def test_a_tick_splits_its_budget_and_charges_what_it_used():
    s = fake({"deterministic": 1 / 32, "stochastic": 3 / 16})  # binary fractions: exact sums
    s.play()
    s.poll()
    chunk = s.tick(0.5)
    assert dict(chunk.epochs) == {"deterministic": 8, "stochastic": 2}  # half the budget each
    assert dict(chunk.cpu) == {"deterministic": 0.25, "stochastic": 0.375}  # the last epoch overshoots
    assert not chunk.capped and s.running
    assert s.slots.budget.used("me") == chunk.total_cpu == 0.625  # charged, overshoot included
    det = s.trainers["deterministic"]
    assert s.slots.speeds.seconds_per_epoch("deterministic", work(det.cfg)) == pytest.approx(1 / 32)
    assert s.tick(0.0).epochs == dict.fromkeys(NETWORKS, 0)  # no budget (paying back): no epoch


def test_a_tick_never_runs_longer_than_its_wall_limit():
    """A busy process: each epoch takes 8x its CPU time in wall time. A big budget still stops at MAX_TICK_WALL."""
    s = fake(dict.fromkeys(NETWORKS, 1 / 64), walls=dict.fromkeys(NETWORKS, 1 / 8))
    chunk = s.tick(2.0)
    assert MAX_TICK_WALL == 1.0 and dict(chunk.epochs) == dict.fromkeys(NETWORKS, 4)  # 0.5 s of wall time each
    s2 = fake(dict.fromkeys(NETWORKS, 1 / 64), walls=dict.fromkeys(NETWORKS, 1 / 8))
    small = s2.tick(0.2)  # a small budget may use WALL_FRACTION of a tick in wall time (0.4 s), 0.2 s each
    assert WALL_FRACTION * TRAINING_TICK == 0.4 and dict(small.epochs) == dict.fromkeys(NETWORKS, 2)
    sliver = s2.tick(0.001)  # any budget left runs one epoch; its overshoot is taken from the next network's
    assert dict(sliver.epochs) == {"deterministic": 1, "stochastic": 0}


def test_the_epoch_cap_pauses_the_run_and_stops_step():
    s = fake(dict.fromkeys(NETWORKS, 1 / 64), max_epochs=3)
    s.play()
    s.poll()
    assert s.slots.status() == (1, 0)
    chunk = s.tick(0.5)
    assert chunk.capped and dict(chunk.epochs) == dict.fromkeys(NETWORKS, 3)
    assert not s.running and s.note == "Paused: 3 epochs is this server's limit per session."
    assert s.slots.status() == (0, 0)
    assert s.step() == dict.fromkeys(NETWORKS, 0) and all(t.epoch == 3 for t in s.trainers.values())


def test_one_network_at_the_cap_leaves_the_budget_to_the_other():
    s = fake(dict.fromkeys(NETWORKS, 1 / 32), max_epochs=20)
    s.trainers["deterministic"].epoch = 20
    chunk = s.tick(0.5)
    assert not chunk.capped and dict(chunk.epochs) == {"deterministic": 0, "stochastic": 16}  # all of the 0.5 s
    assert s.tick(0.5).capped and s.trainers["stochastic"].epoch == 20


def test_real_trainers_train_within_a_tick():
    s = session()
    s.apply(configs(), target())
    s.play()
    chunk = s.tick(s.poll().train_seconds)
    assert all(chunk.epochs[n] >= 1 and s.trainers[n].epoch == chunk.epochs[n] for n in NETWORKS)
    assert s.slots.budget.used("me") == pytest.approx(chunk.total_cpu) and chunk.total_cpu > 0


# --- what the status shows ------------------------------------------------------------------------------
def test_rates_measured_while_training_kept_while_paused_estimated_while_queued():
    clock = Clock()  # the budget's and the meter's wall clock
    state = {"meter": RateMeter(clock=clock)}
    pool = TrainingSlots(capacity=1, rate=1.0, clock=clock)
    cpu, wall = Clock(), Clock()

    def make(cfg, tgt):
        return FakeTrainer(cfg, tgt, cpu, wall, {"deterministic": 1 / 32, "stochastic": 1 / 8}[cfg.network])

    s = TrainingSession(state, pool, "me", make_trainer=make, cpu_clock=cpu, wall_clock=wall)
    s.apply(configs(), target())
    assert s.rates(s.poll()).shown == ("–", "–")  # paused, never ran
    s.play()
    for _ in range(2):
        tick = s.poll()
        chunk = s.tick(tick.train_seconds)
        s.record(tick)
        clock.t += TRAINING_TICK
    rates = s.rates(tick)
    shown = tuple(f"{chunk.epochs[n] / TRAINING_TICK:.0f}" for n in NETWORKS)  # the last tick's epochs per second
    assert rates.shown == shown and all(int(r) > 0 for r in shown) and rates.share == pytest.approx(0.6)
    s.pause()
    tick = s.poll()
    s.record(tick)  # a paused tick resets the meter...
    assert state["meter"].rates() is None and s.rates(tick).shown == shown  # ...and shows the last rates
    assert pool.request("other").admitted
    s.play()
    queued = s.poll()
    assert queued.mode == QUEUED
    est = s.rates(queued).shown  # from the engine's measured speed and the share it would get
    assert all(r.startswith("≈ ") for r in est) and est == (f"≈ {0.3 * 32:.0f}", f"≈ {0.3 * 8:.0f}")


def test_latest_and_version_follow_the_trainers():
    s = session()
    s.apply(configs(), target())
    assert s.latest("deterministic", "l2", ".4g") == "–"
    v0 = s.version
    s.step()
    assert s.version != v0 and s.version[1:3] == (1, 1)
    h = s.trainers["stochastic"].history
    assert s.latest("stochastic", "active_fraction", ".1%") == format(h.active_fraction[-1], ".1%")
    s.apply(configs(sto_trials=3), target())
    assert s.version[-1] == 3  # the trials redraw the trial raster
