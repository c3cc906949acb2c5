"""What a sweep runs: the tasks, their sweepable parameters, and the plan of runs a grid (and random samples) gives.

A sweep is a union of *sub-grids* (each a named group: its own fixed values and the Cartesian product of its swept
lists) plus optional random samples, every combination repeated for each seed. Every value is validated by the
parameter's own :class:`~sgcore.params.ParamSpec` (the same check the pages and the CLI make), and every run's full
configuration is built at planning time, so a bad grid fails at once with one line, never hours later.

A run's id is a hash of everything that determines its result (task, epochs and every resolved value), so a sweep
started again with the same arguments finds the runs it already finished, whatever it is called.

Parameters beyond the task's own: ``sharpness`` (Herranz-Celotti's s: the SD is ``gamma f(s v)``, so it sets
``beta_sg = s / beta_to_s`` of the run's shape). When a sweep sets ``gamma`` or ``sharpness`` itself and leaves
``scale`` alone, ``scale`` becomes ``"gamma"`` (the dampening is then the given gamma, as in HC Figs. 3-5).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..params import ParamSpec

__all__ = ["HC_AXES", "MAX_RUNS", "RANDOM_KINDS", "SPREADS", "TASKS", "Plan", "Run", "SubGrid", "Task", "load_toml",
           "make_plan", "parse_assignment", "parse_random"]

#: A sweep of more runs than this needs ``--yes`` (``confirm=True``).
MAX_RUNS = 10_000
#: Distributions of random samples: ``uniform:a:b``, ``loguniform:a:b``, ``int:a:b`` (inclusive), ``choice:x|y``.
RANDOM_KINDS = ("uniform", "loguniform", "int", "choice")

#: HC's three sensitivity axes (Fig. 3): dampening γ, sharpness s, tail fatness q.
HC_AXES = ("gamma", "sharpness", "q")
#: What an error bar spans over seeds: ± one standard deviation, ± one standard error, or minimum to maximum.
SPREADS: Mapping[str, str] = MappingProxyType({"std": "± 1 standard deviation", "sem": "± 1 standard error",
                                               "range": "minimum to maximum"})

SHARPNESS = ParamSpec("sharpness", "SD sharpness", 1.0, symbol="s", domain=(0.0, 1e4), open_low=True,
                      help="Herranz-Celotti's s: SD = gamma f(s v); sets beta_sg = s / beta_to_s of the shape.")


@dataclass(frozen=True)
class Task:
    """A trainable task: its sweepable parameters, its base values and how its runs are scored."""

    name: str
    help: str
    specs: Mapping[str, ParamSpec]
    base: Callable[[str], dict[str, Any]]  # preset name -> base values
    presets: tuple[str, ...]
    score: str  # the metric a sweep ranks runs by
    higher_is_better: bool
    check: Callable[[dict[str, Any]], None]  # builds the run's configs (ValueError on bad values)


def _classify_task() -> Task:
    from ..classify.config import CLASSIFY_PARAMS, CLASSIFY_PRESETS, DATA_PARAMS, ClassifyConfig, DataConfig

    specs = {p.name: p for p in (*CLASSIFY_PARAMS, *DATA_PARAMS, SHARPNESS)}

    def base(preset: str) -> dict[str, Any]:
        if preset == "none":
            return {}
        data, net = CLASSIFY_PRESETS[preset]
        return {**data, **net}

    def check(values: dict[str, Any]) -> None:
        DataConfig.from_mapping(values)
        ClassifyConfig.from_mapping(values)

    return Task("classify", "classification (Randman, or SHD from a file): final validation accuracy", specs, base,
                (*CLASSIFY_PRESETS, "none"), "val_accuracy", True, check)


def _spiketrain_task() -> Task:
    from ..snn.config import TRAIN_PARAMS, TrainConfig

    specs = {p.name: p for p in (*TRAIN_PARAMS, SHARPNESS)}

    def check(values: dict[str, Any]) -> None:
        TrainConfig.from_mapping(values)

    return Task("spiketrain", "the spike-train task (Fig. 6's target raster): final van Rossum distance", specs,
                lambda preset: {}, ("none",), "van_rossum", False, check)


class _Tasks(Mapping[str, Task]):
    """The tasks by name, built on first use (so importing this module loads neither trainer)."""

    _makers: dict[str, Callable[[], Task]] = {"classify": _classify_task, "spiketrain": _spiketrain_task}

    def __init__(self) -> None:
        self._built: dict[str, Task] = {}

    def __getitem__(self, name: str) -> Task:
        if name not in self._makers:
            raise ValueError(f"task must be one of {', '.join(self._makers)}; got {name!r}")
        if name not in self._built:
            self._built[name] = self._makers[name]()
        return self._built[name]

    def __iter__(self):
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


TASKS = _Tasks()


# --- the parts of a sweep -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubGrid:
    """One named group of runs: ``fixed`` values and the Cartesian product of the ``grid`` lists."""

    group: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """One training run: the values it varies (``params``: its group's grid values, random draws and seed), every
    value it trains with (``values``: the full configuration, ``sharpness`` turned into ``beta_sg``), and its id (a
    hash of task, epochs and the values that differ from their defaults)."""

    run_id: str
    task: str
    group: str
    epochs: int
    params: Mapping[str, Any]
    values: Mapping[str, Any]
    paths: Mapping[str, str] = field(default_factory=dict)  # SHD files: path, test_path


@dataclass(frozen=True)
class Plan:
    """Every run of a sweep, in order, and what it was planned from (stored with the results)."""

    name: str
    task: str
    epochs: int
    runs: tuple[Run, ...]
    spec: Mapping[str, Any]  # the sweep's description as JSON-able values


def _spec(task: Task, name: str) -> ParamSpec:
    if name not in task.specs:
        known = ", ".join(sorted(task.specs))
        raise ValueError(f"unknown parameter {name!r} for task {task.name}; known: {known}")
    return task.specs[name]


def _value(task: Task, name: str, value: Any) -> Any:
    spec = _spec(task, name)
    if isinstance(value, str) and spec.kind not in ("choice",):
        return spec.parse(value)
    if spec.kind == "choice" and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # TOML 1 for the choice "1"
    return spec.validate(value)


def parse_assignment(text: str) -> tuple[str, list[str]]:
    """``name=v1,v2,...`` -> (name, [v1, v2, ...]) as strings (``ValueError`` naming the expected form)."""
    name, sep, rest = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name:
        raise ValueError(f"expected NAME=VALUE[,VALUE...]; got {text!r}")
    items = [v.strip() for v in rest.split(",")]
    if not rest.strip() or any(not v for v in items):
        raise ValueError(f"{name}: empty value in {text!r} (give NAME=VALUE[,VALUE...])")
    return name, items


def parse_random(text: str) -> tuple[str, dict[str, Any]]:
    """``name=uniform:a:b`` (also ``loguniform``, ``int``) or ``name=choice:x|y|z`` -> (name, distribution)."""
    name, sep, rest = text.partition("=")
    name = name.strip().replace("-", "_")
    kind, _, args = rest.partition(":")
    if not sep or not name or kind not in RANDOM_KINDS:
        raise ValueError(f"expected NAME=KIND:ARGS with KIND one of {', '.join(RANDOM_KINDS)}; got {text!r}")
    if kind == "choice":
        values = [v.strip() for v in args.split("|")]
        if not args or any(not v for v in values):
            raise ValueError(f"{name}: choice needs values separated by '|'; got {text!r}")
        return name, {"dist": "choice", "values": values}
    parts = args.split(":")
    if len(parts) != 2:
        raise ValueError(f"{name}: {kind} needs two bounds, {kind}:LOW:HIGH; got {text!r}")
    return name, {"dist": kind, "low": parts[0], "high": parts[1]}


def _random_draw(task: Task, name: str, dist: Mapping[str, Any], rng: np.random.Generator) -> Any:
    kind = dist.get("dist")
    if kind == "choice":
        values = [_value(task, name, v) for v in dist.get("values", ())]
        if not values:
            raise ValueError(f"{name}: a choice needs at least one value")
        return values[int(rng.integers(len(values)))]
    if kind not in RANDOM_KINDS:
        raise ValueError(f"{name}: dist must be one of {', '.join(RANDOM_KINDS)}; got {kind!r}")
    low, high = _value(task, name, dist.get("low")), _value(task, name, dist.get("high"))
    if not low < high:
        raise ValueError(f"{name}: {kind} needs low < high; got {low!r} and {high!r}")
    if kind == "int":
        return _value(task, name, int(rng.integers(int(low), int(high) + 1)))
    if kind == "loguniform":
        if low <= 0:
            raise ValueError(f"{name}: loguniform needs low > 0; got {low!r}")
        return _value(task, name, float(math.exp(rng.uniform(math.log(low), math.log(high)))))
    return _value(task, name, float(rng.uniform(low, high)))


def resolve(values: Mapping[str, Any], given: Iterable[str], task: Task | None = None) -> dict[str, Any]:
    """The values a run's configs are built from: ``sharpness`` turned into ``beta_sg`` of the run's shape, and
    ``scale = "gamma"`` when ``gamma`` or ``sharpness`` is among the ``given`` names and ``scale`` is not."""
    from ..shapes import SHAPES

    out = dict(values)
    given = set(given)
    if "sharpness" in out:
        s = out.pop("sharpness")
        shape = out.get("shape", task.specs["shape"].default if task else "superspike")
        out["beta_sg"] = s / SHAPES[shape].beta_to_s
    if ({"gamma", "sharpness"} & given) and "scale" not in given:
        out["scale"] = "gamma"
    return out


def _full(task: Task, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of the task's configs: ``values`` over the defaults."""
    return {**{k: s.default for k, s in task.specs.items() if k != "sharpness"}, **values}


def _identity(task: Task, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that differ from their defaults: a run is the same whether a default is spelled out or not (and
    stays the same when a parameter with a default is added to the code)."""
    return {k: v for k, v in values.items() if k not in task.specs or v != task.specs[k].default}


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def run_id(task: str, epochs: int, values: Mapping[str, Any], paths: Mapping[str, str]) -> str:
    """The id of the run these determine (16 hex digits of a SHA-1)."""
    payload = {"task": task, "epochs": epochs, "values": dict(values), "paths": dict(paths)}
    return hashlib.sha1(_canonical(payload).encode()).hexdigest()[:16]


def make_plan(task: str, subgrids: Iterable[SubGrid] = (), *, fixed: Mapping[str, Any] | None = None,
              random: Mapping[str, Mapping[str, Any]] | None = None, samples: int = 0, sample_seed: int = 0,
              seeds: Iterable[int] | int = 1, epochs: int = 10, preset: str | None = None, name: str = "sweep",
              paths: Mapping[str, str] | None = None, confirm: bool = False) -> Plan:
    """Every run of a sweep (``ValueError`` with one line for an unknown parameter, a value outside its domain, an
    empty grid, a run whose configuration is invalid, or more than :data:`MAX_RUNS` runs without ``confirm``).

    ``seeds``: a count N (seeds 0..N-1) or the seeds themselves; ``random``: name -> distribution
    (``{"dist": "loguniform", "low": .., "high": ..}`` or ``{"dist": "choice", "values": [..]}``), ``samples`` draws
    of them (seeded by ``sample_seed``, so a restarted sweep draws the same runs), each repeated for every seed.
    """
    t = TASKS[task]
    preset = preset or t.presets[0]
    if preset not in t.presets:
        raise ValueError(f"preset must be one of {', '.join(t.presets)} for task {task}; got {preset!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 100_000:
        raise ValueError(f"epochs must be an integer in [1, 100000]; got {epochs!r}")
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if not 1 <= seeds <= 1000:
            raise ValueError(f"seeds must be a count in [1, 1000] or a list of seeds; got {seeds}")
        seed_list = list(range(seeds))
    else:
        seed_list = [_value(t, "seed", s) for s in seeds]
        if not seed_list:
            raise ValueError("seeds: the list is empty")
    if len(set(seed_list)) != len(seed_list):
        raise ValueError(f"seeds: repeated seeds in {seed_list}")
    samples = int(samples)
    if not 0 <= samples <= MAX_RUNS:
        raise ValueError(f"samples must be an integer in [0, {MAX_RUNS}]; got {samples}")
    base = t.base(preset)
    top = {k: _value(t, k, v) for k, v in (fixed or {}).items()}
    paths = {k: str(v) for k, v in (paths or {}).items() if v}
    groups = list(subgrids)
    random = dict(random or {})
    if random and not samples:
        raise ValueError("random: give samples > 0 to draw random values")
    if samples and not random:
        raise ValueError("samples: give the random distributions to draw from (--random NAME=KIND:ARGS)")
    if not groups and not samples:
        raise ValueError("the sweep is empty: give a grid (--grid NAME=V1,V2 or a [grid] table) or random samples")

    combos: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (group, fixed of the group, swept values)
    for sg in groups:
        gfixed = {k: _value(t, k, v) for k, v in sg.fixed.items()}
        names = list(sg.grid)
        lists = []
        for n in names:
            items = [_value(t, n, v) for v in sg.grid[n]]
            if not items:
                raise ValueError(f"grid {sg.group!r}: {n} has no values")
            lists.append(items)
        if "seed" in names:
            raise ValueError("seed: give seeds with --seeds (or 'seeds' in the file), not in the grid")
        count_ = math.prod(len(v) for v in lists) * len(seed_list)
        if count_ > MAX_RUNS and not confirm:
            raise ValueError(f"grid {sg.group!r} has {count_:,} runs (over {MAX_RUNS:,}); pass --yes to run it")
        for combo in itertools.product(*lists):
            combos.append((sg.group, gfixed, dict(zip(names, combo, strict=True))))
    if samples:
        for n in random:
            _spec(t, n)
        rng = np.random.default_rng(sample_seed)
        for _ in range(samples):
            combos.append(("random", {}, {n: _random_draw(t, n, d, rng) for n, d in random.items()}))
    total = len(combos) * len(seed_list)
    if total > MAX_RUNS and not confirm:
        raise ValueError(f"the sweep has {total:,} runs (over {MAX_RUNS:,}); pass --yes to run it")

    runs: list[Run] = []
    seen: set[str] = set()
    checked: dict[str, str] = {}
    for group, gfixed, swept in combos:
        for seed in seed_list:
            given = {**top, **gfixed, **swept, "seed": seed}
            values = {**base, **given}
            resolved = _full(t, resolve(values, given, t))
            key = _canonical(resolved)
            if key not in checked:
                try:
                    t.check(resolved)
                except ValueError as err:
                    raise ValueError(f"run {_canonical({**swept, 'seed': seed})} of group {group!r}: {err}") from None
                checked[key] = run_id(task, epochs, _identity(t, resolved), paths)
            rid = checked[key]
            if rid in seen:
                continue  # the same run in two groups (e.g. the shared default point): run it once
            seen.add(rid)
            runs.append(Run(rid, task, group, epochs, {**swept, "seed": seed}, resolved, paths))
    spec = {"task": task, "preset": preset, "epochs": epochs, "fixed": top, "seeds": seed_list,
            "grids": [{"group": sg.group, "fixed": dict(sg.fixed), "grid": {k: list(v) for k, v in sg.grid.items()}}
                      for sg in groups],
            "random": random, "samples": samples, "sample_seed": sample_seed, "paths": paths}
    return Plan(name, task, epochs, tuple(runs), json.loads(_canonical(spec)))


def load_toml(text: str) -> dict[str, Any]:
    """A sweep file's keyword arguments for :func:`make_plan` (``ValueError`` naming what is wrong).

    Keys: ``task``, ``name``, ``preset``, ``epochs``, ``seeds`` (count or list), ``samples``, ``sample_seed``,
    ``path``/``test_path`` (SHD), ``[fixed]`` (name = value), ``[grid]`` or ``[[grid]]`` tables (``group`` = name,
    an optional ``fixed`` table, and name = [values] for the swept lists), ``[random]`` (name = {dist, low, high}
    or name = [choices]).
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"the sweep file is not valid TOML: {err}") from None
    known = {"task", "name", "preset", "epochs", "seeds", "samples", "sample_seed", "path", "test_path", "fixed",
             "grid", "random"}
    extra = sorted(set(doc) - known)
    if extra:
        raise ValueError(f"unknown key {extra[0]!r} in the sweep file; known: {', '.join(sorted(known))}")
    grids = doc.get("grid", [])
    if isinstance(grids, dict):
        grids = [grids]
    subgrids = []
    for i, g in enumerate(grids):
        if not isinstance(g, dict):
            raise ValueError("grid must be a table or an array of tables")
        g = dict(g)
        group = str(g.pop("group", f"grid{i + 1}" if len(grids) > 1 else "grid"))
        gfixed = g.pop("fixed", {})
        if not isinstance(gfixed, dict):
            raise ValueError(f"grid {group!r}: fixed must be a table")
        swept = {}
        for k, v in g.items():
            if not isinstance(v, list):
                raise ValueError(f"grid {group!r}: {k} must be a list of values (put single values in 'fixed')")
            swept[k] = tuple(v)
        subgrids.append(SubGrid(group, gfixed, swept))
    random = {}
    for k, v in dict(doc.get("random", {})).items():
        random[k] = {"dist": "choice", "values": v} if isinstance(v, list) else dict(v)
    out: dict[str, Any] = {"task": doc.get("task", "classify"), "subgrids": subgrids,
                           "fixed": dict(doc.get("fixed", {})), "random": random}
    for k in ("name", "preset", "epochs", "seeds", "samples", "sample_seed"):
        if k in doc:
            out[k] = doc[k]
    paths = {k: doc[k] for k in ("path", "test_path") if k in doc}
    if paths:
        out["paths"] = paths
    return out
