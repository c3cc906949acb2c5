"""The results store: one SQLite file per study, written as each run finishes.

Why SQLite: it is in Python's standard library (no new dependency for a researcher's machine or a Dask worker), the
store is one file that ships inside the package and opens anywhere, and every run is committed in one transaction
(its row and its per-epoch curves together), so killing a sweep at any moment leaves every finished run complete and
no run half-written. Only the process driving the sweep writes; pages and notebooks read (``read_only=True``) while
it runs. DuckDB would add a dependency for no gain at these sizes (thousands of rows); Parquet files cannot be
appended to one run at a time without one file per run.

Tables: ``meta`` (schema version), ``sweeps`` (one row per named sweep: task, its spec as JSON, code version),
``runs`` (one row per run: ids, group, task, the varied ``params`` and all resolved ``config`` values as JSON, seed,
epochs, status ``done``/``failed``, error, ``metrics`` as JSON, the task's ``score``, wall time, worker, code
version, start and finish times) and ``curves`` (run_id, epoch, metric, value).
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sweeps (
    sweep TEXT PRIMARY KEY, task TEXT NOT NULL, spec TEXT NOT NULL, created REAL NOT NULL, code_version TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, sweep TEXT NOT NULL, grp TEXT NOT NULL, task TEXT NOT NULL,
    params TEXT NOT NULL, config TEXT NOT NULL, seed INTEGER, epochs INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')), error TEXT,
    metrics TEXT NOT NULL, score REAL, wall_time REAL, worker TEXT, code_version TEXT,
    started REAL, finished REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS curves (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, epoch INTEGER NOT NULL, metric TEXT NOT NULL,
    value REAL, PRIMARY KEY (run_id, metric, epoch)
);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep);
"""


def _num(x: Any) -> float | None:
    """A float for SQLite (NaN and inf stored as NULL: SQLite has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _json(obj: Any) -> str:
    def clean(o: Any) -> Any:
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [clean(v) for v in o]
        if hasattr(o, "item"):  # NumPy scalars
            return clean(o.item())
        return o

    return json.dumps(clean(obj), sort_keys=True)


class Store:
    """A results store at ``path`` (created on first write). ``read_only=True`` opens an existing file without
    ever writing to it (``ValueError`` if it is missing or not a store)."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            if not self.path.is_file():
                raise ValueError(f"store: no results file at {self.path}")
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA synchronous = FULL")
        try:
            if read_only:
                tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if not {"meta", "sweeps", "runs", "curves"} <= tables:
                    raise ValueError(f"store: {self.path} is not a sweep results store (tables missing)")
            else:
                with self._db:
                    self._db.executescript(_SCHEMA)
                    self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            version = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version is None or int(version[0]) != SCHEMA_VERSION:
                raise ValueError(f"store: {self.path} has schema {version and version[0]}, this code reads "
                                 f"{SCHEMA_VERSION}")
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise ValueError(f"store: {self.path} is not a sweep results store ({err})") from None
        except ValueError:
            self._db.close()
            raise

    # -- writing ---------------------------------------------------------------------------------------------------
    def add_sweep(self, name: str, task: str, spec: Mapping[str, Any], code_version: str) -> None:
        """Record a sweep's description (kept from its first start: a resumed sweep keeps its row)."""
        with self._db:
            self._db.execute("INSERT OR IGNORE INTO sweeps VALUES (?, ?, ?, ?, ?)",
                             (name, task, _json(spec), time.time(), code_version))

    def record(self, sweep: str, run: Any, result: Mapping[str, Any]) -> None:
        """Write one finished run (its row and its curves, in one transaction); a run recorded before (e.g. a failed
        run retried) is replaced."""
        curves = result.get("curves", {})
        rows = [(run.run_id, int(e), str(m), _num(v)) for m, values in curves.items()
                for e, v in enumerate(values)]
        with self._db:
            self._db.execute("DELETE FROM runs WHERE run_id = ?", (run.run_id,))
            self._db.execute("DELETE FROM curves WHERE run_id = ?", (run.run_id,))
            self._db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.run_id, sweep, run.group, run.task, _json(run.params), _json(run.values),
                 run.params.get("seed"), run.epochs, result["status"], result.get("error"),
                 _json(result.get("metrics", {})), _num(result.get("score")), _num(result.get("wall_time")),
                 result.get("worker"), result.get("code_version"), result.get("started"), time.time()))
            self._db.executemany("INSERT INTO curves VALUES (?, ?, ?, ?)", rows)

    # -- reading ---------------------------------------------------------------------------------------------------
    def finished(self, include_failed: bool = True) -> set[str]:
        """Ids of the runs recorded (done, and failed unless ``include_failed`` is False)."""
        sql = "SELECT run_id FROM runs" + ("" if include_failed else " WHERE status = 'done'")
        return {r[0] for r in self._db.execute(sql)}

    def sweeps(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT sweep, task, spec, created, code_version FROM sweeps ORDER BY created")
        return [{"sweep": s, "task": t, "spec": json.loads(sp), "created": c, "code_version": v}
                for s, t, sp, c, v in rows]

    def runs(self, sweep: str | None = None) -> list[dict[str, Any]]:
        """Every run as a dict (JSON columns decoded), in the order they finished."""
        sql = ("SELECT run_id, sweep, grp, task, params, config, seed, epochs, status, error, metrics, score, "
               "wall_time, worker, code_version, started, finished FROM runs")
        args: tuple[Any, ...] = ()
        if sweep is not None:
            sql += " WHERE sweep = ?"
            args = (sweep,)
        out = []
        for r in self._db.execute(sql + " ORDER BY finished", args):
            (rid, sw, grp, task, params, config, seed, epochs, status, error, metrics, score, wall, worker, code,
             started, finished) = r
            out.append({"run_id": rid, "sweep": sw, "group": grp, "task": task, "params": json.loads(params),
                        "config": json.loads(config), "seed": seed, "epochs": epochs, "status": status,
                        "error": error, "metrics": json.loads(metrics), "score": score, "wall_time": wall,
                        "worker": worker, "code_version": code, "started": started, "finished": finished})
        return out

    def curves(self, run_ids: Iterable[str]) -> dict[str, dict[str, list[float | None]]]:
        """run_id -> metric -> values per epoch."""
        ids = list(run_ids)
        out: dict[str, dict[str, list[float | None]]] = {i: {} for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            q = ",".join("?" * len(chunk))
            for rid, m, v in self._db.execute(f"SELECT run_id, metric, value FROM curves WHERE run_id IN ({q}) "
                                              f"ORDER BY run_id, metric, epoch", chunk):
                out[rid].setdefault(m, []).append(v)
        return out

    def counts(self) -> dict[str, int]:
        """Runs per status."""
        return dict(self._db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
