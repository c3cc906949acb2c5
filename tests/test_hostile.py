"""Hostile input on every page: crafted links, out-of-range widget values, hand-edited weights, script tags.

The contract checked for a link (``?key=value``) on every page and every declared key:

* the page never shows an uncaught exception and still draws its banner and charts;
* a value the page cannot use gets exactly one notice naming the key ("Link parameter ignored: key must ...")
  and the widget shows the page's default;
* a value the page can use gets no notice and the widget shows exactly that value;
* nothing from the URL reaches an element rendered as HTML.

"Can use" is the declared parameter's own rule (``sgcore.params.parse_query``, the rule the notices apply); the
widget check then catches every value on which Streamlit's URL binding disagrees with it (a silent drop, or a
notice that says "using the default" while the widget shows something else).

Runs are batched: one run per page and hostile value sets every key for which the value is invalid (each must
get its own notice); values valid for a key are run one key at a time (valid values can clash, e.g. y_min = y_max).
A page's conditional widgets (rho0_dt, gamma, q, seed of the random plane, LocalZO settings, ...) are rendered
by a few "scenarios" (enabling values in the link); a test checks the scenarios render every bound key.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import apphelpers
import pytest
from streamlit.testing.v1 import AppTest

import sgapp.controls as controls
from sgapp.admission import process_slots
from sgcore.design import INIT_PARAMS, OptionalSpec
from sgcore.escape import ESCAPE_PARAMS
from sgcore.estimators import ESTIMATOR_PARAMS, EstimatorConfig
from sgcore.localzo import LOCALZO_PARAMS
from sgcore.loop import LOOP_PARAMS
from sgcore.pages import PAGES as REGISTRY
from sgcore.params import ParamSpec, parse_query
from sgcore.signflip import SIGNFLIP_PARAMS
from sgcore.snn import LIF_TRACE_PARAMS, TRAIN_PARAMS
from sgcore.targets import TARGETS

pytestmark = pytest.mark.apptest

NOTICE = "Link parameter ignored: "

#: Every content page (registry key -> script), and the keys each page declares, from the page registry.
PAGES = {page.key: page.path for page in REGISTRY.content()}
SPECS: dict[str, dict[str, ParamSpec]] = {page.key: {s.name: s for s in page.specs} for page in REGISTRY.content()}

#: Links that make a page draw its conditional widgets (besides the bare page).
_CONDITIONAL: dict[str, dict[str, dict[str, str]]] = {
    "escape": {"exponential-gamma-q": {"escape": "exponential", "scale": "gamma", "shape": "q_pseudospike"}},
    "signflip": {"gamma-q": {"scale": "gamma", "shape": "q_pseudospike"}},
    "loop": {"random-gamma-q": {"plane": "random", "scale": "gamma", "shape": "q_pseudospike"},
             "axes": {"plane": "axes"}},
    "localzo": {"q-normal": {"target": "q_pseudospike", "u_dist": "normal"}},
    "estimators": {},
    "training": {"localzo": {"backward": "localzo"}, "sparsegrad": {"backward": "sparsegrad"},
                 "q": {"det_shape": "q_pseudospike", "sto_shape": "q_pseudospike"}},
    "design": {"set-all": {k: "true" for k in SPECS["design"] if k.startswith("i_set_")}},
    "classify": {"localzo": {"backward": "localzo"}, "sparsegrad": {"backward": "sparsegrad"},
                 "gamma-q": {"scale": "gamma", "shape": "q_pseudospike"}},
}
SCENARIOS = {page: {"bare": {}, **_CONDITIONAL.get(page, {})} for page in PAGES}

LONG_TEXT = "x" * 10_000
HOSTILE = {
    "nan": "nan", "NaN": "NaN", "inf": "inf", "-inf": "-inf", "minus1": "-1", "zero": "0", "1e308": "1e308",
    "-1e308": "-1e308", "1e999": "1e999", "empty": "", "space": " ", "abc": "abc", "list": "[1,2]", "dict": "{}",
    "true": "true", "long-text": LONG_TEXT, "long-digits": "7" * 10_000, "script": "<script>alert(1)</script>",
    "sql": "'; DROP TABLE x;--", "pct00": "%00", "nul": "\x00", "rlo": "\u202e", "hex": "0x10", "underscore": "1_000",
}
#: The values also run with every scenario (the conditional widgets get these; every key gets all of HOSTILE bare).
SCENARIO_VALUES = ("nan", "-inf", "1e999", "empty", "abc", "long-text", "script")


# --- the oracle -------------------------------------------------------------------------------------------------
def _norm(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def expected(spec: ParamSpec, raw: str | list[str]) -> tuple[bool, Any]:
    """(usable, value) by the parameter's declared rule: the rule the page's notices apply. A value can be usable
    and still get a notice (e.g. an integer slider truncating 2.5 says "using 2"): see :func:`noticed`."""
    values, _ = parse_query([spec], {spec.name: raw})
    return (True, _norm(values[spec.name])) if spec.name in values else (False, None)


def noticed(spec: ParamSpec, raw: str | list[str]) -> bool:
    return spec.name in parse_query([spec], {spec.name: raw})[1]


def _valid_keys(page: str, raw: str | list[str]) -> set[str]:
    return {k for k, s in SPECS[page].items() if expected(s, raw)[0]}


# --- running pages ----------------------------------------------------------------------------------------------
def run(page: str, query: Mapping[str, Any]) -> AppTest:
    return apphelpers.app(PAGES[page], **query)


def _nodes(node) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _nodes(child)


def bound_keys(at: AppTest) -> set[str]:
    """Keys of the widgets on screen that are bound to the URL."""
    keys = set()
    for root in (at.main, at.sidebar):
        for node in _nodes(root):
            key = getattr(getattr(node, "proto", None), "query_param_key", "")
            if key:
                keys.add(key)
    return keys


def value_of(at: AppTest, key: str) -> tuple[bool, Any]:
    return (True, _norm(at.session_state[key])) if key in at.session_state else (False, None)


def banners(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if 'class="sge-banner' in m.value]


def charts(at: AppTest) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith(NOTICE)]


def exception_summary(at: AppTest) -> str:
    out = []
    for e in at.exception:
        where = [line.strip().splitlines()[0] for line in e.stack_trace if str(apphelpers.ROOT) in line][-2:]
        out.append(f"{e.message!r} at {' | '.join(where)}")
    return "; ".join(out)


@dataclass
class Baseline:
    values: dict[str, Any]
    charts: list[str]
    bound: set[str]
    declared: list[ParamSpec]
    presets: dict[str, dict[str, Any]] | None


@functools.cache
def baseline(page: str, scenario: str) -> Baseline:
    """The page with only the scenario's link: its widget values, charts, bound keys, the specs it checks and the
    presets it offers."""
    seen: list[list[ParamSpec]] = []
    offered: list[dict[str, dict[str, Any]]] = []
    real, real_bar = controls.url_notices, controls.preset_bar

    def recording(specs):
        specs = list(specs)
        seen.append(specs)
        return real(specs)

    def recording_bar(specs, presets):
        offered.append({label: dict(values) for label, values in presets.items()})
        return real_bar(specs, presets)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(controls, "url_notices", recording)
        mp.setattr(controls, "preset_bar", recording_bar)
        at = run(page, SCENARIOS[page][scenario])
    assert not at.exception, exception_summary(at)
    assert not notices(at), notices(at)
    keys = bound_keys(at)
    values = {k: value_of(at, k)[1] for k in keys | set(SPECS[page]) if value_of(at, k)[0]}
    return Baseline(values, charts(at), keys, seen[0] if seen else [], offered[0] if offered else None)


def scenario_for(page: str, key: str) -> str:
    """The first scenario that draws ``key``'s widget without setting ``key`` itself."""
    for name, query in SCENARIOS[page].items():
        if key not in query and key in baseline(page, name).bound:
            return name
    return "bare"


