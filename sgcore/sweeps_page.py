"""The Sweeps page's declared link parameters, presets and tabs (no Streamlit).

A link carries where the results come from (``store``: the bundled example, a file on the server, or an upload; the
file's path and the upload's bytes never go into a link), the axis of the sensitivity plot (``axis``: HC's γ, s, q
first, then any numeric parameter a sweep can vary) and what the error bars span (``spread``). The open tab is in the
link too (``tab``, Streamlit's own binding of the tabs).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .params import ParamSpec
from .sweep.spec import HC_AXES, SPREADS, TASKS

__all__ = ["ALL_SPECS", "AXIS", "PAGE_PRESETS", "SOURCES", "SPREAD", "STORE", "TABS", "axis_choices"]

#: Where the results come from (the link's values, shown as they are: a bound select box writes what it shows),
#: and what each means.
SOURCES: Mapping[str, str] = MappingProxyType({"example": "the bundled example sweep",
                                               "file": "a store file on this computer (local use only)",
                                               "upload": "an uploaded store file"})
#: The page's tabs, in order (their labels are what the link's ``tab`` carries).
TABS = ("Sensitivity (Fig. 3)", "Shape × initialisation (Fig. 4)", "Conditions I–IV (Fig. 5)",
        "Runs and learning curves", "Run a sweep")


def axis_choices() -> tuple[str, ...]:
    """Every axis a sensitivity plot may have: HC's three, then each task's numeric sweepable parameters, and the
    number of epochs (the seed is never an axis)."""
    names = [*HC_AXES]
    for task in TASKS.values():
        names += [s.name for s in task.specs.values() if s.kind in ("float", "int") and s.name != "seed"]
    return tuple(dict.fromkeys([*names, "epochs"]))


STORE = ParamSpec("store", "Results store", "example", kind="choice", choices=tuple(SOURCES),
                  help="The bundled example sweep, a store file on this computer (local use only), or an uploaded "
                       "store file (.sqlite, made by `python -m sgcore sweep --store FILE`).")
AXIS = ParamSpec("axis", "Against", "gamma", kind="choice", choices=axis_choices(),
                 help="The swept parameter on the x axis: dampening γ, sharpness s, tail fatness q (HC Fig. 3), or any "
                      "other numeric parameter the store varies.")
SPREAD = ParamSpec("spread", "Error bars over seeds", "std", kind="choice", choices=tuple(SPREADS),
                   help="What the bars around each mean span: ± one standard deviation over seeds (as HC report), "
                        "± one standard error of the mean, or the minimum to the maximum.")
#: Every key a link may carry on the page, as the page checks them.
ALL_SPECS: tuple[ParamSpec, ...] = (STORE, AXIS, SPREAD)

#: The paper's Fig. 3 panels on the bundled example (a preset sets every key: these also choose the example).
PAGE_PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "Fig. 3 left: dampening γ": MappingProxyType({"store": "example", "axis": "gamma"}),
    "Fig. 3 centre: sharpness s": MappingProxyType({"store": "example", "axis": "sharpness"}),
    "Fig. 3 right: tail fatness q": MappingProxyType({"store": "example", "axis": "q"}),
})
