"""Spike-raster classification datasets: Randman (Zenke & Vogels 2021) and the Spiking Heidelberg Digits
(Cramer et al. 2020), as used in Gygax & Zenke 2024 (Fig. 7 / S1).

Both give a :class:`Dataset`: spike counts ``x`` of shape ``(n_samples, steps, units)`` (``uint8``), labels
``y`` and a seeded split into named index arrays.

Randman construction (:func:`randman`; a reader can reimplement it from this text)
-------------------------------------------------------------------------------------
Notation: C = ``classes``, N = ``units``, T = ``steps``, D = ``dim``, K = ``components``, S = ``spikes``,
M = ``samples_per_class``, alpha = ``alpha``. One generator ``rng = numpy.random.default_rng(seed)`` (PCG64)
makes every random number, in this order:

1. ``amp = rng.random((C, S, N, D, K))`` and then ``phase = rng.random((C, S, N, D, K))`` (uniform [0, 1)).
2. ``coords = rng.random((C, M, D))``: sample m of class c sits at manifold coordinate u = coords[c, m] in
   [0, 1)^D.
3. For each class c = 0 .. C-1 in order, ``perm = rng.permutation(M)``: that class's samples perm[:n_test] go to
   "test", perm[n_test:n_test + n_val] to "val" and the rest to "train", with n_test = floor(M test_fraction +
   1/2) and n_val = floor(M val_fraction + 1/2) (the split is stratified: each class is split alike).

Class c's manifold is the map u -> z(u) in [0, 1]^(S N) with, for spike j and unit i,

    f_{c,j,i}(u) = sum_{d=1..D} sum_{k=1..K} A_{c,j,i,d,k} sin(2 pi (k u_d + phase[c, j, i, d, k-1])),
    A_{c,j,i,d,k} = amp[c, j, i, d, k-1] k^(-alpha),
    B_{c,j,i}    = sum_{d,k} A_{c,j,i,d,k}                      (so |f| <= B),
    z_{c,j,i}(u) = (f_{c,j,i}(u) + B_{c,j,i}) / (2 B_{c,j,i})   in [0, 1].

Component k of every coordinate function has integer frequency k and amplitude falling off as k^-alpha (times a
uniform random factor): the map is smooth, periodic in each u_d, and |dz/du_d| <= pi sum_k k A_k / B. The
normalisation uses the bound B, not the sampled range, so the map does not depend on the samples drawn.

Sample m of class c (row c M + m of ``x``, label c; rows are class-major) has spike j of unit i at time step
t = min(floor(T z_{c,j,i}(u)), T - 1); ``x[row, t, i]`` counts the spikes of unit i in step t, so every unit
fires exactly S spikes per sample (two may share a step, giving a count of 2). The sums run in the order
written (d outer, k inner, one elementwise NumPy addition per term; no BLAS, no reductions whose order could
vary), so the same seed gives the same data on every machine: the only platform dependence left is the last
bit of ``numpy.sin``, which could move a spike only if T z landed within ~1e-15 of an integer.

SHD binning (:func:`load_shd`)
------------------------------
A spike at time t (seconds, as the file stores it) of unit u falls in step b with edge_b <= t < edge_{b+1},
edge_b = b dt_ms / 1000 rounded to the file's time precision (float64 edges, rounded to float32 / float16 when the
file stores times so), so a spike stored as "2 ms" in any precision lands in bin 1: with the defaults bin 0 is
[0, 2) ms, bin 1 [2, 4) ms, ..., bin 349 [698, 700) ms. Spikes at t >= max_ms (700 ms, Methods 8.4.2, rounded
alike) or t < 0 are dropped; counts are clipped at 255.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import DeclaredConfig, ParamSpec, count, declared, interval, positive, work

__all__ = ["RANDMAN_DT_MS", "RANDMAN_PARAMS", "SHD_UNITS", "Dataset", "RandmanConfig", "RandmanManifolds", "load_shd",
           "load_shd_pair",
           "randman", "randman_manifold"]

#: Duration of one Randman time step (ms); the data are dimensionless, this only labels the time axis.
RANDMAN_DT_MS = 1.0
#: Input units of the Spiking Heidelberg Digits (the cochlea model's channels).
SHD_UNITS = 700
#: Bound on classes x samples_per_class x steps x units (bytes of ``x``).
RANDMAN_CELLS = 5e7
#: Bound on the sine evaluations of the construction, classes x samples_per_class x spikes x units x dim x
#: components.
RANDMAN_SINES = 5e7

#: Randman's declared parameters, the fields of :class:`RandmanConfig` (Zenke & Vogels 2021).
RANDMAN_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("classes", "Classes", 10, kind="int", symbol="C", domain=(2, 100), slider=(2, 20), step=1,
              help="Number of classes; each is its own random manifold."),
    ParamSpec("units", "Input units", 40, kind="int", symbol="N", domain=(1, 1000), slider=(5, 200), step=5,
              help="Input units: the manifold's embedding dimension (per spike)."),
    ParamSpec("steps", "Time steps", 50, kind="int", symbol="T", domain=(2, 1000), slider=(10, 500), step=10,
              help="Time steps of a sample; a unit's coordinate in [0, 1] becomes its spike step."),
    ParamSpec("dim", "Manifold dimension", 1, kind="int", symbol="D", domain=(1, 5), slider=(1, 5), step=1,
              help="Intrinsic dimension of each class's manifold (harder with larger D)."),
    ParamSpec("alpha", "Smoothness", 2.0, symbol=r"\alpha", domain=(0.0, 10.0), open_low=True, slider=(0.5, 5.0),
              step=0.1, help="Fourier amplitudes fall off as 1/k^alpha: larger is smoother (paper: 2)."),
    ParamSpec("components", "Fourier components", 8, kind="int", symbol="K", domain=(1, 64), slider=(1, 32),
              step=1, help="Fourier components k = 1..K per manifold coordinate."),
    ParamSpec("samples_per_class", "Samples per class", 100, kind="int", symbol="M", domain=(1, 10_000),
              slider=(10, 2000), step=10, help="Random points drawn on each class's manifold."),
    ParamSpec("spikes", "Spikes per unit", 1, kind="int", symbol="S", domain=(1, 5), slider=(1, 5), step=1,
              help="Spikes each unit fires per sample (each from its own coordinate of the manifold)."),
    ParamSpec("val_fraction", "Validation fraction", 0.1, domain=(0.0, 0.5), open_high=True, slider=(0.0, 0.4),
              step=0.05, help="Share of each class held out for validation."),
    ParamSpec("test_fraction", "Test fraction", 0.2, domain=(0.0, 0.5), open_high=True, slider=(0.0, 0.4),
              step=0.05, help="Share of each class held out for testing."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seeds the manifolds, the samples and the split: same seed, same data on every machine."),
)


@declared
class RandmanConfig(DeclaredConfig):
    """A validated Randman configuration (fields: :data:`RANDMAN_PARAMS`, in order)."""

    PARAMS = RANDMAN_PARAMS

    def __post_init__(self) -> None:
        super().__post_init__()
        work({"classes": self.classes, "samples_per_class": self.samples_per_class, "steps": self.steps,
              "units": self.units}, RANDMAN_CELLS, "lower samples_per_class, steps or units")
        work({"classes": self.classes, "samples_per_class": self.samples_per_class, "spikes": self.spikes,
              "units": self.units, "dim": self.dim, "components": self.components}, RANDMAN_SINES,
             "lower samples_per_class, units or components")
        n_test, n_val = self.split_sizes
        if n_test + n_val >= self.samples_per_class:
            raise ValueError(f"samples_per_class must leave training samples after the validation and test shares; "
                             f"got samples_per_class = {self.samples_per_class} with {n_val} validation and "
                             f"{n_test} test samples per class")

    @property
    def split_sizes(self) -> tuple[int, int]:
        """(test, validation) samples per class: floor(M fraction + 1/2)."""
        m = self.samples_per_class
        return math.floor(m * self.test_fraction + 0.5), math.floor(m * self.val_fraction + 0.5)


# --- the dataset ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Dataset:
    """Spike counts ``x`` (``uint8``, shape ``(n_samples, steps, units)``), labels ``y`` (``int64``, in
    ``[0, n_classes)``) and ``split``: split name -> sorted ``int64`` row indices (disjoint, together all rows).
    ``dt_ms`` is the duration of one step.
    """

    x: np.ndarray
    y: np.ndarray
    split: Mapping[str, np.ndarray]
    n_classes: int
    steps: int
    units: int
    dt_ms: float
    name: str = ""

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    def class_counts(self, split: str) -> np.ndarray:
        """Samples of each class in ``split`` (length ``n_classes``, int64)."""
        if split not in self.split:
            raise ValueError(f"split must be one of {', '.join(self.split)}; got {split!r}")
        return np.bincount(self.y[self.split[split]], minlength=self.n_classes).astype(np.int64)

    def checksum(self) -> str:
        """SHA-256 (hex) of the shapes, ``x`` (uint8), ``y`` and each split (little-endian int64, splits in name
        order): byte-for-byte the same on every platform for the same data."""
        h = hashlib.sha256()
        h.update(f"{self.x.shape}|{self.n_classes}|{self.dt_ms!r}".encode())
        h.update(np.ascontiguousarray(self.x, dtype=np.uint8).tobytes())
        h.update(np.ascontiguousarray(self.y, dtype="<i8").tobytes())
        for name in sorted(self.split):
            h.update(name.encode() + b"\0")
            h.update(np.ascontiguousarray(self.split[name], dtype="<i8").tobytes())
        return h.hexdigest()

    def summary(self) -> dict[str, Any]:
        """JSON-able summary: shape, class counts per split, spikes per sample and the checksum."""
        per_sample = self.x.reshape(self.n_samples, -1).sum(axis=1, dtype=np.int64)
        return {"name": self.name, "shape": list(self.x.shape), "dtype": str(self.x.dtype), "dt_ms": self.dt_ms,
                "n_classes": self.n_classes,
                "class_counts": {s: self.class_counts(s).tolist() for s in self.split},
                "spikes_per_sample": {"min": int(per_sample.min()), "mean": float(per_sample.mean()),
                                      "max": int(per_sample.max())} if self.n_samples else None,
                "checksum": self.checksum()}


# --- Randman ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RandmanManifolds:
    """The drawn manifolds of a configuration: ``amp`` and ``phase`` of shape (C, S, N, D, K)."""

    amp: np.ndarray
    phase: np.ndarray
    alpha: float

    @property
    def amplitudes(self) -> np.ndarray:
        """A_{c,j,i,d,k} = amp k^-alpha, shape (C, S, N, D, K)."""
        k = np.arange(1, self.amp.shape[-1] + 1, dtype=np.float64)
        return self.amp * k ** -self.alpha

    def __call__(self, c: int, u: Any) -> np.ndarray:
        """z of class ``c`` at coordinates ``u`` (shape (P, D)): values in [0, 1], shape (P, S, N)."""
        return _evaluate(self.amplitudes[c][None], self.phase[c][None], np.asarray(u, dtype=np.float64)[None])[0]


def _evaluate(a: np.ndarray, phase: np.ndarray, u: np.ndarray) -> np.ndarray:
    """z for amplitudes/phases (G, S, N, D, K) at coordinates u (G, P, D) -> (G, P, S, N), sums in a fixed order."""
    g, s, n, d_dim, k_dim = a.shape
    f = np.zeros((g, u.shape[1], s, n))
    bound = np.zeros((g, 1, s, n))
    two_pi = 2.0 * np.pi
    for d in range(d_dim):
        ud = u[:, :, d][:, :, None, None]  # (G, P, 1, 1)
        for k in range(k_dim):
            ak = a[:, None, :, :, d, k]  # (G, 1, S, N)
            f += ak * np.sin(two_pi * ((k + 1) * ud + phase[:, None, :, :, d, k]))
            bound += ak
    return np.clip((f + bound) / (2.0 * bound), 0.0, 1.0)


def _draw_manifolds(rng: np.random.Generator, cfg: RandmanConfig) -> RandmanManifolds:
    shape = (cfg.classes, cfg.spikes, cfg.units, cfg.dim, cfg.components)
    amp = rng.random(shape)
    phase = rng.random(shape)
    return RandmanManifolds(amp, phase, cfg.alpha)


def randman_manifold(cfg: RandmanConfig) -> RandmanManifolds:
    """The manifolds (step 1 of the construction) that :func:`randman` samples for ``cfg``."""
    if not isinstance(cfg, RandmanConfig):
        raise TypeError(f"cfg must be a RandmanConfig; got {type(cfg).__name__}")
    return _draw_manifolds(np.random.default_rng(cfg.seed), cfg)


def randman(cfg: RandmanConfig) -> Dataset:
    """The Randman dataset of ``cfg`` (Zenke & Vogels 2021; construction in the module docstring); ``dt_ms`` =
    :data:`RANDMAN_DT_MS`."""
    if not isinstance(cfg, RandmanConfig):
        raise TypeError(f"cfg must be a RandmanConfig; got {type(cfg).__name__}")
    c_n, m, t_n, n = cfg.classes, cfg.samples_per_class, cfg.steps, cfg.units
    rng = np.random.default_rng(cfg.seed)
    manifolds = _draw_manifolds(rng, cfg)
    coords = rng.random((c_n, m, cfg.dim))
    z = _evaluate(manifolds.amplitudes, manifolds.phase, coords)  # (C, M, S, N)
    times = np.minimum(np.floor(z * t_n), t_n - 1).astype(np.int64).reshape(c_n * m, cfg.spikes, n)
    x = np.zeros((c_n * m, t_n, n), dtype=np.uint8)
    rows = np.arange(c_n * m)[:, None]
    cols = np.arange(n)[None, :]
    for j in range(cfg.spikes):  # one spike per unit per pass: fancy-index addition never collides within a pass
        x[rows, times[:, j, :], cols] += 1
    y = np.repeat(np.arange(c_n, dtype=np.int64), m)
    n_test, n_val = cfg.split_sizes
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for c in range(c_n):
        perm = rng.permutation(m) + c * m
        parts["test"].append(perm[:n_test])
        parts["val"].append(perm[n_test:n_test + n_val])
        parts["train"].append(perm[n_test + n_val:])
    split = {name: np.sort(np.concatenate(p)).astype(np.int64) for name, p in parts.items()}
    return Dataset(x, y, split, c_n, t_n, n, RANDMAN_DT_MS, "randman")


# --- Spiking Heidelberg Digits --------------------------------------------------------------------------------
_SHD_DATASETS = ("spikes/times", "spikes/units", "labels")


def _read_shd(path: Any) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """(times, units, labels) of an SHD file, or a one-line ValueError naming the path and the problem."""
    where = os.fspath(path)
    if not os.path.exists(where):
        raise ValueError(f"{where}: no such file")
    if os.path.isdir(where):
        raise ValueError(f"{where}: is a directory, not an HDF5 file")
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a pinned requirement
        raise ValueError(f"{where}: reading SHD files needs the h5py package") from None
    try:
        if not h5py.is_hdf5(where):
            raise ValueError(f"{where}: not an HDF5 file")
        with h5py.File(where, "r") as f:
            for name in _SHD_DATASETS:
                if name not in f or not isinstance(f[name], h5py.Dataset):
                    raise ValueError(f"{where}: missing dataset '{name}' (an SHD file has spikes/times, "
                                     f"spikes/units and labels)")
            times = [np.asarray(t).ravel() for t in f["spikes/times"][()]]
            units = [np.asarray(u).ravel() for u in f["spikes/units"][()]]
            labels = np.asarray(f["labels"][()]).ravel()
    except ValueError as err:
        if str(err).startswith(where + ":"):
            raise
        raise ValueError(f"{where}: unreadable SHD data ({err})") from None
    except (OSError, KeyError, TypeError, RuntimeError) as err:
        raise ValueError(f"{where}: unreadable HDF5 file ({str(err).splitlines()[0] if str(err) else err!r})") \
            from None
    if not (len(times) == len(units) == len(labels)):
        raise ValueError(f"{where}: spikes/times, spikes/units and labels differ in length "
                         f"({len(times)}, {len(units)}, {len(labels)})")
    for i, (t, u) in enumerate(zip(times, units, strict=True)):
        if len(t) != len(u):
            raise ValueError(f"{where}: sample {i} has {len(t)} spike times but {len(u)} units")
    if len(labels) and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0):
        raise ValueError(f"{where}: labels must be non-negative integers")
    return times, units, labels.astype(np.int64)


def _bin_shd(path: Any, times: list[np.ndarray], units: list[np.ndarray], steps: int, dt_ms: float,
             max_ms: float, x: np.ndarray) -> np.ndarray:
    """Fill ``x`` (zeros, shape (len(times), steps, SHD_UNITS)) with the binned counts."""
    n = len(times)
    if n == 0:
        return x
    lengths = np.array([len(t) for t in times], dtype=np.int64)
    if lengths.sum() == 0:
        return x
    t = np.concatenate(times)
    u = np.concatenate(units)
    if not (np.issubdtype(t.dtype, np.floating) or np.issubdtype(t.dtype, np.integer)):
        raise ValueError(f"{os.fspath(path)}: spikes/times must be numbers (seconds); got {t.dtype}")
    precision = t.dtype if np.issubdtype(t.dtype, np.floating) and t.dtype.itemsize < 8 else np.dtype(np.float64)
    t = t.astype(np.float64)
    if not np.issubdtype(u.dtype, np.integer) and not np.all(u == np.floor(u)):
        raise ValueError(f"{os.fspath(path)}: spikes/units must be integers")
    u = u.astype(np.int64)
    if u.min() < 0 or u.max() >= SHD_UNITS:
        raise ValueError(f"{os.fspath(path)}: spikes/units must lie in [0, {SHD_UNITS - 1}]; "
                         f"got {int(u.min())} .. {int(u.max())}")
    sample = np.repeat(np.arange(n, dtype=np.int64), lengths)
    edges = (np.arange(steps + 1, dtype=np.float64) * dt_ms / 1000.0).astype(precision).astype(np.float64)
    end = float(np.asarray(max_ms / 1000.0).astype(precision))
    keep = np.isfinite(t) & (t >= 0.0) & (t < end)
    b = np.searchsorted(edges, t[keep], side="right") - 1
    flat = (sample[keep] * steps + b) * SHD_UNITS + u[keep]
    cells, counts = np.unique(flat, return_counts=True)
    x.reshape(-1)[cells] = np.minimum(counts, 255).astype(np.uint8)
    return x


def _check_binning(steps: Any, dt_ms: Any, max_ms: Any, val_fraction: Any, seed: Any) -> tuple:
    steps = count("steps", steps, 1, 10_000)
    dt_ms = positive("dt_ms", dt_ms)
    max_ms = positive("max_ms", max_ms)
    if max_ms > steps * dt_ms * (1 + 1e-12):
        raise ValueError(f"max_ms must be in (0, steps x dt_ms = {steps * dt_ms:g}]; got {max_ms!r}")
    val_fraction = interval("val_fraction", val_fraction, 0.0, 1.0, open_high=True)
    seed = count("seed", seed, 0, 2**32 - 1)
    return steps, dt_ms, max_ms, val_fraction, seed


def _val_split(y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) rows: for each label in increasing order, a permutation from default_rng(seed) of its rows;
    its first floor(n val_fraction + 1/2) rows go to validation."""
    rng = np.random.default_rng(seed)
    val = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        val.append(rows[rng.permutation(len(rows))[:math.floor(len(rows) * val_fraction + 0.5)]])
    val_rows = np.sort(np.concatenate(val)).astype(np.int64) if val else np.zeros(0, np.int64)
    train_rows = np.setdiff1d(np.arange(len(y), dtype=np.int64), val_rows)
    return train_rows, val_rows


