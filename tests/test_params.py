"""ParamSpec: validation messages, parsing, query-string handling."""

import inspect
import math
from typing import ClassVar

import numpy as np
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


# --- @declared: each parameter declared once, as its ParamSpec ----------------------------------
import dataclasses  # noqa: E402
import gc  # noqa: E402
import pickle  # noqa: E402

from sgcore.params import DeclaredConfig, choice, count, declared, finite, interval, positive  # noqa: E402

_SCRATCH = (
    ParamSpec("rate", "Rate", 2.0, domain=(0.0, 10.0), open_low=True),
    ParamSpec("n", "N", 3, kind="int", domain=(1, 9)),
    ParamSpec("mode", "Mode", "a", kind="choice", choices=("a", "b")),
    ParamSpec("betas", "Betas", (1.0, 2.0), kind="floats", domain=(0.0, 10.0), open_low=True),
)


def _scratch():
    """A config declared once; built per test so a refused class never outlives its test."""

    @declared
    class Scratch(DeclaredConfig):
        """A scratch config."""

        PARAMS = _SCRATCH
        LIMIT: ClassVar[int] = 5

        def __post_init__(self) -> None:
            super().__post_init__()
            if self.n > self.LIMIT:
                raise ValueError(f"n must be at most {self.LIMIT}")

        @property
        def total(self) -> float:
            return self.rate * self.n

        def scaled(self, k: float) -> float:
            return k * self.total

    return Scratch


def test_declared_builds_a_validated_frozen_dataclass_from_params():
    cls = _scratch()
    assert [(f.name, f.default) for f in dataclasses.fields(cls)] == [(s.name, s.default) for s in _SCRATCH]
    cfg = cls(5, "4")  # positional in PARAMS order, coerced by the specs
    assert (cfg.rate, cfg.n, cfg.mode, cfg.betas) == (5.0, 4, "a", (1.0, 2.0))
    assert (type(cfg.rate), type(cfg.n)) == (float, int)
    assert (cfg.total, cfg.scaled(2.0), cls.LIMIT, cls.__doc__) == (20.0, 40.0, 5, "A scratch config.")
    assert repr(cfg).endswith("Scratch(rate=5.0, n=4, mode='a', betas=(1.0, 2.0))")  # every field: an exact cache key
    assert cfg == cls(5.0, 4) and hash(cfg) == hash(cls(5.0, 4)) and cfg != cls(5.0, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rate = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"rate must be a finite number in \(0, 10\]; got 0"):
        cls(rate=0)
    with pytest.raises(ValueError, match="n must be an integer"):
        cls(n=True)
    with pytest.raises(ValueError, match="n must be at most 5"):  # the class's own cross-field check runs too
        cls(n=6)
    with pytest.raises(TypeError):
        cls(nope=1)  # no field besides the declared ones
    assert cls.from_mapping({"n": 2, "other": 1}).as_dict() == {"rate": 2.0, "n": 2, "mode": "a", "betas": (1.0, 2.0)}


def test_declared_replace_revalidates_and_coerces():
    cfg = _scratch()()
    assert dataclasses.replace(cfg, n=2.0).n == 2 and isinstance(dataclasses.replace(cfg, n=2.0).n, int)
    with pytest.raises(ValueError, match="mode must be one of a, b"):
        dataclasses.replace(cfg, mode="c")
    with pytest.raises(ValueError, match="n must be at most 5"):
        dataclasses.replace(cfg, n=7)


def test_declared_configs_pickle_to_equal_configs():
    from sgcore.escape import EscapeConfig
    from sgcore.shapes import Surrogate

    for cfg in (EscapeConfig(beta_n=2.5, shape="superspike"), Surrogate("gaussian", 3.0)):
        back = pickle.loads(pickle.dumps(cfg))
        assert back == cfg and repr(back) == repr(cfg)


def test_declared_refuses_a_stray_field_a_double_declaration_and_a_plain_class():
    with pytest.raises(TypeError, match=r"fields \['extra'\] must be declared as ParamSpecs"):
        @declared
        class Stray(DeclaredConfig):
            PARAMS = _SCRATCH
            extra: float = 1.0
    with pytest.raises(TypeError, match=r"parameters \['rate'\] are declared twice"):
        @declared
        class Twice(DeclaredConfig):
            PARAMS = (*_SCRATCH, ParamSpec("rate", "Rate again", 1.0))
    with pytest.raises(TypeError, match=r"parameters \['n'\] are declared twice"):
        @declared
        class Shadowed(DeclaredConfig):
            PARAMS = _SCRATCH
            n = 4  # a class attribute would silently become a second default
    with pytest.raises(TypeError, match="needs a DeclaredConfig subclass"):
        @declared
        class Plain:
            PARAMS = _SCRATCH
    with pytest.raises(TypeError, match="inherits dataclass fields"):
        @declared
        class Child(_scratch()):
            PARAMS = _SCRATCH[:2]
    gc.collect()  # the refused classes are DeclaredConfig subclasses that are no dataclass: not for the cache's list


def _page_configs():
    from sgcore.design.config import DesignConfig, InitConfig
    from sgcore.escape import EscapeConfig
    from sgcore.estimators import EstimatorConfig
    from sgcore.lif import LIFParams
    from sgcore.localzo.page import LocalZOConfig
    from sgcore.loop import LoopConfig
    from sgcore.shapes import Surrogate
    from sgcore.signflip import SignflipConfig
    from sgcore.snn.config import TrainConfig

    return (EscapeConfig, SignflipConfig, LoopConfig, LocalZOConfig, EstimatorConfig, DesignConfig, InitConfig,
            Surrogate, TrainConfig, LIFParams)


