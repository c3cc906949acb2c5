"""Reading a sweep's results store, and the aggregations behind the Sweeps page (Herranz-Celotti & Rouat Figs. 3-5).

:func:`load` reads a :class:`~.store.Store` into a :class:`SweepResults`: one row per run in a pandas DataFrame, the
run's *axes* (every parameter some run varied, e.g. ``shape``, ``gamma``, ``sharpness``, ``q``, ``init``,
``conditions``, ``lr``) and its metrics flattened into columns, and the per-epoch curves. A run's value of an axis it
did not vary itself is the value it trained with: its group's fixed value, the preset's, or the parameter's default,
with the dampening γ and sharpness s of HC's ``σ'(v) = γ f(s v)`` derived from the run's ``beta_sg``, ``scale`` and
shape (a run of the ``gamma`` grid at s = 1 is then also the s = 1 point of the ``sharpness`` grid). A shape's own
parameter (q-PseudoSpike's ``q``) is missing (None) for the shapes that do not have it.

The aggregations are over seeds per *setting* (one value of every axis): mean, standard deviation (``ddof=1``),
standard error, minimum and maximum (:func:`aggregate`). A plot lets one or two axes vary and holds every other
varying axis at one value (:func:`pin`): by default the value that keeps the most settings of the plotted axes, as HC
hold the sharpness at 1 while varying the dampening. A run without a value of a shape's own parameter (it does not
apply to its shape) matches any value of it; a run that did not record another parameter (older code) has the value
None, a setting of its own.

No Streamlit here: the same tables serve a notebook.
"""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .spec import HC_AXES, SPREADS, TASKS
from .store import Store

__all__ = ["EXAMPLE_STORE", "HC_AXES", "SPREADS", "Ablation", "Ranking", "Sensitivity", "Slice", "Summary",
           "SweepResults", "ablation", "aggregate", "axis_label", "best_setting", "describe_setting", "error_bars",
           "higher_is_better", "is_fraction", "load", "load_bytes", "metric_label", "numeric_axes", "pin", "ranking",
           "run_label", "runs_table", "score_metric", "sensitivity", "summary", "value_label", "varying"]

#: The bundled example store (made with ``python -m sgcore sweep``; the page says how when it is missing).
EXAMPLE_STORE = Path(__file__).resolve().parent / "examples" / "hc_randman.sqlite"
#: The run columns every store has (params and metrics follow them).
BASE_COLUMNS = ("run_id", "sweep", "group", "task", "status", "error", "seed", "epochs", "score", "wall_time",
                "worker", "code_version", "started", "finished")
_STATS = ("runs", "n", "failed", "mean", "std", "sem", "min", "max")
_SQLITE_MAGIC = b"SQLite format 3\x00"

_AXIS_LABELS = {"gamma": "dampening γ", "sharpness": "sharpness s", "q": "tail fatness q", "shape": "SG shape",
                "init": "initialisation", "conditions": "conditions", "epochs": "epochs", "seed": "seed"}
#: HC's naive setting of a parameter (Fig. 5), used when the parameter has no declared default.
_NAIVE = {"conditions": "none", "init": "glorot_uniform"}
_SHORT = {"gamma": "γ", "sharpness": "s", "q": "q", "lr": "η"}
_METRIC_LABELS = {"val_accuracy": "validation accuracy", "best_val_accuracy": "best validation accuracy",
                  "test_accuracy": "test accuracy", "train_accuracy": "training accuracy",
                  "val_loss": "validation loss", "train_loss": "training loss",
                  "active_fraction": "active in the backward pass", "epochs_per_second": "epochs per second",
                  "van_rossum": "van Rossum distance", "best_van_rossum": "best van Rossum distance", "l2": "L2 loss"}