def load_shd(path: Any, *, steps: int = 350, dt_ms: float = 2.0, max_ms: float = 700.0, val_fraction: float = 0.1,
             seed: int = 0) -> Dataset:
    """One SHD file (the official HDF5 layout: vlen ``spikes/times`` in seconds, vlen ``spikes/units``, ``labels``)
    binned into ``steps`` steps of ``dt_ms`` (module docstring; spikes at or after ``max_ms`` dropped).

    ``split`` holds "train" and "val": a seeded, per-class ``val_fraction`` of the file's samples is held out
    (use :func:`load_shd_pair` to add the official test file). ``n_classes`` is max(label) + 1 (20 for SHD).
    Memory: ``x`` takes n_samples x steps x 700 bytes (2.0 GB for the full training file at the defaults).

    Raises
    ------
    ValueError
        One line naming ``path`` and the problem: no such file, not an HDF5 file, a missing dataset,
        inconsistent lengths, units outside [0, 700); or naming a bad argument and its range.
    """
    steps, dt_ms, max_ms, val_fraction, seed = _check_binning(steps, dt_ms, max_ms, val_fraction, seed)
    times, units, y = _read_shd(path)
    x = _bin_shd(path, times, units, steps, dt_ms, max_ms, np.zeros((len(y), steps, SHD_UNITS), np.uint8))
    train, val = _val_split(y, val_fraction, seed)
    n_classes = int(y.max()) + 1 if len(y) else 0
    return Dataset(x, y, {"train": train, "val": val}, n_classes, steps, SHD_UNITS, dt_ms, "shd")


