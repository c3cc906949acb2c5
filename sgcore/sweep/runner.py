"""One run of a sweep, in whatever process runs it (a Dask worker, or the driver itself).

:func:`run_one` trains one network for the run's epochs and returns a JSON-able result:
status, the final metrics, the per-epoch curves, the task's score, wall time, the worker that ran it and the code
version. An exception of the training code does not escape: the run is returned as ``failed`` with the message, and
the sweep goes on. Torch and the BLAS run single-threaded (one run per core), so a run's numbers do not depend on
where it ran.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import socket
import time
from pathlib import Path
from typing import Any

from .spec import TASKS, Run

__all__ = ["code_version", "run_one"]


@functools.cache
def code_version() -> str:
    """``<package version>+<12 hex digits of a SHA-1 of every sgcore source file>``: which code produced a result,
    with or without a git checkout."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha1()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    try:
        v = version("surrogate-gradient-explorer")
    except PackageNotFoundError:
        v = "0"
    return f"{v}+{h.hexdigest()[:12]}"


def _single_thread() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a requirement
        pass


@functools.lru_cache(maxsize=4)
def _dataset(data_json: str, path: str | None, test_path: str | None) -> Any:
    from ..classify.commands import data_for

    return data_for(json.loads(data_json), path, test_path)


def _final(values: list[float]) -> float:
    return float(values[-1]) if values else math.nan


def _classify(run: Run) -> tuple[dict[str, Any], dict[str, list[float]]]:
    from ..classify.config import DATA_PARAMS, ClassifyConfig
    from ..classify.trainer import Classifier

    data_names = {p.name for p in DATA_PARAMS}
    data_values = {k: v for k, v in run.values.items() if k in data_names}
    data = _dataset(json.dumps(data_values, sort_keys=True), run.paths.get("path"), run.paths.get("test_path"))
    cfg = ClassifyConfig.from_mapping(run.values)
    clf = Classifier(cfg, data, history_cap=run.epochs + 1)
    clf.step(run.epochs)
    h = clf.history
    curves = {k: [float(v) for v in h[k]] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                                  "active_fraction")}
    if cfg.stochastic:
        curves["fano_1"] = [float(v) for v in h["fano_1"]]
    metrics: dict[str, Any] = {
        "train_accuracy": _final(curves["train_accuracy"]), "val_accuracy": _final(curves["val_accuracy"]),
        "best_val_accuracy": max((v for v in curves["val_accuracy"] if math.isfinite(v)), default=math.nan),
        "train_loss": _final(curves["train_loss"]), "val_loss": _final(curves["val_loss"]),
        "active_fraction": _final(curves["active_fraction"]),
        "epochs_per_second": run.epochs / h.seconds[-1] if h.seconds and h.seconds[-1] > 0 else math.nan,
    }
    if "test" in data.split and data.split["test"].size:
        metrics["test_accuracy"] = clf.evaluate("test")["accuracy"]
    if cfg.init != "fluctuation" or cfg.conditions != "none":
        metrics["init"] = clf.initialisation()  # the scheme, and what conditions I-IV set
    return metrics, curves


def _spiketrain(run: Run) -> tuple[dict[str, Any], dict[str, list[float]]]:
    from ..snn.config import TrainConfig
    from ..snn.inputs import default_target
    from ..snn.trainer import Trainer

    cfg = TrainConfig.from_mapping(run.values)
    tr = Trainer(cfg, default_target(cfg.n_out, cfg.n_steps), history_cap=run.epochs + 1)
    tr.step(run.epochs)
    h = tr.history
    curves = {k: [float(v) for v in h[k]] for k in ("l2", "van_rossum", "active_fraction")}
    if cfg.network == "stochastic":
        curves["fano_hidden"] = [float(v) for v in h["fano_hidden"]]
        curves["fano_output"] = [float(v) for v in h["fano_output"]]
    metrics = {"l2": _final(curves["l2"]), "van_rossum": _final(curves["van_rossum"]),
               "best_van_rossum": min((v for v in curves["van_rossum"] if math.isfinite(v)), default=math.nan),
               "active_fraction": _final(curves["active_fraction"]),
               "epochs_per_second": run.epochs / h.seconds[-1] if h.seconds and h.seconds[-1] > 0 else math.nan}
    return metrics, curves


_TRAIN = {"classify": _classify, "spiketrain": _spiketrain}


def run_one(run: Run) -> dict[str, Any]:
    """Train ``run`` and return its result (``status`` "done" or "failed" with ``error``; never raises for an
    error of the run itself)."""
    _single_thread()
    started, t0 = time.time(), time.perf_counter()
    out: dict[str, Any] = {"run_id": run.run_id, "worker": f"{socket.gethostname()}:{os.getpid()}",
                           "code_version": code_version(), "started": started}
    try:
        metrics, curves = _TRAIN[run.task](run)
    except Exception as err:  # noqa: BLE001 - any error of one run is recorded, and the sweep goes on
        out.update(status="failed", error=f"{type(err).__name__}: {err}", metrics={}, curves={}, score=None)
    else:
        score = metrics.get(TASKS[run.task].score)
        out.update(status="done", error=None, metrics=metrics, curves=curves, score=score)
    out["wall_time"] = time.perf_counter() - t0
    return out