# --- the results ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepResults:
    """A store's runs: ``runs`` (one row per run: :data:`BASE_COLUMNS`, then one column per axis, then one per
    metric), ``axes`` (parameters some run varied, seed excluded; ``epochs`` too when runs differ in it),
    ``metrics`` (numeric metric columns; nested metrics as ``name.key``), ``curves`` (run_id -> metric -> values per
    epoch) and the ``sweeps`` rows. Treat as read-only."""

    source: str
    runs: pd.DataFrame
    axes: tuple[str, ...]
    metrics: tuple[str, ...]
    sweeps: tuple[Mapping[str, Any], ...] = ()
    curves: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def from_runs(cls, runs: Sequence[Mapping[str, Any]], *, sweeps: Sequence[Mapping[str, Any]] = (),
                  curves: Mapping[str, Mapping[str, Sequence[float | None]]] | None = None,
                  source: str = "") -> SweepResults:
        """Results from :meth:`Store.runs`-style dicts (and :meth:`Store.curves`-style curves)."""
        frame, axes, metrics = _frame(runs)
        arrays = {rid: {m: np.array([math.nan if v is None else float(v) for v in vals], dtype=float)
                        for m, vals in per.items()} for rid, per in (curves or {}).items()}
        return cls(source, frame, axes, metrics, tuple(sweeps), arrays)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.runs["task"])) if len(self.runs) else tuple(
            dict.fromkeys(s["task"] for s in self.sweeps))

    @property
    def task(self) -> str | None:
        """The one task of these runs (None when there are none or several)."""
        tasks = self.tasks
        return tasks[0] if len(tasks) == 1 else None

    def subset(self, *, task: str | None = None, sweeps: Iterable[str] | None = None) -> SweepResults:
        """The runs of one task and/or some sweeps (axes recomputed: only what these runs vary)."""
        df = self.runs
        if task is not None:
            df = df[df["task"] == task]
        if sweeps is not None:
            df = df[df["sweep"].isin(list(sweeps))]
        axes = tuple(a for a in self.axes if a in df.columns and a != "epochs" and df[a].notna().any())
        if df["epochs"].nunique() > 1:
            axes = (*axes, "epochs")
        keep = set(df["run_id"])
        return SweepResults(self.source, df, axes, self.metrics,
                            tuple(s for s in self.sweeps if task is None or s.get("task") == task),
                            {k: v for k, v in self.curves.items() if k in keep})


def load(path: str | Path) -> SweepResults:
    """Every run and curve of the store at ``path`` (``ValueError`` if it is missing, not a store, or damaged)."""
    try:
        with Store(path, read_only=True) as st:
            sweeps = st.sweeps()
            runs = st.runs()
            curves = st.curves([r["run_id"] for r in runs])
    except sqlite3.Error as err:  # a damaged file that passed the schema check
        raise ValueError(f"store: {Path(path).name} cannot be read ({err})") from None
    except (KeyError, TypeError) as err:  # JSON columns of the wrong shape
        raise ValueError(f"store: {Path(path).name} has malformed rows ({err})") from None
    return SweepResults.from_runs(runs, sweeps=sweeps, curves=curves, source=str(path))


def load_bytes(data: bytes, name: str = "upload", max_bytes: int = 50_000_000) -> SweepResults:
    """A store given as the bytes of its file (an upload): checked for size and the SQLite header, read from a
    temporary copy that is removed again (``ValueError`` with the reason)."""
    if len(data) > max_bytes:
        raise ValueError(f"{name} has {len(data):,} bytes; at most {max_bytes:,}")
    if not data.startswith(_SQLITE_MAGIC):
        raise ValueError(f"{name} is not an SQLite file (a sweep store is the .sqlite file of "
                         "`python -m sgcore sweep --store FILE`)")
    with tempfile.TemporaryDirectory(prefix="sge-sweep-") as tmp:
        path = Path(tmp) / "store.sqlite"
        path.write_bytes(data)
        res = load(path)
    return SweepResults(name, res.runs, res.axes, res.metrics, res.sweeps, res.curves)


# --- building the frame ---------------------------------------------------------------------------------------------
def _round(x: float) -> float:
    """Values derived through floating point (s = beta * beta_to_s) compared with given ones: 12 digits."""
    return float(f"{x:.12g}")


def _shape_params() -> dict[str, set[str]]:
    from ..shapes import SHAPES

    return {name: {p.name for p in shape.params} for name, shape in SHAPES.items()}


def _not_applicable(axis: str) -> bool:
    """Whether a missing value of ``axis`` means "does not apply" (a shape's own parameter, e.g. q) rather than
    "not recorded" (a parameter the run's code did not have)."""
    return any(axis in names for names in _shape_params().values())


