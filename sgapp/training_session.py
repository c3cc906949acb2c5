"""One tab's live training: the two networks' trainers, play / pause / step / reset, settings applied mid-run or
by a rebuild, and each tick's budgeted chunk of training. No Streamlit inside.

The state lives in a plain mutable mapping (the page keeps it in ``st.session_state["training"]``, so it is per
tab and survives reruns); a :class:`TrainingSession` is a thin controller over that mapping, made anew in every
run with the process's :class:`~sgapp.admission.TrainingSlots` and the tab's id in their queue. The mapping holds

* ``trainers`` (network -> :class:`~sgcore.snn.Trainer`, None before the first build), ``target`` (the raster
  they learn), ``key`` (the FIXED settings and the target's identity they were built for), ``gen`` (counts
  builds: part of every figure's version);
* ``running`` (Play pressed and not paused), ``note`` (the last rebuild or epoch-cap message);
* ``meter`` (a :class:`~sgapp.admission.RateMeter` of the live epochs/s), ``last_rates`` (the last measured
  rates, shown while paused) and ``figs`` (the page's last drawn figures, see :func:`~sgapp.admission.redraw`).

A tick is decided by the slots (:meth:`TrainingSession.poll`: paused, queued, or training with a CPU budget) and
then trained within that budget (:meth:`TrainingSession.tick`), charged to the replica's account.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np

from sgcore.snn import TRAIN_PARAMS, TrainConfig, Trainer
from sgcore.training_page import FIXED, NETWORKS

from .admission import (
    PAUSED,
    TRAINING,
    TRAINING_TICK,
    RateMeter,
    Tick,
    TrainingSlots,
    estimate_rates,
    train_within,
)

__all__ = ["MAX_EPOCHS", "MAX_TICK_WALL", "REBUILT_NOTE", "WALL_FRACTION", "Applied", "Chunk", "Rates",
           "TrainingSession", "one_thread", "work"]

WALL_FRACTION = 0.8  #: a tick trains at least this fraction of its interval in wall time if its budget allows
MAX_TICK_WALL = 1.0  #: and never longer (a late tick on a busy replica spends its banked credit within this)
MAX_EPOCHS = 20_000  #: per network and session: then training pauses
REBUILT_NOTE = "Rebuilt for the new size, seed, input or target: training starts again."


def one_thread() -> None:
    """One torch thread, set in the calling thread (about a microsecond): OpenMP's thread count is per thread and
    Streamlit runs each script run in a new thread, so a setting made once in another thread does not hold there;
    without OMP_NUM_THREADS=1 every run would start its own spinning team and train ~10x slower."""
    import torch

    torch.set_num_threads(1)


def work(cfg: TrainConfig) -> float:
    """Proportional to one epoch's cost: trials x steps x synapses."""
    return float(cfg.trials * cfg.n_steps * cfg.n_hidden * (cfg.n_in + cfg.n_out))


@dataclass(frozen=True)
class Applied:
    """What :meth:`TrainingSession.apply` did: ``built`` new trainers (``restarted`` when they replaced earlier
    ones), or changed the settings ``changed[network]`` of the current ones mid-run (weights kept). All false and
    empty: nothing to apply (no valid settings or target) or nothing differed."""

    built: bool = False
    restarted: bool = False
    changed: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Chunk:
    """What one tick trained: epochs and CPU seconds per network, and whether the epoch cap paused the run."""

    epochs: Mapping[str, int]
    cpu: Mapping[str, float]
    capped: bool

    @property
    def total_cpu(self) -> float:
        return sum(self.cpu.values())


@dataclass(frozen=True)
class Rates:
    """Epochs/s per network as shown (measured over the last ticks; "≈ n" an estimate, "–" unknown) and the CPU
    share (CPU seconds per second) the tab trains with or would get once admitted."""

    shown: tuple[str, ...]
    share: float


def _mid_run(fixed: tuple[str, ...]) -> tuple[str, ...]:
    """Settings a running trainer takes mid-run: every declared training setting but the network and ``fixed``."""
    declared = {s.name for s in TRAIN_PARAMS}
    return tuple(f.name for f in fields(TrainConfig) if f.name not in ("network", *fixed) and f.name in declared)