def check_link(page: str, scenario: str, query: Mapping[str, Any], specs: Mapping[str, ParamSpec],
               *, same_view: bool) -> list[str]:
    """Run ``page`` with the scenario's link plus ``query`` (keys of ``specs``); return every broken promise."""
    base = baseline(page, scenario)
    at = run(page, {**SCENARIOS[page][scenario], **query})
    if at.exception:
        return [f"uncaught exception: {exception_summary(at)}"]
    problems = []
    shown = notices(at)
    if len(banners(at)) != 1:
        problems.append(f"{len(banners(at))} banners instead of 1 (errors: {[e.value[:160] for e in at.error]})")
    if same_view and charts(at) != base.charts:
        problems.append(f"the view differs from the default view ({len(charts(at))} vs {len(base.charts)} charts)")
    if not same_view and not charts(at):
        problems.append(f"no chart drawn (errors: {[e.value[:160] for e in at.error]})")
    expected_notices = 0
    for key, raw in query.items():
        if key not in specs:
            continue
        usable, value = expected(specs[key], raw)
        notice = noticed(specs[key], raw)
        named = [n for n in shown if n.startswith(f"{NOTICE}{key} must")]
        expected_notices += notice
        short = repr(raw)[:40]
        if len(named) != int(notice):
            problems.append(f"{key}={short}: {len(named)} notices, expected {int(notice)}")
        on_screen, widget = value_of(at, key)
        want = value if usable else base.values.get(key)
        if isinstance(want, str) and isinstance(widget, float):  # a select slider of numbers, linked by its text
            want = float(want)
        if on_screen and key in base.values and widget != want:
            problems.append(f"{key}={short}: widget shows {widget!r}, expected {want!r}"
                            + ("" if usable else " (the default the notice announces)"))
    if len(shown) != expected_notices:
        extra = [n[:120] for n in shown if not any(n.startswith(f"{NOTICE}{k} must") for k in query)]
        problems.append(f"{len(shown)} notices for {expected_notices} unusable values; unattributed: {extra}")
    return problems


