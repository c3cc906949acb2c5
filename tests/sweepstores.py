"""Small sweep results stores written run by run with known numbers, for the analysis, figure and page tests.

:func:`hc_store` writes HC's three studies in miniature (Figs. 3-5) with scores chosen by hand, two seeds each, and
one failed run; :data:`HC_SCORES` holds the seed-0 scores (seed 1 scores 0.02 more), so a test can compute every mean
and spread itself. The ``init`` and ``conditions`` parameters appear as run params, as a sweep over them records them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sgcore.shapes import SHAPES
from sgcore.sweep.spec import Run
from sgcore.sweep.store import Store

SWEEP = "hc_test"
EPOCHS = 3
SEEDS = (0, 1)
SEED_STEP = 0.02  # seed 1 scores this much more than seed 0
FAILED_ERROR = "RuntimeError: the loss became NaN at epoch 2"

#: group -> list of (params without seed, config extras, seed-0 validation accuracy)
HC_SCORES: dict[str, list[tuple[dict[str, Any], dict[str, Any], float]]] = {
    "dampening": [({"shape": shape, "gamma": g}, {}, score)
                  for shape, scores in (("sigmoid", (0.70, 0.80, 0.60)), ("superspike", (0.75, 0.78, 0.50)))
                  for g, score in zip((0.1, 1.0, 10.0), scores, strict=True)],
    "tail": [({"q": q}, {"shape": "q_pseudospike", "gamma": 1.0}, score)
             for q, score in ((1.05, 0.83), (2.0, 0.79), (8.0, 0.74))],
    "init": [({"shape": shape, "init": init}, {"gamma": 1.0}, score)
             for shape, scores in (("sigmoid", (0.80, 0.66)), ("exponential", (0.77, 0.40)))
             for init, score in zip(("glorot_uniform", "he_normal"), scores, strict=True)],
    "conditions": [({"conditions": c}, {"shape": "exponential", "gamma": 1.0}, score)
                   for c, score in (("none", 0.70), ("II", 0.76), ("I", 0.68), ("I+II+III+IV", 0.82))],
}
#: The failed run: (group, params without seed, seed).
FAILED = ("dampening", {"shape": "superspike", "gamma": 10.0}, 1)


def _config(params: dict[str, Any], extra: dict[str, Any], seed: int) -> dict[str, Any]:
    shape = params.get("shape", extra.get("shape", "superspike"))
    cfg = {"shape": shape, "beta_sg": 1.0 / SHAPES[shape].beta_to_s, "scale": "gamma", "lr": 0.01, "seed": seed,
           **extra, **params}
    return cfg


def record(st: Store, group: str, params: dict[str, Any], config: dict[str, Any], seed: int, *,
           score: float | None, status: str = "done", error: str | None = None, task: str = "classify",
           epochs: int = EPOCHS, sweep: str = SWEEP, code: str = "0+test") -> str:
    """Write one run; its metrics and curves follow from ``score`` (test accuracy 0.05 below it). Returns its id."""
    rid = f"{group}-{'-'.join(f'{k}{v}' for k, v in sorted(params.items()))}-s{seed}"
    run = Run(rid, task, group, epochs, {**params, "seed": seed}, config)
    if status == "done":
        metrics = {"val_accuracy": score, "best_val_accuracy": score, "test_accuracy": score - 0.05,
                   "train_accuracy": score + 0.05, "val_loss": 1.0 - score, "train_loss": 0.9 - score,
                   "active_fraction": 0.5, "epochs_per_second": 10.0}
        curves = {"val_accuracy": [score * (e + 1) / epochs for e in range(epochs)],
                  "val_loss": [1.0 - score * (e + 1) / epochs for e in range(epochs)]}
    else:
        metrics, curves = {}, {}
    st.record(sweep, run, {"status": status, "error": error, "metrics": metrics, "curves": curves,
                           "score": score if status == "done" else None, "wall_time": 1.5, "worker": "test:1",
                           "code_version": code, "started": 0.0})
    return rid


def hc_store(path: str | Path) -> Path:
    """Write the miniature HC store at ``path`` (see the module doc) and return its path."""
    path = Path(path)
    with Store(path) as st:
        st.add_sweep(SWEEP, "classify", {"note": "written by tests/sweepstores.py"}, "0+test")
        for group, rows in HC_SCORES.items():
            for params, extra, score in rows:
                for seed in SEEDS:
                    failed = (group, params, seed) == FAILED
                    record(st, group, params, _config(params, extra, seed), seed,
                           score=None if failed else score + SEED_STEP * seed,
                           status="failed" if failed else "done", error=FAILED_ERROR if failed else None)
    return path


def empty_store(path: str | Path) -> Path:
    """A store with its tables and no run (a sweep that never got going)."""
    path = Path(path)
    with Store(path):
        pass
    return path
