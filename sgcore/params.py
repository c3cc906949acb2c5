"""Declared parameters: one description per parameter drives validation, widgets, URL and CLI.

A :class:`ParamSpec` holds everything the library, the Streamlit pages and the command line
need to know about a parameter: its name, LaTeX symbol, default, valid domain (checked by the
library), slider range (what a page offers and what a shared URL may carry), unit and help.
Slider bounds and library checks therefore cannot drift apart.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any, ClassVar, Self

__all__ = ["DeclaredConfig", "ParamSpec", "choice", "cli_type", "count", "declared", "finite", "interval", "lookup",
           "positive", "validate_all", "parse_query", "work"]

_KINDS = ("float", "int", "choice", "bool", "floats")


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def _interval(lo: float, hi: float, open_low: bool = False, open_high: bool = False) -> str:
    """An interval as messages write it, e.g. ``(0, 1]`` or ``[2, inf)`` (an infinite end is open)."""
    left = "(" if open_low or math.isinf(lo) else "["
    right = ")" if open_high or math.isinf(hi) else "]"
    return f"{left}{_fmt(lo)}, {_fmt(hi)}{right}"


@dataclass(frozen=True)
class ParamSpec:
    """A declared parameter.

    Parameters
    ----------
    name : str
        Python identifier; also the URL query key. The CLI flag is its kebab-case form.
    label : str
        Human-readable widget label.
    default : Any
        Default value (must itself be valid).
    kind : {"float", "int", "choice", "bool", "floats"}
        ``floats`` is a tuple of 1 to ``max_items`` numbers, each in ``domain`` (offered from
        ``options`` by the UI).
    symbol : str
        LaTeX symbol shown next to the widget.
    domain : (float, float)
        Valid mathematical domain checked by the library.
    open_low, open_high : bool
        Whether the domain bounds are excluded.
    slider : (float, float)
        Range offered by the UI and accepted from a URL; must lie inside ``domain``.
    widget : {"slider", "number"}
        How a page offers a numeric parameter (a number box suits seeds).
    step : float
        Slider step.
    choices : tuple of str
        Valid values of a ``choice`` parameter.
    unit, help : str
    """

    name: str
    label: str
    default: Any
    kind: str = "float"
    symbol: str = ""
    domain: tuple[float, float] = (-math.inf, math.inf)
    open_low: bool = False
    open_high: bool = False
    slider: tuple[float, float] | None = None
    step: float | None = None
    #: A tuple, or a live registry (a Mapping whose keys are the choices, e.g. ``SHAPES``): a shape
    #: registered later is then a valid choice everywhere at once.
    choices: tuple[str, ...] | Mapping[str, Any] = field(default_factory=tuple, hash=False)
    widget: str = "slider"
    unit: str = ""
    help: str = ""
    options: tuple[float, ...] = field(default_factory=tuple)
    max_items: int = 4

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"ParamSpec {self.name}: kind must be one of {_KINDS}")
        if self.widget not in ("slider", "number", "select"):
            raise ValueError(f"ParamSpec {self.name}: widget must be 'slider', 'number' or 'select'")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"ParamSpec {self.name}: a choice parameter needs choices")
        if self.slider is not None:
            lo, hi = self.slider
            if not (self._in_domain(lo) and self._in_domain(hi) and lo < hi):
                raise ValueError(f"ParamSpec {self.name}: slider {self.slider} not inside domain")
        self.validate(self.default)

    # -- public -----------------------------------------------------------------------------
    @property
    def flag(self) -> str:
        """Command-line option, e.g. ``--beta-n``."""
        return "--" + self.name.replace("_", "-")

    @property
    def choice_list(self) -> tuple[str, ...]:
        """The choices now, in order (a live registry's current keys)."""
        return tuple(self.choices)

    def describe_domain(self) -> str:
        """Human-readable valid range, e.g. ``(0, 1000]`` or ``one of sigmoid, erf``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choice_list)
        if self.kind == "bool":
            return "true or false"
        span = _interval(*self.domain, self.open_low, self.open_high)
        if self.kind == "floats":
            return f"1 to {self.max_items} finite numbers in {span}"
        what = "an integer" if self.kind == "int" else "a finite number"
        return f"{what} in {span}"

    def describe_slider(self) -> str:
        """Range accepted from the UI and from URLs."""
        if self.kind in ("choice", "bool") or self.slider is None:
            return self.describe_domain()
        lo, hi = self.slider
        what = "an integer" if self.kind == "int" else "a number"
        return f"{what} in [{_fmt(lo)}, {_fmt(hi)}]"

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to the parameter's type, or raise ``ValueError``.

        The message names the parameter and its valid range.
        """
        bad = ValueError(f"{self.name} must be {self.describe_domain()}; got {value!r}")
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise bad
            return value
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise bad
        if self.kind == "floats":
            items = value.split(",") if isinstance(value, str) else value
            try:
                numbers = tuple(float(v) for v in items)
            except (TypeError, ValueError):
                raise bad from None
            if not 1 <= len(numbers) <= self.max_items or any(
                isinstance(v, bool) or not math.isfinite(v) or not self._in_domain(v) for v in numbers
            ):
                raise bad
            return numbers
        if isinstance(value, bool):
            raise bad
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad from None
        if not math.isfinite(number) or not self._in_domain(number):
            raise bad
        if self.kind == "int":
            if number != int(number):
                raise bad
            return int(number)
        return number

    def parse(self, text: str, *, slider_range: bool = False) -> Any:
        """Parse a string (CLI argument or URL value) and validate it.

        With ``slider_range=True`` the value must also lie in the slider range (what a URL
        may carry, since the page's widget cannot show anything outside it).
        """
        text = str(text)
        if self.kind == "bool":
            low = text.lower()
            if low == "true":
                return True
            if low == "false":
                return False
            raise ValueError(f"{self.name} must be true or false; got {text!r}")
        if self.kind == "choice":
            return self.validate(text)  # exactly as listed: a link's " gaussian" is not "gaussian"
        text = text.strip()
        if self.kind == "floats":
            value = self.validate(text)
            if slider_range and self.slider is not None:
                lo, hi = self.slider
                if not all(lo <= v <= hi for v in value):
                    raise ValueError(f"{self.name} must be numbers in [{_fmt(lo)}, {_fmt(hi)}]; got {text!r}")
            return value
        try:
            value: Any = float(text)
        except ValueError:
            raise ValueError(
                f"{self.name} must be {self.describe_domain()}; got {text!r}"
            ) from None
        value = self.validate(value)
        if slider_range and self.slider is not None:
            lo, hi = self.slider
            if not lo <= value <= hi:
                raise ValueError(f"{self.name} must be {self.describe_slider()}; got {text!r}")
        return value

    # -- private ----------------------------------------------------------------------------
    def _in_domain(self, x: float) -> bool:
        lo, hi = self.domain
        above = x > lo if self.open_low else x >= lo
        below = x < hi if self.open_high else x <= hi
        return above and below


def validate_all(specs: Iterable[ParamSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a mapping of values against specs; return the coerced values."""
    return {s.name: s.validate(values[s.name]) for s in specs if s.name in values}


def parse_query(
    specs: Iterable[ParamSpec], query: Mapping[str, str | list[str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse URL query values for ``specs``.

    Returns ``(values, problems)``: the valid values found in ``query`` and, for each invalid
    one, a message naming the parameter and its accepted range. Unknown keys are ignored.
    """
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in specs:
        if spec.name not in query:
            continue
        raw = query[spec.name]
        entries = [str(r) for r in raw] if isinstance(raw, (list, tuple)) else [str(raw)]
        default = f"(using the default {spec.default!r})"
        longest = max((len(e) for e in entries), default=0)
        if longest > MAX_LINK_VALUE:
            problems[spec.name] = (f"{spec.name} must be {_expected(spec)}; got a value of {longest:,} characters "
                                   f"{default}")
            continue
        if spec.kind == "floats":
            options = {f"{o:g}": float(o) for o in spec.options}
            if entries in ([], [""]):  # the page's multiselect shows nothing selected: the page then says why
                values[spec.name] = ()
                problems[spec.name] = f"{spec.name} must be 1 to {spec.max_items} of {', '.join(options)}; got none"
                continue
            kept = [e for e in entries if e in options]
            if kept and len(kept) < len(entries) and len(set(kept)) == len(kept) <= spec.max_items:
                # the page's multiselect keeps the entries that are options: say which were dropped
                values[spec.name] = tuple(options[e] for e in kept)
                dropped = ", ".join(repr(e) for e in entries if e not in options)[:80]
                problems[spec.name] = (f"{spec.name} must be 1 to {spec.max_items} of {', '.join(options)}; dropped "
                                       f"{dropped} (using {', '.join(kept)})")
                continue
            if (any(e not in options for e in entries) or len(set(entries)) != len(entries)
                    or len(entries) > spec.max_items):
                got = ", ".join(repr(e) for e in entries)[:80]
                problems[spec.name] = (f"{spec.name} must be 1 to {spec.max_items} of {', '.join(options)} (one "
                                       f"per {spec.name}=...); got {got} {default}")
                continue
            values[spec.name] = tuple(options[e] for e in entries)
            continue
        if len(entries) != 1:
            if spec.kind in ("choice", "bool") and spec.widget != "select":  # the page's widget takes the last one
                try:
                    values[spec.name] = spec.parse(entries[-1], slider_range=True)
                    problems[spec.name] = (f"{spec.name} must be given once; got it {len(entries)} times (using the "
                                           f"last, {values[spec.name]!r})")
                except ValueError as err:
                    problems[spec.name] = f"{err} {default}"
                continue
            problems[spec.name] = f"{spec.name} must be given once; got it {len(entries)} times {default}"
            continue
        try:
            values[spec.name] = spec.parse(entries[0], slider_range=True)
        except ValueError as err:
            whole = _truncated_int(spec, entries[0])
            if whole is not None:  # the page's integer slider truncates: say so
                values[spec.name] = whole
                problems[spec.name] = f"{spec.name} must be an integer; got {entries[0]!r} (using {whole})"
            else:
                problems[spec.name] = f"{err} {default}"
    return values, problems


def _truncated_int(spec: ParamSpec, text: str) -> int | None:
    """For an integer parameter, the whole part of a finite in-range decimal such as '2.5', else None."""
    if spec.kind != "int":
        return None
    try:
        x = float(text)
    except ValueError:
        return None
    if not math.isfinite(x) or x == int(x):
        return None
    try:
        return spec.parse(str(int(x)), slider_range=True)
    except ValueError:
        return None


#: Longest value a link may carry for one parameter (longer ones are reported, not echoed).
MAX_LINK_VALUE = 200


def _expected(spec: ParamSpec) -> str:
    if spec.kind == "choice":
        return "one of " + ", ".join(spec.choice_list)
    if spec.kind == "bool":
        return "true or false"
    return spec.describe_slider() if spec.slider is not None else spec.describe_domain()


def lookup(registry: Mapping[str, Any], name: Any, param: str) -> Any:
    """``registry[name]``, or ``ValueError`` naming ``param`` and listing the valid keys."""
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise ValueError(f"{param} must be one of {', '.join(registry)}; got {name!r}") from None


#: Python type of each kind of declared parameter (the dataclass field's annotation).
_FIELD_TYPES: Mapping[str, type] = {"float": float, "int": int, "choice": str, "bool": bool, "floats": tuple}


class DeclaredConfig:
    """Mixin for frozen configurations whose fields are their declared ``PARAMS``.

    Decorate a subclass with :func:`declared`: each :class:`ParamSpec` in ``PARAMS`` becomes one
    field (its name, type and default), so a parameter is declared exactly once. Every field is
    validated (and coerced) on construction; the class builds from a mapping that may hold other
    keys and exports itself as a plain dict.
    """

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()

    def __post_init__(self) -> None:
        for spec in self.PARAMS:
            object.__setattr__(self, spec.name, spec.validate(getattr(self, spec.name)))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        names = {spec.name for spec in cls.PARAMS}
        return cls(**{k: v for k, v in values.items() if k in names})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


def declared(cls: type) -> type:
    """Class decorator: a frozen dataclass whose fields are ``cls.PARAMS``, in order.

    The class body declares no fields of its own (an annotated attribute that is not a
    ``ClassVar`` raises): the :class:`ParamSpec` is the one declaration of a parameter's name,
    type, default, domain, widget and help. Properties, methods and ``ClassVar`` s stay; the class
    gets the dataclass ``__init__`` (positional in ``PARAMS`` order), ``repr`` of every field,
    equality and hashing (a Streamlit cache key), and ``dataclasses.replace`` revalidates (it
    builds a new instance, so ``__post_init__`` runs again).

    Raises
    ------
    TypeError
        If ``cls`` is not a :class:`DeclaredConfig`, declares a field in its body, declares a
        parameter twice (in ``PARAMS`` or as a class attribute), or inherits dataclass fields.
    """
    if not isinstance(cls, type) or not issubclass(cls, DeclaredConfig):
        raise TypeError(f"{getattr(cls, '__name__', cls)!r}: @declared needs a DeclaredConfig subclass")
    own = dict(cls.__dict__.get("__annotations__", {}))
    stray = [n for n, a in own.items() if "ClassVar" not in str(a)]
    if stray:
        raise TypeError(f"{cls.__name__}: fields {stray} must be declared as ParamSpecs in PARAMS, not in the class")
    inherited = [n for base in cls.__mro__[1:] for n in getattr(base, "__dataclass_fields__", {})]
    if inherited:
        raise TypeError(f"{cls.__name__}: inherits dataclass fields {inherited}; declare them in PARAMS instead")
    names = [spec.name for spec in cls.PARAMS]
    twice = sorted({n for n in names if names.count(n) > 1} | {n for n in names if n in own or n in cls.__dict__})
    if twice:
        raise TypeError(f"{cls.__name__}: parameters {twice} are declared twice")
    for spec in cls.PARAMS:
        kind = _FIELD_TYPES[spec.kind]
        own[spec.name] = kind | None if spec.default is None else kind  # an OptionalSpec may stay unset
        setattr(cls, spec.name, spec.default)
    cls.__annotations__ = own
    out = dataclass(frozen=True)(cls)
    if [f.name for f in dataclass_fields(out)] != names:  # pragma: no cover - guarded by the checks above
        raise TypeError(f"{cls.__name__}: fields differ from PARAMS")
    return out


# --- one validator per kind of number (library functions that take plain arguments) ----------
def _number(name: str, x: Any, what: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {what}; got {x!r}") from None
    if isinstance(x, bool) or not math.isfinite(v):  # True is not the number 1 here
        raise ValueError(f"{name} must be {what}; got {x!r}")
    return v


def finite(name: str, x: Any) -> float:
    """``x`` as a finite float, or ``ValueError`` naming ``name`` (booleans are not numbers here)."""
    return _number(name, x, "a finite number")


def positive(name: str, x: Any) -> float:
    """``x`` as a finite float > 0, or ``ValueError`` naming ``name`` (booleans are not numbers here)."""
    v = _number(name, x, "a finite number > 0")
    if v <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {x!r}")
    return v


def interval(name: str, x: Any, low: float = -math.inf, high: float = math.inf, *, open_low: bool = False,
             open_high: bool = False) -> float:
    """``x`` as a finite float in [low, high] (``open_*`` excludes an end), or ``ValueError`` naming ``name``
    and the interval as a ParamSpec's domain writes it, e.g. ``alpha_decay must be a finite number in (0, 1)``.
    """
    what = f"a finite number in {_interval(low, high, open_low, open_high)}"
    v = _number(name, x, what)
    above = v > low if open_low else v >= low
    below = v < high if open_high else v <= high
    if not (above and below):
        raise ValueError(f"{name} must be {what}; got {x!r}")
    return v


def count(name: str, x: Any, low: int = 0, high: float = math.inf) -> int:
    """``x`` as an integer in [low, high], or ``ValueError`` naming ``name`` and the range."""
    span = f"an integer >= {low}" if math.isinf(high) else f"an integer in [{low}, {int(high)}]"
    try:
        k = int(x)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be {span}; got {x!r}") from None
    if isinstance(x, bool) or k != float(x) or not low <= k <= high:
        raise ValueError(f"{name} must be {span}; got {x!r}")
    return k


def choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (exactly), or ``ValueError`` listing them."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}; got {value!r}")
    return value


def work(factors: Mapping[str, int], limit: float, hint: str) -> int:
    """The size of a computation, the product of ``factors`` (name or sum of names -> size), or ``ValueError`` if
    it exceeds ``limit``, naming the factors, their product and the limit, e.g. ``n_samples x m = 3.0e+08 exceeds 2e+06;
    lower n_samples or m``.

    Each parameter's own domain bounds it alone; this bounds their product (the array or loop the computation
    really builds), so a link or CLI call that combines large values fails at once instead of running for hours
    or exhausting memory.
    """
    total = math.prod(int(v) for v in factors.values())
    if total > limit:
        raise ValueError(f"{' x '.join(factors)} = {total:.1e} exceeds {limit:.0e}; {hint}")
    return total


def cli_type(check: Callable[..., Any], name: str, *bounds: Any) -> Callable[[str], Any]:
    """An argparse ``type`` from one of the validators above, e.g. ``cli_type(count, "epochs", 1, 100_000)``: its
    message (naming ``name`` and the range) becomes argparse's one-line error."""
    def convert(text: str) -> Any:
        try:
            return check(name, text, *bounds)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return convert
