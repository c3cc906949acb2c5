"""sgapp.caching keys configs by their exact repr; sgapp.tables hands Streamlit Arrow tables with the same values."""

import dataclasses
import math

import pandas as pd
import pyarrow as pa
import pytest

import sgcore  # noqa: F401 - defines the config classes
from sgapp.caching import config_hash_funcs
from sgapp.tables import arrow
from sgcore.escape import EscapeConfig
from sgcore.loop import LoopConfig
from sgcore.params import DeclaredConfig


def _all_configs():
    import sgcore.design  # noqa: F401
    import sgcore.estimators  # noqa: F401
    import sgcore.localzo  # noqa: F401
    import sgcore.signflip  # noqa: F401
    import sgcore.snn  # noqa: F401

    return set(config_hash_funcs())


def test_every_config_is_keyed_by_a_repr_that_shows_every_field():
    classes = _all_configs()
    assert {EscapeConfig, LoopConfig} <= classes and all(issubclass(c, DeclaredConfig) for c in classes)
    for cls in classes:
        for f in dataclasses.fields(cls):
            assert f.repr, f"{cls.__name__}.{f.name} is left out of repr: two configs could share a cache entry"
        assert cls.__dataclass_params__.frozen, f"{cls.__name__} must be frozen to be a cache key"


def test_configs_that_differ_in_any_field_have_different_keys():
    base = EscapeConfig()
    key = config_hash_funcs()[EscapeConfig]
    assert key(base) == key(EscapeConfig())
    assert key(base) != key(EscapeConfig(beta_sg=base.beta_sg + 1e-12))  # floats print round-trip
    assert key(base) != key(EscapeConfig(shape="superspike"))
    assert key(LoopConfig()) != key(LoopConfig(radius=LoopConfig().radius * (1 + 1e-15)))


def test_arrow_tables_hold_the_same_values():
    cols = {"a": [1.5, math.inf], "b": ["x", "y"]}
    t = arrow(cols)
    assert isinstance(t, pa.Table) and t.to_pandas().equals(pd.DataFrame(cols))
    rows = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert arrow(rows).to_pylist() == rows
    df = pd.DataFrame(rows)
    assert arrow(df).to_pandas().equals(df) and arrow(df).column_names == ["a", "b"]


@pytest.mark.parametrize("rows", [{"a": [1, "x"]}, [{"a": 1}, {"a": "x"}], [], "text"])
def test_what_arrow_cannot_hold_is_returned_unchanged(rows):
    assert arrow(rows) is rows or arrow(rows) == rows