# --- the declared keys are the bound keys, and the scenarios draw all of them -------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_static_specs_match_the_page(page):
    """The registry's declared parameters of each page, which parametrize this file, are the ones the page checks."""
    declared = baseline(page, "bare").declared

    def contract(s: ParamSpec):
        return s.name, s.kind, s.default, s.domain, s.slider, s.choices, s.open_low, s.open_high, s.max_items

    assert sorted(map(contract, declared)) == sorted(map(contract, SPECS[page].values()))


@pytest.mark.parametrize("page", PAGES)
def test_registry_presets_are_the_pages(page):
    """The registry's preset chips of each page are the ones the page offers."""
    offered = baseline(page, "bare").presets
    assert offered is not None, "the page draws no preset bar"
    assert offered == {label: dict(values) for label, values in REGISTRY[page].presets.items()}


#: How many keys each page declared when this file listed them by hand (before the page registry).
_LISTED_BEFORE = {"escape": 15, "signflip": 23, "loop": 22, "localzo": 17, "estimators": 13, "training": 30,
                  "design": 44}


def test_registry_specs_cover_what_was_listed_by_hand():
    """The registry declares at least what this file listed by hand: each library's parameters, the training page's
    shared, per-network (det_, sto_) and single-neuron (lif_) keys with its learning rates linked as the select
    slider's decade texts, and the design calculator's i_ keys with an i_set_ switch per derivable value."""
    for page, n in _LISTED_BEFORE.items():
        assert len(SPECS[page]) >= n, page
    for page, params in {"escape": ESCAPE_PARAMS, "signflip": SIGNFLIP_PARAMS, "loop": LOOP_PARAMS,
                         "localzo": LOCALZO_PARAMS, "estimators": ESTIMATOR_PARAMS}.items():
        assert all(SPECS[page].get(p.name) == p for p in params), page
    training = SPECS["training"]
    train_names, lif_names = {p.name for p in TRAIN_PARAMS}, {p.name for p in LIF_TRACE_PARAMS}
    for name in training:
        base = name.removeprefix("det_").removeprefix("sto_")
        assert (name == "target" or base in train_names
                or (name.startswith("lif_") and name.removeprefix("lif_") in lif_names)), name
    assert {"det_lr", "sto_lr", "det_hidden_lr_factor", "sto_trials", "n_hidden", "backward", "lif_weight"} <= set(
        training)
    decades = ("1e-06", "2e-06", "5e-06", "1e-05", "2e-05", "5e-05", "0.0001", "0.0002", "0.0005", "0.001", "0.002",
               "0.005", "0.01", "0.02", "0.05")
    for name in ("det_lr", "sto_lr"):
        lr = training[name]
        assert (lr.kind, lr.widget, lr.choices) == ("choice", "select", decades) and lr.default in decades
    assert training["target"].kind == "choice" and training["target"].choices == (*TARGETS, "upload")
    design = SPECS["design"]
    for p in INIT_PARAMS:
        assert "i_" + p.name in design
        if isinstance(p, OptionalSpec):
            assert design["i_" + p.name].default == p.fallback and design[f"i_set_{p.name}"].kind == "bool"


