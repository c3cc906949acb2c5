"""The classification page's declared link parameters, presets and the split of its settings, built from the
classifier's own specs (:mod:`sgcore.classify.config`).

Both networks share every setting but the spike rule (Table 2 trains them alike): a link carries each once. The
data's settings and :data:`sgcore.classify.trainer.FIXED` rebuild both networks (new weights); every other
setting applies to the running networks mid-run. A learning rate is linked as one of its select slider's options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from .classify.config import CLASSIFY_PARAMS, CLASSIFY_PRESETS, DATA_PARAMS
from .classify.trainer import FIXED
from .initschemes import Conditions
from .params import ParamSpec
from .training_page import lr_link_spec

__all__ = ["ALL_SPECS", "DATA", "MID_RUN", "NETWORKS", "NET", "PAGE_PRESETS", "REBUILD", "conditions_text",
           "page_values"]

NETWORKS = ("deterministic", "stochastic")
_DEFAULT_DATA, _DEFAULT_NET = CLASSIFY_PRESETS["quick"]
#: The data's parameters, with the quick demo's values as defaults.
DATA: dict[str, ParamSpec] = {p.name: replace(p, default=_DEFAULT_DATA.get(p.name, p.default)) for p in DATA_PARAMS}
#: The networks' shared parameters (all but the spike rule), with the quick demo's values as defaults.
#: (``localzo_alpha`` stays at its default, as on the training page: the backward record offers no control for it.)
NET: dict[str, ParamSpec] = {p.name: replace(p, default=_DEFAULT_NET.get(p.name, p.default))
                             for p in CLASSIFY_PARAMS if p.name not in ("network", "localzo_alpha")}
#: Network settings that rebuild both networks when they change (new weights).
REBUILD = tuple(name for name in FIXED if name != "network")
#: Settings the running networks take mid-run.
MID_RUN = tuple(name for name in NET if name not in REBUILD)
#: Every key a link may carry on the page, as the page checks them.
ALL_SPECS: tuple[ParamSpec, ...] = (*DATA.values(), *(lr_link_spec(s) if s.name == "lr" else s for s in NET.values()))


def page_values(name: str) -> dict[str, Any]:
    """The page's values of the classifier preset ``name`` (data and networks in one mapping)."""
    data, net = CLASSIFY_PRESETS[name]
    return {**data, **net}


PAGE_PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {"Randman quick demo": page_values("quick"), "Paper Fig. S1 (Randman)": page_values("fig_s1"),
     "Paper Fig. 7 (SHD, local)": page_values("fig7_shd"), "Fig. S2C: diff. reset": page_values("s2c_diff_reset"),
     "Fig. S2C: scaled sigmoid SG": page_values("s2c_scaled_sigmoid"),
     "Fig. S2C: sigmoid SG, β = 1": page_values("s2c_sigmoid_beta1")})


def conditions_text(cond: Conditions) -> str:
    """What Conditions I-IV set in a built network, as the page states it under the controls."""
    parts = []
    if "I" in cond.applied or "II" in cond.applied:
        parts.append(f"recurrent weights V drawn with mean {cond.mean_w_rec:.4g} and variance {cond.var_w_rec:.4g}")
    if cond.gamma is not None:
        parts.append(f"the SD is {cond.shape} with scaling gamma, dampening γ = {cond.gamma:.4g} and sharpness "
                     f"s = {cond.sharpness:.4g} (β_SG = {cond.beta_sg:.4g}), in place of the backward settings")
    return f"Conditions {cond.name} (Herranz-Celotti & Rouat Sec. 2.6): " + "; ".join(parts) + "."
