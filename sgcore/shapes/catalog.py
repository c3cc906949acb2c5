"""The one registry of surrogate shapes.

Every shape is a *standard form* ``f`` with maximum 1 at ``v = 0`` and unit area
(Herranz-Celotti & Rouat, Table S1), together with its antiderivative ``F`` (a CDF: the
escape-noise function of the stochastic neuron whose derivative the SD matches), its
survival function and an analytic inverse CDF. A surrogate derivative is

    SD(u) = gamma * f(s * u),   s = beta * beta_to_s,

with sharpness ``s`` and dampening ``gamma``. The *scaling* fixes gamma:

* ``density``: gamma = s, unit area; SD is the derivative of the escape function F(s u);
* ``peak``: gamma = 1, unit peak (SuperSpike, Gygax & Zenke Table 2);
* ``gamma``: a user-given dampening.

Each shape declares how the user-facing steepness ``beta`` maps to ``s`` so that the papers'
conventions hold exactly, e.g. ``sigmoid`` in density scaling is
``beta * sigma(beta u) * (1 - sigma(beta u))`` (Gygax & Zenke Eq. 1, 6-8) and ``superspike``
in peak scaling is ``1 / (beta |u| + 1)^2`` (Gygax & Zenke Table 2).

Formulas for ``f`` and ``F`` are written once against a tiny array namespace so that the same
code serves NumPy (float64 or float32) and torch (autograd).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import special

from ..params import DeclaredConfig, ParamSpec, count, declared, lookup, positive

__all__ = [
    "H0",
    "SCALINGS",
    "EVEN_SHAPES",
    "SHAPES",
    "register",
    "registered",
    "unregister",
    "SurrogateShape",
    "get_shape",
    "heaviside",
    "sharpness",
    "dampening",
    "surrogate_derivative",
    "NUMPY_OPS",
    "Surrogate",
    "sd_param_specs",
]

#: Value of the Heaviside step at 0: the limit of sigma_beta(0) as beta -> inf.
H0 = 0.5

#: The scalings of ``SD(u) = gamma f(s u)`` and what they mean.
SCALINGS: Mapping[str, str] = MappingProxyType(
    {
        "density": "unit area (gamma = s): the derivative of the matched escape-noise CDF F(s u)",
        "peak": "unit peak (gamma = 1): SD(0) = 1, i.e. the density scaled by 1/s",
        "gamma": "user-given dampening gamma",
    }
)

_E = math.e
_SQRT2PI = math.sqrt(2.0 * math.pi)
# exp() arguments are clamped below this so float32 and float64 never overflow.
_EXP_CAP = 80.0


class _Ops:
    """Minimal array namespace so each formula is written once for NumPy and torch."""

    def __init__(self, **fns: Callable[..., Any]) -> None:
        self.__dict__.update(fns)


NUMPY_OPS = _Ops(
    exp=np.exp,
    expm1=np.expm1,
    abs=np.abs,
    sigmoid=special.expit,
    ndtr=special.ndtr,
    arctan=np.arctan,
    where=np.where,
    clip=np.clip,
    sqrt=np.sqrt,
)


def _torch_ops() -> _Ops:
    import torch

    return _Ops(
        exp=torch.exp,
        expm1=torch.expm1,
        abs=torch.abs,
        sigmoid=torch.sigmoid,
        ndtr=torch.special.ndtr,
        arctan=torch.arctan,
        where=torch.where,
        clip=torch.clamp,
        sqrt=torch.sqrt,
    )


# --- standard forms (max 1, unit area) and their CDFs -------------------------------------
# Each takes v and an ops namespace; branches use clipped inputs so where() never sees
# invalid values (no warnings, no NaN) in either branch.


def _tri_f(v, xp, **_):
    return xp.clip(1.0 - xp.abs(v), 0.0, None)


def _tri_F(v, xp, **_):
    w = xp.clip(v, -1.0, 1.0)
    return xp.where(w < 0, 0.5 * (1.0 + w) ** 2, 1.0 - 0.5 * (1.0 - w) ** 2)


def _tri_ppf(p, **_):
    return np.where(p < 0.5, -1.0 + np.sqrt(2.0 * np.minimum(p, 0.5)),
                    1.0 - np.sqrt(2.0 * np.clip(1.0 - p, 0.0, 0.5)))


def _exp_f(v, xp, **_):
    return xp.exp(-2.0 * xp.abs(v))


def _exp_F(v, xp, **_):
    half_tail = 0.5 * xp.exp(-2.0 * xp.abs(v))
    return xp.where(v < 0, half_tail, 1.0 - half_tail)


def _exp_ppf(p, **_):
    lo = np.log(2.0 * np.clip(p, 1e-300, 0.5)) / 2.0
    hi = -np.log(2.0 * np.clip(1.0 - p, 1e-300, 0.5)) / 2.0
    return np.where(p < 0.5, lo, hi)


def _exp_hazard(v, **_):
    # f / (1 - F): 2 for v >= 0 (memoryless tail); exact ratio below 0.
    tail = np.exp(2.0 * np.minimum(v, 0.0))
    return np.where(v >= 0, 2.0, tail / (1.0 - 0.5 * tail))


def _gauss_f(v, xp, **_):
    return xp.exp(-math.pi * v * v)


def _gauss_F(v, xp, **_):
    return xp.ndtr(_SQRT2PI * v)


def _gauss_ppf(p, **_):
    return special.ndtri(p) / _SQRT2PI


def _gauss_hazard(v, **_):
    # f(v) / (1 - F(v)) with f(v) = phi(x) sqrt(2 pi), x = sqrt(2 pi) v; erfcx keeps it finite.
    x = _SQRT2PI * v
    return 2.0 / special.erfcx(x / math.sqrt(2.0))


def _sig_f(v, xp, **_):
    return 4.0 * xp.sigmoid(4.0 * v) * xp.sigmoid(-4.0 * v)


def _sig_F(v, xp, **_):
    return xp.sigmoid(4.0 * v)


def _sig_ppf(p, **_):
    return special.logit(p) / 4.0


def _sig_hazard(v, **_):
    return 4.0 * special.expit(4.0 * v)


def _sig_logcdf(v, **_):
    return special.log_expit(4.0 * v)


def _sig_ppf_kernel(p: np.ndarray, tmp: np.ndarray) -> None:
    """p <- logit(p) / 4 in place, in p's dtype (``tmp``: scratch of the same shape)."""
    one = p.dtype.type(1.0)
    np.subtract(one, p, out=tmp)
    with np.errstate(divide="ignore"):
        np.divide(p, tmp, out=p)
        np.log(p, out=p)
    p *= p.dtype.type(0.25)