@pytest.mark.parametrize("page", PAGES)
def test_every_bound_key_is_declared_and_drawn(page):
    """A URL-bound widget without a declared spec gets no notice; a declared key without a widget does nothing."""
    bound = set().union(*(baseline(page, s).bound for s in SCENARIOS[page]))
    declared = set(SPECS[page])
    problems = []
    if bound - declared:
        problems.append(f"bound to the URL but never checked by url_notices: {sorted(bound - declared)}")
    if declared - bound:
        problems.append(f"declared (and checked) but no widget in any scenario: {sorted(declared - bound)}")
    assert not problems, "\n".join(problems)


def test_oracle_rejects_the_obviously_hostile_values():
    """Guard on the oracle: every declared parameter rejects the obviously hostile values (bools accept "true")."""
    never = ("nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e999", "", " ", "abc", "[1,2]", "{}", "true",
             LONG_TEXT, "7" * 10_000, "<script>alert(1)</script>", "%00", "\x00", "\u202e", "0x10")
    for page, specs in SPECS.items():
        for spec in specs.values():
            for raw in never:
                usable = expected(spec, raw)[0]
                # bools accept "true"; an empty multiselect link shows nothing selected (noticed, then explained)
                allowed = (spec.kind == "bool" and raw == "true") or (spec.kind == "floats" and raw == "")
                assert not usable or allowed, (page, spec.name, raw[:20])
                assert noticed(spec, raw) or usable, (page, spec.name, raw[:20])


# --- every key x every hostile value, batched ---------------------------------------------------------------
def _batch_cases() -> Iterator[Any]:
    for page, scenarios in SCENARIOS.items():
        for scenario, enable in scenarios.items():
            for vid, raw in HOSTILE.items():
                if scenario != "bare" and vid not in SCENARIO_VALUES:
                    continue
                if set(SPECS[page]) - _valid_keys(page, raw) - set(enable):
                    yield pytest.param(page, scenario, raw, id=f"{page}-{scenario}-{vid}")


@pytest.mark.parametrize("page,scenario,raw", list(_batch_cases()))
def test_unusable_value_on_every_key_falls_back_with_one_notice_each(page, scenario, raw):
    enable = SCENARIOS[page][scenario]
    query = {k: raw for k in SPECS[page] if k not in enable and not expected(SPECS[page][k], raw)[0]}
    problems = check_link(page, scenario, query, SPECS[page], same_view=True)
    assert not problems, "\n".join(problems)


def _valid_cases() -> Iterator[Any]:
    for page, specs in SPECS.items():
        for key, spec in specs.items():
            for vid, raw in HOSTILE.items():
                if expected(spec, raw)[0]:
                    yield pytest.param(page, key, raw, id=f"{page}-{key}-{vid}")


@pytest.mark.parametrize("page,key,raw", list(_valid_cases()))
def test_usable_hostile_looking_value_is_used_without_notice(page, key, raw):
    problems = check_link(page, scenario_for(page, key), {key: raw}, SPECS[page], same_view=False)
    assert not problems, "\n".join(problems)


