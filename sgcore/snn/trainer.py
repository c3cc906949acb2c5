"""Training state and loop: :class:`Trainer` (weights, optimiser, epoch, :class:`History`, the latest pass) and
the CLI's :func:`train`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..initschemes import sample_weights
from ..params import count
from .backward import BACKWARDS
from .config import TRAIN_PARAMS, TrainConfig
from .engine import _Engine
from .inputs import default_target, fluctuation_sigma, poisson_input

__all__ = ["HISTORY_CAP", "History", "LastPass", "Trainer", "train"]


#: History entries kept per list before the history is decimated (see :class:`History`).
HISTORY_CAP = 2000

_HISTORY_KEYS = ("epoch", "l2", "van_rossum", "fano_hidden", "fano_output", "active_fraction", "seconds")


class History:
    """Per-epoch records (parallel lists named ``keys``), measured on the forward pass *before* that epoch's update.

    ``epoch[k]`` is the epoch number (0-based) of record k, ``seconds[k]`` the cumulative training wall time
    after it, ``fano_*`` NaN for the deterministic network. At most ``cap`` records are kept: when full, every
    other record is dropped (the newest is always kept) and from then on only every ``stride``-th epoch is
    recorded, so the lists always span the whole run at a resolution of ``stride`` epochs. Each list is also an
    attribute (``history.l2``). ``keys`` must include ``epoch`` and ``seconds``; the default is the spike-train
    trainer's, the classifier records its own.
    """

    def __init__(self, cap: int = HISTORY_CAP, keys: tuple[str, ...] = _HISTORY_KEYS) -> None:
        if "epoch" not in keys or "seconds" not in keys:
            raise ValueError(f"history keys must include 'epoch' and 'seconds'; got {keys}")
        self.cap, self.stride, self.keys = int(cap), 1, tuple(keys)
        self._lists: dict[str, list] = {k: [] for k in self.keys}

    def __getattr__(self, name: str) -> list:
        lists = self.__dict__.get("_lists")
        if lists is not None and name in lists:
            return lists[name]
        raise AttributeError(name)

    def __getitem__(self, key: str) -> list:
        return self._lists[key]

    def __len__(self) -> int:
        return len(self._lists["epoch"])

    def wants(self, epoch: int) -> bool:
        ep = self._lists["epoch"]
        return not ep or epoch - ep[-1] >= self.stride

    def append(self, **row: Any) -> None:
        for key in self.keys:
            self._lists[key].append(row[key])
        if len(self) > self.cap:
            start = (len(self) - 1) % 2  # keep the newest
            for lst in self._lists.values():
                lst[:] = lst[start::2]
            self.stride *= 2

    def as_dict(self) -> dict[str, list]:
        return {key: list(lst) for key, lst in self._lists.items()}


@dataclass(frozen=True)
class LastPass:
    """The latest forward pass: rasters (neurons, steps) of 0/1 (uint8; trial 0 of a stochastic network)."""

    epoch: int
    output: np.ndarray
    hidden: np.ndarray
    l2: float
    van_rossum: float


_FIXED = ("network", "n_in", "n_hidden", "n_out", "n_steps", "input_rate", "init", "seed")


class Trainer:
    """Trains one network on one target; see the module docstring for the model.

    Parameters
    ----------
    cfg : TrainConfig
    target : np.ndarray
        (n_out, n_steps) raster of 0/1.
    input : np.ndarray, optional
        (n_steps, n_in) frozen input of 0/1 (as returned by :func:`poisson_input`); default:
        ``poisson_input(n_in, n_steps, input_rate, dt, seed)``.
    history_cap : int
        Records kept per history list (see :class:`History`).

    Weights start at W ~ N(0, sigma_w^2) with :func:`fluctuation_sigma` (sigma_U = 1, nu = input_rate for both
    layers), or with another ``cfg.init`` scheme (:func:`sgcore.initschemes.sample_weights`, W1 then W2 from the
    same seeded stream). An epoch is forward + backward + update on float32 buffers.
    """

    def __init__(self, cfg: TrainConfig, target: np.ndarray, input: np.ndarray | None = None,
                 history_cap: int = HISTORY_CAP) -> None:
        if not isinstance(cfg, TrainConfig):
            raise TypeError("cfg must be a TrainConfig")
        self.cfg = cfg
        tgt = np.asarray(target)
        if tgt.shape != (cfg.n_out, cfg.n_steps):
            raise ValueError(f"target must have shape (n_out, n_steps) = {(cfg.n_out, cfg.n_steps)}; got {tgt.shape}")
        if not np.all((tgt == 0) | (tgt == 1)):
            raise ValueError("target must contain only 0 and 1")
        self.target = tgt.astype(np.float32)
        if input is None:
            x = poisson_input(cfg.n_in, cfg.n_steps, cfg.input_rate, cfg.dt, cfg.seed)
        else:
            x = np.asarray(input)
            if x.shape != (cfg.n_steps, cfg.n_in):
                raise ValueError(f"input must have shape (n_steps, n_in) = {(cfg.n_steps, cfg.n_in)}; got {x.shape}")
            if not np.all((x == 0) | (x == 1)):
                raise ValueError("input must contain only 0 and 1")
        self.input = x.astype(np.float32)
        wrng = np.random.default_rng([cfg.seed, 1])
        nu = cfg.input_rate
        if cfg.init == "fluctuation":
            self.w1 = (wrng.standard_normal((cfg.n_hidden, cfg.n_in)) * fluctuation_sigma(cfg.n_in, cfg.lif, nu)
                       ).astype(np.float32)
            self.w2 = (wrng.standard_normal((cfg.n_out, cfg.n_hidden)) * fluctuation_sigma(cfg.n_hidden, cfg.lif, nu)
                       ).astype(np.float32)
        else:
            self.w1 = sample_weights(cfg.init, (cfg.n_hidden, cfg.n_in), wrng).astype(np.float32)
            self.w2 = sample_weights(cfg.init, (cfg.n_out, cfg.n_hidden), wrng).astype(np.float32)
        self.rng = np.random.default_rng([cfg.seed, 2])
        self.epoch = 0
        self.history = History(cap=count("history_cap", history_cap, 1))
        self._elapsed = 0.0
        self._adam: dict[str, Any] | None = None
        self._engine = _Engine(cfg, self.input, self.target, np.float32)
        self._last: tuple[int, float, float] | None = None

    # -- control ----------------------------------------------------------------------------
    def set(self, **changes: Any) -> None:
        """Change settings mid-run (weights kept): SD shape/steepness/scaling, learning rates, escape noise,
        backward method and its parameters, optimizer (its state is reset when it changes), reset handling,
        trials, time constants, Fano window. Validated like the config; sizes, input and seed are fixed."""
        bad = sorted(set(changes) & set(_FIXED))
        if bad:
            raise ValueError(f"cannot change {', '.join(bad)} during a run (start a new Trainer)")
        unknown = sorted(set(changes) - {s.name for s in TRAIN_PARAMS})
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}")
        new = replace(self.cfg, **changes)
        if new.optimizer != self.cfg.optimizer:
            self._adam = None
        rebuild = ("trials", "dt", "tau_mem", "tau_syn")
        if any(getattr(new, k) != getattr(self.cfg, k) for k in rebuild):
            self._engine = _Engine(new, self.input, self.target, np.float32)
            self._last = None
        else:
            self._engine.configure(new)
        self.cfg = new

    def step(self, n_epochs: int = 1) -> None:
        """Run ``n_epochs`` epochs (forward, backward, update)."""
        n_epochs = count("n_epochs", n_epochs, 0)
        eng = self._engine
        for _ in range(n_epochs):
            with np.errstate(all="ignore"):  # a diverging run shows up as NaN/inf in the history, not as warnings
                self._epoch(eng)

    def _epoch(self, eng: _Engine) -> None:
        t0 = time.perf_counter()
        eng.forward(self.w1, self.w2, None, self.rng)
        l2, vr = eng.loss_grad()
        fh, fo = eng.fano() if self.cfg.network == "stochastic" else (math.nan, math.nan)
        eng.backward(self.w2, None, self.rng)
        self._update(eng.g1, eng.g2)
        self._elapsed += time.perf_counter() - t0
        self._last = (self.epoch, l2, vr)
        if self.history.wants(self.epoch):
            self.history.append(epoch=self.epoch, l2=l2, van_rossum=vr, fano_hidden=fh, fano_output=fo,
                                active_fraction=eng.active, seconds=self._elapsed)
        self.epoch += 1

    def _update(self, g1: np.ndarray, g2: np.ndarray) -> None:
        cfg = self.cfg
        lr2, lr1 = cfg.lr, cfg.lr * cfg.hidden_lr_factor
        if cfg.optimizer == "gd":
            self.w1 -= np.float32(lr1) * g1
            self.w2 -= np.float32(lr2) * g2
            return
        if self._adam is None:
            self._adam = {"t": 0, "m": [np.zeros_like(self.w1), np.zeros_like(self.w2)],
                          "v": [np.zeros_like(self.w1), np.zeros_like(self.w2)]}
        st = self._adam
        st["t"] += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        c1, c2 = 1.0 - b1 ** st["t"], 1.0 - b2 ** st["t"]
        for w, g, m, v, lr in ((self.w1, g1, st["m"][0], st["v"][0], lr1), (self.w2, g2, st["m"][1], st["v"][1], lr2)):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            w -= np.float32(lr / c1) * m / (np.sqrt(v / c2) + eps)

    # -- inspection ---------------------------------------------------------------------------
    @property
    def last(self) -> LastPass | None:
        """The latest forward pass (None before the first epoch)."""
        if self._last is None:
            return None
        ep, l2, vr = self._last
        eng = self._engine
        return LastPass(ep, eng.out.S[:, 0, :].T.astype(np.uint8), eng.hid.S[:, 0, :].T.astype(np.uint8), l2, vr)

    def trial_raster(self, layer: str, neuron: int) -> np.ndarray:
        """(trials, n_steps) uint8 raster of one neuron over the trials of the latest pass (1 trial if
        deterministic). ``layer``: "hidden" or "output"."""
        if self._last is None:
            raise ValueError("no forward pass yet: call step() first")
        lay = {"hidden": self._engine.hid, "output": self._engine.out}.get(layer)
        if lay is None:
            raise ValueError(f"layer must be 'hidden' or 'output'; got {layer!r}")
        return lay.S[:, :, count("neuron", neuron, 0, lay.N - 1)].T.astype(np.uint8)

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(W1 (n_hidden, n_in), W2 (n_out, n_hidden)), copies."""
        return self.w1.copy(), self.w2.copy()

    def state_bytes(self) -> int:
        """Approximate memory held: simulation buffers, weights, optimizer state, input/target, history."""
        total = sum(a.nbytes for a in self._engine.arrays())
        total += self.w1.nbytes + self.w2.nbytes + self.input.nbytes + self.target.nbytes
        if self._adam is not None:
            total += 2 * (self.w1.nbytes + self.w2.nbytes)
        return int(total + 8 * len(self.history.keys) * (self.history.cap + 1))

    @staticmethod
    def estimate_bytes(cfg: TrainConfig, history_cap: int = HISTORY_CAP) -> int:
        """Upper estimate of :meth:`state_bytes` plus the largest temporaries of an epoch, before building
        (for a server's memory cap). float32 buffers: 7 (T, B, N) arrays and one boolean per layer, 4 more
        (T, B, N) arrays, the input, target, weights and gradients (and Adam's moments)."""
        T, B, nin, nh, no = cfg.n_steps, cfg.batch, cfg.n_in, cfg.n_hidden, cfg.n_out
        total = (T * B * (nh + no) * (7 * 4 + 1) + 2 * B * (nh + no) * 4  # layers
                 + 4 * (2 * T * nin + T * no + T * nh + 3 * T * B * nh + T * B * no + 2 * B * nh + 2 * B * no)
                 + 4 * ((T - 1) * nh + 6 * (nh * nin + no * nh)))  # gradients, weights, Adam
        temporaries = T * B * max(nh, no) * BACKWARDS[cfg.backward].temporaries  # z samples and masks
        return int(total + temporaries + 8 * len(_HISTORY_KEYS) * (history_cap + 1))


def train(cfg: TrainConfig, target: np.ndarray | None = None, epochs: int = 50) -> dict[str, Any]:
    """Train for ``epochs`` epochs (CLI). ``target=None``: :func:`default_target` (25% density).

    Returns per-epoch lists ``l2``, ``van_rossum``, ``active_fraction`` (and ``fano_hidden``, ``fano_output``
    for the stochastic network), and ``epochs_per_second`` (training time only).
    """
    epochs = count("epochs", epochs, 1)
    if target is None:
        target = default_target(cfg.n_out, cfg.n_steps)
    tr = Trainer(cfg, target, history_cap=epochs + 1)
    tr.step(epochs)
    h = tr.history
    out: dict[str, Any] = {"l2": list(h.l2), "van_rossum": list(h.van_rossum),
                           "active_fraction": list(h.active_fraction)}
    if cfg.network == "stochastic":
        out["fano_hidden"] = list(h.fano_hidden)
        out["fano_output"] = list(h.fano_output)
    out["epochs_per_second"] = epochs / h.seconds[-1] if h.seconds[-1] > 0 else math.inf
    return out