def _pseudo_f(v, xp, q=2.0, **_):
    return (1.0 + (2.0 / (q - 1.0)) * xp.abs(v)) ** (-q)


def _pseudo_F(v, xp, q=2.0, **_):
    half_tail = 0.5 * (1.0 + (2.0 / (q - 1.0)) * xp.abs(v)) ** (1.0 - q)
    return xp.where(v < 0, half_tail, 1.0 - half_tail)


def _pseudo_ppf(p, q=2.0, **_):
    a = 2.0 / (q - 1.0)
    tail = np.where(p < 0.5, p, 1.0 - p)
    tail = np.clip(tail, 1e-300, 0.5)
    dist = ((2.0 * tail) ** (1.0 / (1.0 - q)) - 1.0) / a
    return np.where(p < 0.5, -dist, dist)


def _pseudo_hazard(v, q=2.0, **_):
    a = 2.0 / (q - 1.0)
    base = 1.0 + a * np.abs(v)
    upper = 2.0 / base  # v >= 0: base^-q / (base^(1-q) / 2)
    lower = base ** (-q) / (1.0 - 0.5 * base ** (1.0 - q))
    return np.where(v >= 0, upper, lower)


def _rect_f(v, xp, **_):
    return xp.where(xp.abs(v) < 0.5, 1.0 + 0.0 * v, 0.0 * v)


def _rect_F(v, xp, **_):
    return xp.clip(v + 0.5, 0.0, 1.0)


def _rect_ppf(p, **_):
    return p - 0.5


def _atan_f(v, xp, **_):
    return 1.0 / (1.0 + (math.pi * v) ** 2)


def _atan_F(v, xp, **_):
    return 0.5 + xp.arctan(math.pi * v) / math.pi


def _atan_ppf(p, **_):
    return np.tan(math.pi * (p - 0.5)) / math.pi


def _gumbel_f(v, xp, **_):
    ev = xp.clip(_E * v, None, _EXP_CAP)
    return _E * xp.exp(ev - xp.exp(ev))


def _gumbel_F(v, xp, **_):
    ev = xp.clip(_E * v, None, _EXP_CAP)
    return -xp.expm1(-xp.exp(ev))


def _gumbel_sf(v, **_):
    ev = np.clip(_E * v, None, _EXP_CAP)
    return np.exp(-np.exp(ev))


def _gumbel_ppf(p, **_):
    return np.log(-np.log1p(-np.clip(p, 0.0, 1.0 - 1e-16))) / _E


def _gumbel_hazard(v, **_):
    return _E * np.exp(np.clip(_E * v, None, 700.0))


def _gumbel_rhazard(v, **_):
    # f / F = e t e^{-t} / (1 - e^{-t}), t = exp(e v); tends to e as v -> -inf.
    t = np.exp(np.clip(_E * v, None, 700.0))
    safe = np.where(t > 0, t, 1.0)
    return np.where(t > 0, _E * safe * np.exp(-safe) / -np.expm1(-safe), _E)


# --- derivatives f'(v) of the standard forms (NumPy; used by LocalZO's Theorem 3) -------------
def _sig_df(v, **_):
    a, b = special.expit(4.0 * v), special.expit(-4.0 * v)
    return 16.0 * a * b * (b - a)


def _pseudo_df(v, q=2.0, **_):
    b = 2.0 / (q - 1.0)
    return -q * b * np.sign(v) * (1.0 + b * np.abs(v)) ** (-q - 1.0)


def _tri_df(v, **_):
    return np.where(np.abs(v) < 1.0, -np.sign(v), 0.0)


def _exp_df(v, **_):
    return -2.0 * np.sign(v) * np.exp(-2.0 * np.abs(v))


def _gauss_df(v, **_):
    return -2.0 * math.pi * v * np.exp(-math.pi * v * v)


def _rect_df(v, **_):
    return np.zeros_like(v)  # almost everywhere; f jumps at |v| = 1/2


def _atan_df(v, **_):
    return -2.0 * math.pi**2 * v / (1.0 + (math.pi * v) ** 2) ** 2


def _gumbel_df(v, **_):
    ev = np.clip(_E * v, None, _EXP_CAP)
    return _E * _E * np.exp(ev - np.exp(ev)) * (1.0 - np.exp(ev))


