"""ParamSpec: validation messages, parsing, query-string handling."""

import math

import pytest

from sgcore.escape import ESCAPE_PARAMS
from sgcore.params import ParamSpec, parse_query, validate_all

BETA = ParamSpec("beta_n", "beta", 5.0, domain=(0.0, 100.0), open_low=True, slider=(0.5, 50.0))
N = ParamSpec("n_trials", "trials", 10, kind="int", domain=(1, 100), slider=(1, 50))
FAM = ParamSpec("escape", "family", "sigmoid", kind="choice", choices=("sigmoid", "erf"))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 0.0, 100.5, "abc", None, True])
def test_float_rejects_with_name_and_range(bad):
    with pytest.raises(ValueError, match=r"beta_n must be a finite number in \(0, 100\]"):
        BETA.validate(bad)


def test_float_accepts_and_coerces():
    assert BETA.validate("2.5") == 2.5
    assert BETA.validate(100) == 100.0


def test_int_rejects_fraction_and_accepts_integral_float():
    with pytest.raises(ValueError, match="n_trials must be an integer in"):
        N.validate(2.5)
    assert N.validate(3.0) == 3 and isinstance(N.validate(3.0), int)


def test_choice_lists_valid_values():
    with pytest.raises(ValueError, match="escape must be one of sigmoid, erf"):
        FAM.validate("gumbel")


def test_parse_slider_range_is_stricter_than_domain():
    assert BETA.parse("80") == 80.0
    with pytest.raises(ValueError, match=r"beta_n must be a number in \[0.5, 50\]"):
        BETA.parse("80", slider_range=True)


def test_parse_query_reports_problems_and_keeps_good_values():
    values, problems = parse_query([BETA, N, FAM], {"beta_n": "nan", "n_trials": ["7"], "escape": "erf",
                                                   "other": "x"})
    assert values == {"n_trials": 7, "escape": "erf"}
    assert set(problems) == {"beta_n"} and "default 5.0" in problems["beta_n"]


def test_validate_all():
    assert validate_all([BETA, N], {"beta_n": "3", "n_trials": 4}) == {"beta_n": 3.0, "n_trials": 4}


def test_bad_spec_definitions_are_refused():
    with pytest.raises(ValueError):
        ParamSpec("x", "x", 1.0, domain=(0, 1), slider=(0, 2))
    with pytest.raises(ValueError):
        ParamSpec("x", "x", 5.0, domain=(0, 1))
    with pytest.raises(ValueError):
        ParamSpec("x", "x", "a", kind="choice")


def test_flags_are_kebab_case():
    assert BETA.flag == "--beta-n"


@pytest.mark.parametrize("spec", ESCAPE_PARAMS, ids=lambda s: s.name)
def test_page_specs_defaults_valid_and_sliders_inside_domain(spec):
    assert spec.validate(spec.default) == spec.default
    if spec.slider is not None:
        assert spec.slider[0] <= spec.default <= spec.slider[1]


BETAS = ParamSpec("betas", "betas", (2.0, 4.0), kind="floats", domain=(0.0, 100.0), open_low=True,
                  slider=(1.0, 50.0), options=(1.0, 2.0, 4.0, 20.0), max_items=3)


def test_floats_kind_parses_lists_and_rejects_bad_items():
    assert BETAS.validate([2, "4"]) == (2.0, 4.0)
    assert BETAS.parse("2, 20") == (2.0, 20.0)
    for bad in ([], [1, 2, 3, 4], ["x"], [0.0], [math.nan], "a,b"):
        with pytest.raises(ValueError, match=r"betas must be 1 to 3 finite numbers in \(0, 100\]"):
            BETAS.validate(bad)
    with pytest.raises(ValueError, match=r"betas must be numbers in \[1, 50\]"):
        BETAS.parse("2,80", slider_range=True)
    values, problems = parse_query([BETAS], {"betas": ["2", "20"]})
    assert values == {"betas": (2.0, 20.0)} and not problems


def test_declared_configs_validate_build_from_mappings_and_round_trip():
    from sgcore.escape import EscapeConfig
    from sgcore.loop import LoopConfig
    from sgcore.signflip import SignflipConfig

    for cls in (EscapeConfig, SignflipConfig, LoopConfig):
        cfg = cls.from_mapping({"not_a_param": 1, "x": 0.5} if cls is not EscapeConfig else {"theta": "0.5"})
        assert cls(**cfg.as_dict()) == cfg
    assert EscapeConfig.from_mapping({"theta": "0.5"}).theta == 0.5  # coerced by the declared spec
    with pytest.raises(ValueError, match="widget must be"):
        ParamSpec("x", "x", 1.0, widget="knob")


def test_link_rules_match_what_the_widgets_accept():
    """A link value is usable exactly when the page's widget would take it (else a notice and the default)."""
    toggle = ParamSpec("step", "step", False, kind="bool")
    values, problems = parse_query([toggle, FAM, N, BETAS], {
        "step": "TRUE", "escape": " erf", "n_trials": ["7", "9"], "betas": ["2", "20"]})
    assert values == {"step": True, "betas": (2.0, 20.0)}
    assert "escape must be one of sigmoid, erf" in problems["escape"]  # choices are not stripped
    assert "n_trials must be given once; got it 2 times" in problems["n_trials"]
    for bad in ("yes", "1", "on"):
        assert "step must be true or false" in parse_query([toggle], {"step": bad})[1]["step"]
    for bad in ("2,20", ["2.0"], ["2", "2"], ["3"], ["1", "2", "4", "20"], []):
        assert "betas must be 1 to 3 of 1, 2, 4, 20" in parse_query([BETAS], {"betas": bad})[1]["betas"]
    assert parse_query([BETA], {"beta_n": " 2.5 "})[0] == {"beta_n": 2.5}  # numbers may carry spaces


def test_long_link_values_are_reported_without_echoing_them():
    _, problems = parse_query([BETA, FAM], {"beta_n": "7" * 10_000, "escape": "x" * 201})
    assert "got a value of 10,000 characters" in problems["beta_n"] and len(problems["beta_n"]) < 200
    assert "escape must be one of sigmoid, erf; got a value of 201 characters" in problems["escape"]
