"""The live-training page's declared link parameters and presets, built from the trainer's own specs.

The page trains two networks side by side: the options both share keep the trainer's names, the ones each network
has for itself are prefixed (``det_``, ``sto_``), the single-neuron panel's are prefixed ``lif_``. A learning rate
is linked as one of its select slider's options, written as the slider writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from .params import ParamSpec
from .snn import LIF_TRACE_PARAMS, PRESETS, TRAIN_PARAMS, InitFluctuation
from .targets import TARGETS

__all__ = ["ALL_SPECS", "DEFAULT", "FIXED", "LIF", "LR_OPTIONS", "LR_TEXTS", "NETWORKS", "NET_SPECS", "PAGE_PRESETS",
           "PER_NET", "PREFIX", "SHARED", "SPECS", "TARGET", "fluctuation_rows", "lr_link_spec", "page_preset"]

_T = {p.name: p for p in TRAIN_PARAMS}
NETWORKS = ("deterministic", "stochastic")
PREFIX = {"deterministic": "det_", "stochastic": "sto_"}
#: Shared by both networks; changing a FIXED one rebuilds them (new weights), the others apply mid-run.
FIXED = ("n_in", "n_hidden", "n_out", "n_steps", "input_rate", "init", "seed")
SHARED = (*FIXED, "reset", "backprop_reset", "optimizer", "backward", "localzo_dist", "localzo_delta", "localzo_m",
          "sparse_threshold")
#: Per network (prefixed det_ / sto_ in the URL): the paper gives the two networks different SDs and rates.
PER_NET = {"deterministic": ("shape", "q", "beta_sg", "lr", "hidden_lr_factor"),
           "stochastic": ("trials", "shape", "q", "beta_sg", "match_escape", "beta_hid", "beta_out", "lr",
                          "hidden_lr_factor")}
DEFAULT = "quick"  # the page opens on settings that learn visibly within seconds
LR_OPTIONS = (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2)
LR_TEXTS = tuple(f"{v:g}" for v in LR_OPTIONS)


def _spec(name: str, net: str | None) -> ParamSpec:
    base = _T[name]
    if net is None:
        return replace(base, default=PRESETS[DEFAULT]["deterministic"].get(name, base.default))
    return replace(base, name=PREFIX[net] + name, default=PRESETS[DEFAULT][net].get(name, base.default))


def lr_link_spec(spec: ParamSpec) -> ParamSpec:
    """What a link may carry for a learning rate: one of the select slider's options, as it writes them."""
    return ParamSpec(spec.name, spec.label, f"{spec.default:g}", kind="choice", choices=LR_TEXTS, widget="select")


def page_preset(name: str) -> dict[str, Any]:
    """The page's values of the trainer preset ``name`` (a key of :data:`sgcore.snn.PRESETS`), prefixed per network."""
    out = {k: v for k, v in PRESETS[name]["deterministic"].items() if k in SHARED}
    for net, names in PER_NET.items():
        out |= {PREFIX[net] + k: v for k, v in PRESETS[name][net].items() if k in names}
    return out


SPECS = {name: _spec(name, None) for name in SHARED}
NET_SPECS = {net: {name: _spec(name, net) for name in names} for net, names in PER_NET.items()}
LIF = {p.name: replace(p, name="lif_" + p.name) for p in LIF_TRACE_PARAMS if p.name != "reset"}  # both resets shown
TARGET = ParamSpec("target", "Target picture", next(iter(TARGETS)), kind="choice", choices=(*TARGETS, "upload"))
#: Every key a link may carry on the page, as the page checks them.
ALL_SPECS: tuple[ParamSpec, ...] = (
    TARGET, *SPECS.values(),
    *(lr_link_spec(s) if s.name.endswith("_lr") else s for d in NET_SPECS.values() for s in d.values()),
    *LIF.values())
PAGE_PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {"Quick demo": page_preset("quick"), "Paper Fig. 6": page_preset("paper")})


def fluctuation_rows(results: Mapping[str, InitFluctuation]) -> list[dict[str, Any]]:
    """The initialisation table: one row per network and layer of :func:`sgcore.snn.init_fluctuation` results."""
    rows = []
    for net, res in results.items():
        for lay in res.layers:
            rows.append({"network": net, "layer": lay.layer, "input rate (Hz)": round(lay.presynaptic_rate_hz, 1),
                         "target σ_U": res.target, "free U, pooled": round(lay.free_std, 3),
                         "pooled, predicted": round(lay.predicted_std, 3),
                         "free U, per neuron": round(lay.free_temporal_std, 3),
                         "per neuron, predicted": round(lay.predicted_temporal_std, 3),
                         "spiking U": round(lay.spiking_std, 3)})
    return rows