# --- facts of the standard forms: closed forms, tails, Theorem 3 pieces, fast kernels ---------
_EULER_GAMMA = 0.5772156649015329
#: The sigmoid constant of LocalZO Sec. 4.6.1: 1/a^2 = 0.4262 is exactly 7 zeta(3) / (2 pi^2).
SIGMOID_CONSTANT: float = 7.0 * float(special.zeta(3.0)) / (2.0 * math.pi**2)


@dataclass(frozen=True)
class ClosedForm:
    """A quantity of a standard form known in closed form: its LaTeX derivation and its value.

    ``value`` takes the shape's parameters (e.g. ``q``) as keywords and returns a float
    (``inf`` where the quantity diverges)."""

    latex: str
    value: Callable[..., float] = field(repr=False)


def _const(latex: str, x: float) -> ClosedForm:
    return ClosedForm(latex, lambda **_: x)


def _pseudo_tail_moment(q: float = 2.0, **_: Any) -> float:
    return (q - 1.0) ** 2 / (2.0 * (q - 2.0) * (q - 3.0)) if q > 3.0 else math.inf


# Theorem 3 (LocalZO): with alpha = -1 the standard variable Y has CDF R(y) = 2 [F(y) - 1/2 - y f(y)]
# for every even shape; the entries below are inverse CDFs (or CDFs) known in closed form.
def _superspike_ppf_m1(p: np.ndarray, **_: Any) -> np.ndarray:
    r = np.sqrt(p)  # R(y) = (2y / (1 + 2y))^2
    return r / (2.0 * (1.0 - r))


def _exp_ppf_m1(p: np.ndarray, **_: Any) -> np.ndarray:
    return special.gammaincinv(2.0, p) / 2.0  # R(y) = 1 - e^{-2y}(1 + 2y): Gamma(2, rate 2)


def _gauss_ppf_1(p: np.ndarray, **_: Any) -> np.ndarray:
    return special.erfinv(p) / math.sqrt(math.pi)  # R(y) = erf(sqrt(pi) y): half-normal


def _gauss_cdf_1(y: np.ndarray, **_: Any) -> np.ndarray:
    return special.erf(math.sqrt(math.pi) * y)


def _atan_cdf_1(y: np.ndarray, **_: Any) -> np.ndarray:
    x = math.pi * y
    return (x / (1.0 + x * x) + np.arctan(x)) * (2.0 / math.pi)


# Fast in-place kernels for training: overwrite v (= U - theta) with gamma f(s v), same dtype.
def _superspike_kernel(v: np.ndarray, s: float, g: float) -> None:
    f = v.dtype.type  # f(x) = 1 / (1 + 2|x|)^2
    np.abs(v, out=v)
    v *= f(2.0 * s)
    v += f(1.0)
    np.square(v, out=v)
    np.divide(f(g), v, out=v)


def _sigmoid_kernel(v: np.ndarray, s: float, g: float) -> None:
    f = v.dtype.type  # f(x) = 4 sigma(4x) sigma(-4x) = 1 / cosh(2x)^2 (0 once cosh overflows)
    v *= f(2.0 * s)
    with np.errstate(over="ignore"):
        np.cosh(v, out=v)
        np.square(v, out=v)
    np.divide(f(g), v, out=v)


def _triangular_kernel(v: np.ndarray, s: float, g: float) -> None:
    f = v.dtype.type  # f(x) = max(1 - |x|, 0)
    np.abs(v, out=v)
    v *= f(-s)
    v += f(1.0)
    np.maximum(v, f(0.0), out=v)
    if g != 1.0:
        v *= f(g)


Q_SPEC = ParamSpec(
    name="q",
    label="tail fatness q",
    default=1.5,
    symbol="q",
    domain=(1.0, 100.0),
    open_low=True,
    slider=(1.01, 10.0),
    step=0.01,
    help="q-PseudoSpike tail exponent: f ~ |v|^-q; q = 2 is the fast sigmoid (SuperSpike).",
)