def _default(task: str, name: str) -> Any:
    try:
        spec = TASKS[task].specs.get(name)
    except ValueError:  # a task this code does not know
        return None
    return None if spec is None else spec.default


def _value_of(run: Mapping[str, Any], name: str, own: Mapping[str, set[str]]) -> Any:
    """The value ``run`` trained with for axis ``name`` (see the module doc)."""
    params, config, task = run.get("params") or {}, run.get("config") or {}, run.get("task", "")
    if name in params:
        return params[name]

    def resolved(key: str) -> Any:
        return config[key] if key in config else _default(task, key)

    if name == "epochs":
        return run.get("epochs")
    shape = resolved("shape")
    if name in ("gamma", "sharpness") and shape in own:
        from ..shapes.scaling import dampening, sharpness

        beta = resolved("beta_sg")
        try:
            if name == "sharpness":
                return _round(sharpness(shape, beta))
            scale = resolved("scale")
            return _round(dampening(shape, beta, None if scale in (None, "auto") else scale, resolved("gamma")))
        except (ValueError, TypeError):
            return None
    if any(name in names for names in own.values()):  # a shape's own parameter: only where the shape has it
        return resolved(name) if shape in own and name in own[shape] else None
    return resolved(name)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # a list or table as a value: compared as its text


def _flat_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in metrics.items():
        if isinstance(v, Mapping):
            out.update(_flat_metrics(v, f"{prefix}{k}."))
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = float(v)
        elif v is None:
            out[f"{prefix}{k}"] = math.nan
    return out


#: Config values that follow from the axes (the SD's beta_sg and scale from gamma and sharpness), or identify a run.
_DERIVED = frozenset({"seed", "beta_sg", "scale"})


def _frame(runs: Sequence[Mapping[str, Any]]) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    own = _shape_params()
    axes: list[str] = []
    for r in runs:
        for k in r.get("params") or {}:
            if k != "seed" and k not in axes and k not in BASE_COLUMNS:
                axes.append(k)
    # a setting fixed per group (e.g. one layer for the conditions, two elsewhere) is an axis too: runs that differ
    # in it are not the same setting, even though no grid varied it (beta_sg and scale follow from gamma, s)
    seen: dict[str, set[str]] = {}
    for r in runs:
        for k, v in (r.get("config") or {}).items():
            seen.setdefault(k, set()).add(v if isinstance(v, str | int | float | bool | None)
                                          else json.dumps(v, sort_keys=True, default=str))
    for k, values in seen.items():
        if len(values) > 1 and k not in axes and k not in _DERIVED and k not in BASE_COLUMNS:
            axes.append(k)
    if len({r.get("epochs") for r in runs}) > 1:
        axes.append("epochs")
    flat = [_flat_metrics(r.get("metrics") or {}) for r in runs]
    taken = set(BASE_COLUMNS) | set(axes)
    metric_cols: dict[str, str] = {}  # metric -> column
    for f in flat:
        for m in f:
            if m not in metric_cols:
                metric_cols[m] = m if m not in taken else f"metric:{m}"
    rows = []
    for r, f in zip(runs, flat, strict=True):
        row = {c: r.get(c) for c in BASE_COLUMNS}
        row["group"] = r.get("group", r.get("grp"))
        for a in axes:
            if a != "epochs":
                row[a] = _scalar(_value_of(r, a, own))
        for m, col in metric_cols.items():
            row[col] = f.get(m, math.nan)
        rows.append(row)
    columns = [*BASE_COLUMNS, *(a for a in axes if a != "epochs"), *metric_cols.values()]
    df = pd.DataFrame(rows, columns=columns)
    for a in axes:
        if a != "epochs" and _numeric(df[a]):
            df[a] = df[a].astype(float)
    for c in ("score", "wall_time", "started", "finished", *metric_cols.values()):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    if len(df):
        df = df.sort_values("finished", kind="stable", na_position="last").reset_index(drop=True)
    return df, tuple(axes), tuple(metric_cols.values())


