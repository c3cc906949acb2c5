"""Surrogate-gradient design: gallery, library translation, Eq. 2 and the LIF initialisation Conditions I-IV.

Herranz-Celotti & Rouat, "Surrogate Gradients Design". A surrogate derivative (SD) is
``sigma'(v) = gamma f(s v)`` with ``v = y - thr`` the centred voltage, ``f`` a registry standard form
(peak 1, unit area, Table S1), ``gamma`` the dampening and ``s`` the sharpness (an *inverse* width,
although Sec. 2.2 calls it the width).

This module gives

* a **gallery** of every registry shape: peak, area, ``int f^2``, the tail moment ``int v^2 f``
  (finite or infinite, decided from the measured power-law decay of ``v^2 f``), all by quadrature,
  next to closed forms derived here (:data:`CLOSED_FORMS`);
* a **translation table** of popular presets of snnTorch, SpikingJelly and Norse into our
  ``(shape, gamma, s)`` terms, each derived from the library's documented formula
  (:data:`TRANSLATIONS`, :data:`UNMAPPABLE`, :data:`NAME_COLLISIONS`);
* **Eq. 2**, ``E[sigma'^2]`` for ``y`` uniform on ``[y_min, y_max]`` (so ``v`` uniform on
  ``[y_min - thr, y_max - thr]``), by quadrature for any shape, with a Monte Carlo estimator and a
  check of Appendix B's closed form for the exponential (Eqs. 65-67, see :func:`eq2_check`);
* the four **initialisation conditions** for a recurrent LIF layer (paper Eq. 1, Appendix B), the
  voltage range of B.6 and the sharpness that meets Condition IV through Eq. 2 (``brentq``);
* a **simulation** of the layer (Eq. 1) initialised by the calculator and naively (Glorot uniform,
  ``gamma = s = 1``) to see whether the theory holds.

Re-derivations and the discrepancies found in the paper are listed in :data:`PAPER_DISCREPANCIES`.
The main ones: Eq. 28 (CII) as printed is right and the authors' code drops its factor 2; Eqs. 66-67
hold only when ``y_min < thr < y_max``; the main-text CIV has ``E[sigma'_in]`` where the derivation
(Eq. 55-57) gives ``E[sigma'_in^2]``; and with the CIII dampening, Condition IV has no solution
(``E[sigma'^2] <= gamma^2`` is always below its target for symmetric recurrent weights).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from scipy import integrate, optimize

from .params import DeclaredConfig, ParamSpec, positive
from .shapes import NUMPY_OPS, Q_SPEC, SHAPES, get_shape

__all__ = [
    "CLOSED_FORMS",
    "DESIGN_PARAMS",
    "DesignConfig",
    "DesignView",
    "Eq2Check",
    "INIT_PARAMS",
    "InitConfig",
    "InitResult",
    "NAME_COLLISIONS",
    "NameCollision",
    "OptionalSpec",
    "PAPER_DISCREPANCIES",
    "PRESETS",
    "PaperDiscrepancy",
    "ShapeMoments",
    "SimTrace",
    "TRANSLATIONS",
    "TheoryCheck",
    "Translation",
    "UNMAPPABLE",
    "closed_form",
    "condition_i",
    "condition_ii",
    "condition_ii_authors_code",
    "condition_iii",
    "condition_iv",
    "condition_iv_residual",
    "current_variances",
    "design_at",
    "design_view",
    "eq2_check",
    "exponential_closed_form",
    "gallery",
    "init_at",
    "init_conditions",
    "init_view",
    "sd_curve",
    "sd_curves",
    "sd_moment",
    "sd_moment_mc",
    "sd_second_moment",
    "shape_moments",
    "sharpness_for",
    "simulate_lif",
    "theory_check",
    "translate",
    "voltage_range",
]

_EULER_GAMMA = 0.5772156649015329
_TAIL_PROBES = (1e100, 1e50, 1e20)  # where the power-law decay of v^2 f is measured


# ---------------------------------------------------------------------------------------------
# quadrature
# ---------------------------------------------------------------------------------------------
def _quad(g: Callable[[float], float], a: float, b: float) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, err = integrate.quad(g, a, b, limit=400, epsabs=1e-14, epsrel=1e-11)
    return float(val), float(err)


def _outer(g: Callable[[float], float], lo: float, hi: float) -> tuple[float, float]:
    """int_lo^hi g for 1 <= lo < hi <= inf.

    To infinity: t = 1/v, and if g decays like a power v^-p (measured), the algebraic weight t^(p-2) is
    handed to QUADPACK (QAWS) so that even p -> 1+ converges; a long finite stretch: u = log v.
    """
    if math.isinf(hi):
        p = _decay_exponent(g, 1.0)
        if math.isfinite(p) and p > 1.0:
            t_min = max(1e-100, 10.0 ** (-250.0 / p))  # keeps g(1/t) and t^-p normal floats

            def h(t: float) -> float:  # smooth: tends to the tail's prefactor as t -> 0
                t = max(t, t_min)
                return g(1.0 / t) * t ** (-p)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", integrate.IntegrationWarning)
                val, err = integrate.quad(h, 0.0, 1.0 / lo, weight="alg", wvar=(p - 2.0, 0.0), limit=400,
                                          epsabs=1e-14, epsrel=1e-11)
            return float(val), float(err)
        return _quad(lambda t: g(1.0 / t) / (t * t) if t > 0 else 0.0, 0.0, 1.0 / lo)
    return _quad(lambda u: g(math.exp(u)) * math.exp(u), math.log(lo), math.log(hi))


def _integrate(g: Callable[[float], float], a: float, b: float) -> tuple[float, float]:
    """int_a^b g(v) dv for a <= b (either may be infinite): (value, error estimate).

    Splits at the kinks of the registry shapes (0, +-1/2, +-1) and treats |v| >= 1 by substitution,
    so power-law tails (q-PseudoSpike with q near 1) and very wide ranges are integrated accurately.
    A divergent integral (g ~ |v|^-p with p <= 1 towards an infinite end) gives inf.
    """
    if not a < b:
        return 0.0, 0.0
    for end, sign in ((b, 1.0), (a, -1.0)):
        if math.isinf(end) and _decay_exponent(g, sign) <= 1.0:
            return math.inf, 0.0
    cuts = sorted({a, b, *(p for p in (-1.0, -0.5, 0.0, 0.5, 1.0) if a < p < b)})
    total, error = 0.0, 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if lo >= 1.0:
            val, err = _outer(g, lo, hi)
        elif hi <= -1.0:
            val, err = _outer(lambda v: g(-v), -hi, -lo)
        else:
            val, err = _quad(g, lo, hi)
        total += val
        error += err
    return total, error


def _shape_params(name: str, q: float) -> dict[str, float]:
    return {"q": float(q)} if name == "q_pseudospike" else {}


def _f_scalar(name: str, q: float) -> Callable[[float], float]:
    shp = get_shape(name)
    params = shp.shape_params(**_shape_params(name, q))
    f = shp._f  # the registry's formula without per-call validation (quadrature calls it thousands of times)

    def fn(v: float) -> float:
        return float(f(np.float64(v), NUMPY_OPS, **params))

    return fn


def _f_array(name: str, q: float) -> Callable[[np.ndarray], np.ndarray]:
    shp = get_shape(name)
    params = _shape_params(name, q)
    return lambda v: shp.f(v, **params)


# ---------------------------------------------------------------------------------------------
# gallery
# ---------------------------------------------------------------------------------------------
#: Closed forms (derived here, LaTeX) of the gallery quantities of each standard form f.
CLOSED_FORMS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "sigmoid": {"int_f_sq": r"16\int\sigma'(4v)^2 dv = 4\int_0^1 p(1-p)\,dp = 2/3",
                "tail_moment": r"\pi^2/48 \ (\text{logistic, scale } 1/4)"},
    "superspike": {"int_f_sq": r"\int (1+2|v|)^{-4} dv = 1/3", "tail_moment": r"\infty\ (v^2 f \to 1/4)"},
    "triangular": {"int_f_sq": r"2\int_0^1 (1-v)^2 dv = 2/3", "tail_moment": r"2\int_0^1 v^2(1-v) dv = 1/6"},
    "exponential": {"int_f_sq": r"\int e^{-4|v|} dv = 1/2", "tail_moment": r"2\int_0^\infty v^2 e^{-2v} dv = 1/2"},
    "gaussian": {"int_f_sq": r"\int e^{-2\pi v^2} dv = 1/\sqrt{2}", "tail_moment": r"1/(2\pi)"},
    "rectangular": {"int_f_sq": "1", "tail_moment": "1/12"},
    "q_pseudospike": {"int_f_sq": r"(q-1)/(2q-1)",
                      "tail_moment": r"\frac{(q-1)^2}{2(q-2)(q-3)}\ (q>3),\ \infty\ (q\le 3)"},
    "atan": {"int_f_sq": r"\frac{1}{\pi}\int\frac{du}{(1+u^2)^2} = 1/2", "tail_moment": r"\infty\ (v^2 f\to 1/\pi^2)"},
    "escape_exp": {"int_f_sq": r"e\int_0^\infty u e^{-2u} du = e/4",
                   "tail_moment": r"(\pi^2/6 + \gamma_E^2)/e^2\ (\text{Gumbel-min, scale } 1/e)"},
})


def closed_form(name: str, quantity: str, q: float = Q_SPEC.default) -> float:
    """Closed form of ``peak``, ``area``, ``int_f_sq`` or ``tail_moment`` (``inf`` when infinite)."""
    get_shape(name)
    q = Q_SPEC.validate(q)
    if quantity in ("peak", "area"):
        return 1.0
    if quantity == "int_f_sq":
        return {
            "sigmoid": 2.0 / 3.0, "superspike": 1.0 / 3.0, "triangular": 2.0 / 3.0, "exponential": 0.5,
            "gaussian": 1.0 / math.sqrt(2.0), "rectangular": 1.0, "q_pseudospike": (q - 1.0) / (2.0 * q - 1.0),
            "atan": 0.5, "escape_exp": math.e / 4.0,
        }[name]
    if quantity == "tail_moment":
        if name == "q_pseudospike":
            return (q - 1.0) ** 2 / (2.0 * (q - 2.0) * (q - 3.0)) if q > 3.0 else math.inf
        return {
            "sigmoid": math.pi**2 / 48.0, "superspike": math.inf, "triangular": 1.0 / 6.0, "exponential": 0.5,
            "gaussian": 1.0 / (2.0 * math.pi), "rectangular": 1.0 / 12.0, "atan": math.inf,
            "escape_exp": (math.pi**2 / 6.0 + _EULER_GAMMA**2) / math.e**2,
        }[name]
    raise ValueError(f"quantity must be one of peak, area, int_f_sq, tail_moment; got {quantity!r}")


@dataclass(frozen=True)
class ShapeMoments:
    """Gallery numbers of one standard form f (quadrature) and their closed forms."""

    name: str
    label: str
    q: float | None  # q-PseudoSpike's tail parameter, None for the other shapes
    peak: float
    argmax: float
    area: float
    int_f_sq: float
    tail_moment: float  # int v^2 f; inf when infinite
    tail_finite: bool
    tail_exponent: float  # v^2 f ~ |v|^-tail_exponent far out (inf: faster than any power); finite iff > 1
    quad_error: float  # sum of quadrature error estimates
    closed: Mapping[str, float]
    closed_latex: Mapping[str, str]


def _decay_exponent(g: Callable[[float], float], sign: float) -> float:
    """p with g(v) ~ |v|^-p as v -> sign * inf (inf: g decays faster than any power).

    Measured between |v| = V and 2V at the largest probe V in 1e100, 1e50, 1e20 where g is still a normal
    float; so far out, (1 + a V) and a V agree to every bit and a power law gives its exponent exactly.
    """
    for big in _TAIL_PROBES:
        g1, g2 = g(sign * big), g(sign * 2.0 * big)
        if min(g1, g2) > 1e-290 and math.isfinite(g1) and math.isfinite(g2):
            return -math.log(g2 / g1) / math.log(2.0) + 0.0
    return math.inf


@lru_cache(maxsize=256)
def _moments(name: str, q: float) -> ShapeMoments:
    f = _f_scalar(name, q)
    grid = np.linspace(-4.0, 4.0, 8001)
    vals = _f_array(name, q)(grid)
    i = int(np.argmax(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(lambda v: -f(v), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-12})
    argmax, peak = (float(res.x), -float(res.fun)) if -res.fun >= vals[i] else (float(grid[i]), float(vals[i]))
    if f(0.0) >= peak * (1.0 - 1e-12):  # flat or cusped tops: report v = 0
        argmax, peak = 0.0, max(f(0.0), peak)
    area, e1 = _integrate(f, -math.inf, math.inf)
    sq, e2 = _integrate(lambda v: f(v) ** 2, -math.inf, math.inf)
    vsq = lambda v: v * v * f(v)  # noqa: E731
    exponent = min(_decay_exponent(vsq, 1.0), _decay_exponent(vsq, -1.0))
    finite = exponent > 1.0
    if finite:
        tail, e3 = _integrate(vsq, -math.inf, math.inf)
    else:
        tail, e3 = math.inf, 0.0
    shp = get_shape(name)
    closed = {k: closed_form(name, k, q) for k in ("peak", "area", "int_f_sq", "tail_moment")}
    return ShapeMoments(name=name, label=shp.label, q=q if name == "q_pseudospike" else None, peak=peak,
                        argmax=argmax, area=area, int_f_sq=sq, tail_moment=tail, tail_finite=finite,
                        tail_exponent=exponent, quad_error=e1 + e2 + e3, closed=MappingProxyType(closed),
                        closed_latex=CLOSED_FORMS[name])


def shape_moments(name: str, q: float = Q_SPEC.default) -> ShapeMoments:
    """Gallery numbers of one registry shape (q only matters for ``q_pseudospike``)."""
    get_shape(name)
    q = Q_SPEC.validate(q)
    return _moments(name, q if name == "q_pseudospike" else Q_SPEC.default)


def gallery(q: float = Q_SPEC.default) -> tuple[ShapeMoments, ...]:
    """Gallery numbers of every registry shape, in registry order (``q`` for q-PseudoSpike)."""
    return tuple(shape_moments(name, q) for name in SHAPES)


def sd_curve(shape: str, v: Any, gamma: float = 1.0, sharpness: float = 1.0, q: float = Q_SPEC.default) -> np.ndarray:
    """SD(v) = gamma f(s v) on centred voltages ``v`` (Herranz-Celotti Sec. 2.2)."""
    gamma, sharpness = positive("gamma", gamma), positive("sharpness", sharpness)
    get_shape(shape)
    q = Q_SPEC.validate(q)
    return gamma * _f_array(shape, q)(sharpness * np.asarray(v, dtype=float))


def sd_curves(v: Any, gamma: float = 1.0, sharpness: float = 1.0, q: float = Q_SPEC.default,
              shapes: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """SD curves gamma f(s v) of several shapes (default: the whole registry) on one grid."""
    return {name: sd_curve(name, v, gamma, sharpness, q) for name in (shapes or tuple(SHAPES))}


# ---------------------------------------------------------------------------------------------
# translation between libraries
# ---------------------------------------------------------------------------------------------
_SNNTORCH = ("https://snntorch.readthedocs.io/en/latest/snntorch.surrogate.html "
             "(docstrings of snntorch/surrogate.py, github.com/jeshraghian/snntorch)")
_SPIKINGJELLY = ("docstrings of spikingjelly/activation_based/surrogate.py (github.com/fangwei123456/spikingjelly), "
                 "rendered as the API page spikingjelly.activation_based.surrogate on spikingjelly.readthedocs.io")
_NORSE = ("docstrings/comments of norse/torch/functional/{superspike,threshold,lif}.py (github.com/norse/norse), "
          "rendered as the API pages of norse.github.io/norse")


@dataclass(frozen=True)
class Translation:
    """One library preset in our terms: the library's SD equals ``gamma f(s (u - offset))``.

    ``u`` is the library's argument (membrane potential minus threshold). ``params`` are the
    library's parameters with their defaults; ``mapping`` turns them into (gamma, s, q, offset).
    """

    library: str
    call: str
    params: Mapping[str, float]
    documented: str  # the documented SD in the library's own symbols
    shape: str
    gamma_rule: str
    s_rule: str
    source: str
    mapping: Callable[..., tuple[float, float, float | None, float]] = field(repr=False)
    notes: str = ""

    def ours(self, **values: float) -> dict[str, Any]:
        """(shape, gamma, sharpness, q, offset) at the defaults, overridden by ``values``."""
        unknown = set(values) - set(self.params)
        if unknown:
            raise ValueError(f"{self.call} takes {', '.join(self.params)}; got {', '.join(sorted(unknown))}")
        p = {**self.params, **{k: float(v) for k, v in values.items()}}
        gamma, s, q, offset = self.mapping(**p)
        return {"shape": self.shape, "gamma": gamma, "sharpness": s, "q": q, "offset": offset}

    def sd(self, u: Any, **values: float) -> np.ndarray:
        """Our SD gamma f(s (u - offset)) for this preset."""
        o = self.ours(**values)
        u = np.asarray(u, dtype=float)
        q = o["q"] if o["q"] is not None else Q_SPEC.default
        return sd_curve(self.shape, u - o["offset"], o["gamma"], o["sharpness"], q)


def _tr(library, call, params, documented, shape, gamma_rule, s_rule, mapping, notes="", source=None):
    src = source or {"snnTorch": _SNNTORCH, "SpikingJelly": _SPIKINGJELLY, "Norse": _NORSE}[library]
    return Translation(library, call, MappingProxyType(dict(params)), documented, shape, gamma_rule, s_rule, src,
                       mapping, notes)


_SQRT_PI = math.sqrt(math.pi)

#: Popular presets of snnTorch, SpikingJelly and Norse in our (shape, gamma, s) terms.
TRANSLATIONS: tuple[Translation, ...] = (
    _tr("snnTorch", "surrogate.fast_sigmoid(slope=25)", {"slope": 25.0},
        "dS/dU = 1/(1 + k|U|)^2, k = slope", "superspike", "1", "slope/2",
        lambda slope: (1.0, slope / 2.0, None, 0.0)),
    _tr("snnTorch", "surrogate.atan(alpha=2.0)", {"alpha": 2.0},
        "S = (1/pi) arctan(pi U alpha/2)  =>  dS/dU = (alpha/2) / (1 + (pi U alpha/2)^2)", "atan", "alpha/2",
        "alpha/2", lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0),
        notes="snnTorch's default surrogate. Its docstring prints dS/dU = (1/pi) / (1 + (pi U alpha/2)^2), which is "
              "not the derivative of its own S (off by pi alpha/2); the code computes alpha/2 / (1 + ...), as here."),
    _tr("snnTorch", "surrogate.sigmoid(slope=25)", {"slope": 25.0},
        "dS/dU = k exp(-kU) / (exp(-kU) + 1)^2, k = slope", "sigmoid", "slope/4", "slope/4",
        lambda slope: (slope / 4.0, slope / 4.0, None, 0.0)),
    _tr("snnTorch", "surrogate.spike_rate_escape(beta=1, slope=25)", {"beta": 1.0, "slope": 25.0},
        "dS/dU = k exp(-beta |U - 1|), k = slope", "exponential", "slope", "beta/2",
        lambda beta, slope: (slope, beta / 2.0, None, 1.0),
        notes="Centred at U = 1 (one unit above threshold), not at the threshold: offset 1. Here 'slope' is the "
              "HEIGHT (gamma = 25 by default) and 'beta' the steepness."),
    _tr("SpikingJelly", "surrogate.Sigmoid(alpha=4.0)", {"alpha": 4.0},
        "g'(x) = alpha sigmoid(alpha x) (1 - sigmoid(alpha x))", "sigmoid", "alpha/4", "alpha/4",
        lambda alpha: (alpha / 4.0, alpha / 4.0, None, 0.0),
        notes="The default alpha = 4 is exactly the paper's d-sigmoid standard form (gamma = s = 1)."),
    _tr("SpikingJelly", "surrogate.ATan(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = alpha / (2 (1 + (pi alpha x / 2)^2))", "atan", "alpha/2", "alpha/2",
        lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0),
        notes="The default alpha = 2 is our atan standard form (gamma = s = 1); same formula as snnTorch's atan."),
    _tr("SpikingJelly", "surrogate.PiecewiseQuadratic(alpha=1.0)", {"alpha": 1.0},
        "g'(x) = -alpha^2 |x| + alpha for |x| <= 1/alpha, else 0", "triangular", "alpha", "alpha",
        lambda alpha: (alpha, alpha, None, 0.0)),
    _tr("SpikingJelly", "surrogate.PiecewiseExp(alpha=1.0)", {"alpha": 1.0},
        "g'(x) = (alpha/2) exp(-alpha |x|)", "exponential", "alpha/2", "alpha/2",
        lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0)),
    _tr("SpikingJelly", "surrogate.SoftSign(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = alpha / (2 (1 + |alpha x|)^2)", "superspike", "alpha/2", "alpha/2",
        lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0),
        notes="The fast-sigmoid (SuperSpike) shape in unit-area scaling; default = our standard form."),
    _tr("SpikingJelly", "surrogate.Erf(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = (alpha / sqrt(pi)) exp(-alpha^2 x^2)", "gaussian", "alpha/sqrt(pi)", "alpha/sqrt(pi)",
        lambda alpha: (alpha / _SQRT_PI, alpha / _SQRT_PI, None, 0.0)),
    _tr("SpikingJelly", "surrogate.QPseudoSpike(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = (1 + 2|x| / (alpha - 1))^(-alpha)", "q_pseudospike", "1", "1",
        lambda alpha: (1.0, 1.0, alpha, 0.0),
        notes="Here alpha is the TAIL exponent q of the paper (not a steepness)."),
    _tr("Norse", "LIFParameters(method='super', alpha=100)", {"alpha": 100.0},
        "grad = 1 / (alpha |x| + 1)^2  (SuperSpike, Zenke & Ganguli Sec. 3.3.2 with beta -> alpha)", "superspike",
        "1", "alpha/2", lambda alpha: (1.0, alpha / 2.0, None, 0.0),
        notes="Norse's default LIF surrogate: alpha = 100 gives s = 50, a very narrow SD of peak 1."),
    _tr("Norse", "LIFParameters(method='tent', alpha=...)", {"alpha": 100.0},
        "grad = alpha * relu(1 - |x|)  (HeaviTent)", "triangular", "alpha", "1",
        lambda alpha: (alpha, 1.0, None, 0.0),
        notes="Here alpha is the HEIGHT, not a steepness: with the LIFParameters default alpha = 100 the tent has "
              "peak 100 and unit width."),
    _tr("Norse", "threshold(x, 'tanh', k)", {"k": 1.0},
        "h(x, k) = 1/2 + 1/2 tanh(k x)  =>  h' = (k/2) (1 - tanh(k x)^2)", "sigmoid", "k/2", "k/2",
        lambda k: (k / 2.0, k / 2.0, None, 0.0),
        notes="Mapped from the documented h. The code (HeaviTanh.backward) returns 1 - tanh(k x)^2 without the "
              "factor k/2, i.e. gamma = 1, s = k/2."),
)

#: Presets whose documented SD is not of the form gamma f(s (u - offset)) for a registry shape.
UNMAPPABLE: tuple[dict[str, str], ...] = (
    {"library": "snnTorch", "call": "surrogate.triangular(threshold=1)",
     "documented": "dS/dU = U_thr if U < U_thr, -U_thr if U >= U_thr",
     "why": "a sign-changing step, not a triangle: no registry shape (and 'threshold' is the gradient's size)",
     "source": _SNNTORCH},
    {"library": "snnTorch", "call": "surrogate.SFS(slope=25, B=1)",
     "documented": "dS/dU = 1/(1 + k|U|)^2 if U > B, else 0",
     "why": "a fast sigmoid cut below U = B: gamma f(s U) only on U > B", "source": _SNNTORCH},
    {"library": "snnTorch", "call": "surrogate.LSO(slope=0.1) / SSO(mean, variance)",
     "documented": "dS/dU = 1 above threshold, k (or uniform noise) below", "why": "not a bump around threshold",
     "source": _SNNTORCH},
    {"library": "SpikingJelly", "call": "surrogate.PiecewiseLeakyReLU(w=1, c=0.01)",
     "documented": "g'(x) = 1/w for |x| <= w, c otherwise",
     "why": "rectangular (gamma = 1/w, s = 1/(2w)) only when c = 0; the default c = 0.01 adds a constant floor "
            "(and the parameter doc says 1/(2w) where the formula and code use 1/w)", "source": _SPIKINGJELLY},
    {"library": "SpikingJelly", "call": "surrogate.S2NN(alpha=4, beta=1)",
     "documented": "sigmoid' below 0, beta (x + 1) above (the code uses beta / (x + 1))",
     "why": "asymmetric two-piece shape", "source": _SPIKINGJELLY},
    {"library": "Norse", "call": "HeaviErfc (threshold 'erfc')",
     "documented": "h(x, k) = 1/2 + 1/2 erfc(k x)", "why": "the documented h decreases in x (not a step "
     "approximation) and the coded derivative 2 exp(-k^2 x^2)/sqrt(pi) lacks the factor k", "source": _NORSE},
)


@dataclass(frozen=True)
class NameCollision:
    """A parameter name that means different things in different places."""

    name: str
    meanings: tuple[tuple[str, str], ...]  # (where, meaning)
    warning: str


#: Names that collide between libraries (and with this project / the paper).
NAME_COLLISIONS: tuple[NameCollision, ...] = (
    NameCollision("beta", (
        ("snnTorch snn.Leaky(beta=...)", "membrane decay rate per step (our alpha_decay)"),
        ("snnTorch surrogate.spike_rate_escape(beta=...)", "steepness of the exponential SD (s = beta/2)"),
        ("sgcore (other pages)", "SD steepness beta_SG, s = beta * beta_to_s"),
    ), "snnTorch's beta in a neuron is a leak, not an SD steepness."),
    NameCollision("alpha", (
        ("snnTorch snn.Synaptic(alpha=...)", "synaptic current decay rate"),
        ("snnTorch surrogate.atan(alpha=...)", "steepness and height (gamma = s = alpha/2)"),
        ("SpikingJelly surrogate.*(alpha=...)", "steepness (scales both gamma and s)"),
        ("SpikingJelly surrogate.QPseudoSpike(alpha=...)", "tail exponent q"),
        ("Norse method='super'", "steepness (s = alpha/2, gamma = 1)"),
        ("Norse method='tent'", "height (gamma = alpha, s = 1)"),
        ("this paper (alpha_decay)", "membrane decay per step"),
    ), "One word, five roles: check whether alpha sets the width, the height, the tail or a leak."),
    NameCollision("slope", (
        ("snnTorch fast_sigmoid / sigmoid", "steepness k (s = k/2 resp. k/4)"),
        ("snnTorch spike_rate_escape", "height (gamma = slope)"),
        ("snnTorch LSO(slope=...)", "constant sub-threshold gradient"),
    ), "In snnTorch's spike_rate_escape the 'slope' is the peak value, not the steepness."),
    NameCollision("k", (
        ("snnTorch docstrings", "symbol of slope (steepness)"),
        ("SpikingJelly LeakyKReLU(k=...)", "gradient value above threshold"),
        ("Norse threshold(x, 'tanh', k)", "steepness of tanh"),
    ), "k is a steepness in snnTorch/Norse but a gradient value in SpikingJelly's LeakyKReLU."),
    NameCollision("scale", (
        ("sgcore", "SD scaling: density (gamma = s), peak (gamma = 1) or a given gamma"),
        ("this paper", "not used: gamma is 'dampening' (height), s 'sharpness' (called width, but it is 1/width)"),
    ), "Scaling and sharpness are different knobs: gamma sets the height, s the inverse width."),
    NameCollision("threshold", (
        ("snnTorch neurons", "firing threshold U_thr"),
        ("snnTorch surrogate.triangular(threshold=...)", "size of the gradient (not the firing threshold)"),
    ), "snnTorch's triangular(threshold=...) does not move the firing threshold."),
)


def translate(library: str, call: str, **values: float) -> dict[str, Any]:
    """Our (shape, gamma, sharpness, q, offset) of a library preset.

    ``call`` is the table's call string or its name before the bracket when that is unambiguous
    (``"surrogate.atan"``; Norse's ``LIFParameters(...)`` needs the full string).
    """
    lib = [t for t in TRANSLATIONS if t.library.lower() == library.lower()]
    hits = [t for t in lib if t.call == call] or [t for t in lib if t.call.split("(")[0] == call.split("(")[0]]
    if len(hits) != 1:
        names = "; ".join(f"{t.library}: {t.call}" for t in TRANSLATIONS)
        what = "ambiguous" if hits else "no"
        raise ValueError(f"{what} translation for {library} {call!r}; known: {names}")
    t = hits[0]
    return {**t.ours(**values), "source": t.source, "documented": t.documented, "notes": t.notes}


# ---------------------------------------------------------------------------------------------
# Eq. 2: moments of the SD for y uniform on [y_min, y_max]
# ---------------------------------------------------------------------------------------------


def _range(y_min: float, y_max: float) -> tuple[float, float]:
    lo, hi = float(y_min), float(y_max)
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ValueError(f"the voltage range must have finite y_min < y_max; got {y_min!r} and {y_max!r}")
    return lo, hi


def sd_moment(shape: str, m: int, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
              q: float = Q_SPEC.default) -> float:
    """E[sigma'(v)^m] for y ~ U[y_min, y_max], v = y - thr (paper Eq. 62-64), by quadrature.

    = gamma^m / (s (y_max - y_min)) int_{s (y_min - thr)}^{s (y_max - thr)} f(v)^m dv.
    """
    gamma, s = positive("gamma", gamma), positive("sharpness", sharpness)
    lo, hi = _range(y_min, y_max)
    if int(m) != m or m < 1:
        raise ValueError(f"m must be a positive integer; got {m!r}")
    get_shape(shape)
    f = _f_scalar(shape, Q_SPEC.validate(q))
    val, _ = _integrate(lambda v: f(v) ** m, s * (lo - thr), s * (hi - thr))
    return gamma**m / (s * (hi - lo)) * val


def sd_second_moment(shape: str, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
                     q: float = Q_SPEC.default) -> float:
    """Paper Eq. 2: E[sigma'^2] = gamma^2 / (s (y_max - y_min)) int_{s(y_min-thr)}^{s(y_max-thr)} f^2."""
    return sd_moment(shape, 2, gamma, sharpness, thr, y_min, y_max, q)


def sd_moment_mc(shape: str, m: int, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
                 q: float = Q_SPEC.default, n: int = 100_000, rng: np.random.Generator | None = None
                 ) -> tuple[float, float]:
    """Monte Carlo estimate of E[sigma'^m] with y ~ U[y_min, y_max]: (mean, standard error)."""
    lo, hi = _range(y_min, y_max)
    rng = np.random.default_rng(0) if rng is None else rng
    y = rng.uniform(lo, hi, size=int(n))
    x = sd_curve(shape, y - thr, gamma, sharpness, q) ** m
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def exponential_closed_form(m: int, gamma: float, sharpness: float, thr: float, y_min: float, y_max: float,
                            printed: bool = True) -> float:
    """E[sigma'^m] of the exponential SD in closed form.

    ``printed=True``: Appendix B Eqs. 64-67 as printed, int_{v-}^{v+} e^{-2m|v|} dv =
    (2 - e^{-2m|v+|} - e^{-2m|v-|}) / (2m), which assumes v- < 0 < v+.
    ``printed=False``: the signed antiderivative G(v) = sign(v) (1 - e^{-2m|v|}) / (2m), valid for any range
    (the form the authors' code uses).
    """
    gamma, s = positive("gamma", gamma), positive("sharpness", sharpness)
    lo, hi = _range(y_min, y_max)
    vp, vm = s * (hi - thr), s * (lo - thr)
    if printed:
        integral = (2.0 - math.exp(-2 * m * abs(vp)) - math.exp(-2 * m * abs(vm))) / (2 * m)
    else:
        def big_g(v: float) -> float:
            return math.copysign(1.0, v) * (1.0 - math.exp(-2 * m * abs(v))) / (2 * m)
        integral = big_g(vp) - big_g(vm)
    return gamma**m / (s * (hi - lo)) * integral


@dataclass(frozen=True)
class Eq2Check:
    """Eq. 2 by quadrature vs Appendix B's printed closed form (exponential SD)."""

    integral: float  # quadrature of Eq. 2 / Eq. 64 (followed)
    printed: float  # Eqs. 65-67 as printed
    signed: float  # corrected closed form (signed antiderivative)
    agree: bool  # printed == integral (relative 1e-9)
    straddles: bool  # y_min < thr < y_max (where the printed form holds)
    rel_diff: float
    note: str


def eq2_check(gamma: float, sharpness: float, thr: float, y_min: float, y_max: float, m: int = 2) -> Eq2Check:
    """Compare Appendix B's closed form (Eqs. 65-67) with the integral it is meant to evaluate."""
    integral = sd_moment("exponential", m, gamma, sharpness, thr, y_min, y_max)
    printed = exponential_closed_form(m, gamma, sharpness, thr, y_min, y_max, printed=True)
    signed = exponential_closed_form(m, gamma, sharpness, thr, y_min, y_max, printed=False)
    rel = abs(printed - integral) / max(abs(integral), 1e-300)
    agree = rel < 1e-9
    straddles = y_min < thr < y_max
    if agree:
        note = "Eqs. 65-67 agree with the integral (the range contains the threshold)."
    else:
        note = (f"Eqs. 65-67 disagree with the integral: they add the integrals over [0, |v-|] and [0, |v+|], which "
                f"holds only if y_min < thr < y_max; here the range lies on one side of thr, the printed form gives "
                f"{printed:.6g} instead of {integral:.6g} (x{printed / integral:.3g}). The integral is followed.")
    return Eq2Check(integral, printed, signed, agree, straddles, rel, note)


# ---------------------------------------------------------------------------------------------
# Conditions I-IV (Appendix B)
# ---------------------------------------------------------------------------------------------
def _n_rec(n_rec: Any) -> int:
    n = int(n_rec)
    if n != n_rec or n < 2:
        raise ValueError(f"n_rec must be an integer >= 2 (Conditions divide by n_rec - 1); got {n_rec!r}")
    return n


def _decay(alpha_decay: Any) -> float:
    a = float(alpha_decay)
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha_decay must be a number in (0, 1); got {alpha_decay!r}")
    return a


def condition_i(n_rec: int, alpha_decay: float, thr: float, rate: float = 0.5) -> float:
    """CI, Mean[w_rec] that makes Mean[v] = 0 at firing rate ``rate`` (Eq. 18 solved; Eq. 20 at rate 1/2).

    From Eq. 18: 0 = p/(1-alpha) ((n_rec-1) m - thr) - thr  =>  m = thr (1 + (1-alpha)/p) / (n_rec-1),
    = (3 - 2 alpha) thr / (n_rec - 1) at p = 1/2 (Eq. 20). (Eq. 19 as printed misplaces a bracket.)
    """
    n, a, thr = _n_rec(n_rec), _decay(alpha_decay), positive("thr", thr)
    p = float(rate)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"rate must be in (0, 1]; got {rate!r}")
    return thr * (1.0 + (1.0 - a) / p) / (n - 1)


def condition_ii(n_rec: int, n_in: int, mean_z: float, var_z: float, var_w_in: float, mean_w_rec: float) -> float:
    """CII re-derived: Var[w_rec] with Var[W_rec x] = Var[W_in z] at p = 1/2, E[w_in] = 0.

    (n_rec-1) Var[w x] = n_in Var[w_in z] with Var[w x] = p E[w^2] - p^2 m^2 = (2 Var[w] + m^2)/4 and
    Var[w_in z] = (Var z + Mean z^2) Var[w_in] give Eq. 27-28:
    Var[w_rec] = 2 (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] - m^2/2 (Eq. 28 as printed is right).
    A negative value means no real variance meets CII.
    """
    n = _n_rec(n_rec)
    return 2.0 * (var_z + mean_z**2) * n_in / (n - 1) * var_w_in - 0.5 * mean_w_rec**2


def condition_ii_authors_code(n_rec: int, n_in: int, mean_z: float, var_z: float, var_w_in: float,
                              mean_w_rec: float) -> float:
    """CII as coded by the authors (LuCeHe/lif_stability, neural_models/lsnn.py): the factor 2 is dropped.

    var_rec = (input_var + input_mean^2) Var[W_in] n_in/(n_rec-1) - mean_rec^2/2, which makes the recurrent
    current variance half the input one.
    """
    n = _n_rec(n_rec)
    return (var_z + mean_z**2) * n_in / (n - 1) * var_w_in - 0.5 * mean_w_rec**2


def condition_iii(n_rec: int, alpha_decay: float, thr: float, min_w_rec: float, max_w_rec: float, xi: int = 0,
                  n_in: int = 0, max_w_in: float = 0.0, gamma_in: float = 0.0) -> float:
    """CIII, Eq. 44: gamma = Min[w]/((n_rec-1) Min[w] - thr) / Max[w] (1 - alpha - xi n_in Max[w_in] gamma_in).

    Re-derived from Eq. 42 (which rests on Max[X + Y] = Max X + Max Y and Max[w] Max[dy] = Min[w] Min[dy]).
    For symmetric weights (Min = -Max = -M) it is (1 - alpha - ...)/((n_rec-1) M + thr).
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    denom = ((n - 1) * min_w_rec - thr) * max_w_rec
    if denom == 0.0:
        raise ValueError("CIII is undefined: max_w_rec = 0 or (n_rec - 1) min_w_rec = thr")
    return min_w_rec / denom * (1.0 - a - xi * n_in * max_w_in * gamma_in)


def condition_iv(n_rec: int, alpha_decay: float, thr: float, e_w_rec_sq: float, xi: int = 0, n_in: int = 0,
                 e_w_in_sq: float = 0.0, e_sd_in_sq: float = 0.0) -> float:
    """CIV, Eq. 57: E[sigma'^2] = (1 - alpha^2 - xi n_in E[w_in^2] E[sigma'_in^2]) / ((n_rec-1) E[w_rec^2] + thr^2).

    The layer-below term carries E[sigma'_in^2] (Eq. 55-57); the main text prints E[sigma'_in].
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    return (1.0 - a * a - xi * n_in * e_w_in_sq * e_sd_in_sq) / ((n - 1) * e_w_rec_sq + thr * thr)


def condition_iv_residual(sharpness: float, shape: str, gamma: float, n_rec: int, alpha_decay: float, thr: float,
                          e_w_rec_sq: float, y_min: float, y_max: float, q: float = Q_SPEC.default, xi: int = 0,
                          n_in: int = 0, e_w_in_sq: float = 0.0, e_sd_in_sq: float = 0.0,
                          cross_term: bool = False) -> float:
    """Residual of Eq. 56 at sharpness s: alpha^2 + ((n-1) E[w^2] + thr^2) E[sigma'^2] + xi ... - 1.

    ``cross_term=True`` adds -2 alpha thr E[sigma'], the covariance of the leak (alpha dy) and reset
    (-thr sigma' dy) paths of the same neuron that Eq. 47 drops.
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    e2 = sd_second_moment(shape, gamma, sharpness, thr, y_min, y_max, q)
    res = a * a + ((n - 1) * e_w_rec_sq + thr * thr) * e2 + xi * n_in * e_w_in_sq * e_sd_in_sq - 1.0
    if cross_term:
        res -= 2.0 * a * thr * sd_moment(shape, 1, gamma, sharpness, thr, y_min, y_max, q)
    return res


def voltage_range(n_rec: int, n_in: int, alpha_decay: float, thr: float, min_w_rec: float, max_w_rec: float,
                  min_w_in: float, max_w_in: float, z_max: float = 1.0) -> tuple[float, float]:
    """Appendix B.6, Eqs. 72 and 74 (b = 0): the ensemble extremes of the voltage at initialisation.

    y_max = ((n_rec-1) max(Max w_rec, 0) + n_in z_max max(Max w_in, 0)) / (1 - alpha),
    y_min = ((n_rec-1) min(Min w_rec, 0) + n_in z_max min(Min w_in, 0) - thr) / (1 - alpha).
    The clipping at 0 corrects Eq. 72/74, which take Max[w x] = Max[w] for x in {0, 1} (true only if Max[w] >= 0).
    """
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    hi = ((n - 1) * max(max_w_rec, 0.0) + n_in * z_max * max(max_w_in, 0.0)) / (1.0 - a)
    lo = ((n - 1) * min(min_w_rec, 0.0) + n_in * z_max * min(min_w_in, 0.0) - thr) / (1.0 - a)
    return lo, hi


def sharpness_for(target: float, shape: str, gamma: float, thr: float, y_min: float, y_max: float,
                  q: float = Q_SPEC.default, s_bounds: tuple[float, float] = (1e-6, 1e6)) -> float | None:
    """The sharpness s with E[sigma'^2](s) = target (Eq. 2), by brentq on log s; None if there is none.

    E[sigma'^2] runs from gamma^2 f(0)^2 (s -> 0) down to 0 (s -> inf) when the range contains thr,
    so a root exists iff 0 < target < gamma^2 there. Other ranges are scanned for a sign change.
    """
    gamma = positive("gamma", gamma)
    lo, hi = _range(y_min, y_max)
    if not (math.isfinite(target) and target > 0):
        return None
    g = lambda log_s: sd_second_moment(shape, gamma, math.exp(log_s), thr, lo, hi, q) - target  # noqa: E731
    grid = np.linspace(math.log(s_bounds[0]), math.log(s_bounds[1]), 25)
    vals = [g(x) for x in grid]
    for x0, x1, v0, v1 in zip(grid[:-1], grid[1:], vals[:-1], vals[1:], strict=True):
        if v0 == 0.0:
            return float(math.exp(x0))
        if v0 * v1 < 0:
            return float(math.exp(optimize.brentq(g, x0, x1, xtol=1e-12, rtol=1e-12)))
    return None


def current_variances(n_rec: int, n_in: int, mean_w_rec: float, var_w_rec: float, mean_z: float, var_z: float,
                      var_w_in: float, alpha_decay: float = 0.9, n_samples: int = 20_000, n_steps: int = 60,
                      rng: np.random.Generator | None = None) -> dict[str, float]:
    """Monte Carlo check of CII in the linear regime (what Eq. 21-27 compute).

    Draws W_rec uniform with the given mean/variance (zero diagonal), x ~ Bernoulli(1/2), W_in uniform with
    mean 0 and ``var_w_in``, z spike-like with ``mean_z``/``var_z``; returns the variances of the currents
    (W_rec x)_i and (W_in z)_i and of a linear membrane y_t = alpha y_{t-1} + c_t driven by each current alone
    (weights and activity redrawn every step, as the ensemble of Appendix B assumes), whose stationary
    variance is Var[c] / (1 - alpha^2).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    n, a = _n_rec(n_rec), _decay(alpha_decay)
    if var_w_rec < 0:
        raise ValueError(f"var_w_rec must be >= 0; got {var_w_rec!r}")
    h_rec, h_in = math.sqrt(3.0 * var_w_rec), math.sqrt(3.0 * var_w_in)

    def rec_current(size: int) -> np.ndarray:
        w = rng.uniform(mean_w_rec - h_rec, mean_w_rec + h_rec, size=(size, n - 1))
        return (w * (rng.random((size, n - 1)) < 0.5)).sum(axis=1)

    def in_current(size: int) -> np.ndarray:
        w = rng.uniform(-h_in, h_in, size=(size, n_in))
        return (w * _input_spikes(rng, (size, n_in), mean_z, var_z)).sum(axis=1)

    c_rec, c_in = rec_current(n_samples), in_current(n_samples)
    batch = max(n_samples // 10, 100)
    y_rec, y_in = np.zeros(batch), np.zeros(batch)
    for _ in range(n_steps):
        y_rec = a * y_rec + rec_current(batch)
        y_in = a * y_in + in_current(batch)
    return {"var_rec_current": float(c_rec.var(ddof=1)), "var_in_current": float(c_in.var(ddof=1)),
            "var_rec_membrane": float(y_rec.var(ddof=1)), "var_in_membrane": float(y_in.var(ddof=1)),
            "n_samples": n_samples, "membrane_samples": batch}


def _input_spikes(rng: np.random.Generator, size: tuple[int, ...], mean_z: float, var_z: float) -> np.ndarray:
    """Inputs with the given mean and variance: spikes of amplitude c = mean + var/mean at rate mean/c.

    (Bernoulli(1/2) for mean 1/2, var 1/4.) A constant when var_z = 0; Gaussian when mean_z <= 0.
    """
    if var_z == 0.0:
        return np.full(size, float(mean_z))
    if mean_z <= 0.0:
        return rng.normal(mean_z, math.sqrt(var_z), size=size)
    c = mean_z + var_z / mean_z
    return c * (rng.random(size) < mean_z / c)


# ---------------------------------------------------------------------------------------------
# declared parameters
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionalSpec(ParamSpec):
    """A ParamSpec whose value may be left unset (None): the calculator then derives it (see ``notes``).

    ``default`` is None; ``fallback`` is what a widget shows before the user sets the value.
    """

    fallback: float = 0.0

    def validate(self, value: Any) -> Any:
        return None if value is None else super().validate(value)

    def describe_domain(self) -> str:
        return super().describe_domain() + " (or unset: derived)"


_SHAPE_SPEC = ParamSpec("shape", "SD shape f", "exponential", kind="choice", choices=tuple(SHAPES),
                        help="Standard form f of the registry (peak 1, unit area, Table S1).")

DESIGN_PARAMS: tuple[ParamSpec, ...] = (
    _SHAPE_SPEC,
    ParamSpec("gamma", "Dampening", 1.0, symbol=r"\gamma", domain=(0.0, 1e4), open_low=True, slider=(0.01, 5.0),
              step=0.01, help="Height of the SD: sigma'(v) = gamma f(s v)."),
    ParamSpec("sharpness", "Sharpness", 1.0, symbol="s", domain=(0.0, 1e4), open_low=True, slider=(0.01, 20.0),
              step=0.01, help="Inverse width of the SD (the paper calls it the width)."),
    ParamSpec("thr", "Threshold", 1.0, symbol=r"\vartheta", domain=(-1e4, 1e4), slider=(-5.0, 5.0), step=0.05,
              help="v = y - thr is the centred voltage."),
    ParamSpec("y_min", "Lowest voltage", -1.0, symbol=r"y_{\min}", domain=(-1e6, 1e6), slider=(-50.0, 50.0),
              step=0.1, help="y is uniform on [y_min, y_max] (Eq. 2's non-informative prior)."),
    ParamSpec("y_max", "Highest voltage", 3.0, symbol=r"y_{\max}", domain=(-1e6, 1e6), slider=(-50.0, 50.0),
              step=0.1, help="y is uniform on [y_min, y_max]."),
    replace(Q_SPEC),
    ParamSpec("v_span", "Plotted range of v", 4.0, symbol=r"\Delta v", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 20.0), step=0.5, help="SD curves on -span .. span."),
    ParamSpec("n_points", "Curve resolution", 401, kind="int", domain=(11, 10_001), slider=(51, 2001), step=50,
              help="Points per curve."),
    ParamSpec("mc_samples", "Monte Carlo samples", 20_000, kind="int", domain=(10, 10_000_000),
              slider=(100, 200_000), step=100, help="Draws of y for the Monte Carlo check of Eq. 2."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of the Monte Carlo draws."),
)


@dataclass(frozen=True)
class DesignConfig(DeclaredConfig):
    """A validated SD-design page state."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = DESIGN_PARAMS
    shape: str = "exponential"
    gamma: float = 1.0
    sharpness: float = 1.0
    thr: float = 1.0
    y_min: float = -1.0
    y_max: float = 3.0
    q: float = Q_SPEC.default
    v_span: float = 4.0
    n_points: int = 401
    mc_samples: int = 20_000
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.y_min < self.y_max:
            raise ValueError(f"y_min must be below y_max; got y_min={self.y_min:g}, y_max={self.y_max:g}")


def _opt(name: str, label: str, symbol: str, domain: tuple[float, float], slider: tuple[float, float],
         fallback: float, help_text: str, step: float = 0.001, open_low: bool = False) -> OptionalSpec:
    return OptionalSpec(name, label, None, symbol=symbol, domain=domain, slider=slider, step=step,
                        open_low=open_low, help=help_text, fallback=fallback)


INIT_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("alpha_decay", "Membrane decay", 0.9, symbol=r"\alpha_{decay}", domain=(0.0, 1.0), open_low=True,
              open_high=True, slider=(0.5, 0.999), step=0.001, help="y_t = alpha_decay y_{t-1} + ... (Eq. 1)."),
    ParamSpec("thr", "Threshold", 1.0, symbol=r"\vartheta", domain=(0.0, 1e4), open_low=True, slider=(0.05, 5.0),
              step=0.05, help="Firing threshold (> 0), also the size of the subtractive reset."),
    ParamSpec("n_rec", "Recurrent neurons", 100, kind="int", symbol=r"n_{rec}", domain=(2, 100_000),
              slider=(10, 400), step=1, help="Layer size; each neuron has n_rec - 1 recurrent inputs."),
    ParamSpec("n_in", "Inputs", 100, kind="int", symbol=r"n_{in}", domain=(1, 100_000), slider=(1, 1000), step=1,
              help="Dimension of z_t (data channels, or the layer below)."),
    ParamSpec("mean_z", "Input mean", 0.5, symbol=r"\mathrm{Mean}[z]", domain=(-1e3, 1e3), slider=(0.0, 2.0),
              step=0.01, help="Measured on the train set for a first layer; 1/2 for a layer below (CI)."),
    ParamSpec("var_z", "Input variance", 0.25, symbol=r"\mathrm{Var}[z]", domain=(0.0, 1e6), slider=(0.0, 2.0),
              step=0.01, help="Measured on the train set for a first layer; 1/4 for a layer below."),
    ParamSpec("var_w_in", "Input-weight variance", 0.01, symbol=r"\mathrm{Var}[w_{in}]", domain=(0.0, 1e4),
              open_low=True, slider=(0.0001, 0.1), step=0.0001,
              help="Chosen freely (Mean[w_in] = 0); e.g. Glorot 2/(n_in + n_rec)."),
    ParamSpec("xi", "Input is a layer below", 0, kind="int", symbol=r"\xi", domain=(0, 1), slider=(0, 1), step=1,
              help="0: z is data (no gradient to pass); 1: z is the layer below (adds its terms to CIII, CIV)."),
    _opt("mean_w_rec", "Mean[w_rec] used by CII", r"\mathrm{Mean}[w_{rec}]", (-1e3, 1e3), (-0.1, 0.1), 0.0,
         "Default: the CI mean."),
    _opt("min_w_rec", "Min[w_rec]", r"\mathrm{Min}[w_{rec}]", (-1e3, 1e3), (-1.0, 1.0), -0.1,
         "For CIII and B.6. Default: uniform W_rec with the CI mean and CII variance: mean - sqrt(3 var)."),
    _opt("max_w_rec", "Max[w_rec]", r"\mathrm{Max}[w_{rec}]", (-1e3, 1e3), (-1.0, 1.0), 0.1,
         "For CIII and B.6. Default: mean + sqrt(3 var) of the uniform W_rec."),
    _opt("e_w_rec_sq", "E[w_rec^2]", r"E[w_{rec}^2]", (0.0, 1e6), (0.0001, 0.1), 0.01,
         "For CIV. Default: Var + Mean^2 of W_rec (CII and CI).", open_low=True),
    _opt("max_w_in", "Max[w_in]", r"\mathrm{Max}[w_{in}]", (0.0, 1e3), (0.0, 1.0), 0.1,
         "For CIII (xi = 1) and B.6. Default: sqrt(3 Var[w_in]) (uniform, mean 0); Min[w_in] = -Max[w_in]."),
    _opt("gamma_in", "Dampening of the layer below", r"\gamma_{in}", (0.0, 1e4), (0.0, 2.0), 1.0,
         "xi = 1 only. Default: CIII of a data-driven layer (xi = 0) with this layer's n_rec, decay, threshold and "
         "W_rec statistics."),
    _opt("e_sd_in_sq", "E[sigma'_in^2] of the layer below", r"E[\sigma'^2_{in}]", (0.0, 1e4), (0.0, 1.0), 0.1,
         "xi = 1 only. Default: CIV of a data-driven layer (xi = 0) with this layer's statistics."),
    _opt("gamma", "Dampening for the sharpness", r"\gamma", (0.0, 1e4), (0.01, 5.0), 1.0,
         "Dampening used to solve CIV for s. Default: the CIII dampening.", step=0.01, open_low=True),
    _opt("y_min", "Lowest voltage", r"y_{\min}", (-1e6, 1e6), (-50.0, 50.0), -1.0,
         "For Eq. 2. Default: Appendix B.6 (Eq. 74).", step=0.1),
    _opt("y_max", "Highest voltage", r"y_{\max}", (-1e6, 1e6), (-50.0, 50.0), 3.0,
         "For Eq. 2. Default: Appendix B.6 (Eq. 72).", step=0.1),
    replace(_SHAPE_SPEC, help="Shape whose sharpness is solved from CIV through Eq. 2 (the paper: exponential)."),
    replace(Q_SPEC),
    ParamSpec("n_steps", "Simulated steps", 150, kind="int", domain=(2, 100_000), slider=(20, 1000), step=10,
              help="Time steps of the 'does the theory hold?' simulation."),
    ParamSpec("batch", "Simulated inputs", 16, kind="int", domain=(1, 10_000), slider=(1, 256), step=1,
              help="Independent input sequences (batch) in the simulation."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of weights and inputs in the simulation."),
)


@dataclass(frozen=True)
class InitConfig(DeclaredConfig):
    """A validated initialisation-calculator state; optional fields left as None are derived."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = INIT_PARAMS
    alpha_decay: float = 0.9
    thr: float = 1.0
    n_rec: int = 100
    n_in: int = 100
    mean_z: float = 0.5
    var_z: float = 0.25
    var_w_in: float = 0.01
    xi: int = 0
    mean_w_rec: float | None = None
    min_w_rec: float | None = None
    max_w_rec: float | None = None
    e_w_rec_sq: float | None = None
    max_w_in: float | None = None
    gamma_in: float | None = None
    e_sd_in_sq: float | None = None
    gamma: float | None = None
    y_min: float | None = None
    y_max: float | None = None
    shape: str = "exponential"
    q: float = Q_SPEC.default
    n_steps: int = 150
    batch: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_w_rec is not None and self.max_w_rec is not None and not self.min_w_rec < self.max_w_rec:
            raise ValueError(f"min_w_rec must be below max_w_rec; got {self.min_w_rec:g} and {self.max_w_rec:g}")
        if self.y_min is not None and self.y_max is not None and not self.y_min < self.y_max:
            raise ValueError(f"y_min must be below y_max; got {self.y_min:g} and {self.y_max:g}")


# ---------------------------------------------------------------------------------------------
# the calculator
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InitResult:
    """Conditions I-IV for one configuration, with every derived input and how it was derived."""

    mean_w_rec: float  # CI
    mean_w_rec_used: float  # the mean CII used (given or CI)
    var_w_rec: float  # CII (re-derived = Eq. 28)
    var_w_rec_authors_code: float  # CII as the authors' code computes it
    dampening: float  # CIII
    sd_second_moment: float  # CIV target E[sigma'^2]
    sharpness: float | None  # s meeting CIV through Eq. 2 (None: no solution)
    gamma_for_sharpness: float
    max_sd_second_moment: float  # sup over s of E[sigma'^2] = gamma^2 (peak 1)
    civ_feasible: bool
    shape: str
    q: float
    min_w_rec: float
    max_w_rec: float
    e_w_rec_sq: float
    max_w_in: float
    e_w_in_sq: float
    gamma_in: float | None
    e_sd_in_sq: float | None
    y_min: float
    y_max: float
    derived: Mapping[str, str]  # parameter -> how it was obtained
    notes: tuple[str, ...]


def init_conditions(cfg: InitConfig) -> InitResult:
    """Conditions I-IV for ``cfg``; options left unset are derived as described in ``derived``/``notes``."""
    n, a, thr, n_in, xi = cfg.n_rec, cfg.alpha_decay, cfg.thr, cfg.n_in, cfg.xi
    derived: dict[str, str] = {}
    notes: list[str] = []

    m_ci = condition_i(n, a, thr)
    if cfg.mean_w_rec is None:
        m = m_ci
        derived["mean_w_rec"] = "CI mean (3 - 2 alpha) thr / (n_rec - 1)"
    else:
        m = cfg.mean_w_rec
        derived["mean_w_rec"] = "given (used by CII instead of the CI mean)"
    var = condition_ii(n, n_in, cfg.mean_z, cfg.var_z, cfg.var_w_in, m)
    var_code = condition_ii_authors_code(n, n_in, cfg.mean_z, cfg.var_z, cfg.var_w_in, m)
    var_used = var
    if var <= 0:
        var_used = 0.0
        notes.append(f"CII has no solution: 2 (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] < Mean[w_rec]^2/2, so "
                     f"Var[w_rec] = {var:.4g} <= 0; 0 is used for the derived weight statistics.")
    h = math.sqrt(3.0 * var_used)
    if cfg.min_w_rec is None:
        lo = m - h
        derived["min_w_rec"] = "uniform W_rec with the CII variance: Mean - sqrt(3 Var)"
    else:
        lo = cfg.min_w_rec
        derived["min_w_rec"] = "given"
    if cfg.max_w_rec is None:
        hi = m + h
        derived["max_w_rec"] = "uniform W_rec with the CII variance: Mean + sqrt(3 Var)"
    else:
        hi = cfg.max_w_rec
        derived["max_w_rec"] = "given"
    if not lo < hi:
        raise ValueError(f"min_w_rec must be below max_w_rec; the derived/given values are {lo:g} and {hi:g}")
    if cfg.e_w_rec_sq is None:
        e_w2 = var_used + m * m
        derived["e_w_rec_sq"] = "Var[w_rec] (CII) + Mean[w_rec]^2"
    else:
        e_w2 = cfg.e_w_rec_sq
        derived["e_w_rec_sq"] = "given"
    if cfg.max_w_in is None:
        max_in = math.sqrt(3.0 * cfg.var_w_in)
        derived["max_w_in"] = "uniform W_in with mean 0: sqrt(3 Var[w_in])"
    else:
        max_in = cfg.max_w_in
        derived["max_w_in"] = "given"
    e_win2 = cfg.var_w_in
    derived["e_w_in_sq"] = "Var[w_in] (Mean[w_in] = 0)"

    gamma_in: float | None = None
    e_sd_in: float | None = None
    if xi == 1:
        if cfg.gamma_in is None:
            gamma_in = condition_iii(n, a, thr, lo, hi)
            derived["gamma_in"] = "CIII of a data-driven (xi = 0) layer below with this layer's statistics"
        else:
            gamma_in = cfg.gamma_in
            derived["gamma_in"] = "given"
        if cfg.e_sd_in_sq is None:
            e_sd_in = condition_iv(n, a, thr, e_w2)
            derived["e_sd_in_sq"] = "CIV of a data-driven (xi = 0) layer below with this layer's statistics"
        else:
            e_sd_in = cfg.e_sd_in_sq
            derived["e_sd_in_sq"] = "given"
        if n_in != n:
            notes.append(f"xi = 1 but n_in = {n_in} differs from n_rec = {n}: the layer-below defaults assume a layer "
                         f"like this one.")
    elif cfg.gamma_in is not None or cfg.e_sd_in_sq is not None:
        notes.append("gamma_in / e_sd_in_sq are ignored when xi = 0 (the input is data).")

    gamma3 = condition_iii(n, a, thr, lo, hi, xi, n_in, max_in, gamma_in or 0.0)
    if lo > 0:
        notes.append("Min[w_rec] > 0: Eq. 41's assumption Max[w] Max[dy] = Min[w] Min[dy] (symmetric weights) fails; "
                     "CIII is then not meaningful.")
    if gamma3 <= 0:
        notes.append(f"CIII gives a non-positive dampening ({gamma3:.4g}): no SD meets Condition III here.")
    e_target = condition_iv(n, a, thr, e_w2, xi, n_in, e_win2, e_sd_in or 0.0)
    if e_target <= 0:
        notes.append(f"CIV asks for E[sigma'^2] = {e_target:.4g} <= 0: impossible (the layer-below term exceeds "
                     f"1 - alpha^2).")

    b_lo, b_hi = voltage_range(n, n_in, a, thr, lo, hi, -max_in, max_in)
    y_lo = cfg.y_min if cfg.y_min is not None else b_lo
    y_hi = cfg.y_max if cfg.y_max is not None else b_hi
    derived["y_min"] = "given" if cfg.y_min is not None else "Appendix B.6 Eq. 74 (b = 0, z in [0, 1])"
    derived["y_max"] = "given" if cfg.y_max is not None else "Appendix B.6 Eq. 72 (b = 0, z in [0, 1])"
    if not y_lo < y_hi:
        raise ValueError(f"y_min must be below y_max; the derived/given values are {y_lo:g} and {y_hi:g}")

    if cfg.gamma is None:
        g_s = gamma3
        derived["gamma"] = "CIII dampening"
    else:
        g_s = cfg.gamma
        derived["gamma"] = "given"
    peak2 = g_s * g_s
    s_root = None
    if g_s > 0 and e_target > 0:
        s_root = sharpness_for(e_target, cfg.shape, g_s, thr, y_lo, y_hi, cfg.q)
    feasible = s_root is not None
    if not feasible and g_s > 0 and e_target > 0:
        why = (" With the CIII dampening (and xi = 0) this happens for every symmetric W_rec: give a larger 'gamma' "
               "to solve for s." if cfg.gamma is None else "")
        notes.append(f"No sharpness meets CIV: E[sigma'^2] = gamma^2/(s L) int f(s v)^2 is at most gamma^2 = "
                     f"{peak2:.4g} (f <= 1), below the CIV target {e_target:.4g}.{why}")
    return InitResult(
        mean_w_rec=m_ci, mean_w_rec_used=m, var_w_rec=var, var_w_rec_authors_code=var_code, dampening=gamma3,
        sd_second_moment=e_target, sharpness=s_root, gamma_for_sharpness=g_s, max_sd_second_moment=peak2,
        civ_feasible=feasible, shape=cfg.shape, q=cfg.q, min_w_rec=lo, max_w_rec=hi, e_w_rec_sq=e_w2,
        max_w_in=max_in, e_w_in_sq=e_win2, gamma_in=gamma_in, e_sd_in_sq=e_sd_in, y_min=y_lo, y_max=y_hi,
        derived=MappingProxyType(derived), notes=tuple(notes))


def init_at(cfg: InitConfig) -> dict[str, Any]:
    """The CLI's numbers (``python -m sgcore init ...``): Conditions I-IV and how each input was obtained."""
    r = init_conditions(cfg)
    out: dict[str, Any] = {
        "mean_w_rec": r.mean_w_rec, "var_w_rec": r.var_w_rec, "dampening": r.dampening,
        "sd_second_moment": r.sd_second_moment, "sharpness": r.sharpness, "shape": r.shape,
        "mean_w_rec_used": r.mean_w_rec_used, "var_w_rec_authors_code": r.var_w_rec_authors_code,
        "gamma_for_sharpness": r.gamma_for_sharpness, "max_sd_second_moment": r.max_sd_second_moment,
        "civ_feasible": r.civ_feasible, "min_w_rec": r.min_w_rec, "max_w_rec": r.max_w_rec,
        "e_w_rec_sq": r.e_w_rec_sq, "max_w_in": r.max_w_in, "e_w_in_sq": r.e_w_in_sq, "y_min": r.y_min,
        "y_max": r.y_max, "derived": dict(r.derived), "notes": list(r.notes),
    }
    if cfg.shape == "q_pseudospike":
        out["q"] = r.q
    if cfg.xi == 1:
        out["gamma_in"] = r.gamma_in
        out["e_sd_in_sq"] = r.e_sd_in_sq
    out["config"] = cfg.as_dict()
    return out


# ---------------------------------------------------------------------------------------------
# design page
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignView:
    """Everything the SD-design page shows, computed from one configuration."""

    config: DesignConfig
    moments: ShapeMoments
    v: np.ndarray
    sd: np.ndarray  # gamma f(s v) of the chosen shape
    curves: Mapping[str, np.ndarray]  # every shape at the same gamma, s
    sd_second_moment: float  # Eq. 2
    sd_first_moment: float  # E[sigma']
    mc_mean: float
    mc_stderr: float
    s_grid: np.ndarray
    second_moment_vs_s: np.ndarray  # Eq. 2 along s_grid
    check: Eq2Check | None  # Appendix B for the exponential
    notes: tuple[str, ...] = ()


def design_view(cfg: DesignConfig) -> DesignView:
    """The SD-design page's computation (deterministic for a given seed)."""
    v = np.linspace(-cfg.v_span, cfg.v_span, cfg.n_points)
    mom = shape_moments(cfg.shape, cfg.q)
    args = (cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max, cfg.q)
    e2 = sd_moment(cfg.shape, 2, *args)
    e1 = sd_moment(cfg.shape, 1, *args)
    mc, se = sd_moment_mc(cfg.shape, 2, *args, n=cfg.mc_samples, rng=np.random.default_rng(cfg.seed))
    s_grid = np.geomspace(0.01, 100.0, 41)
    e2_s = np.array([sd_second_moment(cfg.shape, cfg.gamma, s, cfg.thr, cfg.y_min, cfg.y_max, cfg.q)
                     for s in s_grid])
    notes: list[str] = []
    check = None
    if cfg.shape == "exponential":
        check = eq2_check(cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max)
        if not check.agree:
            notes.append(check.note)
    if not mom.tail_finite:
        notes.append(f"int v^2 f is infinite: v^2 f decays like |v|^-{mom.tail_exponent:.3g} (needs an exponent > 1).")
    if not cfg.y_min < cfg.thr < cfg.y_max:
        notes.append("The voltage range does not contain the threshold: the SD is evaluated on one flank only.")
    return DesignView(cfg, mom, v, sd_curve(cfg.shape, v, cfg.gamma, cfg.sharpness, cfg.q),
                      MappingProxyType(sd_curves(v, cfg.gamma, cfg.sharpness, cfg.q)), e2, e1, mc, se, s_grid, e2_s,
                      check, tuple(notes))


def design_at(cfg: DesignConfig) -> dict[str, Any]:
    """The CLI's numbers (``python -m sgcore design ...``): gallery numbers of f and Eq. 2 for the range."""
    mom = shape_moments(cfg.shape, cfg.q)
    args = (cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max, cfg.q)
    out: dict[str, Any] = {
        "shape": cfg.shape, "peak": mom.peak, "area": mom.area, "int_f_sq": mom.int_f_sq,
        "tail_moment": mom.tail_moment if mom.tail_finite else None, "tail_moment_finite": mom.tail_finite,
        "tail_exponent": mom.tail_exponent, "closed_forms": dict(mom.closed),
        "sd_second_moment": sd_moment(cfg.shape, 2, *args), "sd_first_moment": sd_moment(cfg.shape, 1, *args),
        "sd_peak": cfg.gamma * mom.peak, "notes": [],
    }
    if cfg.shape == "q_pseudospike":
        out["q"] = cfg.q
    if not mom.tail_finite:
        out["notes"].append(f"tail_moment is null: int v^2 f diverges (v^2 f ~ |v|^-{mom.tail_exponent:.3g}).")
    if cfg.shape == "exponential":
        chk = eq2_check(cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max)
        out["appendix_b_closed_form"] = chk.printed
        out["appendix_b_agrees"] = chk.agree
        if not chk.agree:
            out["notes"].append(chk.note)
    out["config"] = cfg.as_dict()
    return out


# ---------------------------------------------------------------------------------------------
# does the theory hold? a recurrent LIF layer, Eq. 1
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimTrace:
    """Statistics through time of one simulated layer (over neurons and the batch)."""

    label: str
    firing_fraction: np.ndarray  # mean of x_t (CI wants 1/2)
    sd_max: np.ndarray  # max of sigma'(v_t)
    sd_second_moment: np.ndarray  # mean of sigma'(v_t)^2 (Eq. 2's quantity)
    sd_var: np.ndarray
    grad_max: np.ndarray  # max |dy_t/da| of a tangent propagated by Eq. 33 (CIII wants it constant)
    grad_var: np.ndarray  # Var[dy_t/da] (CIV wants it constant)
    y_observed: tuple[float, float]  # 0.5% and 99.5% quantiles of y over the second half of the run
    gamma: float
    sharpness: float
    mean_w_rec: float
    var_w_rec: float
    var_w_in: float


@dataclass(frozen=True)
class TheoryCheck:
    """The calculator's initialisation against the naive one (Glorot uniform, gamma = s = 1)."""

    t: np.ndarray
    calculator: SimTrace
    naive: SimTrace
    result: InitResult
    notes: tuple[str, ...]
    seconds: float


def simulate_lif(w_rec: np.ndarray, w_in: np.ndarray, alpha_decay: float, thr: float, shape: str, gamma: float,
                 sharpness: float, q: float, z: np.ndarray, rng: np.random.Generator, label: str = "") -> SimTrace:
    """Run Eq. 1, y_t = alpha y_{t-1} + x_{t-1} W_rec + z_t W_in - thr x_{t-1}, x_t = H(y_t - thr), from y_0 = 0.

    ``z`` has shape (T, batch, n_in). Alongside, a tangent d_t = dy_t/da starting from d_0 ~ N(0, 1) is
    propagated by Eq. 33 with xi = 0: d_t = alpha d_{t-1} + (sigma'_{t-1} d_{t-1}) W_rec - thr sigma'_{t-1} d_{t-1}.
    """
    n_steps, batch, _ = z.shape
    n = w_rec.shape[0]
    f = _f_array(shape, q)
    y = np.zeros((batch, n))
    x = np.zeros((batch, n))
    sd = np.zeros((batch, n))
    d = rng.standard_normal((batch, n))
    stats = np.zeros((6, n_steps))
    ys = []
    for t in range(n_steps):
        if t > 0:
            gd = sd * d
            d = alpha_decay * d + gd @ w_rec - thr * gd
            y = alpha_decay * y + x @ w_rec + z[t] @ w_in - thr * x
        else:
            y = z[0] @ w_in
        x = (y >= thr).astype(float)
        sd = gamma * f(sharpness * (y - thr))
        stats[:, t] = (x.mean(), sd.max(), np.mean(sd * sd), sd.var(), np.abs(d).max(), d.var())
        if 2 * t >= n_steps:
            ys.append(y)
    var_off = w_rec[~np.eye(n, dtype=bool)]
    y_q = np.quantile(np.stack(ys), [0.005, 0.995])
    return SimTrace(label, *stats, y_observed=(float(y_q[0]), float(y_q[1])), gamma=gamma, sharpness=sharpness,
                    mean_w_rec=float(var_off.mean()),
                    var_w_rec=float(var_off.var()), var_w_in=float(w_in.var()))


def theory_check(cfg: InitConfig) -> TheoryCheck:
    """Simulate the layer initialised by the calculator and naively (Glorot uniform W_rec and W_in, gamma = s = 1).

    Calculator: W_rec uniform with the CI mean and CII variance, zero diagonal; W_in uniform with mean 0 and
    ``var_w_in``; gamma from CIII and s from CIV (s = 1 when CIV has no solution, as noted). Both layers see
    the same inputs (spikes with ``mean_z``/``var_z``, iid over time) and the same tangent seed.
    """
    t0 = time.perf_counter()
    res = init_conditions(cfg)
    n, n_in, a, thr = cfg.n_rec, cfg.n_in, cfg.alpha_decay, cfg.thr
    rng = np.random.default_rng(cfg.seed)
    z = _input_spikes(rng, (cfg.n_steps, cfg.batch, n_in), cfg.mean_z, cfg.var_z)
    notes: list[str] = list(res.notes)
    h = math.sqrt(3.0 * max(res.var_w_rec, 0.0))
    w_calc = rng.uniform(res.mean_w_rec_used - h, res.mean_w_rec_used + h, size=(n, n))
    np.fill_diagonal(w_calc, 0.0)
    hin = math.sqrt(3.0 * cfg.var_w_in)
    w_in_calc = rng.uniform(-hin, hin, size=(n_in, n))
    g_calc = res.gamma_for_sharpness
    if g_calc <= 0:
        g_calc = 1.0
        notes.append("simulation: the CIII dampening is <= 0, gamma = 1 used for the calculator's layer.")
    s_calc = res.sharpness
    if s_calc is None:
        s_calc = 1.0
        notes.append("simulation: no sharpness meets CIV, s = 1 used for the calculator's layer.")
    h_glorot_rec = math.sqrt(6.0 / (2 * n))
    w_naive = rng.uniform(-h_glorot_rec, h_glorot_rec, size=(n, n))
    np.fill_diagonal(w_naive, 0.0)
    h_glorot_in = math.sqrt(6.0 / (n_in + n))
    w_in_naive = rng.uniform(-h_glorot_in, h_glorot_in, size=(n_in, n))
    seed_tangent = int(rng.integers(2**32))
    calc = simulate_lif(w_calc, w_in_calc, a, thr, cfg.shape, g_calc, s_calc, cfg.q, z,
                        np.random.default_rng(seed_tangent), "calculator")
    naive = simulate_lif(w_naive, w_in_naive, a, thr, cfg.shape, 1.0, 1.0, cfg.q, z,
                         np.random.default_rng(seed_tangent), "naive (Glorot uniform, gamma = s = 1)")
    lo_obs, hi_obs = calc.y_observed
    if (hi_obs - lo_obs) < 0.5 * (res.y_max - res.y_min):
        notes.append(f"simulation: the calculator's layer visits y in [{lo_obs:.3g}, {hi_obs:.3g}] (0.5-99.5% "
                     f"quantiles), much narrower than the range [{res.y_min:.3g}, {res.y_max:.3g}] that Eq. 2 assumed "
                     f"for the sharpness.")
    if cfg.xi == 1:
        notes.append("simulation: the input is simulated as spikes; the gradient path into the layer below (xi = 1) "
                     "is not simulated.")
    return TheoryCheck(np.arange(cfg.n_steps), calc, naive, res, tuple(notes), time.perf_counter() - t0)


def init_view(cfg: InitConfig) -> TheoryCheck:
    """The initialisation page's computation: Conditions I-IV (``.result``) and the simulation panel."""
    return theory_check(cfg)


# ---------------------------------------------------------------------------------------------
# presets and the paper's discrepancies
# ---------------------------------------------------------------------------------------------
def _slmnist(shape: str, q: float | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"shape": shape, "gamma": 1.0, "sharpness": 1.0}
    if q is not None:
        values["q"] = q
    return values


_SHD_N = 256
#: Named settings from the paper: page ("design" or "init"), values, and where they come from.
PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    **{f"slmnist_{s}": {"page": "design", "values": _slmnist(s),
                       "source": "Sec. 3.2 / Fig. 3: ALIF on sl-MNIST, dampening = sharpness = 1 for every SG"}
       for s in ("triangular", "exponential", "superspike", "sigmoid", "gaussian", "rectangular")},
    "slmnist_q1.05": {"page": "design", "values": _slmnist("q_pseudospike", 1.05),
                      "source": "Sec. 3.2 / Fig. 3 right: the best tail fatness q = 1.05 (gamma = s = 1)"},
    "slmnist_q2": {"page": "design", "values": _slmnist("q_pseudospike", 2.0),
                   "source": "Sec. 3.2: q = 2 turns q-PseudoSpike into the fast-sigmoid derivative (gamma = s = 1)"},
    "shd_lif_layer2": {
        "page": "init",
        "values": {"n_rec": _SHD_N, "n_in": _SHD_N, "xi": 1, "mean_z": 0.5, "var_z": 0.25,
                   "var_w_in": 2.0 / (_SHD_N + _SHD_N), "shape": "exponential", "alpha_decay": 0.9, "thr": 1.0},
        "source": "Sec. 2.5, 2.6, 3.4 / Fig. 5: LIF, 256 neurons per layer on SHD, exponential SG, second layer of the "
                  "stack (xi = 1, Mean z = 1/2, Var z = 1/4 by CI), Glorot Var[w_in] = 2/(n_in + n_rec). The paper "
                  "prints neither alpha_decay nor thr: 0.9 and 1 are placeholders.",
    },
})


@dataclass(frozen=True)
class PaperDiscrepancy:
    """Where the paper's printed formula and the integral/derivation (followed here) part ways."""

    where: str
    printed: str
    followed: str
    evidence: str


#: Discrepancies found while re-deriving the paper (and the authors' code, LuCeHe/lif_stability).
PAPER_DISCREPANCIES: tuple[PaperDiscrepancy, ...] = (
    PaperDiscrepancy("Eq. 19 (CI)", "Mean[w_rec] = (1/(n_rec-1)) (1-alpha)/Mean[x] thr + thr",
                     "Mean[w_rec] = thr (1 + (1-alpha)/Mean[x]) / (n_rec-1) (Eq. 18 solved; = Eq. 20 at 1/2)",
                     "n_rec = 101, alpha = 0.9, thr = 1: printed 1.002, Eq. 18/20 give 0.012"),
    PaperDiscrepancy("Eq. 28 / CII vs the authors' code",
                     "code: var_rec = (Var z + Mean z^2) Var[W_in] n_in/(n_rec-1) - Mean[w_rec]^2/2",
                     "Eq. 28 (re-derived, printed correctly): 2 (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] - m^2/2",
                     "the code drops the factor 2 on the input term, so Var[W_rec x] = Var[W_in z]/2; CLI example "
                     "(n_rec 101, n_in 200, Mean z 0.5, Var z 0.25, Var w_in 0.01): 0.019928 vs 0.009928"),
    PaperDiscrepancy("Main-text CIV, Eq. 56 vs Eq. 55/57",
                     "main text: xi n_in E[w_in^2] E[sigma'_in]; Eq. 56: E[sigma'^2] in the input term",
                     "Eq. 57: xi n_in E[w_in^2] E[sigma'_in^2] (from E[(w_in sigma'_in)^2] in Eq. 55)",
                     "the authors' code also uses the first moment (E_sm(s_in, 1, ...))"),
    PaperDiscrepancy("Eqs. 65-67 (exponential closed form of Eq. 64)",
                     "int_{v-}^{v+} e^{-2m|v|} dv = (2 - e^{-2m|v+|} - e^{-2m|v-|}) / (2m)",
                     "signed antiderivative sign(v)(1 - e^{-2m|v|})/(2m) (= the integral; the authors' code too)",
                     "valid only if y_min < thr < y_max; e.g. gamma = s = 1, thr = 1, y in [1.5, 3]: printed 0.3107 "
                     "vs integral 0.0225 (x13.8)"),
    PaperDiscrepancy("Eq. 47 (CIV variance of a sum)",
                     "Var[alpha dy] + ... + Var[thr sigma' dy] as independent terms",
                     "the leak and reset paths act on the same dy_{t-1}: Var[(alpha - thr sigma') dy] adds "
                     "-2 alpha thr E[sigma'] Var[dy] (condition_iv_residual(cross_term=True))",
                     "makes CIV harder still to meet"),
    PaperDiscrepancy("CIII with CIV", "gamma from CIII, then s from CIV through Eq. 2",
                     "E[sigma'^2] <= gamma^2 (f <= 1), but the CIV target exceeds gamma_CIII^2 for every "
                     "symmetric W_rec, so no s exists (sharpness = None)",
                     "CLI example: gamma = 0.1/11 = 0.00909, gamma^2 = 8.3e-5 < target 0.19/3 = 0.0633; the authors' "
                     "random search over s in [0.3, 1.6] just returns its edge"),
    PaperDiscrepancy("Eqs. 72/74 (B.6)", "Max[w x] = Max[w], Min[w x] = Min[w] for x in {0, 1}",
                     "max(Max[w], 0) and min(Min[w], 0)", "differs only when all weights share a sign"),
    PaperDiscrepancy("Eqs. 39-40, 48", "delta n_in Max[...] (Eq. 39-40); dy_{t-1} in the input term (Eq. 48)",
                     "xi n_in ...; dy^in_{t-1}", "typos"),
    PaperDiscrepancy("authors' code, neural_models/lsnn.py", "if 'nogradreset': (a non-empty string: always true)",
                     "the reset path -thr x_{t-1} never carries gradient in the trained networks",
                     "so the thr terms of CIII/CIV (Eqs. 42, 56) do not describe the networks the paper trained"),
    PaperDiscrepancy("Sec. 2.2 / Table S1 wording", "s is 'the width' of the SG",
                     "s is an inverse width (larger s, narrower SD)", "terminology"),
)