@dataclass(frozen=True)
class SurrogateShape:
    """A registered surrogate shape: standard form ``f``, CDF ``F`` and inverse CDF.

    Public methods validate their parameters and work in float64 (or the input's float
    dtype); formulas are private.
    """

    name: str
    label: str
    f_latex: str
    beta_to_s: float
    beta_to_s_latex: str
    default_scale: str
    reference: str
    symmetric: bool
    support: float  # half-width of the support of f (inf for unbounded)
    _f: Callable[..., Any] = field(repr=False)
    _F: Callable[..., Any] = field(repr=False)
    _ppf: Callable[..., Any] = field(repr=False)
    _sf: Callable[..., Any] | None = field(default=None, repr=False)
    _hazard: Callable[..., Any] | None = field(default=None, repr=False)
    _rhazard: Callable[..., Any] | None = field(default=None, repr=False)
    _df: Callable[..., Any] | None = field(default=None, repr=False)
    params: tuple[ParamSpec, ...] = ()
    #: Closed forms of the gallery quantities ``int_f_sq`` (int f^2) and ``tail_moment`` (int v^2 f).
    closed_forms: Mapping[str, ClosedForm] = field(default_factory=dict, repr=False)
    #: p with f(v) ~ |v|^-p far out (inf: faster than any power); a function of the shape's parameters.
    tail_index: Callable[..., float] = field(default=lambda **_: math.inf, repr=False)
    #: f'(0) = 0 (no corner at the peak): LocalZO's Theorem 3 with alpha = 1 then has a finite c.
    smooth_peak: bool = False
    #: M_1 = int_0^inf y^-1 (-f'(y)) dy in closed form (None: by quadrature when ``smooth_peak``).
    m1: float | None = None
    #: Theorem 3's standard variable Y: inverse CDFs and CDFs in closed form, keyed by alpha.
    theorem3_ppf: Mapping[int, Callable[..., Any]] = field(default_factory=dict, repr=False)
    theorem3_cdf: Mapping[int, Callable[..., Any]] = field(default_factory=dict, repr=False)
    #: f is flat with jumps at |v| = this: Theorem 3 puts all mass of Y there (None otherwise).
    jump_at: float | None = None
    #: How LocalZO names the target g(u) = gamma f(s u) at steepness k (default: the label).
    target_label: str = ""
    #: Optional fast in-place kernel ``kernel(v, s, gamma)``: v <- gamma f(s v) (the trainer's hot loop).
    kernel: Callable[[np.ndarray, float, float], None] | None = field(default=None, repr=False)
    #: Optional exact log F(v) (default: log of :meth:`cdf`); the sigmoid's is log_expit, exact in the tails.
    _logcdf: Callable[..., Any] | None = field(default=None, repr=False)
    #: Optional fast in-place inverse CDF ``ppf_kernel(p, tmp)``: p <- F^{-1}(p) in p's dtype (escape noise).
    ppf_kernel: Callable[[np.ndarray, np.ndarray], None] | None = field(default=None, repr=False)

    # -- parameters -------------------------------------------------------------------------
    def shape_params(self, **given: Any) -> dict[str, Any]:
        """Validated shape parameters (defaults filled in); unknown names raise."""
        known = {p.name: p for p in self.params}
        unknown = set(given) - set(known)
        if unknown:
            raise ValueError(
                f"shape {self.name!r} takes no parameter(s) {sorted(unknown)}; "
                f"its parameters are {sorted(known) or 'none'}"
            )
        return {n: spec.validate(given.get(n, spec.default)) for n, spec in known.items()}

    def pick_params(self, **candidates: Any) -> dict[str, Any]:
        """The shape's own parameters out of ``candidates`` (others ignored), validated, defaults filled in.

        Lets a caller hold every parameter any shape might take (e.g. ``q``) and pass on what applies."""
        return self.shape_params(**{p.name: candidates[p.name] for p in self.params if p.name in candidates})

    def closed_form(self, quantity: str, **params: Any) -> float:
        """Closed form of ``peak``, ``area`` (both 1 for a standard form), ``int_f_sq`` or ``tail_moment``.

        ``nan`` where the shape declares none (the gallery then shows quadrature alone)."""
        p = self.shape_params(**params)
        if quantity in ("peak", "area"):
            return 1.0
        if quantity not in ("int_f_sq", "tail_moment"):
            raise ValueError(f"quantity must be one of peak, area, int_f_sq, tail_moment; got {quantity!r}")
        known = self.closed_forms.get(quantity)
        return float(known.value(**p)) if known is not None else math.nan

    def tail_exponent(self, **params: Any) -> float:
        """p with f(v) ~ |v|^-p as |v| -> inf (inf for tails lighter than any power)."""
        return float(self.tail_index(**self.shape_params(**params)))

    def finite_abs_moment(self, order: float, **params: Any) -> bool:
        """Is int |v|^order f(v) dv finite? (f is bounded, so only the tails decide: order < p - 1.)"""
        return order < self.tail_exponent(**params) - 1.0

    def sd_inplace(self, v: np.ndarray, s: float, gamma: float, **params: Any) -> None:
        """Overwrite ``v`` with gamma f(s v) in place (fast kernel if declared, else the formula via torch)."""
        if self.kernel is not None:
            self.kernel(v, s, gamma)
            return
        import torch

        t = torch.from_numpy(v)
        t.copy_(gamma * self.f_torch(s * t, **params))

    # -- standard form ----------------------------------------------------------------------
    def f(self, v: Any, **params: Any) -> np.ndarray:
        """Standard form f(v): maximum 1 at v = 0, unit area."""
        v, dtype = _as_float(v)
        return _cast(self._f(v, NUMPY_OPS, **self.shape_params(**params)), dtype)

    def cdf(self, v: Any, **params: Any) -> np.ndarray:
        """F(v) = int_{-inf}^v f: the escape-noise function that f matches."""
        v, dtype = _as_float(v)
        return _cast(self._F(v, NUMPY_OPS, **self.shape_params(**params)), dtype)

    def logcdf(self, v: Any, **params: Any) -> np.ndarray:
        """log F(v), exact where the shape declares it (no underflow of F in the left tail)."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        if self._logcdf:
            return _cast(self._logcdf(v, **p), dtype)
        with np.errstate(divide="ignore"):
            return _cast(np.log(self._F(v, NUMPY_OPS, **p)), dtype)

    def logsf(self, v: Any, **params: Any) -> np.ndarray:
        """log (1 - F(v)): ``logcdf(-v)`` for an even shape, else the log of :meth:`sf`."""
        if self.symmetric:
            return self.logcdf(-np.asarray(v), **params)
        v, dtype = _as_float(v)
        with np.errstate(divide="ignore"):
            return _cast(np.log(self.sf(v, **params)), dtype)

    def ppf_inplace(self, prob: np.ndarray, tmp: np.ndarray, **params: Any) -> None:
        """Overwrite ``prob`` (float array, values in [0, 1)) with F^{-1}(prob) in place (``tmp``: scratch).

        The declared fast kernel where there is one (no validation: the trainer's hot path), else :meth:`ppf`.
        """
        if self.ppf_kernel is not None and not params:
            self.ppf_kernel(prob, tmp)
            return
        np.copyto(prob, self.ppf(prob, **params))

    def df(self, v: Any, **params: Any) -> np.ndarray:
        """Derivative f'(v) of the standard form (almost everywhere; 0 at a cusp's tip)."""
        v, dtype = _as_float(v)
        return _cast(self._df(v, **self.shape_params(**params)), dtype)

    def sf(self, v: Any, **params: Any) -> np.ndarray:
        """Survival function 1 - F(v), computed without cancellation."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        out = self._sf(v, **p) if self._sf else self._F(-v, NUMPY_OPS, **p)
        return _cast(out, dtype)

    def ppf(self, prob: Any, **params: Any) -> np.ndarray:
        """Inverse CDF (analytic), for inverse-transform sampling. ``prob`` in [0, 1]."""
        prob, dtype = _as_float(prob)
        if np.any(~np.isfinite(prob)) or np.any((prob < 0) | (prob > 1)):
            raise ValueError("ppf: probabilities must be finite numbers in [0, 1]")
        with np.errstate(divide="ignore"):
            out = self._ppf(prob, **self.shape_params(**params))
        return _cast(out, dtype)

    def sample(self, n: int, rng: np.random.Generator, **params: Any) -> np.ndarray:
        """Draw ``n`` samples with density f by inverse transform (explicit ``rng``)."""
        n = count("n", n, 0)
        prob = rng.uniform(np.nextafter(0.0, 1.0), 1.0, size=n)
        return self.ppf(prob, **params)

    def hazard(self, v: Any, **params: Any) -> np.ndarray:
        """f(v) / (1 - F(v)); NaN where 1 - F(v) = 0 (the conditioning event is impossible)."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        if self._hazard:
            return _cast(self._hazard(v, **p), dtype)
        return _cast(_ratio(self._f(v, NUMPY_OPS, **p), self.sf(v, **p)), dtype)

    def reverse_hazard(self, v: Any, **params: Any) -> np.ndarray:
        """f(v) / F(v); NaN where F(v) = 0 (the conditioning event is impossible)."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        if self._rhazard:
            return _cast(self._rhazard(v, **p), dtype)
        if self.symmetric:
            return _cast(self.hazard(-v, **p), dtype)
        return _cast(_ratio(self._f(v, NUMPY_OPS, **p), self._F(v, NUMPY_OPS, **p)), dtype)

    # -- torch ------------------------------------------------------------------------------
    def f_torch(self, v: Any, **params: Any) -> Any:
        """Standard form f on a torch tensor (same formula as :meth:`f`)."""
        return self._f(v, _torch_ops(), **self.shape_params(**params))

    def cdf_torch(self, v: Any, **params: Any) -> Any:
        """CDF F on a torch tensor, differentiable by autograd."""
        return self._F(v, _torch_ops(), **self.shape_params(**params))

    # -- scaling ----------------------------------------------------------------------------
    def sharpness(self, beta: float) -> float:
        """s = beta * beta_to_s (the shape's declared convention)."""
        return _check_beta(beta) * self.beta_to_s