def _numeric(col: pd.Series) -> bool:
    vals = [v for v in col if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return bool(vals) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _order_key(v: Any) -> tuple:
    """Numbers first (by value), then text, then missing values."""
    if _missing(v):
        return (2, 0.0, "")
    if isinstance(v, int | float) and not isinstance(v, bool):
        return (0, float(v), "")
    return (1, 0.0, str(v))


def _distinct(col: pd.Series) -> list[Any]:
    return sorted({v.item() if hasattr(v, "item") else v for v in col.dropna().unique()}, key=_order_key)


def _values(col: pd.Series, axis: str) -> list[Any]:
    """The values of an axis: its distinct values, and None when some runs did not record it (not for a shape's
    own parameter, whose missing value matches any)."""
    values = _distinct(col)
    if not _not_applicable(axis) and col.isna().any():
        values.append(None)
    return values


# --- labels ---------------------------------------------------------------------------------------------------------
def axis_label(name: str, task: str | None = None) -> str:
    """A readable name of an axis: HC's names for γ, s, q, the shape, init and conditions; else the parameter's."""
    if name in _AXIS_LABELS:
        return _AXIS_LABELS[name]
    if task is not None:
        try:
            spec = TASKS[task].specs.get(name)
        except ValueError:
            spec = None
        if spec is not None:
            return spec.label
    return name


def value_label(name: str, value: Any) -> str:
    """An axis value as text: a shape's label, a number in %g; a missing value is 'n/a' (a shape parameter the run's
    shape does not have) or 'not recorded'."""
    if _missing(value):
        return "n/a" if _not_applicable(name) else "not recorded"
    if name == "shape":
        from ..shapes import SHAPES

        return SHAPES[value].label if value in SHAPES else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def score_metric(task: str | None) -> str | None:
    """The metric a task's runs are scored by (None for no task or one this code does not know)."""
    try:
        return TASKS[task].score if task is not None else None
    except ValueError:
        return None


def metric_label(metric: str, task: str | None = None) -> str:
    """A metric in words; ``score`` is named by the task's score metric (e.g. 'validation accuracy')."""
    if metric == "score":
        metric = score_metric(task) or metric
    return _METRIC_LABELS.get(metric, metric)


def is_fraction(metric: str, task: str | None = None) -> bool:
    """Whether the metric is a fraction (drawn in %): accuracies and the active fraction."""
    if metric == "score" and task is not None:
        try:
            metric = TASKS[task].score
        except ValueError:
            return False
    return metric.endswith("accuracy") or metric == "active_fraction"


def higher_is_better(metric: str, task: str | None = None) -> bool:
    """The direction of a metric: the task's own for its score; accuracies and speed up; losses and distances
    down."""
    if task is not None:
        try:
            t = TASKS[task]
            if metric in ("score", t.score):
                return t.higher_is_better
        except ValueError:
            pass
    return not any(w in metric for w in ("loss", "l2", "van_rossum", "distance"))


def run_label(row: Mapping[str, Any], axes: Sequence[str]) -> str:
    """A short name of a run: its values of ``axes`` and its seed, e.g. 'Sigmoid derivative · γ 0.5 · seed 1'."""
    parts = []
    for a in sorted(axes, key=lambda a: a != "shape"):  # the shape first
        v = row.get(a)
        if a == "shape":
            parts.append(value_label(a, v))
        elif not _missing(v):
            parts.append(f"{_SHORT.get(a, a)} {value_label(a, v)}")
    seed = row.get("seed")
    parts.append(f"seed {int(seed)}" if not _missing(seed) else "no seed")
    return " · ".join(parts)


def describe_setting(values: Mapping[str, Any], axes: Sequence[str], task: str | None = None) -> str:
    """A setting in words, e.g. 'SG shape = Sigmoid derivative, dampening γ = 0.5' (axes without a value left out)."""
    return ", ".join(f"{axis_label(a, task)} = {value_label(a, values.get(a))}" for a in axes
                     if not _missing(values.get(a)))


# --- what varies ----------------------------------------------------------------------------------------------------
def varying(res: SweepResults, group: str | None = None) -> tuple[str, ...]:
    """The axes with more than one value among the runs (of ``group``, if given)."""
    df = res.runs if group is None else res.runs[res.runs["group"] == group]
    out = []
    for a in res.axes:
        col = df["epochs"] if a == "epochs" else df[a]
        if len(_values(col, a)) > 1:
            out.append(a)
    return tuple(out)


def numeric_axes(res: SweepResults) -> tuple[str, ...]:
    """The varying axes whose values are numbers (what a sensitivity plot can put on its x axis)."""
    return tuple(a for a in varying(res) if _numeric(res.runs[a]))


# --- statistics over seeds ------------------------------------------------------------------------------------------
def _metric_column(res_or_df: Any, metric: str) -> str:
    df = res_or_df.runs if isinstance(res_or_df, SweepResults) else res_or_df
    if metric not in df.columns:
        raise ValueError(f"metric must be one of score, {', '.join(c for c in df.columns if c not in BASE_COLUMNS)};"
                         f" got {metric!r}")
    return metric


def aggregate(runs: pd.DataFrame, by: Sequence[str], metric: str = "score") -> pd.DataFrame:
    """Per setting of the ``by`` columns: ``runs`` (recorded), ``n`` (done with a finite ``metric``), ``failed``,
    ``mean``, ``std`` (``ddof=1``; NaN for one seed), ``sem`` (std / sqrt(n)), ``min``, ``max``; sorted by the
    settings (numbers by value, then text, then missing). Runs without a value of a ``by`` column form their own
    setting (None)."""
    _metric_column(runs, metric)
    by = list(by)
    values = pd.to_numeric(runs[metric], errors="coerce").astype(float)
    ok = (runs["status"] == "done") & np.isfinite(values)
    groups: dict[tuple, dict[str, Any]] = {}
    for i, key in enumerate(zip(*(runs[c] for c in by), strict=True) if by else ((),) * len(runs)):
        key = tuple(None if _missing(v) else v for v in key)
        g = groups.setdefault(key, {"runs": 0, "failed": 0, "values": []})
        g["runs"] += 1
        g["failed"] += runs["status"].iat[i] == "failed"
        if ok.iat[i]:
            g["values"].append(values.iat[i])
    rows = []
    for key in sorted(groups, key=lambda k: tuple(_order_key(v) for v in k)):
        g = groups[key]
        v = np.asarray(g["values"], dtype=float)
        n = v.size
        std = float(v.std(ddof=1)) if n > 1 else math.nan
        rows.append({**dict(zip(by, key, strict=True)), "runs": g["runs"], "n": n, "failed": g["failed"],
                     "mean": float(v.mean()) if n else math.nan, "std": std,
                     "sem": std / math.sqrt(n) if n > 1 else math.nan,
                     "min": float(v.min()) if n else math.nan, "max": float(v.max()) if n else math.nan})
    return pd.DataFrame(rows, columns=[*by, *_STATS])


def error_bars(table: pd.DataFrame, spread: str) -> tuple[np.ndarray, np.ndarray]:
    """(below, above) the mean that an error bar of ``spread`` spans (:data:`SPREADS`; 0 where undefined)."""
    if spread not in SPREADS:
        raise ValueError(f"spread must be one of {', '.join(SPREADS)}; got {spread!r}")
    mean = table["mean"].to_numpy(dtype=float)
    if spread == "range":
        below, above = mean - table["min"].to_numpy(dtype=float), table["max"].to_numpy(dtype=float) - mean
    else:
        below = above = table[spread].to_numpy(dtype=float)
    return np.nan_to_num(below, nan=0.0), np.nan_to_num(above, nan=0.0)


def _best_index(table: pd.DataFrame, higher: bool) -> int | None:
    """Row of the best mean (ties: more seeds, then the smaller spread, then the first)."""
    cand = [i for i in range(len(table)) if table["n"].iat[i] > 0 and math.isfinite(table["mean"].iat[i])]
    if not cand:
        return None

    def key(i: int) -> tuple:
        std = table["std"].iat[i]
        return (table["mean"].iat[i] if higher else -table["mean"].iat[i], table["n"].iat[i],
                -(std if math.isfinite(std) else math.inf), -i)

    return max(cand, key=key)


def best_setting(res: SweepResults, metric: str = "score", by: Sequence[str] | None = None) -> dict[str, Any] | None:
    """The setting (values of ``by``, default every varying axis) with the best mean ``metric`` over seeds, with
    its statistics; None when no run finished."""
    by = list(varying(res) if by is None else by)
    table = aggregate(res.runs, by, metric)
    i = _best_index(table, higher_is_better(metric, res.task))
    return None if i is None else table.iloc[i].to_dict()


# --- slices for plots -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slice:
    """The runs of a plot: ``free`` axes vary, every other varying axis is held at ``pinned[axis]``; ``choices``
    are the values each pinned axis could be held at."""

    runs: pd.DataFrame
    free: tuple[str, ...]
    pinned: Mapping[str, Any]
    choices: Mapping[str, tuple[Any, ...]]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
    return a == b or str(a) == str(b)


def _matches(col: pd.Series, value: Any, any_missing: bool) -> np.ndarray:
    """Rows holding ``value`` (None: rows without a value), and rows without a value when ``any_missing``."""
    missing = col.isna().to_numpy()
    if value is None:
        return missing
    if col.dtype.kind == "f" and isinstance(value, int | float) and not isinstance(value, bool):
        hit = np.isclose(col.to_numpy(dtype=float), float(value), rtol=1e-9, atol=0.0) & ~missing
    else:
        hit = np.array([not m and _same(v, value) for v, m in zip(col, missing, strict=True)], dtype=bool)
    return hit | (missing & any_missing)


def _pick(df: pd.DataFrame, col: pd.Series, any_missing: bool, values: Sequence[Any], free: Sequence[str],
          default: Any) -> Any:
    """The value of ``col`` to hold: most distinct settings of ``free`` among finished runs that have them all, then
    most runs, then the parameter's ``default``, then the first."""
    done = (df["status"] == "done").to_numpy()
    cols = [df[a].to_numpy() for a in free if a in df.columns]

    def rank(item: tuple[int, Any]) -> tuple:
        i, v = item
        keep = _matches(col, v, any_missing) & done
        combos = {key for key in zip(*(c[keep] for c in cols), strict=True) if not any(map(_missing, key))}
        exact = int(_matches(col, v, False).sum())
        return (len(combos), exact, default is not None and v is not None and _same(default, v), -i)

    return max(enumerate(values), key=rank)[1]


def pin(res: SweepResults, free: Sequence[str], at: Mapping[str, Any] | None = None) -> Slice:
    """Hold every varying axis but ``free`` at one value: ``at[axis]`` when it is one of the axis's values, else
    the value that keeps the most distinct settings of the ``free`` axes among finished runs (ties: more runs, the
    parameter's default, the first value). Runs to which a held shape parameter does not apply stay; runs that did
    not record a held parameter are the value None."""
    at = dict(at or {})
    free = tuple(a for a in free if a)
    df = res.runs
    pinned: dict[str, Any] = {}
    choices: dict[str, tuple[Any, ...]] = {}
    task = res.task
    for axis in varying(res):
        if axis in free:
            continue
        col = df["epochs"] if axis == "epochs" else df[axis]
        values = _values(col, axis)
        if not values:
            continue
        any_missing = _not_applicable(axis)
        choices[axis] = tuple(values)
        asked = [v for v in values if axis in at and (_same(at[axis], v) if v is not None else _missing(at[axis]))]
        wanted = asked[0] if asked else _pick(df, col, any_missing, values, free, _default(task, axis) if task
                                              else None)
        pinned[axis] = wanted
        df = df[_matches(col, wanted, any_missing)]
    return Slice(df, free, MappingProxyType(pinned), MappingProxyType(choices))


@dataclass(frozen=True)
class Sensitivity:
    """HC Fig. 3: ``metric`` over seeds against axis ``x``, one line per value of ``line`` (None: one line).
    ``table`` holds the ``line`` and ``x`` columns and the :func:`aggregate` statistics; ``log_x`` when the x values
    are positive and span a decade or more."""

    x: str
    line: str | None
    metric: str
    task: str | None
    table: pd.DataFrame
    pinned: Mapping[str, Any]
    choices: Mapping[str, tuple[Any, ...]]
    log_x: bool
    higher_is_better: bool

    @property
    def empty(self) -> bool:
        return not (self.table["n"] > 0).any() if len(self.table) else True


def sensitivity(res: SweepResults, x: str, metric: str = "score", line: str | None = "shape",
                at: Mapping[str, Any] | None = None) -> Sensitivity:
    """Mean and spread of ``metric`` against numeric axis ``x`` for each value of ``line`` (HC Fig. 3), the other
    varying axes held by :func:`pin`. An ``x`` the runs do not vary gives an empty table."""
    task = res.task
    axes = varying(res)
    line = line if line in axes and line != x else None
    free = tuple(a for a in (line, x) if a)
    cols = [*free]
    if x not in axes or not _numeric(res.runs[x]):
        empty = pd.DataFrame(columns=[*cols, *_STATS])
        return Sensitivity(x, line, metric, task, empty, {}, {}, False, higher_is_better(metric, task))
    sl = pin(res, free, at)
    df = sl.runs[[not _missing(v) for v in sl.runs[x]]]
    table = aggregate(df, cols, metric)
    xs = table[x].to_numpy(dtype=float) if len(table) else np.zeros(0)
    log_x = bool(xs.size and np.all(xs > 0) and xs.max() / xs.min() >= 10)
    return Sensitivity(x, line, metric, task, table, sl.pinned, sl.choices, log_x, higher_is_better(metric, task))


@dataclass(frozen=True)
class Ranking:
    """HC Fig. 4: ``metric`` over seeds per (``rows``, ``cols``) setting; ``table`` as :func:`aggregate` gives it,
    ``row_values``/``col_values`` in order, ``best`` maps each column value to its best row value."""

    rows: str
    cols: str
    metric: str
    task: str | None
    table: pd.DataFrame
    row_values: tuple[Any, ...]
    col_values: tuple[Any, ...]
    best: Mapping[Any, Any]
    pinned: Mapping[str, Any]
    choices: Mapping[str, tuple[Any, ...]]
    higher_is_better: bool

    @property
    def empty(self) -> bool:
        return not (self.table["n"] > 0).any() if len(self.table) else True


def ranking(res: SweepResults, rows: str = "shape", cols: str = "init", metric: str = "score",
            at: Mapping[str, Any] | None = None) -> Ranking:
    """Mean and spread of ``metric`` for every (``rows``, ``cols``) pair (HC Fig. 4: shape x initialisation), the
    other varying axes held by :func:`pin`; empty unless both axes vary and differ."""
    task = res.task
    higher = higher_is_better(metric, task)
    axes = varying(res)
    if rows not in axes or cols not in axes or rows == cols:
        return Ranking(rows, cols, metric, task, pd.DataFrame(columns=[rows, cols, *_STATS]), (), (), {}, {}, {},
                       higher)
    sl = pin(res, (rows, cols), at)
    df = sl.runs[[not (_missing(a) or _missing(b)) for a, b in zip(sl.runs[rows], sl.runs[cols], strict=True)]]
    table = aggregate(df, (rows, cols), metric)
    row_values = tuple(_distinct(table[rows]))
    col_values = tuple(_distinct(table[cols]))
    best = {}
    for c in col_values:
        sub = table[[_same(v, c) for v in table[cols]]].reset_index(drop=True)
        i = _best_index(sub, higher)
        means = sub["mean"].to_numpy(dtype=float)
        means = means[np.isfinite(means)]
        if i is not None and (means.size < 2 or means.max() > means.min()):  # a column of ties has no best row
            best[c] = sub[rows].iat[i]
    return Ranking(rows, cols, metric, task, table, row_values, col_values, MappingProxyType(best), sl.pinned,
                   sl.choices, higher)


@dataclass(frozen=True)
class Ablation:
    """HC Fig. 5: per value of ``by`` (e.g. the conditions applied), each of ``metrics`` over seeds. ``tables``
    maps each metric to its :func:`aggregate` table, all in ``order``: the ``baseline`` (the naive setting) first,
    then by the mean of the first metric, best first."""

    by: str
    metrics: tuple[str, ...]
    task: str | None
    tables: Mapping[str, pd.DataFrame]
    order: tuple[Any, ...]
    baseline: Any
    pinned: Mapping[str, Any]
    choices: Mapping[str, tuple[Any, ...]]
    higher_is_better: bool

    @property
    def empty(self) -> bool:
        return not self.order


def ablation(res: SweepResults, by: str = "conditions", metrics: Sequence[str] = ("score", "test_accuracy"),
             baseline: Any = None, at: Mapping[str, Any] | None = None) -> Ablation:
    """Each value of ``by`` with ``metrics`` (those the store has) over seeds (HC Fig. 5: conditions I-IV against
    the naive initialisation), the other varying axes held by :func:`pin`. ``baseline`` (default: the parameter's
    default value, e.g. conditions ``none``) is put first; the others follow by the first metric, best first."""
    task = res.task
    metrics = tuple(dict.fromkeys(m for m in metrics if m in res.runs.columns))
    higher = higher_is_better(metrics[0], task) if metrics else True
    if by not in varying(res) or not metrics:
        return Ablation(by, metrics, task, {}, (), None, {}, {}, higher)
    sl = pin(res, (by,), at)
    df = sl.runs[[not _missing(v) for v in sl.runs[by]]]
    tables = {m: aggregate(df, (by,), m) for m in metrics}
    first = tables[metrics[0]]
    values = list(first[by])
    if baseline is None:
        baseline = (_default(task, by) if task is not None else None) or _NAIVE.get(by)
    base = next((v for v in values if baseline is not None and _same(v, baseline)), None)
    rest = [i for i, v in enumerate(values) if base is None or not _same(v, base)]
    sign = -1.0 if higher else 1.0
    rest.sort(key=lambda i: (not math.isfinite(first["mean"].iat[i]), sign * np.nan_to_num(first["mean"].iat[i]), i))
    order_idx = ([values.index(base)] if base is not None else []) + rest
    order = tuple(values[i] for i in order_idx)
    tables = {m: t.iloc[order_idx].reset_index(drop=True) for m, t in tables.items()}
    return Ablation(by, metrics, task, MappingProxyType(tables), order, base, sl.pinned, sl.choices, higher)


# --- the summary and the runs table ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """What a store holds: tasks, sweeps, run counts, the seeds and epochs used, the code versions that produced
    the runs, the groups, and the distinct error messages of failed runs (most frequent first)."""

    tasks: tuple[str, ...]
    sweeps: tuple[str, ...]
    runs: int
    done: int
    failed: int
    seeds: tuple[int, ...]
    epochs: tuple[int, ...]
    code_versions: tuple[str, ...]
    groups: tuple[str, ...]
    errors: tuple[tuple[str, int], ...]


def summary(res: SweepResults) -> Summary:
    df = res.runs
    status = Counter(df["status"])
    errors = Counter(str(e) for e, s in zip(df["error"], df["status"], strict=True) if s == "failed")
    return Summary(res.tasks, tuple(dict.fromkeys([*(s["sweep"] for s in res.sweeps), *df["sweep"]])), len(df),
                   status.get("done", 0), status.get("failed", 0),
                   tuple(sorted({int(s) for s in df["seed"] if not _missing(s)})),
                   tuple(sorted({int(e) for e in df["epochs"] if not _missing(e)})),
                   tuple(dict.fromkeys(str(v) for v in df["code_version"] if not _missing(v))),
                   tuple(dict.fromkeys(df["group"])), tuple(errors.most_common()))


def runs_table(res: SweepResults) -> pd.DataFrame:
    """One row per run for display and CSV: its values of the axes, seed, status, score, the error message of a
    failed run, the metrics, group, sweep, epochs, wall time, worker, code version and run id."""
    df = res.runs
    axes = [a for a in res.axes if a != "epochs"]
    cols = [*axes, "seed", "status", "score", "error", *res.metrics, "group", "sweep", "epochs", "wall_time",
            "worker", "code_version", "run_id"]
    out = df[cols].copy()
    for a in axes:  # one type per column (Arrow): text where values mix
        if not _numeric(out[a]):
            out[a] = [None if _missing(v) else str(v) for v in out[a]]
    return out.reset_index(drop=True)
