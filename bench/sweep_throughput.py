"""Sweep throughput: the same fixed grid run inline (one process, one run after another), on the embedded Dask
cluster with 1 worker and with 2 workers, in the same session, alternating, each in a fresh process and store.

    .venv/bin/python bench/sweep_throughput.py                 # 3 rounds of the default grid (about 3.5 minutes)
    .venv/bin/python bench/sweep_throughput.py --rounds 1 --epochs 4 --out sweep.json

Reported per mode: runs per minute end to end (the command's wall time: imports, cluster start and stop included)
and in steady state (runs divided by the time from the first run's start to the last run's end, from the store),
median over rounds, and the speed-up of each mode over inline and of 2 workers over 1. Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sgcore.sweep.store import Store  # noqa: E402

#: The fixed grid: 3 shapes x 2 dampenings x 2 seeds = 12 runs of the classification quick preset.
GRID = ["--grid", "shape=sigmoid,superspike,exponential", "--grid", "gamma=0.5,1", "--set", "sharpness=1",
        "--seeds", "2"]
MODES = {"inline": ["--workers", "0"], "dask-1": ["--workers", "1"], "dask-2": ["--workers", "2"]}


def one(mode: str, epochs: int, folder: Path) -> dict:
    store = folder / f"{mode}-{time.monotonic_ns()}.sqlite"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sgcore", "sweep", *GRID, "--epochs", str(epochs), "--quiet",
                           "--store", str(store), *MODES[mode]], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=3600)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{mode}: the sweep failed: {proc.stderr.strip()}")
    with Store(store, read_only=True) as st:
        runs = st.runs()
    n = len(runs)
    span = max(r["finished"] for r in runs) - min(r["started"] for r in runs)
    return {"mode": mode, "runs": n, "wall_s": wall, "per_min_end_to_end": 60 * n / wall,
            "per_min_steady": 60 * n / span, "mean_run_s": statistics.fmean(r["wall_time"] for r in runs),
            "workers": len({r["worker"] for r in runs})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", default=None, help="write the rows and the summary as JSON")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = list(MODES) if r % 2 == 0 else list(reversed(MODES))
            for mode in order:
                row = one(mode, args.epochs, Path(tmp))
                row["round"] = r
                rows.append(row)
                print(f"round {r} {mode:7s} {row['runs']} runs in {row['wall_s']:6.1f} s: "
                      f"{row['per_min_end_to_end']:6.1f} runs/min end to end, {row['per_min_steady']:6.1f} steady "
                      f"(mean run {row['mean_run_s']:.2f} s on {row['workers']} worker(s))", flush=True)
    summary = {}
    for mode in MODES:
        mine = [x for x in rows if x["mode"] == mode]
        summary[mode] = {k: statistics.median(x[k] for x in mine) for k in ("per_min_end_to_end", "per_min_steady",
                                                                            "wall_s", "mean_run_s")}
    for key in ("per_min_end_to_end", "per_min_steady"):
        base, one_w, two_w = (summary[m][key] for m in ("inline", "dask-1", "dask-2"))
        summary[f"speedup_{key}"] = {"dask-1/inline": one_w / base, "dask-2/inline": two_w / base,
                                     "dask-2/dask-1": two_w / one_w}
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "summary": summary, "grid": GRID,
                                              "epochs": args.epochs}, indent=1))


if __name__ == "__main__":
    main()