def _as_float(v: Any) -> tuple[np.ndarray, np.dtype]:
    arr = np.asarray(v)
    dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return arr.astype(np.float64), dtype


def _cast(out: Any, dtype: np.dtype) -> np.ndarray:
    return np.asarray(out, dtype=np.float64).astype(dtype)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    den = np.asarray(den, dtype=np.float64)
    ok = den > 0
    return np.where(ok, np.asarray(num) / np.where(ok, den, 1.0), np.nan)


def _check_beta(beta: float) -> float:
    return positive("beta", beta)


_SHAPE_LIST = [
    SurrogateShape(
        name="sigmoid",
        label="Sigmoid derivative",
        f_latex=r"4\,\sigma(4v)\,(1-\sigma(4v))",
        beta_to_s=0.25,
        beta_to_s_latex=r"s = \beta/4",
        default_scale="density",
        reference="Gygax & Zenke Eq. 1, 6-8; Herranz-Celotti Table S1 (d-sigmoid)",
        symmetric=True,
        support=math.inf,
        _f=_sig_f,
        _F=_sig_F,
        _ppf=_sig_ppf,
        _df=_sig_df,
        _hazard=_sig_hazard,
        closed_forms={"int_f_sq": _const(r"16\int\sigma'(4v)^2 dv = 4\int_0^1 p(1-p)\,dp = 2/3", 2.0 / 3.0),
                      "tail_moment": _const(r"\pi^2/48 \ (\text{logistic, scale } 1/4)", math.pi**2 / 48.0)},
        smooth_peak=True,
        m1=8.0 * SIGMOID_CONSTANT,  # 16 int -sigma''(x)/x dx = 28 zeta(3) / pi^2
        kernel=_sigmoid_kernel,
        _logcdf=_sig_logcdf,
        ppf_kernel=_sig_ppf_kernel,
    ),
    SurrogateShape(
        name="superspike",
        label="SuperSpike (fast-sigmoid derivative)",
        f_latex=r"\frac{1}{(1+2|v|)^2}",
        beta_to_s=0.5,
        beta_to_s_latex=r"s = \beta/2",
        default_scale="peak",
        reference="Gygax & Zenke Table 2; Zenke & Ganguli 2018; Herranz-Celotti Table S1",
        symmetric=True,
        support=math.inf,
        _f=lambda v, xp, **_: _pseudo_f(v, xp, q=2.0),
        _F=lambda v, xp, **_: _pseudo_F(v, xp, q=2.0),
        _ppf=lambda p, **_: _pseudo_ppf(p, q=2.0),
        _df=lambda v, **_: _pseudo_df(v, q=2.0),
        _hazard=lambda v, **_: _pseudo_hazard(v, q=2.0),
        closed_forms={"int_f_sq": _const(r"\int (1+2|v|)^{-4} dv = 1/3", 1.0 / 3.0),
                      "tail_moment": _const(r"\infty\ (v^2 f \to 1/4)", math.inf)},
        tail_index=lambda **_: 2.0,
        theorem3_ppf={-1: _superspike_ppf_m1},
        target_label="fast sigmoid 1/(1+k|u|)²",
        kernel=_superspike_kernel,
    ),
    SurrogateShape(
        name="triangular",
        label="Triangular",
        f_latex=r"\max(1-|v|,\,0)",
        beta_to_s=1.0,
        beta_to_s_latex=r"s = \beta",
        default_scale="density",
        reference="Herranz-Celotti Table S1; Esser et al. 2016; Bellec et al. 2018",
        symmetric=True,
        support=1.0,
        _f=_tri_f,
        _F=_tri_F,
        _ppf=_tri_ppf,
        _df=_tri_df,
        closed_forms={"int_f_sq": _const(r"2\int_0^1 (1-v)^2 dv = 2/3", 2.0 / 3.0),
                      "tail_moment": _const(r"2\int_0^1 v^2(1-v) dv = 1/6", 1.0 / 6.0)},
        theorem3_ppf={-1: lambda p, **_: np.sqrt(p)},  # R(y) = y^2 on [0, 1]
        kernel=_triangular_kernel,
    ),
    SurrogateShape(
        name="exponential",
        label="Exponential",
        f_latex=r"e^{-2|v|}",
        beta_to_s=0.5,
        beta_to_s_latex=r"s = \beta/2",
        default_scale="density",
        reference="Herranz-Celotti Table S1; Shrestha & Orchard 2018",
        symmetric=True,
        support=math.inf,
        _f=_exp_f,
        _F=_exp_F,
        _ppf=_exp_ppf,
        _df=_exp_df,
        closed_forms={"int_f_sq": _const(r"\int e^{-4|v|} dv = 1/2", 0.5),
                      "tail_moment": _const(r"2\int_0^\infty v^2 e^{-2v} dv = 1/2", 0.5)},
        theorem3_ppf={-1: _exp_ppf_m1},
        _hazard=_exp_hazard,
    ),
    SurrogateShape(
        name="gaussian",
        label="Gaussian (erf escape noise)",
        f_latex=r"e^{-\pi v^2}",
        beta_to_s=1.0 / _SQRT2PI,
        beta_to_s_latex=r"s = \beta/\sqrt{2\pi}\ \text{(noise s.d. }1/\beta)",
        default_scale="density",
        reference="Herranz-Celotti Table S1; Gerstner et al. 2014 (erf escape)",
        symmetric=True,
        support=math.inf,
        _f=_gauss_f,
        _F=_gauss_F,
        _ppf=_gauss_ppf,
        _df=_gauss_df,
        closed_forms={"int_f_sq": _const(r"\int e^{-2\pi v^2} dv = 1/\sqrt{2}", 1.0 / math.sqrt(2.0)),
                      "tail_moment": _const(r"1/(2\pi)", 1.0 / (2.0 * math.pi))},
        smooth_peak=True,
        m1=math.pi,
        theorem3_ppf={1: _gauss_ppf_1},
        theorem3_cdf={1: _gauss_cdf_1},
        _hazard=_gauss_hazard,
    ),
    SurrogateShape(
        name="rectangular",
        label="Rectangular",
        f_latex=r"\mathbb{1}_{|v|<1/2}",
        beta_to_s=1.0,
        beta_to_s_latex=r"s = \beta",
        default_scale="density",
        reference="Herranz-Celotti Table S1; Hubara et al. 2016",
        symmetric=True,
        support=0.5,
        _f=_rect_f,
        _F=_rect_F,
        _ppf=_rect_ppf,
        _df=_rect_df,
        closed_forms={"int_f_sq": _const("1", 1.0), "tail_moment": _const("1/12", 1.0 / 12.0)},
        jump_at=0.5,
    ),
    SurrogateShape(
        name="q_pseudospike",
        label="q-PseudoSpike",
        f_latex=r"\left(1+\tfrac{2}{q-1}|v|\right)^{-q}",
        beta_to_s=0.5,
        beta_to_s_latex=r"s = \beta/2",
        default_scale="density",
        reference="Herranz-Celotti Table S1 (q > 1)",
        symmetric=True,
        support=math.inf,
        _f=_pseudo_f,
        _F=_pseudo_F,
        _ppf=_pseudo_ppf,
        _df=_pseudo_df,
        _hazard=_pseudo_hazard,
        params=(Q_SPEC,),
        closed_forms={"int_f_sq": ClosedForm(r"(q-1)/(2q-1)", lambda q=2.0, **_: (q - 1.0) / (2.0 * q - 1.0)),
                      "tail_moment": ClosedForm(r"\frac{(q-1)^2}{2(q-2)(q-3)}\ (q>3),\ \infty\ (q\le 3)",
                                                _pseudo_tail_moment)},
        tail_index=lambda q=2.0, **_: q,
    ),
    SurrogateShape(
        name="atan",
        label="Arctan (Cauchy)",
        f_latex=r"\frac{1}{1+(\pi v)^2}",
        beta_to_s=0.5,
        beta_to_s_latex=r"s = \beta/2\ \text{(SpikingJelly ATan }\alpha=\beta)",
        default_scale="density",
        reference="Fang et al. 2021 (ATan); Cauchy CDF 1/2 + arctan(pi v)/pi",
        symmetric=True,
        support=math.inf,
        _f=_atan_f,
        _F=_atan_F,
        _ppf=_atan_ppf,
        _df=_atan_df,
        closed_forms={"int_f_sq": _const(r"\frac{1}{\pi}\int\frac{du}{(1+u^2)^2} = 1/2", 0.5),
                      "tail_moment": _const(r"\infty\ (v^2 f\to 1/\pi^2)", math.inf)},
        tail_index=lambda **_: 2.0,
        smooth_peak=True,
        m1=math.pi**2 / 2.0,
        theorem3_cdf={1: _atan_cdf_1},
    ),
    SurrogateShape(
        name="escape_exp",
        label="Exponential escape rate (Gumbel)",
        f_latex=r"e\,\exp\!\left(e v - e^{e v}\right)",
        beta_to_s=1.0 / _E,
        beta_to_s_latex=r"s = \beta/e",
        default_scale="density",
        reference="Gerstner et al. 2014: p = 1 - exp(-dt rho0 exp(beta (u - theta)))",
        symmetric=False,
        support=math.inf,
        _f=_gumbel_f,
        _F=_gumbel_F,
        _ppf=_gumbel_ppf,
        _df=_gumbel_df,
        _sf=_gumbel_sf,
        _hazard=_gumbel_hazard,
        _rhazard=_gumbel_rhazard,
        closed_forms={"int_f_sq": _const(r"e\int_0^\infty u e^{-2u} du = e/4", math.e / 4.0),
                      "tail_moment": _const(r"(\pi^2/6 + \gamma_E^2)/e^2\ (\text{Gumbel-min, scale } 1/e)",
                                            (math.pi**2 / 6.0 + _EULER_GAMMA**2) / math.e**2)},
    ),
]

