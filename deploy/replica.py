"""Start one production replica: import the heavy libraries first, then hand over to ``streamlit run``.

    python deploy/replica.py app.py [streamlit run flags ...]

Why: Streamlit runs every session's script in its own thread, and the app imports pandas (through plotly),
scipy, torch and its figure modules lazily on the first run. When a whole class opens the app at once on a
fresh replica, several threads race through the same first import, and one of them can see a partially
initialised module (observed in the load test: ``AttributeError: partially initialized module 'pandas' has
no attribute 'Series'``). Importing everything here, in the main thread before the server starts, removes
the race and makes /_stcore/health answer only once a replica is really ready (readiness probes and
scripts/serve.sh wait on it). Used by scripts/serve.sh and deploy/Dockerfile.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import time
from pathlib import Path

#: Imported before the server starts, in this order (a missing optional one is skipped).
PRELOAD = (
    "numpy", "scipy.special", "scipy.stats", "scipy.integrate", "scipy.optimize", "pandas", "PIL.Image", "torch",
    "plotly.graph_objects", "plotly.io", "_plotly_utils.basevalidators",
    "sgcore", "sgcore.figures", "sgcore.figures.escape", "sgcore.figures.signflip", "sgcore.figures.loop",
    "sgcore.figures.localzo", "sgcore.figures.estimators", "sgcore.figures.design", "sgcore.figures.training",
    "sgcore.snn", "sgcore.targets", "sgcore.estimators", "sgcore.design", "sgcore.localzo", "sgcore.loop",
    "sgcore.signflip", "sgcore.escape", "sgcore.classify", "sgcore.classify.trainer", "sgcore.figures.classify",
)


def preload(names: tuple[str, ...] = PRELOAD) -> list[str]:
    """Import ``names``; returns those that could not be imported (reported, not fatal)."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    try:
        import torch

        torch.set_num_threads(1)  # as OMP_NUM_THREADS=1: one replica = one core
    except ImportError:
        pass
    # The libraries' millions of long-lived objects leave the collector's generations: the automatic full
    # collections that still happen (runner.postScriptGC is off) then scan only what sessions allocate.
    gc.collect()
    gc.freeze()
    return missing


def main(argv: list[str]) -> int:
    if not argv or not argv[0].endswith(".py"):
        print("usage: python deploy/replica.py app.py [streamlit run flags ...]", file=sys.stderr)
        return 2
    os.environ.setdefault("SGE_HOSTED", "1")  # a hosted replica: pages offer no server-side files (SHD)
    root = Path(argv[0]).resolve().parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # the app's own packages (sgcore, sgapp), as `streamlit run` does
    start = time.perf_counter()
    missing = preload()
    print(f"replica: preloaded libraries in {time.perf_counter() - start:.1f} s"
          + (f" (not found: {', '.join(missing)})" if missing else ""), file=sys.stderr, flush=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