class TrainingSession:
    """The controller of one tab's training over its state ``state`` (see the module docstring).

    Parameters
    ----------
    state : MutableMapping
        The tab's state; missing entries are filled in (a new mapping starts paused with no trainers).
    slots : TrainingSlots
        The replica's admission queue and CPU budget.
    session_id : str
        This tab's place in ``slots``.
    networks : tuple of str
        The networks trained side by side, in display order.
    fixed : tuple of str
        Settings shared by the networks that rebuild them (new weights) when they change.
    max_epochs : int
        Epochs per network and session; training pauses when every network has reached it.
    make_trainer : callable
        ``make_trainer(cfg, target)`` builds one network's trainer (default :class:`~sgcore.snn.Trainer`). Any
        trainer with ``cfg``, ``epoch``, ``step(n)``, ``set(**changes)`` and a ``history`` (``seconds``, ``epoch``,
        ``as_dict()``) will do: the classification page trains its own (``target`` is then its dataset).
    mid_run : tuple of str, optional
        The settings a running trainer takes mid-run (default: every TrainConfig setting but the network and
        ``fixed``).
    work_fn : callable
        Proportional to one epoch's cost of a config (the admission's speed estimates); default :func:`work`.
    speed_kind : str
        Prefix of the networks' entries in the replica's speed book (another page's trainers are another kind).
    cpu_clock, wall_clock : callable
        The clocks a tick's budget is measured with (this thread's CPU time and wall time by default).
    """

    def __init__(self, state: MutableMapping[str, Any], slots: TrainingSlots, session_id: str, *,
                 networks: tuple[str, ...] = NETWORKS, fixed: tuple[str, ...] = FIXED, max_epochs: int = MAX_EPOCHS,
                 make_trainer: Callable[[Any, Any], Any] = Trainer, mid_run: tuple[str, ...] | None = None,
                 work_fn: Callable[[Any], float] | None = None, speed_kind: str = "",
                 cpu_clock: Callable[[], float] = time.thread_time,
                 wall_clock: Callable[[], float] = time.perf_counter) -> None:
        for name, default in (("key", None), ("trainers", None), ("target", None), ("running", False), ("note", ""),
                              ("gen", 0), ("last_rates", None)):
            state.setdefault(name, default)
        state.setdefault("meter", RateMeter())
        state.setdefault("figs", {})
        self._s = state
        self.slots = slots
        self.id = session_id
        self.networks = tuple(networks)
        self.fixed = tuple(fixed)
        self.max_epochs = int(max_epochs)
        self._make = make_trainer
        self._mid_run = _mid_run(self.fixed) if mid_run is None else tuple(mid_run)
        self._work = work if work_fn is None else work_fn
        self._kind = speed_kind
        self._cpu_clock, self._wall_clock = cpu_clock, wall_clock

    # -- what the page reads ---------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Trainers exist (a valid configuration and target were applied once)."""
        return self._s["trainers"] is not None

    @property
    def trainers(self) -> Mapping[str, Trainer]:
        return self._s["trainers"]

    @property
    def target(self) -> np.ndarray | None:
        return self._s["target"]

    @property
    def running(self) -> bool:
        return self._s["running"]

    @property
    def note(self) -> str:
        return self._s["note"]

    @property
    def figs(self) -> MutableMapping[str, Any]:
        """The page's store of drawn figures (see :func:`~sgapp.admission.redraw`)."""
        return self._s["figs"]

    @property
    def version(self) -> tuple:
        """Changes whenever what the figures show may have: a rebuild, an epoch, a change of trials."""
        tr = self.trainers
        return (self._s["gen"], *(tr[n].epoch for n in self.networks),
                *(getattr(tr[n].cfg, "trials", 1) for n in self.networks))

    def latest(self, network: str, key: str, fmt: str) -> str:
        """The newest history record ``key`` of ``network`` formatted with ``fmt``, "–" before any."""
        h = self.trainers[network].history
        return format(h[key][-1], fmt) if len(h) else "–"

    # -- settings ---------------------------------------------------------------------------------
    def apply(self, configs: Mapping[str, TrainConfig] | None, target: tuple[str, np.ndarray] | None) -> Applied:
        """Apply this run's settings: rebuild both networks (paused, new weights) when a FIXED setting or the
        target changed, else pass every other setting to the running trainers.

        ``configs`` maps each network to its config (None: the settings are invalid, keep training as is);
        ``target`` is (identity, raster) or None after a refused upload (the current target is kept).
        """
        s = self._s
        if target is None and s["trainers"] is not None:
            target = (s["key"][-1], s["target"])
        if configs is None or target is None:
            return Applied()
        key = (*(getattr(configs[self.networks[0]], k) for k in self.fixed), target[0])
        if s["key"] != key:
            restarted = s["trainers"] is not None
            trainers = {net: self._make(configs[net], target[1]) for net in self.networks}
            s.update(key=key, target=target[1], running=False, gen=s["gen"] + 1, last_rates=None, trainers=trainers,
                     note=REBUILT_NOTE if restarted else "")
            self.slots.release(self.id)
            return Applied(built=True, restarted=restarted)
        changed = {}
        for net in self.networks:
            trainer, cfg = s["trainers"][net], configs[net]
            changes = {k: getattr(cfg, k) for k in self._mid_run}
            diff = tuple(k for k, v in changes.items() if getattr(trainer.cfg, k) != v)
            trainer.set(**changes)
            if diff:
                changed[net] = diff
        return Applied(changed=MappingProxyType(changed))

    def replace(self, network: str, trainer: Any) -> None:
        """Put ``trainer`` (e.g. loaded from a checkpoint) in place of ``network``'s, paused. It must have been built
        for the same FIXED settings as the current one (else ``ValueError`` naming them)."""
        if not self.ready or network not in self.networks:
            raise ValueError(f"network must be one of {', '.join(self.networks)} of a built session")
        current = self.trainers[network]
        differ = [k for k in self.fixed if getattr(current.cfg, k) != getattr(trainer.cfg, k)]
        if differ:
            raise ValueError("its " + ", ".join(f"{k} = {getattr(trainer.cfg, k)!r}" for k in differ)
                             + " differ from the page's " + ", ".join(f"{getattr(current.cfg, k)!r}" for k in differ)
                             + ": set them first")
        self._s["trainers"] = {**self.trainers, network: trainer}
        self._s["gen"] += 1
        self.pause()

    # -- the media player ---------------------------------------------------------------------------
    def play(self) -> None:
        self._s["running"] = True

    def pause(self) -> None:
        """Stop training and give the slot (or the place in the queue) back."""
        self._s["running"] = False
        self.slots.release(self.id)

    def reset(self) -> None:
        """Paused, and the next :meth:`apply` builds new networks from the seed with the same settings."""
        self._s["key"] = None
        self.pause()

    def step(self) -> dict[str, int]:
        """Train each network below the epoch cap for one epoch; the epochs each trained (0 or 1)."""
        one_thread()
        done = {}
        for net in self.networks:
            t = self.trainers[net]
            done[net] = int(t.epoch < self.max_epochs)
            if done[net]:
                t.step(1)
        return done

    # -- ticks ----------------------------------------------------------------------------------------
    def poll(self) -> Tick:
        """This tick's decision: renews the slot or the place in the queue while running (see
        :meth:`TrainingSlots.tick <sgapp.admission.TrainingSlots.tick>`)."""
        return self.slots.tick(self.id, running=self.running)

    def tick(self, seconds: float) -> Chunk:
        """Train the networks within ``seconds`` of CPU time (split equally, each epoch under the cap), charge what
        was used to the budget, record the engine's speed; pause with a note when every network reached the cap."""
        one_thread()
        trainers = self.trainers

        def job(t: Trainer) -> Callable[[], bool]:
            def epoch() -> bool:
                if t.epoch >= self.max_epochs:
                    return False
                t.step(1)
                return True
            return epoch

        wall = min(MAX_TICK_WALL, max(WALL_FRACTION * TRAINING_TICK, 1.5 * seconds))
        done = train_within([job(trainers[net]) for net in self.networks], seconds, wall,
                            cpu_clock=self._cpu_clock, wall_clock=self._wall_clock)
        self.slots.charge(self.id, done.total_cpu)
        for net, epochs, cpu in zip(self.networks, done.epochs, done.cpu, strict=True):
            self.slots.speeds.observe(self._kind + net, self._work(trainers[net].cfg), epochs, cpu)
        capped = all(t.epoch >= self.max_epochs for t in trainers.values())
        if capped:
            self.pause()
            self._s["note"] = f"Paused: {self.max_epochs:,} epochs is this server's limit per session."
        return Chunk(MappingProxyType(dict(zip(self.networks, done.epochs, strict=True))),
                     MappingProxyType(dict(zip(self.networks, done.cpu, strict=True))), capped)

    def record(self, tick: Tick) -> None:
        """Feed the live rate meter while training (keeping the last measured rates); a new run measures afresh."""
        meter: RateMeter = self._s["meter"]
        if tick.mode == TRAINING:
            meter.record([self.trainers[n].epoch for n in self.networks])
            self._s["last_rates"] = meter.rates() or self._s["last_rates"]
        else:
            meter.reset()

    def rates(self, tick: Tick) -> Rates:
        """Epochs/s to show in ``tick``'s mode: measured while training, the last measured while paused, else an
        estimate from the share this tab would get and the networks' own (or the engine's measured) speed."""
        share = self.slots.share(tick.admission.active if tick.mode == TRAINING else None)
        measured = self._s["meter"].rates() if tick.mode == TRAINING else None
        if measured is not None:
            return Rates(tuple(f"{r:.0f}" for r in measured), share)
        if tick.mode == PAUSED:
            last = self._s["last_rates"]
            return Rates(tuple(f"{r:.0f}" for r in last) if last else ("–",) * len(self.networks), share)
        own = [t.history.seconds[-1] / (t.history.epoch[-1] + 1) if len(t.history) else None
               for t in (self.trainers[net] for net in self.networks)]
        spe = [o or self.slots.speeds.seconds_per_epoch(self._kind + net, self._work(self.trainers[net].cfg))
               for o, net in zip(own, self.networks, strict=True)]
        return Rates(tuple(f"≈ {r:.0f}" if r is not None else "–" for r in estimate_rates(share, spe)), share)