_REGISTRY: dict[str, SurrogateShape] = {s.name: s for s in _SHAPE_LIST}
#: Read-only registry: name -> :class:`SurrogateShape` (a live view: :func:`register` adds to it).
SHAPES: Mapping[str, SurrogateShape] = MappingProxyType(_REGISTRY)


class _EvenShapes(Mapping[str, SurrogateShape]):
    """Live view of the registered shapes that are even (f(-v) = f(v))."""

    def __getitem__(self, name: str) -> SurrogateShape:
        shp = _REGISTRY[name]
        if not shp.symmetric:
            raise KeyError(name)
        return shp

    def __iter__(self) -> Iterator[str]:
        return (name for name, shp in _REGISTRY.items() if shp.symmetric)

    def __len__(self) -> int:
        return sum(1 for _ in self)


#: The even shapes of the registry (surrogates in LocalZO's sense, Definition 4.1), as a live view.
EVEN_SHAPES: Mapping[str, SurrogateShape] = _EvenShapes()


def register(shape: SurrogateShape) -> SurrogateShape:
    """Add ``shape`` to :data:`SHAPES`; every page, the CLI, the trainer and LocalZO offer it at once.

    A name already registered raises ``ValueError``. Register at start-up (the registry is shared by
    every session of a server).
    """
    if not isinstance(shape, SurrogateShape):
        raise TypeError(f"register takes a SurrogateShape; got {type(shape).__name__}")
    if shape.name in _REGISTRY:
        raise ValueError(f"shape {shape.name!r} is already registered")
    _REGISTRY[shape.name] = shape
    return shape


