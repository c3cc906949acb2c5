"""Training state and loop of the classification page: :class:`Classifier` (weights, optimiser, epoch,
:class:`~sgcore.snn.trainer.History`), its evaluations (validation, test, cross-evaluation, confusion matrix, one
sample's activity, trial rasters), the gradient study of Fig. S1 (:meth:`Classifier.gradient_trials`),
checkpoints in a safe format (npz, no pickle) and the CLI's :func:`train_classifier`.

An epoch runs every training sample once in shuffled minibatches (forward, backward, update); the recorded
training loss and accuracy are the means over that epoch's minibatches (each measured before its update), the
validation ones are measured after it, with the network's own spike rule (the stochastic network keeps its
escape noise, as in the paper's Fig. 7). The Fano factor of each hidden layer of the stochastic network (Fig. 7C)
is measured after the epoch on :data:`FANO_SAMPLES` validation samples, :data:`FANO_TRIALS` trials each, after the
paper's moving average over :data:`FANO_WINDOW` steps (Methods 8.4.2).
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass, replace
from typing import IO, Any

import numpy as np

from ..initschemes import Conditions, apply_conditions, init_network, input_moments, network_variances, resolve_backward
from ..params import count
from ..snn.metrics import fano_factor
from ..snn.trainer import HISTORY_CAP, History
from .config import CLASSIFY_PARAMS, MINIBATCH_CELLS, ClassifyConfig
from .data import Dataset
from .engine import Workspace, forward_backward, param_names, predict
from .optim import make_optimizer

__all__ = ["CHECKPOINT_VERSION", "FANO_SAMPLES", "FANO_TRIALS", "FANO_WINDOW", "FIXED", "HISTORY_KEYS", "Classifier",
           "GradientTrials", "train_classifier"]

FANO_WINDOW = 10  #: moving-average window of the Fano factor (Methods 8.4.2: 10 steps)
FANO_TRIALS = 10  #: trials per probe sample
FANO_SAMPLES = 8  #: validation samples probed
#: Settings that fix the weights' shapes or their draw: changing one builds a new network.
FIXED = ("network", "layers", "n_layers", "n_hidden", "recurrent", "init", "conditions", "seed")
HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "fano_1", "fano_2", "fano_3",
                "active_fraction", "seconds")
CHECKPOINT_VERSION = 1
_EVAL_BATCH = 256


def _cross_entropy(activity: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample softmax cross-entropy of activities (B, C) (float64, stable)."""
    a = activity.astype(np.float64)
    mx = a.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(a - mx).sum(axis=1))
    return lse - a[np.arange(a.shape[0]), y]


@dataclass(frozen=True)
class GradientTrials:
    """Fig. S1B/C: ``trials`` single-trial gradients of the stochastic network on one minibatch, their mean, and
    the deterministic network's gradient (same weights, the step forward) on the same minibatch.

    ``cos_trials`` (trials,): cosine of each trial gradient with the mean; ``cos_deterministic``: of the
    deterministic gradient with the mean; ``pcs`` (trials, 2), ``pc_mean`` (2,), ``pc_deterministic`` (2,): the
    gradients projected on the first two principal axes of the trial gradients (uncentred coordinates: the mean
    added back); ``explained`` (2,): the axes' share of the trials' variance."""

    trials: int
    cos_trials: np.ndarray
    cos_deterministic: float
    pcs: np.ndarray
    pc_mean: np.ndarray
    pc_deterministic: np.ndarray
    explained: np.ndarray