# --- every value on a few parameters of each kind, one key per run, with the values where the parameter's rule and
# --- Streamlit's URL binding may part ways -----------------------------------------------------------------------
KIND_CASES = {
    ("float", "escape", "beta_n"): [*HOSTILE.values(), " 7.5 ", "+7.5", "7.5e0", "1e-400", "\u0667", ["abc", "7.5"],
                                    ["7.5", "abc"], ["7.5", "9"], ["7.5", "7.5"]],
    ("int", "escape", "n_trials"): [*HOSTILE.values(), "2.5", "7.0", "1e1", " 7 ", "+7", ["abc", "7"], ["7", "abc"],
                                    ["7", "9"]],
    ("int-number", "escape", "seed"): [*HOSTILE.values(), "2.5", "7.0", "1e1", " 7 ", "+7", "9999", "10000",
                                       ["abc", "7"], ["7", "abc"], ["7", "9"]],
    ("choice", "escape", "shape"): [*HOSTILE.values(), "GAUSSIAN", " gaussian", "gaussian ", "gaussian\x00",
                                    ["abc", "gaussian"], ["gaussian", "abc"], ["gaussian", "triangular"]],
    ("bool", "signflip", "step"): [*HOSTILE.values(), "1", "yes", "on", "TRUE", " true ", "false", "no",
                                   ["abc", "true"], ["true", "abc"], ["false", "true"]],
    ("numeric-choice", "localzo", "alpha"): ["-1", " -1", "-1.0", "+1", "1.0", ["-1", "1"]],
    ("floats", "signflip", "betas_landscape"): ["3", "2.0", "2,4", "2, 4", "2,4,20,100", "2,4,20,50,100", "2,2", "nan",
                                                "-1", "", ["2", "4"], ["2", "abc"]],
    ("floats", "loop", "betas_sg"): ["3", "2,5", ["2", "5"], "0.5", "0"],
    ("select-slider", "training", "det_lr"): ["0.001", "1e-3", "0.0003", "0.1", "1e-7", "abc", ["0.001", "0.01"]],
}


def _vid(raw: str | list[str]) -> str:
    ids = {v: k for k, v in HOSTILE.items()}
    if isinstance(raw, list):
        return "repeated[" + ",".join(_vid(r) for r in raw) + "]"
    if raw in ids:
        return ids[raw]
    return raw if raw.isprintable() and raw.strip() == raw and raw else repr(raw).encode("unicode_escape").decode()


def _kind_cases() -> Iterator[Any]:
    for (kind, page, key), values in KIND_CASES.items():
        for raw in values:
            yield pytest.param(page, key, raw, id=f"{kind}-{page}-{key}-{_vid(raw)}")


