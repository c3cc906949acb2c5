"""``python -m sgcore sweep``: a grid (and random samples) of training runs on Dask, persisted and resumable.

Examples::

    python -m sgcore sweep --grid shape=sigmoid,exponential --grid gamma=0.5,1,2 --set sharpness=1 --seeds 2 \\
        --epochs 10 --store results.sqlite
    python -m sgcore sweep --config sgcore/sweep/examples/hc_randman.toml --store hc.sqlite
    python -m sgcore sweep --config my.toml --scheduler tcp://10.0.0.5:8786      # an existing Dask cluster
    python -m sgcore sweep --config my.toml --dry-run                            # list the runs, run nothing

The same arguments again resume: finished runs are skipped (``--retry-failed`` runs failed ones again). A progress
line goes to stderr; the summary is printed as one JSON object.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ..params import cli_type, count
from .spec import TASKS, SubGrid, load_toml, make_plan, parse_assignment, parse_random

__all__ = ["run_sweep", "sweep_arguments"]


def sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="a sweep file (TOML: task, epochs, seeds, [fixed], [grid] or "
                                                    "[[grid]] tables, [random]); options below add to it")
    p.add_argument("--task", choices=tuple(TASKS), default=None,
                   help="classify (Randman or SHD; default) or spiketrain (Fig. 6's target raster)")
    p.add_argument("--preset", default=None, help="classify: the preset the runs start from (default quick)")
    p.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                   help="a swept parameter and its values (repeat: the grid is their product)")
    p.add_argument("--set", action="append", default=[], dest="fixed", metavar="NAME=VALUE",
                   help="a value every run uses (repeat)")
    p.add_argument("--random", action="append", default=[], metavar="NAME=KIND:ARGS",
                   help="a randomly sampled parameter: uniform:LOW:HIGH, loguniform:LOW:HIGH, int:LOW:HIGH or "
                        "choice:A|B|C (with --samples)")
    p.add_argument("--samples", type=cli_type(count, "samples", 1, 10_000), default=None, metavar="N",
                   help="random samples to draw (each run for every seed)")
    p.add_argument("--sample-seed", type=cli_type(count, "sample-seed", 0, 2**32 - 1), default=None, metavar="S",
                   help="seed of the random samples (default 0: the same draws on a restart)")
    p.add_argument("--seeds", default=None, metavar="N|S1,S2",
                   help="training seeds: a count N (0..N-1) or a comma-separated list (default 1)")
    p.add_argument("--epochs", type=cli_type(count, "epochs", 1, 100_000), default=None, metavar="N",
                   help="epochs per run (default 10)")
    p.add_argument("--name", default=None, help="the sweep's name in the store (default: the file's or 'sweep')")
    p.add_argument("--store", default="sweep.sqlite", metavar="FILE",
                   help="the SQLite results store (created if missing; default sweep.sqlite)")
    p.add_argument("--workers", type=cli_type(count, "workers", 0, 1024), default=None, metavar="N",
                   help="embedded Dask cluster size (default: one per core); 0 runs inline in this process")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run on an existing Dask cluster instead of an embedded one")
    p.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    p.add_argument("--dry-run", action="store_true", help="print the runs (and which are done), run nothing")
    p.add_argument("--yes", action="store_true", help=f"allow more than {10_000:,} runs")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--path", default=None, metavar="FILE", help="classify with dataset=shd: the SHD training file")
    p.add_argument("--test-path", default=None, metavar="FILE", help="classify with dataset=shd: the SHD test file")


def _plan_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise ValueError(f"config: no file {args.config}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"config: cannot read {args.config} ({err})") from None
        kw = load_toml(text)
        kw.setdefault("name", path.stem)
    if args.task:
        kw["task"] = args.task
    if args.preset:
        kw["preset"] = args.preset
    fixed = dict(kw.get("fixed", {}))
    for text in args.fixed:
        name, values = parse_assignment(text)
        if len(values) != 1:
            raise ValueError(f"--set {name}: one value (use --grid for several); got {text!r}")
        fixed[name] = values[0]
    kw["fixed"] = fixed
    if args.grid:
        grid: dict[str, tuple[str, ...]] = {}
        for text in args.grid:
            name, values = parse_assignment(text)
            if name in grid:
                raise ValueError(f"--grid {name} is given twice")
            grid[name] = tuple(values)
        kw["subgrids"] = [*kw.get("subgrids", []), SubGrid("grid", {}, grid)]
    if args.random:
        random = dict(kw.get("random", {}))
        for text in args.random:
            name, dist = parse_random(text)
            random[name] = dist
        kw["random"] = random
    if args.samples is not None:
        kw["samples"] = args.samples
    if args.sample_seed is not None:
        kw["sample_seed"] = args.sample_seed
    if args.seeds is not None:
        text = args.seeds.strip()
        if "," in text:
            kw["seeds"] = [s.strip() for s in text.split(",")]
        else:
            kw["seeds"] = count("seeds", text, 1, 1000)
    if args.epochs is not None:
        kw["epochs"] = args.epochs
    if args.name:
        kw["name"] = args.name
    paths = dict(kw.get("paths", {}))
    if args.path:
        paths["path"] = args.path
    if args.test_path:
        paths["test_path"] = args.test_path
    kw["paths"] = paths
    kw.setdefault("task", "classify")
    return kw


def run_sweep(args: argparse.Namespace) -> dict[str, Any]:
    kw = _plan_kwargs(args)
    plan = make_plan(confirm=args.yes, **kw)
    if args.scheduler and args.workers is not None:
        raise ValueError("--workers sizes the embedded cluster; it cannot be combined with --scheduler")
    if args.dry_run:
        done: set[str] = set()
        if Path(args.store).is_file():
            from .store import Store

            with Store(args.store, read_only=True) as st:
                done = st.finished()
        return {"sweep": plan.name, "task": plan.task, "epochs": plan.epochs, "runs": len(plan.runs),
                "already_in_store": sum(r.run_id in done for r in plan.runs), "store": args.store,
                "plan": [{"run_id": r.run_id, "group": r.group, "params": dict(r.params),
                          "in_store": r.run_id in done} for r in plan.runs]}
    from .execute import Progress, execute

    progress = None if args.quiet else Progress(len(plan.runs), 0)
    summary = execute(plan, args.store, workers=args.workers, scheduler=args.scheduler,
                      retry_failed=args.retry_failed, progress=progress)
    from .store import Store

    planned = {r.run_id for r in plan.runs}
    with Store(args.store, read_only=True) as st:
        runs = [r for r in st.runs() if r["run_id"] in planned]
    task = TASKS[plan.task]
    scored = [r for r in runs if r["status"] == "done" and r["score"] is not None and math.isfinite(r["score"])]
    best = (max if task.higher_is_better else min)(scored, key=lambda r: r["score"]) if scored else None
    return {"sweep": plan.name, "task": plan.task, "store": args.store, "runs": summary.total,
            "skipped": summary.skipped, "done_now": summary.done, "failed_now": summary.failed,
            "failed_total": sum(r["status"] == "failed" for r in runs), "seconds": summary.seconds,
            "runs_per_minute": summary.runs_per_minute, "workers": summary.workers, "scheduler": summary.scheduler,
            "score": task.score, "best": None if best is None else
            {"run_id": best["run_id"], "group": best["group"], "params": best["params"], "score": best["score"]}}
