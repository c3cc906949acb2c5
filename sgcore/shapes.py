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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import special

from .params import ParamSpec, lookup

__all__ = [
    "H0",
    "SCALINGS",
    "SHAPES",
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

    # -- standard form ----------------------------------------------------------------------
    def f(self, v: Any, **params: Any) -> np.ndarray:
        """Standard form f(v): maximum 1 at v = 0, unit area."""
        v, dtype = _as_float(v)
        return _cast(self._f(v, NUMPY_OPS, **self.shape_params(**params)), dtype)

    def cdf(self, v: Any, **params: Any) -> np.ndarray:
        """F(v) = int_{-inf}^v f: the escape-noise function that f matches."""
        v, dtype = _as_float(v)
        return _cast(self._F(v, NUMPY_OPS, **self.shape_params(**params)), dtype)

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
        if n < 0:
            raise ValueError(f"n must be a non-negative integer; got {n}")
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
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta must be a finite number > 0; got {beta!r}") from None
    if not math.isfinite(b) or b <= 0:
        raise ValueError(f"beta must be a finite number > 0; got {beta!r}")
    return b


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
    ),
]

#: Read-only registry: name -> :class:`SurrogateShape`.
SHAPES: Mapping[str, SurrogateShape] = MappingProxyType({s.name: s for s in _SHAPE_LIST})


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
        g = float(gamma)
        if not math.isfinite(g) or g <= 0:
            raise ValueError(f"gamma must be a finite number > 0; got {gamma!r}")
        return g
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
        ParamSpec("shape", "SD shape", shape_default, kind="choice", choices=tuple(SHAPES),
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


_SD_SPEC = {p.name: p for p in sd_param_specs()}


@dataclass(frozen=True)
class Surrogate:
    """A validated surrogate-derivative choice: SD(a) = gamma f(s a), s = beta * beta_to_s.

    ``scale="auto"`` resolves to the shape's paper convention. :meth:`primitive` is the SD's
    antiderivative (gamma / s) F(s a): the activation of the "smoothed" network whose true
    derivative the SD is (for ``sigmoid`` in density scaling, sigma(beta a)).
    """

    shape: str = "sigmoid"
    beta: float = 5.0
    scale: str = "auto"
    gamma: float = 1.0
    q: float = 1.5

    def __post_init__(self) -> None:
        get_shape(self.shape)
        for name, spec in (("beta", _SD_SPEC["beta_sg"]), ("scale", _SD_SPEC["scale"]),
                           ("gamma", _SD_SPEC["gamma"]), ("q", _SD_SPEC["q"])):
            object.__setattr__(self, name, spec.validate(getattr(self, name)))

    @property
    def resolved_scale(self) -> str:
        return get_shape(self.shape).default_scale if self.scale == "auto" else self.scale

    @property
    def params(self) -> dict[str, Any]:
        return {"q": self.q} if self.shape == "q_pseudospike" else {}

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