@pytest.mark.parametrize("page,key,raw", list(_kind_cases()))
def test_each_kind_every_value_one_key(page, key, raw):
    problems = check_link(page, scenario_for(page, key), {key: raw}, SPECS[page], same_view=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_repeated_unusable_keys_fall_back_with_one_notice_each(page):
    query = {k: ["abc", "nan"] for k in SPECS[page]}
    problems = check_link(page, "bare", query, SPECS[page], same_view=True)
    assert not problems, "\n".join(problems)


# --- URL keys bound without a declared spec -------------------------------------------------------------------
TARGET = SPECS["training"]["target"]


@pytest.mark.parametrize("raw", ["wave", "abc", "", "WAVE", "<script>alert(1)</script>", LONG_TEXT],
                         ids=["wave", "abc", "empty", "WAVE", "script", "long-text"])
def test_training_target_link_gets_a_notice_when_unusable(raw):
    problems = check_link("training", "bare", {"target": raw}, {"target": TARGET}, same_view=False)
    assert not problems, "\n".join(problems)


# --- unknown keys -------------------------------------------------------------------------------------------------
INTERNAL_KEYS = ("preset", "weights_open", "estimator_edits", "trial_layer", "trial_neuron", "lib_pick", "lib_slope",
                 "upload", "play", "pause", "reset_training", "training", "training_session", "last_good::escape",
                 "dl_curves", "fig_expected", "network", "scale", "localzo_alpha", "fano_window")


@pytest.mark.parametrize("page", PAGES)
def test_unknown_keys_are_ignored(page):
    values = list(HOSTILE.values())
    query: dict[str, Any] = {f"unknown_{i}": values[i % len(values)] for i in range(200)}
    query |= {k: "abc" for k in INTERNAL_KEYS if k not in SPECS[page]}
    query |= {k: "1e999" for specs in SPECS.values() for k in specs if k not in SPECS[page]}  # other pages' keys
    query |= {"k" * 2_000: "v", "long_value": "y" * 200_000, "repeated_unknown": ["a", "b", "c"]}
    at = run(page, query)
    assert not at.exception, exception_summary(at)
    assert not notices(at) and not at.error
    assert len(banners(at)) == 1 and charts(at) == baseline(page, "bare").charts


# --- nothing from the URL reaches HTML; notices stay plain and short -----------------------------------------------
def _html_elements(at: AppTest) -> list[str]:
    out = []
    for root in (at.main, at.sidebar):
        for node in _nodes(root):
            proto = getattr(node, "proto", None)
            if getattr(proto, "allow_html", False):
                out.append(proto.body)
            elif getattr(node, "type", "") == "html":
                out.append(getattr(proto, "body", ""))
    return out


@pytest.mark.parametrize("page", PAGES)
def test_script_tag_from_the_link_is_never_html(page):
    payload = "<script>alert(1)</script>"
    keys = [*SPECS[page], "target", "unknown", *(f"u{i}" for i in range(5))]
    at = run(page, {k: payload for k in keys})
    assert not at.exception, exception_summary(at)
    html = _html_elements(at)
    assert html, "expected the page's CSS and banner"
    assert not [h for h in html if "<script" in h.lower() or "alert(1)" in h]
    assert len(banners(at)) == 1 and charts(at)


_ACTIVE_LINK = re.compile(r"(?<!\\)\]\((?:https?:|javascript:)")


@pytest.mark.parametrize("raw", ["[click me](https://evil.example)", "![x](https://evil.example/p.png)",
                                 "[x](javascript:alert(1))"], ids=["link", "image", "javascript"])
def test_notice_does_not_render_markdown_from_the_link(raw):
    at = run("escape", {"beta_n": raw, "shape": raw})
    assert not at.exception
    shown = notices(at)
    assert len(shown) == 2
    for text in shown:
        plain = re.sub(r"`[^`]*`", "", text)  # inside a code span markdown is not rendered
        assert not _ACTIVE_LINK.search(plain), f"the notice renders a link from the URL: {text!r}"


def test_notice_for_a_long_value_stays_short():
    at = run("escape", {"beta_n": LONG_TEXT, "shape": LONG_TEXT})
    assert not at.exception
    assert [len(n) for n in notices(at)] and all(len(n) <= 500 for n in notices(at)), [len(n) for n in notices(at)]


# --- links whose values are each usable but do not fit together ------------------------------------------------------
COMBOS = {
    "signflip-same-plane-axes": ("signflip", {"plane_x": "v2", "plane_y": "v2"}, "plane_x and plane_y"),
    "loop-same-axes": ("loop", {"plane": "axes", "axis_a": "v1", "axis_b": "v1"}, "axis"),
    "localzo-reversed-range": ("localzo", {"u_lo": "1", "u_hi": "-1"}, "u_lo"),
    "localzo-corner-target-alpha1": ("localzo", {"source": "surrogate", "target": "triangular"}, "alpha"),
    "estimators-too-many-units": ("estimators", {"hidden1": "6", "hidden2": "6", "hidden3": "6"}, "at most 12"),
    "design-reversed-voltages": ("design", {"y_min": "3", "y_max": "-3"}, "y_min"),
    "design-calculator-reversed": ("design", {"i_set_y_min": "true", "i_set_y_max": "true", "i_y_min": "3",
                                              "i_y_max": "-3"}, "y_min"),
}


@pytest.mark.parametrize("page,query,words", list(COMBOS.values()), ids=list(COMBOS))
def test_clashing_link_values_explain_and_still_show_the_page(page, query, words):
    at = run(page, query)
    assert not at.exception, exception_summary(at)
    assert not notices(at)
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert len(banners(at)) == 1 and charts(at), f"only the error is shown: {[e.value for e in at.error]}"


# --- widget-level hostile input ---------------------------------------------------------------------------------
SLIDERS = [("escape", "beta_n"), ("escape", "n_trials"), ("signflip", "w"), ("loop", "radius"),
           ("localzo", "delta"), ("estimators", "hidden1"), ("training", "input_rate"), ("training", "lif_weight"),
           ("design", "gamma"), ("design", "i_thr")]


NUMBERS = [("escape", "seed"), ("localzo", "seed"), ("estimators", "seed"), ("training", "seed"), ("design", "seed"),
           ("design", "i_seed")]
#: (page, slider, value): huge and non-finite values on every kind of slider, and out-of-range seeds
OUT_OF_RANGE = [
    *[pytest.param(page, key, value, id=f"{page}-{key}-{vid}") for page, key in SLIDERS
      for value, vid in ((1e308, "1e308"), (-1e308, "-1e308"), (float("nan"), "nan"), (float("inf"), "inf"),
                         (-float("inf"), "-inf"))],
    *[pytest.param(page, key, value, id=f"{page}-{key}-{vid}") for page, key in NUMBERS
      for value, vid in ((-1, "minus1"), (10_000, "10000"), (2**40, "2pow40"))],
]


@pytest.mark.parametrize("page,key,value", OUT_OF_RANGE)
def test_slider_rejects_out_of_range_values(page, key, value):
    at = run(page, {})
    at.slider(key=key).set_value(value).run()
    assert not at.exception, exception_summary(at)
    assert at.slider(key=key).value == baseline(page, "bare").values[key]
    assert len(banners(at)) == 1 and charts(at)


@pytest.mark.parametrize("value", [0.0, -1.0, 1e-300, 1e308, float("nan")], ids=["0", "-1", "1e-300", "1e308", "nan"])
def test_design_translation_inputs_stay_in_range(value):
    at = run("design", {"tab": "Library translation"})
    at.selectbox(key="lib_pick").set_value("surrogate.fast_sigmoid(slope=25)").run()
    at.number_input(key="lib_slope").set_value(value).run()
    assert not at.exception, exception_summary(at)
    assert 1e-6 <= at.number_input(key="lib_slope").value <= 1e6
    assert len(banners(at)) == 1 and charts(at)


@pytest.mark.parametrize("page,key,value", [("signflip", "betas_landscape", [3.0]),
                                            ("signflip", "betas_landscape", []),
                                            ("loop", "betas_sg", [])], ids=["signflip-non-option", "signflip-empty",
                                                                            "loop-empty"])
def test_multiselect_without_valid_values_keeps_the_view(page, key, value):
    at = run(page, {})
    before = charts(at)
    at.multiselect(key=key).set_value(value).run()
    assert not at.exception, exception_summary(at)
    assert any(key in e.value for e in at.error) and charts(at) == before


# --- training: the smallest network, Play, Step, Pause, out-of-range neuron picks ---------------------------------
SMALLEST = {"n_in": "10", "n_hidden": "10", "n_out": "10", "n_steps": "20", "sto_trials": "1", "lif_steps": "5",
            "lif_input_period": "50"}


@pytest.mark.parametrize("backward", [{"backward": "sg"}, {"backward": "localzo", "localzo_m": "1"},
                                      {"backward": "sparsegrad", "sparse_threshold": "0.01"}],
                         ids=["sg", "localzo", "sparsegrad"])
def test_training_smallest_sizes_step_play_pause(backward):
    at = run("training", {**SMALLEST, **backward})
    assert not at.exception and not notices(at) and not at.error
    at.button(key="step").click().run()
    assert not at.exception, exception_summary(at)
    trainers = at.session_state["training"]["trainers"]
    assert trainers["stochastic"].cfg.n_hidden == 10 and trainers["stochastic"].cfg.trials == 1
    assert all(t.epoch == 1 for t in trainers.values())
    try:
        at.button(key="play").click().run()
        assert not at.exception, exception_summary(at)
        assert trainers["deterministic"].epoch > 1
    finally:
        at.button(key="pause").click().run()
        process_slots().release(at.session_state["training_session"])  # never leave a slot taken for other tests
    at.segmented_control(key="trial_layer").set_value("output").run()
    at.number_input(key="trial_neuron").set_value(9).run()
    assert not at.exception and not at.error, exception_summary(at)
    assert "paused" in banners(at)[0] and len(charts(at)) == 7


@pytest.mark.parametrize("value", [-1, 10, 10**6], ids=["minus1", "n_hidden", "1e6"])
def test_training_neuron_pick_out_of_range(value):
    at = run("training", {k: SMALLEST[k] for k in ("n_in", "n_hidden", "n_out", "n_steps")})
    at.button(key="step").click().run()
    at.number_input(key="trial_neuron").set_value(value).run()
    assert not at.exception, exception_summary(at)
    assert 0 <= at.number_input(key="trial_neuron").value <= 9
    assert len(charts(at)) == 7


def test_training_below_the_slider_minimum_is_refused():
    at = run("training", {})
    at.slider(key="n_hidden").set_value(1).run()  # inside the library's domain, below the slider
    assert not at.exception, exception_summary(at)
    assert at.session_state["training"]["trainers"]["deterministic"].cfg.n_hidden == 200
    at.button(key="step").click().run()
    assert not at.exception and len(charts(at)) == 7


def test_training_upload_target_without_a_file_steps():
    at = run("training", {"target": "upload", **{k: SMALLEST[k] for k in ("n_in", "n_hidden", "n_out", "n_steps")}})
    at.button(key="step").click().run()
    assert not at.exception, exception_summary(at)
    assert any("Choose an image" in i.value for i in at.info) and len(charts(at)) == 7


# --- estimators: hand-edited weights ------------------------------------------------------------------------------
def _editor_key(layer: str) -> str:
    spec = EstimatorConfig().net().as_lists()
    version = hashlib.sha1(json.dumps(spec).encode()).hexdigest()[:10]
    return f"edit_{layer}_4_3_3_0_1.0_{version}"  # the default network: n_in 4, hidden 3 3, seed 0, scale 1


#: (value, refused): what cannot be a finite number must be refused with a message; huge finite values may be used.
EDITS = {"nan": (float("nan"), True), "inf": (float("inf"), True), "-inf": (-float("inf"), True), "None": (None, True),
         "abc": ("abc", True), "text-nan": ("nan", True), "1e308": (1e308, False), "-1e308": (-1e308, False),
         "text-1e308": ("1e308", False), "1e200": (1e200, False)}


@pytest.mark.parametrize("cell", [("W1", 0, "from 0"), ("Wout", 0, "bias")], ids=["W1", "Wout-bias"])
@pytest.mark.parametrize("value,refused", list(EDITS.values()), ids=list(EDITS))
def test_hand_edited_weight_hostile_values(value, refused, cell):
    layer, row, column = cell
    at = run("estimators", {})
    before = banners(at)
    at.session_state["weights_open"] = True
    at.run()
    at.session_state[_editor_key(layer)] = {"edited_rows": {row: {column: value}}, "added_rows": [],
                                            "deleted_rows": []}
    at.run()
    assert not at.exception, exception_summary(at)
    errors = [e.value for e in at.error]
    assert len(banners(at)) == 1 and charts(at), f"only {errors} is shown"
    if refused:
        assert any("finite number" in e for e in errors), errors
        assert banners(at) == before  # the last valid network is kept


# --- training: hostile uploads ------------------------------------------------------------------------------------
def _png(size: tuple[int, int], mode: str = "1") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, 1).save(buf, format="PNG")
    return buf.getvalue()


