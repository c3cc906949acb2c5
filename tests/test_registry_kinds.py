"""sgcore.registry.NamedRegistry: the one kind of registry behind shapes, escape families and backward methods."""

from dataclasses import dataclass

import pytest

from sgcore.escape import ESCAPE_FAMILIES, EscapeFamily, register_family
from sgcore.params import ParamSpec
from sgcore.registry import NamedRegistry
from sgcore.shapes import EVEN_SHAPES, SHAPES
from sgcore.snn import BACKWARDS


@dataclass(frozen=True)
class Thing:
    name: str
    even: bool = True


def _identifier(thing: Thing) -> None:
    if not thing.name.isidentifier():
        raise ValueError("bad")


def make():
    return NamedRegistry("thing", Thing, (Thing("a"), Thing("b", even=False)), param="thing", check=_identifier)


def test_reading_is_a_live_mapping_and_lookup_names_the_parameter():
    reg = make()
    assert list(reg) == ["a", "b"] and len(reg) == 2 and reg["a"] == Thing("a") and "c" not in reg
    with pytest.raises(KeyError):
        reg["c"]
    with pytest.raises(ValueError, match=r"thing must be one of a, b; got 'c'"):
        reg.lookup("c")
    with pytest.raises(ValueError, match="thing must be one of"):
        reg.lookup(["unhashable"])
    even = reg.where(lambda t: t.even)
    assert list(even) == ["a"] and len(even) == 1
    with pytest.raises(KeyError):
        even["b"]
    spec = ParamSpec("thing", "Thing", "a", kind="choice", choices=reg)
    with reg.registered(Thing("c")):
        assert list(reg) == ["a", "b", "c"] and "c" in even and spec.validate("c") == "c"
        assert "c" in spec.describe_domain()
    assert "c" not in reg and "c" not in even
    with pytest.raises(ValueError, match="thing must be one of a, b"):
        spec.validate("c")


def test_register_checks_type_name_and_record_and_built_ins_stay():
    reg = make()
    with pytest.raises(TypeError, match="takes Thing records"):
        reg.register("d")
    with pytest.raises(ValueError, match="thing 'a' is already registered"):
        reg.register(Thing("a"))
    with pytest.raises(ValueError, match="bad"):
        reg.register(Thing("not an identifier"))
    assert "not an identifier" not in reg
    reg.register(Thing("d"))
    assert reg.unregister("d") == Thing("d") and "d" not in reg
    with pytest.raises(ValueError, match="thing 'a' is built in"):
        reg.unregister("a")
    with pytest.raises(ValueError, match="thing must be one of"):
        reg.unregister("zzz")
    with pytest.raises(ValueError, match="already registered"), reg.registered(Thing("e"), Thing("e")):
        pass
    assert "e" not in reg  # a failed registration in the block leaves nothing behind


def test_the_library_registries_are_named_registries():
    assert all(isinstance(r, NamedRegistry) for r in (SHAPES, ESCAPE_FAMILIES, BACKWARDS))
    assert list(EVEN_SHAPES) == [name for name, shape in SHAPES.items() if shape.symmetric]
    with pytest.raises(ValueError, match="shape must be one of"):  # an escape family needs a registered shape
        register_family(EscapeFamily("x", "X", "no_such_shape", "", "", ""))
    assert "x" not in ESCAPE_FAMILIES
    with pytest.raises(ValueError, match="escape must be one of sigmoid, erf, exponential"):
        ESCAPE_FAMILIES.lookup("nope")