def unregister(name: str) -> SurrogateShape:
    """Remove a shape added by :func:`register` (the built-in shapes stay)."""
    if name in _BUILT_IN:
        raise ValueError(f"shape {name!r} is built in and cannot be removed")
    return _REGISTRY.pop(get_shape(name).name)


@contextmanager
def registered(*shapes: SurrogateShape) -> Iterator[tuple[SurrogateShape, ...]]:
    """Register ``shapes`` for the duration of a ``with`` block (tests, notebooks), then remove them."""
    done: list[str] = []
    try:
        for shape in shapes:
            done.append(register(shape).name)
        yield shapes
    finally:
        for name in reversed(done):
            _REGISTRY.pop(name, None)


_BUILT_IN = frozenset(_REGISTRY)


def get_shape(name: str) -> SurrogateShape:
    """Look up a registered shape; an unknown name raises ``ValueError`` listing valid ones."""
    return lookup(SHAPES, name, "shape")


def sharpness(shape: str, beta: float) -> float:
    """Sharpness s of ``shape`` at steepness ``beta`` (the shape's declared convention)."""
    return get_shape(shape).sharpness(beta)


def dampening(shape: str, beta: float, scale: str | None = None, gamma: float | None = None) -> float:
    """Dampening gamma for a scaling: ``density`` -> s, ``peak`` -> 1, ``gamma`` -> given."""
    shp = get_shape(shape)
    scale = shp.default_scale if scale is None else scale
    if scale == "density":
        return shp.sharpness(beta)
    if scale == "peak":
        _check_beta(beta)
        return 1.0
    if scale == "gamma":
        if gamma is None:
            raise ValueError("gamma must be given (a finite number > 0) when scale='gamma'")
        return positive("gamma", gamma)
    raise ValueError(f"scale must be one of {', '.join(SCALINGS)}; got {scale!r}")