UPLOADS = {
    "garbage": (("x.png", b"not an image at all", "image/png"), "not a PNG"),
    "empty": (("e.png", b"", "image/png"), "empty"),
    "over-2MB": (("big.png", b"\x89PNG" + b"0" * 2_100_000, "image/png"), "at most 2.0 MB"),
    "36-megapixels": (("huge.png", _png((6000, 6000)), "image/png"), "too many pixels"),
    "225-megapixels-bomb": (("bomb.png", _png((15000, 15000)), "image/png"), "too many pixels"),
    "truncated": (("cut.png", _png((300, 200), "L")[:60], "image/png"), "Upload refused"),
    "header-only-gif": (("a.gif", b"GIF89a" + b"\x00" * 20, "image/gif"), "Upload refused"),
    "1x1": (("t.png", _png((1, 1), "L"), "image/png"), None),
}


@pytest.mark.parametrize("upload,refusal", list(UPLOADS.values()), ids=list(UPLOADS))
def test_training_hostile_upload_is_refused_clearly(upload, refusal):
    at = run("training", {"target": "upload", **{k: SMALLEST[k] for k in ("n_in", "n_hidden", "n_out", "n_steps")}})
    at.file_uploader(key="upload").set_value(upload).run()
    assert not at.exception, exception_summary(at)
    errors = [e.value for e in at.error]
    if refusal is None:
        assert not errors
    else:
        assert any(e.startswith("Upload refused") and refusal in e for e in errors), errors
    at.button(key="step").click().run()
    assert not at.exception, exception_summary(at)
    assert "Epoch <b>1</b>" in banners(at)[0] and len(charts(at)) == 7