class Classifier:
    """Trains one network (``cfg.network``) on ``data``'s training split.

    Parameters
    ----------
    cfg : ClassifyConfig
    data : Dataset
        Spike counts (n_samples, steps, units) with "train" and "val" splits (and usually "test").
    max_cells : float
        Bound on a minibatch's state (:meth:`ClassifyConfig.minibatch_cells`); a hosted page passes a tighter one.
    history_cap : int
        Records kept per history list (see :class:`~sgcore.snn.trainer.History`).

    Weights start with ``cfg.init`` (:func:`sgcore.initschemes.init_network`; the default "fluctuation" is the
    fluctuation-driven :func:`~sgcore.classify.engine.init_params` with the input rate measured on the training
    split), drawn from ``cfg.seed``. ``cfg.conditions`` then applies Herranz-Celotti & Rouat's Conditions I-IV
    (:func:`sgcore.initschemes.apply_conditions`, with Mean[z], Var[z] of the training split's inputs): CI / CII
    redraw the recurrent weights V1 (from a stream of their own, so the other weights stay those of the naive
    network), CIII / CIV replace the SD's scaling, dampening and steepness in :attr:`backward_cfg` (what the
    backward pass uses; ``cfg`` keeps the settings as given). :attr:`conditions` holds what they set (None for
    "none") and :meth:`initialisation` a JSON-able summary. A mid-run change of the SD (:meth:`set`) solves III /
    IV again for it, with the statistics of the network as built.
    """

    def __init__(self, cfg: ClassifyConfig, data: Dataset, history_cap: int = HISTORY_CAP,
                 max_cells: float = MINIBATCH_CELLS) -> None:
        if not isinstance(cfg, ClassifyConfig):
            raise TypeError("cfg must be a ClassifyConfig")
        if "train" not in data.split or data.split["train"].size == 0:
            raise ValueError("the data need a non-empty 'train' split")
        self.cfg, self.data = cfg, data
        self.train_idx = np.asarray(data.split["train"], dtype=np.int64)
        self.spec = cfg.spec(data.units, data.n_classes, data.steps, data.dt_ms)
        cfg.epoch_work(self.train_idx.size, data.units, data.steps, self.spec.hidden)
        self.max_cells = max_cells
        cfg.minibatch_cells(data.steps, self.spec.hidden, max_cells)
        self.input_rate_hz = max(float(data.x[self.train_idx].mean()) * 1000.0 / data.dt_ms, 1e-3)
        self.params = init_network(cfg.init, self.spec, np.random.default_rng([cfg.seed, 1]), self.input_rate_hz)
        self.conditions: Conditions | None = None
        if cfg.conditions != "none":
            mean_z, var_z = input_moments(data.x, self.train_idx)
            var = network_variances(cfg.init, self.spec, self.input_rate_hz)
            self.params, self.conditions = apply_conditions(
                cfg.conditions, cfg.init, self.spec, self.params, np.random.default_rng([cfg.seed, 8]),
                mean_z=mean_z, var_z=var_z, var_w_in=var["W1"], var_w_rec=var["V1"], backward=cfg)
        self._sd_key = self._sd_fields(cfg)
        self.backward_cfg = self._backward_config(cfg)
        self.initial_params = {k: v.copy() for k, v in self.params.items()}  # Fig. S1's "before learning"
        self.rng = np.random.default_rng([cfg.seed, 2])
        self.optimizer = make_optimizer(cfg.optimizer, cfg.lr)
        self.history = History(cap=count("history_cap", history_cap, 1), keys=HISTORY_KEYS)
        self.epoch = 0
        self._elapsed = 0.0
        self._ws = Workspace()
        self._x = {}  # split -> float32 copy of its inputs (made once)

    # -- settings --------------------------------------------------------------------------------
    def set(self, **changes: Any) -> None:
        """Change settings mid-run (weights kept): learning rate, optimizer (its state starts afresh), minibatch,
        SD and backward method, escape noise, loss, regulariser, reset handling, time constants. Sizes and the
        seed are fixed (start a new Classifier)."""
        bad = sorted(set(changes) & set(FIXED))
        if bad:
            raise ValueError(f"cannot change {', '.join(bad)} during a run (start a new Classifier)")
        unknown = sorted(set(changes) - {s.name for s in CLASSIFY_PARAMS})
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}")
        new = replace(self.cfg, **changes)
        new.minibatch_cells(self.data.steps, self.spec.hidden, self.max_cells)
        conditions = self.conditions
        if conditions is not None and self._sd_fields(new) != self._sd_key:
            conditions = resolve_backward(conditions, new)  # III / IV for the new SD (ValueError: nothing changes)
        backward_cfg = self._backward_config(new, conditions)
        if new.optimizer != self.cfg.optimizer:
            self.optimizer = make_optimizer(new.optimizer, new.lr)
        self.optimizer.lr = new.lr
        self.spec = new.spec(self.data.units, self.data.n_classes, self.data.steps, self.data.dt_ms)
        self.cfg, self.conditions, self.backward_cfg, self._sd_key = new, conditions, backward_cfg, self._sd_fields(new)

    @staticmethod
    def _sd_fields(cfg: ClassifyConfig) -> tuple[Any, ...]:
        return tuple(getattr(cfg, k) for k in ("backward", "shape", "q", "scale", "gamma", "beta_sg"))

    def _backward_config(self, cfg: ClassifyConfig, conditions: Conditions | None = None) -> ClassifyConfig:
        """``cfg`` with the SD settings Conditions III / IV replace (``cfg`` itself without them)."""
        cond = self.conditions if conditions is None else conditions
        overrides = cond.backward_overrides() if cond is not None else {}
        if not overrides:
            return cfg
        try:
            return replace(cfg, **overrides)
        except ValueError as err:
            raise ValueError(f"conditions {cond.name} ask for an SD outside the settings' range: {err}") from None

    def initialisation(self) -> dict[str, Any]:
        """JSON-able: the scheme and conditions, what the conditions set (:meth:`Conditions.summary`) and the
        mean and variance of the recurrent weights V1 as drawn (for a sweep's record)."""
        out: dict[str, Any] = {"init": self.cfg.init, "conditions": self.cfg.conditions}
        if self.conditions is not None:
            out.update(self.conditions.summary())
            v = self.initial_params["V1"].astype(np.float64)
            out.update(v1_mean=float(v.mean()), v1_var=float(v.var()))
        return out

    # -- training --------------------------------------------------------------------------------
    def _has(self, split: str) -> bool:
        return split in self.data.split and self.data.split[split].size > 0

    def _inputs(self, split: str) -> np.ndarray:
        if split not in self._x:
            if split not in self.data.split:
                raise ValueError(f"split must be one of {', '.join(self.data.split)}; got {split!r}")
            self._x[split] = self.data.x[self.data.split[split]].astype(np.float32)
        return self._x[split]

    def step(self, n_epochs: int = 1) -> None:
        """Run ``n_epochs`` epochs."""
        for _ in range(count("n_epochs", n_epochs, 0)):
            with np.errstate(all="ignore"):  # a diverging run shows up as NaN in the history, not as warnings
                self._epoch()

    def _epoch(self) -> None:
        t0 = time.perf_counter()
        cfg, data = self.cfg, self.data
        x_train = self._inputs("train")
        y_train = data.y[self.train_idx]
        order = self.rng.permutation(self.train_idx.size)
        loss_sum = correct = active = 0.0
        for start in range(0, order.size, cfg.batch):
            pick = order[start:start + cfg.batch]
            loss, grads, st = forward_backward(self.params, x_train[pick], y_train[pick], self.spec, self.backward_cfg,
                                               self.rng, workspace=self._ws)
            self.optimizer.step(self.params, grads)
            loss_sum += loss * pick.size
            correct += st["accuracy"] * pick.size
            active += st["active_fraction"] * pick.size
        n = order.size
        val = self.evaluate("val") if self._has("val") else {"loss": math.nan, "accuracy": math.nan}
        fano = self.fano() if cfg.stochastic else [math.nan] * len(self.spec.hidden)
        fano += [math.nan] * (3 - len(fano))
        self._elapsed += time.perf_counter() - t0
        if self.history.wants(self.epoch):
            self.history.append(epoch=self.epoch, train_loss=loss_sum / n, train_accuracy=correct / n,
                                val_loss=val["loss"], val_accuracy=val["accuracy"], fano_1=fano[0], fano_2=fano[1],
                                fano_3=fano[2], active_fraction=active / n, seconds=self._elapsed)
        self.epoch += 1

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, split: str = "val", stochastic: bool | None = None) -> dict[str, Any]:
        """Mean cross-entropy (without the regulariser), accuracy, predictions and the confusion matrix
        (rows: true class, columns: predicted) on ``split``. ``stochastic`` overrides the network's own spike
        rule (the cross-evaluation: the stochastic network without noise, the deterministic one with escape noise
        of steepness ``beta_noise``)."""
        x = self._inputs(split)
        y = self.data.y[self.data.split[split]]
        preds, ce = np.empty(y.size, dtype=np.int64), np.empty(y.size)
        rng = np.random.default_rng([self.cfg.seed, 3, self.epoch])  # the same noise for the same weights
        for start in range(0, y.size, _EVAL_BATCH):
            sl = slice(start, start + _EVAL_BATCH)
            st = predict(self.params, x[sl], self.spec, stochastic=stochastic, rng=rng, workspace=self._ws)
            preds[sl] = st["predictions"]
            ce[sl] = _cross_entropy(st["activity"], y[sl])
        confusion = np.zeros((self.data.n_classes,) * 2, dtype=np.int64)
        np.add.at(confusion, (y, preds), 1)
        return {"loss": float(ce.mean()) if y.size else math.nan,
                "accuracy": float(np.mean(preds == y)) if y.size else math.nan,
                "predictions": preds, "confusion": confusion}

    def cross_evaluate(self, split: str = "val") -> float:
        """Accuracy with the other network's spike rule (Fig. 7D, S2A 'other')."""
        return self.evaluate(split, stochastic=not self.cfg.stochastic)["accuracy"]

    def fano(self, trials: int = FANO_TRIALS, samples: int = FANO_SAMPLES, window: int = FANO_WINDOW) -> list[float]:
        """Mean Fano factor of each hidden layer over ``trials`` stochastic trials of the first ``samples``
        validation samples (training samples if there is no validation split), after a ``window``-step moving
        average (Methods 8.4.2)."""
        x = self._inputs("val" if self._has("val") else "train")[:samples]
        k = x.shape[0]
        rng = np.random.default_rng([self.cfg.seed, 4, self.epoch])
        st = predict(self.params, np.repeat(x, trials, axis=0), self.spec, stochastic=True, rng=rng,
                     workspace=self._ws)
        out = []
        for S in st["spikes"]:  # (T, k * trials, N), trials of a sample adjacent
            T, _, N = S.shape
            per = S.reshape(T, k, trials, N).transpose(2, 0, 1, 3).reshape(trials, T, k * N)
            out.append(fano_factor(per, window=min(window, T)))
        return out

    def activity(self, split: str, index: int, stochastic: bool | None = None) -> dict[str, Any]:
        """One sample's input raster (units, steps), hidden rasters (neurons, steps) per layer, readout membrane
        potentials (classes, steps), label and prediction (Fig. 7A, S1A)."""
        rows = self.data.split[split]
        i = count("index", index, 0, rows.size - 1)
        x = self._inputs(split)[i:i + 1]
        rng = np.random.default_rng([self.cfg.seed, 5, self.epoch, i])
        st = predict(self.params, x, self.spec, stochastic=stochastic, rng=rng, workspace=Workspace())
        return {"input": x[0].T.astype(np.uint8), "hidden": [S[:, 0, :].T.astype(np.uint8) for S in st["spikes"]],
                "readout": st["U_out"][:, 0, :].T.astype(np.float64), "label": int(self.data.y[rows[i]]),
                "prediction": int(st["predictions"][0])}

    def trial_raster(self, split: str, index: int, layer: int, units: tuple[int, ...], trials: int = 20
                     ) -> np.ndarray:
        """(len(units), trials, steps) uint8: the spikes of hidden ``units`` of ``layer`` (1-based) over
        ``trials`` stochastic trials of one sample (Fig. 7E)."""
        layer = count("layer", layer, 1, len(self.spec.hidden))
        n = self.spec.hidden[layer - 1]
        units = tuple(count("unit", u, 0, n - 1) for u in units)
        rows = self.data.split[split]
        i = count("index", index, 0, rows.size - 1)
        x = np.repeat(self._inputs(split)[i:i + 1], count("trials", trials, 1, 1000), axis=0)
        rng = np.random.default_rng([self.cfg.seed, 6, self.epoch, i])
        S = predict(self.params, x, self.spec, stochastic=True, rng=rng, workspace=Workspace())["spikes"][layer - 1]
        return np.stack([S[:, :, u].T.astype(np.uint8) for u in units])

    def gradient_trials(self, trials: int = 100, batch: int | None = None, initial: bool = False) -> GradientTrials:
        """Fig. S1B/C on the first ``batch`` (default: the minibatch size) training samples at the current weights
        (``initial``: at the weights the network started from, "before learning")."""
        trials = count("trials", trials, 2, 1000)
        b = self.cfg.batch if batch is None else count("batch", batch, 1)
        pick = np.arange(min(b, self.train_idx.size))
        x, y = self._inputs("train")[pick], self.data.y[self.train_idx[pick]]
        names = param_names(self.spec)
        weights = self.initial_params if initial else self.params

        def flat(stochastic: bool, rng: np.random.Generator) -> np.ndarray:
            spec = replace(self.spec, stochastic=stochastic)
            _, g, _ = forward_backward(weights, x, y, spec, self.backward_cfg, rng, workspace=self._ws)
            return np.concatenate([g[k].ravel().astype(np.float64) for k in names])

        rng = np.random.default_rng([self.cfg.seed, 7, 0 if initial else self.epoch])  # "before" is reproducible
        G = np.stack([flat(True, rng) for _ in range(trials)])
        det = flat(False, rng)
        mean = G.mean(axis=0)

        def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return (a @ b) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b), 1e-300)

        _, s, vt = np.linalg.svd(G - mean, full_matrices=False)
        axes = vt[:2]
        var = s**2
        return GradientTrials(trials=trials, cos_trials=cos(G, mean), cos_deterministic=float(cos(det, mean)),
                              pcs=G @ axes.T, pc_mean=mean @ axes.T, pc_deterministic=det @ axes.T,
                              explained=var[:2] / max(var.sum(), 1e-300))

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, file: str | IO[bytes]) -> None:
        """Weights, settings, epoch, the optimizer's state and the data's checksum as an npz archive (no pickle)."""
        meta = {"version": CHECKPOINT_VERSION, "config": self.cfg.as_dict(), "epoch": self.epoch,
                "data_checksum": self.data.checksum(), "optimizer": self.cfg.optimizer}
        arrays = {f"param/{k}": v for k, v in self.params.items()}
        opt = self.optimizer.state_dict()
        for k, v in _flatten(opt).items():
            arrays[f"opt/{k}"] = np.asarray(v)
        np.savez(file, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)

    @classmethod
    def load(cls, file: str | IO[bytes] | bytes, data: Dataset) -> Classifier:
        """A Classifier from :meth:`save`'s archive, for ``data`` (the same data it was trained on: the checksum
        must match). ``ValueError`` with a one-line reason for anything that is not such a checkpoint."""
        if isinstance(file, bytes):
            file = io.BytesIO(file)
        try:
            with np.load(file, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as err:  # noqa: BLE001 - any unreadable file is the same answer to the user
            raise ValueError(f"not a checkpoint (an npz archive of this app): {type(err).__name__}") from None
        try:
            meta = json.loads(arrays.pop("meta").tobytes().decode())
            version, config, epoch = meta["version"], meta["config"], int(meta["epoch"])
        except (KeyError, ValueError, TypeError, UnicodeDecodeError):
            raise ValueError("not a checkpoint of this app: its metadata is missing or unreadable") from None
        if version != CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint version {version!r} is not supported (this app reads {CHECKPOINT_VERSION})")
        if meta.get("data_checksum") != data.checksum():
            raise ValueError("the checkpoint was trained on other data (its data checksum differs): choose the same "
                             "dataset settings first")
        cfg = ClassifyConfig.from_mapping({k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})
        clf = cls(cfg, data)
        for k, ref in clf.params.items():
            got = arrays.get(f"param/{k}")
            if got is None or got.shape != ref.shape or not np.all(np.isfinite(got)):
                raise ValueError(f"checkpoint weight {k} is missing, has the wrong shape or is not finite")
            clf.params[k] = got.astype(ref.dtype)
        opt = _unflatten({k[4:]: v for k, v in arrays.items() if k.startswith("opt/")})
        if opt:
            try:
                clf.optimizer.load_state_dict(opt)
            except (KeyError, ValueError, TypeError):
                raise ValueError("checkpoint optimizer state is unreadable") from None
        clf.epoch = max(epoch, 0)
        return clf

    def estimate_seconds(self) -> float:
        """Mean wall seconds per epoch so far (NaN before the first)."""
        return self._elapsed / self.epoch if self.epoch else math.nan


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "/"))
        else:
            out[key] = v
    return out


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in flat.items():
        node = out
        *path, last = key.split("/")
        for p in path:
            node = node.setdefault(p, {})
        node[last] = v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v
    return out