def surrogate_derivative(
    u: Any,
    shape: str,
    beta: float,
    *,
    scale: str | None = None,
    gamma: float | None = None,
    **shape_params: Any,
) -> np.ndarray:
    """SD(u) = gamma * f(s u) for a registered shape.

    Parameters
    ----------
    u : array_like
        Centred membrane potential u - theta.
    shape : str
        Key of :data:`SHAPES`.
    beta : float
        Steepness (> 0); ``s = beta * shape.beta_to_s``.
    scale : {"density", "peak", "gamma"}, optional
        Defaults to the shape's paper convention.
    gamma : float, optional
        Dampening when ``scale="gamma"``.

    Notes
    -----
    Herranz-Celotti & Rouat, Table S1: ``dH(v) = gamma f(s v)``.
    """
    shp = get_shape(shape)
    s = shp.sharpness(beta)
    g = dampening(shape, beta, scale, gamma)
    arr, dtype = _as_float(u)
    return _cast(g * shp.f(s * arr, **shape_params), dtype)


def heaviside(x: Any) -> np.ndarray:
    """Heaviside step with H(0) = 1/2 (:data:`H0`), the step limit of a sigmoid at 0."""
    arr, dtype = _as_float(x)
    return _cast(np.heaviside(arr, H0), dtype)


def sd_param_specs(beta_default: float = 5.0, beta_slider: tuple[float, float] = (0.5, 50.0),
                   shape_default: str = "sigmoid") -> tuple[ParamSpec, ...]:
    """The declared parameters of a surrogate-derivative choice (shape, beta_sg, scale, gamma, q).

    One definition shared by every page; pages choose only the default and slider range of beta.
    """
    return (
        ParamSpec("shape", "SD shape", shape_default, kind="choice", choices=SHAPES,
                  help="Surrogate-derivative shape from the registry."),
        ParamSpec("beta_sg", "SD steepness", beta_default, symbol=r"\beta_{SG}", domain=(0.0, 1e4),
                  open_low=True, slider=beta_slider, step=0.5, help="Steepness of the surrogate derivative."),
        ParamSpec("scale", "SD scaling", "auto", kind="choice", choices=("auto", *SCALINGS),
                  help="auto = the shape's paper convention; density = unit area; peak = SD(0) = 1; "
                       "gamma = your dampening."),
        ParamSpec("gamma", "Dampening", 1.0, symbol=r"\gamma", domain=(0.0, 1e4), open_low=True,
                  slider=(0.05, 10.0), step=0.05, help="Used when scaling = gamma."),
        replace(Q_SPEC),
    )


@declared
class Surrogate(DeclaredConfig):
    """A validated surrogate-derivative choice: SD(a) = gamma f(s a), s = beta * beta_to_s.

    ``scale="auto"`` resolves to the shape's paper convention. :meth:`primitive` is the SD's
    antiderivative (gamma / s) F(s a): the activation of the "smoothed" network whose true
    derivative the SD is (for ``sigmoid`` in density scaling, sigma(beta a)). Its fields are the
    declared :func:`sd_param_specs` (``beta`` is the pages' ``beta_sg``); a page config carrying
    them flat builds it with :meth:`of`.
    """

    PARAMS = tuple(replace(p, name="beta") if p.name == "beta_sg" else p for p in sd_param_specs())

    @classmethod
    def of(cls, config: Any, beta: float | None = None) -> Surrogate:
        """The surrogate a config chooses with its flat fields ``shape, beta_sg, scale, gamma, q``.

        ``beta`` replaces ``beta_sg`` (a page that sweeps the steepness, or has several).
        """
        steep = config.beta_sg if beta is None else beta
        return cls(config.shape, steep, config.scale, config.gamma, config.q)

    @property
    def resolved_scale(self) -> str:
        return get_shape(self.shape).default_scale if self.scale == "auto" else self.scale

    @property
    def params(self) -> dict[str, Any]:
        return {p.name: getattr(self, p.name) for p in get_shape(self.shape).params}

    @property
    def s(self) -> float:
        return get_shape(self.shape).sharpness(self.beta)

    @property
    def dampening(self) -> float:
        return dampening(self.shape, self.beta, self.resolved_scale, self.gamma)

    def sd(self, a: Any) -> np.ndarray:
        """SD(a) = gamma f(s a)."""
        return surrogate_derivative(a, self.shape, self.beta, scale=self.resolved_scale, gamma=self.gamma,
                                    **self.params)

    def primitive(self, a: Any) -> np.ndarray:
        """(gamma / s) F(s a): the antiderivative of :meth:`sd` with limit 0 at -inf."""
        arr, dtype = _as_float(a)
        shp = get_shape(self.shape)
        return _cast(self.dampening / self.s * shp.cdf(self.s * arr, **self.params), dtype)
