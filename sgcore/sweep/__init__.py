"""Sensitivity sweeps (Herranz-Celotti & Rouat Figs. 3-5): grids of training runs on Dask, persisted and resumable.

* :mod:`.spec`: the tasks, their sweepable parameters and the plan of runs (:func:`make_plan`, :func:`load_toml`);
* :mod:`.runner`: one run, in any process (:func:`run_one`);
* :mod:`.store`: the SQLite results store (:class:`Store`);
* :mod:`.execute`: running a plan on a Dask cluster, or inline (:func:`execute`);
* :mod:`.commands`: ``python -m sgcore sweep``.
"""

from .execute import Progress, Summary, execute
from .runner import run_one
from .spec import MAX_RUNS, TASKS, Plan, Run, SubGrid, Task, load_toml, make_plan
from .store import Store

__all__ = ["MAX_RUNS", "TASKS", "Plan", "Progress", "Run", "Store", "SubGrid", "Summary", "Task", "execute",
           "load_toml", "make_plan", "run_one"]
