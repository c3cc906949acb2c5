"""The built-in surrogate shapes: one block per shape, in registry order.

Each block holds everything about one shape: its standard form ``f`` (maximum 1 at ``v = 0``,
unit area; Herranz-Celotti & Rouat, Table S1) and CDF ``F`` (written once against an array
namespace ``xp`` so the same code serves NumPy and torch), its inverse CDF and any hazards or
exact log-CDF, its derivative ``f'`` (NumPy; LocalZO's Theorem 3), its facts (closed forms,
Theorem 3 inverse CDFs, fast in-place kernels) and, last, its :class:`SurrogateShape` record,
appended to ``_SHAPE_LIST``. Adding a shape is adding one such block (or calling
:func:`sgcore.shapes.register` from your own code).

Conventions shared by the blocks:

* formulas take ``v`` and an ops namespace; branches use clipped inputs so ``where()`` never sees
  invalid values (no warnings, no NaN) in either branch;
* Theorem 3 (LocalZO): with alpha = -1 the standard variable Y has CDF
  R(y) = 2 [F(y) - 1/2 - y f(y)] for every even shape; ``theorem3_ppf`` / ``theorem3_cdf`` hold
  the inverse CDFs (or CDFs) of Y known in closed form;
* fast in-place kernels for training overwrite v (= U - theta) with gamma f(s v), same dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from .record import Q_SPEC, ClosedForm, SurrogateShape, _const

#: The built-in shapes in registry order; each block below appends its record.
_SHAPE_LIST: list[SurrogateShape] = []


# === sigmoid (Gygax & Zenke Eq. 1, 6-8) ===========================================================
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


def _sig_df(v, **_):
    a, b = special.expit(4.0 * v), special.expit(-4.0 * v)
    return 16.0 * a * b * (b - a)


#: The sigmoid constant of LocalZO Sec. 4.6.1: 1/a^2 = 0.4262 is exactly 7 zeta(3) / (2 pi^2).
SIGMOID_CONSTANT: float = 7.0 * float(special.zeta(3.0)) / (2.0 * math.pi**2)


def _sigmoid_kernel(v: np.ndarray, s: float, g: float) -> None:
    f = v.dtype.type  # f(x) = 4 sigma(4x) sigma(-4x) = (1 / cosh(2x))^2
    v *= f(2.0 * s)
    # (sqrt(g) / cosh)^2, not g / cosh^2: cosh^2 overflows float32 at |2x| > 44 (giving 0) while
    # sech stays normal until cosh itself overflows (|2x| > 89, where f is 0 in float32 anyway); squaring last
    # rounds once into the subnormals
    with np.errstate(over="ignore", under="ignore"):
        np.cosh(v, out=v)
        np.divide(f(math.sqrt(g)), v, out=v)
        np.square(v, out=v)


_SHAPE_LIST.append(SurrogateShape(
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
))


# === superspike: q-PseudoSpike at q = 2 (Gygax & Zenke Table 2) ===================================
def _superspike_ppf_m1(p: np.ndarray, **_: Any) -> np.ndarray:
    r = np.sqrt(p)  # R(y) = (2y / (1 + 2y))^2
    return r / (2.0 * (1.0 - r))


def _superspike_kernel(v: np.ndarray, s: float, g: float) -> None:
    f = v.dtype.type  # f(x) = 1 / (1 + 2|x|)^2
    np.abs(v, out=v)
    v *= f(2.0 * s)
    v += f(1.0)
    np.square(v, out=v)
    np.divide(f(g), v, out=v)


# Its formulas are the q-PseudoSpike ones at q = 2 (that block, below; looked up when called).
_SHAPE_LIST.append(SurrogateShape(
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
))


# === triangular ===================================================================================
def _tri_f(v, xp, **_):
    return xp.clip(1.0 - xp.abs(v), 0.0, None)


def _tri_F(v, xp, **_):
    w = xp.clip(v, -1.0, 1.0)
    return xp.where(w < 0, 0.5 * (1.0 + w) ** 2, 1.0 - 0.5 * (1.0 - w) ** 2)


def _tri_ppf(p, **_):
    return np.where(p < 0.5, -1.0 + np.sqrt(2.0 * np.minimum(p, 0.5)),
                    1.0 - np.sqrt(2.0 * np.clip(1.0 - p, 0.0, 0.5)))


def _tri_df(v, **_):
    return np.where(np.abs(v) < 1.0, -np.sign(v), 0.0)


def _triangular_kernel(v: np.ndarray, s: float, g: float) -> None:
    f = v.dtype.type  # f(x) = max(1 - |x|, 0)
    np.abs(v, out=v)
    v *= f(-s)
    v += f(1.0)
    np.maximum(v, f(0.0), out=v)
    if g != 1.0:
        v *= f(g)


_SHAPE_LIST.append(SurrogateShape(
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
))


# === exponential ==================================================================================
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


def _exp_df(v, **_):
    return -2.0 * np.sign(v) * np.exp(-2.0 * np.abs(v))


def _exp_ppf_m1(p: np.ndarray, **_: Any) -> np.ndarray:
    return special.gammaincinv(2.0, p) / 2.0  # R(y) = 1 - e^{-2y}(1 + 2y): Gamma(2, rate 2)


_SHAPE_LIST.append(SurrogateShape(
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
))


# === gaussian =====================================================================================
_SQRT2PI = math.sqrt(2.0 * math.pi)


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


def _gauss_df(v, **_):
    return -2.0 * math.pi * v * np.exp(-math.pi * v * v)


def _gauss_ppf_1(p: np.ndarray, **_: Any) -> np.ndarray:
    return special.erfinv(p) / math.sqrt(math.pi)  # R(y) = erf(sqrt(pi) y): half-normal


def _gauss_cdf_1(y: np.ndarray, **_: Any) -> np.ndarray:
    return special.erf(math.sqrt(math.pi) * y)


_SHAPE_LIST.append(SurrogateShape(
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
))


# === rectangular ==================================================================================
def _rect_f(v, xp, **_):
    return xp.where(xp.abs(v) < 0.5, 1.0 + 0.0 * v, 0.0 * v)


def _rect_F(v, xp, **_):
    return xp.clip(v + 0.5, 0.0, 1.0)


def _rect_ppf(p, **_):
    return p - 0.5


def _rect_df(v, **_):
    return np.zeros_like(v)  # almost everywhere; f jumps at |v| = 1/2


_SHAPE_LIST.append(SurrogateShape(
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
))


# === q_pseudospike ================================================================================
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


def _pseudo_df(v, q=2.0, **_):
    b = 2.0 / (q - 1.0)
    return -q * b * np.sign(v) * (1.0 + b * np.abs(v)) ** (-q - 1.0)


def _pseudo_tail_moment(q: float = 2.0, **_: Any) -> float:
    return (q - 1.0) ** 2 / (2.0 * (q - 2.0) * (q - 3.0)) if q > 3.0 else math.inf


_SHAPE_LIST.append(SurrogateShape(
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
))


# === atan =========================================================================================
def _atan_f(v, xp, **_):
    return 1.0 / (1.0 + (math.pi * v) ** 2)


def _atan_F(v, xp, **_):
    return 0.5 + xp.arctan(math.pi * v) / math.pi


def _atan_ppf(p, **_):
    return np.tan(math.pi * (p - 0.5)) / math.pi


def _atan_df(v, **_):
    return -2.0 * math.pi**2 * v / (1.0 + (math.pi * v) ** 2) ** 2


def _atan_cdf_1(y: np.ndarray, **_: Any) -> np.ndarray:
    x = math.pi * y
    return (x / (1.0 + x * x) + np.arctan(x)) * (2.0 / math.pi)


_SHAPE_LIST.append(SurrogateShape(
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
))


# === escape_exp (Gumbel) ==========================================================================
_E = math.e
# exp() arguments are clamped below this so float32 and float64 never overflow.
_EXP_CAP = 80.0
_EULER_GAMMA = 0.5772156649015329


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
    # f / (1 - F) = e exp(e v): unbounded, so not clamped; inf where it exceeds the largest float (a clamp printed
    # a wrong finite number there).
    with np.errstate(over="ignore"):
        return _E * np.exp(_E * v)


def _gumbel_loghazard(v, **_):
    return 1.0 + _E * v


def _gumbel_rhazard(v, **_):
    # f / F = e t e^{-t} / (1 - e^{-t}), t = exp(e v); tends to e as v -> -inf.
    t = np.exp(np.clip(_E * v, None, 700.0))
    safe = np.where(t > 0, t, 1.0)
    return np.where(t > 0, _E * safe * np.exp(-safe) / -np.expm1(-safe), _E)


def _gumbel_df(v, **_):
    ev = np.clip(_E * v, None, _EXP_CAP)
    return _E * _E * np.exp(ev - np.exp(ev)) * (1.0 - np.exp(ev))


_SHAPE_LIST.append(SurrogateShape(
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
    _loghazard=_gumbel_loghazard,
    closed_forms={"int_f_sq": _const(r"e\int_0^\infty u e^{-2u} du = e/4", math.e / 4.0),
                  "tail_moment": _const(r"(\pi^2/6 + \gamma_E^2)/e^2\ (\text{Gumbel-min, scale } 1/e)",
                                        (math.pi**2 / 6.0 + _EULER_GAMMA**2) / math.e**2)},
))
