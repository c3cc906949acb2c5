"""The surrogate-design page's declared link parameters and presets, built from the design library's specs.

The page has two panels with overlapping names: the design controls keep their names, the initialisation
calculator's are prefixed ``i_``. A calculator value the paper derives when left out gets an ``i_set_<name>``
switch; off, the value is derived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from .design import DESIGN_PARAMS, INIT_PARAMS, PRESETS, OptionalSpec
from .params import ParamSpec

__all__ = ["ALL_SPECS", "IN", "OPTIONAL", "PAGE_PRESETS", "PREFIX", "SET", "calculator_values", "page_preset"]

PREFIX = "i_"  # the calculator's widgets share names with the design controls: prefix them in the URL
IN = {p.name: replace(p, name=PREFIX + p.name, default=p.fallback if isinstance(p, OptionalSpec) else p.default)
      for p in INIT_PARAMS}
OPTIONAL = tuple(p.name for p in INIT_PARAMS if isinstance(p, OptionalSpec))
SET = {name: ParamSpec(f"{PREFIX}set_{name}", f"Set {IN[name].label}", False, kind="bool",
                       help="Off: derived as the paper does (see the table of derived values).") for name in OPTIONAL}
#: Every key a link may carry on the page, as the page checks them.
ALL_SPECS: tuple[ParamSpec, ...] = (*DESIGN_PARAMS, *IN.values(), *SET.values())


def calculator_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The calculator's InitConfig fields from the page's link values: ``i_``-prefixed keys, and a derived value
    only where its ``i_set_<name>`` switch is on (off: left out, so the calculator derives it)."""
    out = {k[len(PREFIX):]: v for k, v in values.items() if k.startswith(PREFIX) and not k.startswith(PREFIX + "set_")}
    for name in OPTIONAL:
        if not values.get(f"{PREFIX}set_{name}", False):
            out.pop(name, None)
    return out


def page_preset(key: str) -> dict[str, Any]:
    """The page's values of the paper setting ``key`` (a key of :data:`sgcore.design.PRESETS`)."""
    p = PRESETS[key]
    if p["page"] == "design":
        return dict(p["values"])
    return {PREFIX + k: v for k, v in p["values"].items()} | {f"{PREFIX}set_{k}": True for k in p["values"]
                                                              if k in OPTIONAL}


PAGE_PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "sl-MNIST: exponential, γ = s = 1": page_preset("slmnist_exponential"),
    "sl-MNIST: q-PseudoSpike q = 1.05": page_preset("slmnist_q1.05"),
    "sl-MNIST: q = 2 (fast sigmoid)": page_preset("slmnist_q2"),
    "SHD LIF, layer 2 (calculator)": page_preset("shd_lif_layer2"),
})