def train_classifier(cfg: ClassifyConfig, data: Dataset, epochs: int = 20, gradient_trials: int = 0
                     ) -> dict[str, Any]:
    """Train for ``epochs`` epochs (the CLI): per-epoch ``train_accuracy``, ``val_accuracy``, ``loss`` (training),
    ``val_loss``, ``fano`` (per hidden layer; stochastic network), ``active_fraction``; then ``test_accuracy``,
    ``cross_eval_accuracy`` (on the test split, or validation if there is none), ``epochs_per_second`` and,
    with ``gradient_trials`` K > 1, the Fig. S1 cosines before and after training."""
    epochs = count("epochs", epochs, 1)
    clf = Classifier(cfg, data, history_cap=epochs + 1)
    clf.step(epochs)
    h = clf.history
    final = "test" if "test" in data.split and data.split["test"].size else "val"
    out: dict[str, Any] = {
        "train_accuracy": list(h.train_accuracy), "val_accuracy": list(h.val_accuracy), "loss": list(h.train_loss),
        "val_loss": list(h.val_loss), "active_fraction": list(h.active_fraction),
        "fano": {f"hidden_{i + 1}": list(h[f"fano_{i + 1}"]) for i in range(cfg.n_layers)} if cfg.stochastic else {},
        "test_split": final, "test_accuracy": clf.evaluate(final)["accuracy"],
        "cross_eval_accuracy": clf.cross_evaluate(final),
        "epochs_per_second": epochs / h.seconds[-1] if h.seconds[-1] > 0 else math.inf,
        "initialisation": clf.initialisation(),
    }
    if gradient_trials:
        before, after = clf.gradient_trials(gradient_trials, initial=True), clf.gradient_trials(gradient_trials)
        out["gradient_trials"] = {
            when: {"cos_trials_mean": float(g.cos_trials.mean()), "cos_trials_min": float(g.cos_trials.min()),
                   "cos_deterministic": g.cos_deterministic}
            for when, g in (("before", before), ("after", after))}
    return out