def load_shd_pair(train_path: Any, test_path: Any, *, steps: int = 350, dt_ms: float = 2.0, max_ms: float = 700.0,
                  val_fraction: float = 0.1, seed: int = 0) -> Dataset:
    """The official training and test files as one :class:`Dataset`: rows of the training file first, split into
    "train" and "val" as :func:`load_shd` does, then the test file's rows as "test"."""
    steps, dt_ms, max_ms, val_fraction, seed = _check_binning(steps, dt_ms, max_ms, val_fraction, seed)
    t_times, t_units, t_y = _read_shd(train_path)
    s_times, s_units, s_y = _read_shd(test_path)
    y = np.concatenate([t_y, s_y])
    x = np.zeros((len(y), steps, SHD_UNITS), np.uint8)
    _bin_shd(train_path, t_times, t_units, steps, dt_ms, max_ms, x[:len(t_y)])
    _bin_shd(test_path, s_times, s_units, steps, dt_ms, max_ms, x[len(t_y):])
    train, val = _val_split(t_y, val_fraction, seed)
    test = np.arange(len(t_y), len(y), dtype=np.int64)
    n_classes = int(y.max()) + 1 if len(y) else 0
    return Dataset(x, y, {"train": train, "val": val, "test": test}, n_classes, steps, SHD_UNITS, dt_ms, "shd")