@pytest.mark.parametrize("cls", _page_configs(), ids=lambda c: c.__name__)
def test_every_declared_config_has_exactly_its_params_as_fields(cls):
    fields = dataclasses.fields(cls)
    assert [(f.name, f.default) for f in fields] == [(s.name, s.default) for s in cls.PARAMS]
    assert cls.__dataclass_params__.frozen and all(f.repr for f in fields)
    assert cls() == cls.from_mapping({s.name: s.default for s in cls.PARAMS})
    # the dataclass is built by @declared from PARAMS: the class body holds no field of its own
    source = inspect.getsource(cls)
    assert not [s.name for s in cls.PARAMS if f"\n    {s.name}: " in source]


def test_registered_configs_all_keep_params_and_fields_in_step():
    """Every config class the app caches (the snn ones too) has exactly its PARAMS as fields."""
    import sgcore.design  # noqa: F401
    import sgcore.estimators  # noqa: F401
    import sgcore.localzo  # noqa: F401
    import sgcore.signflip  # noqa: F401
    import sgcore.snn  # noqa: F401

    def subclasses(c):
        return [s for sub in c.__subclasses__() for s in (sub, *subclasses(sub))]

    registered = {c for c in subclasses(DeclaredConfig) if c.__module__.startswith("sgcore.")}
    assert set(_page_configs()) <= registered
    for cls in registered:
        assert [f.name for f in dataclasses.fields(cls)] == [s.name for s in cls.PARAMS], cls.__name__


# --- one validator per kind of number --------------------------------------------------------------
@pytest.mark.parametrize("bad", [True, False, math.nan, math.inf, "x", None, [1.0]])
def test_number_validators_refuse_booleans_and_non_finite_values_naming_the_parameter(bad):
    for check in (finite, positive, lambda n, x: interval(n, x, 0.0, 1.0), lambda n, x: count(n, x, 0, 5)):
        with pytest.raises(ValueError, match="^gain must be"):
            check("gain", bad)


def test_number_validators_accept_coerce_and_state_the_range():
    assert (finite("a", "2.5"), positive("a", 3), count("a", 4.0, 1, 9), interval("a", 1, 0, 1)) == (2.5, 3.0, 4, 1.0)
    assert isinstance(count("a", 4.0), int)
    with pytest.raises(ValueError, match=r"a must be a finite number > 0; got 0"):
        positive("a", 0)
    with pytest.raises(ValueError, match=r"a must be an integer in \[1, 9\]; got 2.5"):
        count("a", 2.5, 1, 9)
    with pytest.raises(ValueError, match=r"a must be an integer >= 1; got 0"):
        count("a", 0, 1)
    with pytest.raises(ValueError, match=r"a must be a finite number in \(0, 1\); got 1"):
        interval("a", 1, 0.0, 1.0, open_low=True, open_high=True)
    with pytest.raises(ValueError, match=r"a must be a finite number in \[0, inf\); got -1"):
        interval("a", -1, 0.0)
    with pytest.raises(ValueError, match="a must be one of x, y; got 'z'"):
        choice("a", "z", ("x", "y"))
    # a ParamSpec writes its domain the same way
    assert ParamSpec("a", "a", 0.5, domain=(0.0, 1.0), open_low=True, open_high=True).describe_domain() == \
        "a finite number in (0, 1)"


def _library_checks():
    from sgcore.design.conditions import condition_i
    from sgcore.design.eq2 import sd_moment
    from sgcore.estimators import random_net
    from sgcore.localzo.common import _check_alpha, _check_m
    from sgcore.localzo.sparsity import _u_dist
    from sgcore.shapes import SHAPES
    from sgcore.targets import dither

    rng = np.random.default_rng(0)
    return {  # booleans are not numbers anywhere (all but n_steps read True as 1 before the shared validators)
        "m (LocalZO)": (lambda: _check_m(True), "m must be an integer in"),
        "alpha (LocalZO)": (lambda: _check_alpha(True), "alpha must be one of"),
        "n_in (estimators)": (lambda: random_net(True), "n_in must be an integer >= 1"),
        "m (Eq. 2 moment)": (lambda: sd_moment("sigmoid", True, 1.0, 1.0, 0.0, -1.0, 1.0), "m must be an integer"),
        "rate (Condition I)": (lambda: condition_i(11, 0.9, 1.0, rate=True), "rate must be a finite number"),
        "y_min (Eq. 2 range)": (lambda: sd_moment("sigmoid", 1, 1.0, 1.0, 0.0, True, 2.0), "y_min must be a finite"),
        "u_lo (sparsity)": (lambda: _u_dist("uniform", True, 2.0, 0.0, 1.0), "u_lo must be a finite number"),
        "n (shape sampling)": (lambda: SHAPES["sigmoid"].sample(True, rng), "n must be an integer >= 0"),
        "n_steps (targets)": (lambda: dither(np.zeros((4, 4)), 4, True, 0.5), "n_steps must be an integer >= 1"),
    }


@pytest.mark.parametrize("name", list(_library_checks()))
def test_library_checks_share_the_validators_and_refuse_booleans(name):
    call, message = _library_checks()[name]
    with pytest.raises(ValueError, match=message):
        call()
