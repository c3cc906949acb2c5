"""LocalZO: zeroth-order surrogates, sampling any surrogate, sparse backward passes.

Mukhoty et al. (2023). The 2-point zeroth-order estimate of the Heaviside's derivative
(Eq. 8, Eq. 7 averages it over ``m`` samples)

    G2(u; z, delta) = |z|^alpha / (2 delta)   if |u| <= |z| delta,   else 0,

has the expectation (Eq. 9)

    E_z[G2](u) = (1 / delta) int_{|u|/delta}^inf z^alpha lambda(z) dz,

a surrogate derivative. Two directions are implemented with one interface, a *z-source*:

* :class:`ZDistribution` (Theorem 2): pick lambda, get a surrogate. Normal, Uniform and Laplace
  (unit variance) have closed forms (Eqs. 10-12, and for every alpha through incomplete gamma
  functions); any other distribution goes by quadrature.
* :class:`Theorem3Target` (Theorem 3): pick a registry surrogate g, get the density
  lambda(z) = -delta^2 g'(z delta) / (c z^alpha) with c * E[G2] = g, sampled by inverse
  transform (analytic inverse CDF where one exists, else a dense symmetric table whose error
  is reported).

Both give |z|'s CDF, a sampler, tail expectations E[|z|^p ; |z| >= a] and the weight ``c`` by
which G2 is multiplied (1 for a distribution). Everything else (expected surrogate, variance,
back-propagation threshold, active fractions, Monte Carlo) is written once against it.

A neuron is *active* in the backward pass when its estimate is non-zero, i.e. when
``|u| <= delta * max_k |z_k|``; SparseGrad (Perez-Nieves & Goodman 2021, paper Eq. 4) keeps
the surrogate only where ``|u| < B_th``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from scipy import integrate, special, stats

from .params import DeclaredConfig, ParamSpec, lookup, positive
from .shapes import Q_SPEC, SHAPES, get_shape

__all__ = [
    "ALPHAS",
    "DISTRIBUTIONS",
    "LOCALZO_PARAMS",
    "LocalZOConfig",
    "LocalZOView",
    "SIGMOID_CONSTANT",
    "TARGETS",
    "Theorem3Target",
    "ZDistribution",
    "active_fraction",
    "active_fractions",
    "bth_over_delta",
    "expected_surrogate",
    "g2_estimate",
    "localzo_at",
    "localzo_view",
    "make_source",
    "paper_checks",
    "pooled_mean",
    "monte_carlo",
    "second_moment",
    "single_sample_variance",
    "sparsegrad_active_fraction",
    "sample_g2",
]

#: Exponents alpha offered (Eq. 8: a non-zero integer). The paper uses alpha = 1 and -1.
ALPHAS: tuple[int, ...] = (1, -1, 2, 3)

#: The sigmoid constant of paper Sec. 4.6.1: 1/a^2 = 0.4262 is exactly 7 zeta(3) / (2 pi^2).
SIGMOID_CONSTANT: float = 7.0 * float(special.zeta(3.0)) / (2.0 * math.pi**2)

_SQ3 = math.sqrt(3.0)
_B_LAP = 1.0 / math.sqrt(2.0)  # Laplace scale b with variance 2 b^2 = 1


def _check_alpha(alpha: Any) -> int:
    try:
        a = int(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be one of {', '.join(map(str, ALPHAS))}; got {alpha!r}") from None
    if a not in ALPHAS or a != float(alpha):
        raise ValueError(f"alpha must be one of {', '.join(map(str, ALPHAS))}; got {alpha!r}")
    return a




def _check_m(m: Any) -> int:
    try:
        k = int(m)
    except (TypeError, ValueError):
        raise ValueError(f"m must be an integer in [1, 10000]; got {m!r}") from None
    if k != float(m) or not 1 <= k <= 10_000:
        raise ValueError(f"m must be an integer in [1, 10000]; got {m!r}")
    return k


# ---------------------------------------------------------------------------------------------
# quadrature helpers
# ---------------------------------------------------------------------------------------------
def _tail_quad(fn: Callable[[np.ndarray], np.ndarray], a: np.ndarray, upper: float) -> np.ndarray:
    """int_a^upper fn(z) dz for every a (vectorised adaptive quadrature, scipy quad_vec).

    Bounded ``upper``: z = a + (upper - a) tau on [0, 1]; unbounded: z = a + t on [0, inf).
    Each distinct value of ``a`` is integrated once.
    """
    a = np.asarray(a, dtype=float)
    uniq, inverse = np.unique(a, return_inverse=True)
    if uniq.size < a.size:
        return _tail_quad(fn, uniq, upper)[inverse].reshape(a.shape)
    out = np.zeros_like(a)
    live = a < upper
    if not np.any(live):
        return out
    al = a[live]
    if math.isfinite(upper):
        width = upper - al
        val, _ = integrate.quad_vec(lambda t: fn(al + width * t) * width, 0.0, 1.0, epsrel=1e-11, epsabs=0,
                                    norm="max")
    else:
        val, _ = integrate.quad_vec(lambda t: fn(al + t), 0.0, math.inf, epsrel=1e-11, epsabs=0, norm="max")
    out[live] = val
    return out


# ---------------------------------------------------------------------------------------------
# Theorem 2 direction: a distribution of z
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZDistribution:
    """An even distribution of z with unit variance (so that delta is comparable across them).

    ``tail(a, p)`` = E[|z|^p ; |z| >= a] = 2 int_a^inf z^p lambda(z) dz; closed form when the
    distribution has one, else quadrature of the density (``closed=False``).
    """

    name: str
    label: str
    pdf_latex: str
    support: float  # half-width of the support (inf for unbounded)
    dist: Any = field(repr=False)  # frozen scipy.stats distribution
    reference: str = ""
    _tail: Callable[[np.ndarray, int], np.ndarray] | None = field(default=None, repr=False)
    _emax: Callable[[int], float] | None = field(default=None, repr=False)
    expected_latex: str = ""
    _pdf: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)  # fast formula for quadrature
    weight: ClassVar[float] = 1.0

    @property
    def closed(self) -> bool:
        return self._tail is not None

    @property
    def method(self) -> str:
        return "closed form" if self.closed else "quadrature"

    def density(self, z: Any) -> np.ndarray:
        return self.dist.pdf(np.asarray(z, dtype=float))

    def abs_cdf(self, t: Any) -> np.ndarray:
        """P(|z| <= t) (paper Eq. 14)."""
        t = np.maximum(np.asarray(t, dtype=float), 0.0)
        return np.clip(2.0 * self.dist.cdf(t) - 1.0, 0.0, 1.0)

    def abs_ppf(self, p: Any) -> np.ndarray:
        return np.asarray(self.dist.ppf(0.5 + 0.5 * np.asarray(p, dtype=float)), dtype=float)

    def sample(self, shape: Any, rng: np.random.Generator) -> np.ndarray:
        """Signed samples z by inverse transform of the distribution's CDF."""
        return self.dist.ppf(rng.uniform(0.0, 1.0, size=shape))

    def sample_abs(self, shape: Any, rng: np.random.Generator) -> np.ndarray:
        return np.abs(self.sample(shape, rng))

    def tail(self, a: Any, p: int) -> np.ndarray:
        """E[|z|^p ; |z| >= a]; +inf where it diverges (a = 0 and p <= -1)."""
        a = np.abs(np.asarray(a, dtype=float))
        if self._tail is not None:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = np.asarray(self._tail(a, p), dtype=float)
        else:
            pdf = self._pdf or self.dist.pdf
            out = np.full_like(a, np.inf)
            ok = (a > 0) | (p > -1)
            out[ok] = 2.0 * _tail_quad(lambda z: np.where(z > 0, z, 1.0) ** p * pdf(z), a[ok], self.support)
        if p <= -1:
            out = np.where(a == 0, np.inf, out)
        return out

    def emax(self, m: int) -> float:
        """E[max_k |z_k|] over m samples (paper Eq. 17, Table 1): closed form or quadrature (cached)."""
        m = _check_m(m)
        if self._emax is not None:
            return float(self._emax(m))
        return _emax_cached(self, m)

    def emax_quad(self, m: int) -> float:
        """E[max_k |z_k|] = int_0^inf 1 - F_|z|(t)^m dt by quadrature (paper Eq. 23-25)."""
        return _emax_quad(self.abs_cdf, self.support, _check_m(m))


@lru_cache(maxsize=512)
def _emax_cached(src: Any, m: int) -> float:
    upper = src.support if isinstance(src, ZDistribution) else math.inf
    return _emax_quad(src.abs_cdf, upper, m)


def _emax_quad(abs_cdf: Callable[[Any], np.ndarray], upper: float, m: int) -> float:
    fn = lambda t: 1.0 - float(abs_cdf(t)) ** m  # noqa: E731
    if math.isfinite(upper):
        return float(integrate.quad(fn, 0.0, upper, limit=200, epsabs=1e-13, epsrel=1e-12)[0])
    return float(integrate.quad(fn, 0.0, math.inf, limit=200, epsabs=1e-13, epsrel=1e-12)[0])


def _normal_tail(a: np.ndarray, p: int) -> np.ndarray:
    # 2 int_a^inf z^p phi(z) dz
    if p > -1:
        s = (p + 1) / 2.0
        return 2.0 ** (p / 2.0) / math.sqrt(math.pi) * special.gamma(s) * special.gammaincc(s, a * a / 2.0)
    if p == -1:
        return special.exp1(a * a / 2.0) / math.sqrt(2.0 * math.pi)
    if p == -2:
        return 2.0 * (stats.norm.pdf(a) / a - stats.norm.sf(a))
    raise ValueError(f"no closed form for p = {p}")


def _laplace_tail(a: np.ndarray, p: int) -> np.ndarray:
    b = _B_LAP  # 2 int_a^inf z^p e^{-z/b} / (2b) dz
    if p > -1:
        return b**p * special.gamma(p + 1.0) * special.gammaincc(p + 1.0, a / b)
    if p == -1:
        return special.exp1(a / b) / b
    if p == -2:
        return (np.exp(-a / b) / a - special.exp1(a / b) / b) / b
    raise ValueError(f"no closed form for p = {p}")


def _uniform_tail(a: np.ndarray, p: int) -> np.ndarray:
    lim = _SQ3  # 2 int_a^L z^p / (2L) dz, zero beyond L
    inside = a < lim
    ac = np.minimum(a, lim)
    if p == -1:
        val = np.log(lim / ac) / lim
    else:
        val = (lim ** (p + 1) - ac ** (p + 1)) / (lim * (p + 1))
    return np.where(inside, val, 0.0)


_DIST_LIST = [
    ZDistribution(
        "normal", "Normal(0, 1)", r"\tfrac{1}{\sqrt{2\pi}}e^{-z^2/2}", math.inf, stats.norm(),
        "Eq. 10 / 20, Table 1, Eq. 23", _normal_tail, None,
        r"\frac{1}{\delta\sqrt{2\pi}}\exp\!\left(-\frac{u^2}{2\delta^2}\right)\quad\text{(10)}",
    ),
    ZDistribution(
        "uniform", "Uniform[-√3, √3]", r"\tfrac{1}{2\sqrt3}\,\mathbb{1}_{|z|\le\sqrt3}", _SQ3,
        stats.uniform(loc=-_SQ3, scale=2 * _SQ3), "Eq. 11 / 21, Table 1, Eq. 24", _uniform_tail,
        lambda m: _SQ3 * m / (m + 1.0),
        r"\frac{1}{4\sqrt3\,\delta}\left(3-\frac{u^2}{\delta^2}\right)\mathbb{1}_{|u|<\sqrt3\delta}\quad\text{(11)}",
    ),
    ZDistribution(
        "laplace", "Laplace(0, 1/√2)", r"\tfrac{1}{\sqrt2}e^{-\sqrt2|z|}", math.inf, stats.laplace(scale=_B_LAP),
        "Eq. 12 / 22, Table 1, Eq. 25", _laplace_tail,
        lambda m: _B_LAP * float(np.sum(1.0 / np.arange(1, m + 1))),
        r"\frac{1}{2\delta}\left(\frac{|u|}{\delta}+\frac{1}{\sqrt2}\right)e^{-\sqrt2|u|/\delta}\quad\text{(12)}",
    ),
    ZDistribution(
        "logistic", "Logistic (unit variance)", r"\tfrac{1}{4s}\,\mathrm{sech}^2\tfrac{z}{2s},\ s=\sqrt3/\pi",
        math.inf, stats.logistic(scale=_SQ3 / math.pi), "not in the paper: by quadrature of Eq. 9",
        _pdf=lambda z: (math.pi / _SQ3) * special.expit(z * math.pi / _SQ3) * special.expit(-z * math.pi / _SQ3),
    ),
    ZDistribution(
        "triangular", "Triangular on [-√6, √6]", r"\tfrac{\sqrt6-|z|}{6}\,\mathbb{1}_{|z|\le\sqrt6}", math.sqrt(6.0),
        stats.triang(0.5, loc=-math.sqrt(6.0), scale=2 * math.sqrt(6.0)), "not in the paper: by quadrature of Eq. 9",
        _pdf=lambda z: np.maximum(math.sqrt(6.0) - np.abs(z), 0.0) / 6.0,
    ),
]

#: Read-only registry of z distributions (unit variance): name -> :class:`ZDistribution`.
DISTRIBUTIONS: Mapping[str, ZDistribution] = MappingProxyType({d.name: d for d in _DIST_LIST})


# ---------------------------------------------------------------------------------------------
# Theorem 3 direction: a target surrogate from the registry
# ---------------------------------------------------------------------------------------------
#: Registry shapes that are surrogates in the paper's sense (Definition 4.1: even).
TARGETS: tuple[str, ...] = tuple(name for name, s in SHAPES.items() if s.symmetric)

# Shape constants M_alpha = int_0^inf y^-alpha (-f'(y)) dy of the standard forms, where known
# in closed form (tests check them against quadrature). alpha = -1 gives 1/2 for every shape.
_M1_CLOSED = {
    "sigmoid": 8.0 * SIGMOID_CONSTANT,  # 16 int -sigma''(x)/x dx = 28 zeta(3) / pi^2
    "gaussian": math.pi,
    "atan": math.pi**2 / 2.0,
}
_TABLE_P = None  # built lazily (module-level cache of the probability grid)


def _prob_grid() -> np.ndarray:
    """Probabilities of the inverse-CDF table: dense in the middle, geometric toward 0 and 1."""
    global _TABLE_P
    if _TABLE_P is None:
        core = np.linspace(0.0, 1.0, 8193)
        lo = np.logspace(-14, -3, 221)
        _TABLE_P = np.unique(np.concatenate([core, lo, 1.0 - lo]))
    return _TABLE_P


@dataclass(frozen=True)
class Theorem3Target:
    """The sampling density that makes LocalZO reproduce a registry surrogate (Theorem 3).

    Target g(u) = gamma f(s u) with s, gamma from the registry at steepness ``k`` (for
    ``superspike``, the fast sigmoid 1/(1 + k|u|)^2 of paper Sec. 4.6.2). With y = s delta |z|
    the standard variable Y has density rho(y) = y^-alpha (-f'(y)) / M_alpha on y > 0, so

        lambda(z) = -delta^2 g'(z delta) / (c z^alpha),   c = 2 gamma delta^(1+alpha) s^alpha M_alpha,

    and c * E[G2] = g. alpha = -1 works for every even shape (M = 1/2, c = area of g);
    alpha = 1 needs g'(0) = 0 (smooth shapes: sigmoid, gaussian, atan); the rectangular shape
    gives a point mass at |z| = 1 / (2 s delta).
    """

    shape: str = "sigmoid"
    k: float = 10.0
    delta: float = 0.5
    alpha: int = 1
    q: float = 1.5
    weight_note: ClassVar[str] = "c"

    def __post_init__(self) -> None:
        shp = get_shape(self.shape)
        if not shp.symmetric:
            raise ValueError(f"target {self.shape!r} is not even, so it is not a surrogate in the paper's sense "
                             f"(Definition 4.1); choose one of {', '.join(TARGETS)}")
        object.__setattr__(self, "k", positive("k", self.k))
        object.__setattr__(self, "delta", positive("delta", self.delta))
        object.__setattr__(self, "alpha", _check_alpha(self.alpha))
        object.__setattr__(self, "q", Q_SPEC.validate(self.q))
        if self.alpha not in (-1, 1):
            raise ValueError(f"Theorem 3 with alpha = {self.alpha} has c = inf for every registry shape "
                             "(int z^-alpha g'(z delta) dz diverges at z = 0); use alpha = 1 or -1")
        if self.alpha == 1 and self.shape not in _M1_CLOSED and not self.point_mass:
            raise ValueError(f"Theorem 3 with alpha = 1 needs g'(0) = 0, but {self.shape} has a corner at 0 "
                             "(c = inf, as the paper notes for the fast sigmoid); use alpha = -1")

    # -- the target ------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return "fast sigmoid 1/(1+k|u|)²" if self.shape == "superspike" else SHAPES[self.shape].label

    @property
    def params(self) -> dict[str, Any]:
        return {"q": self.q} if self.shape == "q_pseudospike" else {}

    @property
    def s(self) -> float:
        return get_shape(self.shape).sharpness(self.k)

    @property
    def gamma(self) -> float:
        shp = get_shape(self.shape)
        return 1.0 if shp.default_scale == "peak" else self.s

    def g(self, u: Any) -> np.ndarray:
        """The target surrogate g(u) = gamma f(s u)."""
        return self.gamma * get_shape(self.shape).f(self.s * np.asarray(u, dtype=float), **self.params)

    @property
    def point_mass(self) -> bool:
        return self.shape == "rectangular"

    @cached_property
    def M(self) -> float:
        """M_alpha = int_0^inf y^-alpha (-f'(y)) dy of the standard form."""
        if self.point_mass:
            return 0.5 ** (-self.alpha)
        if self.alpha == -1:
            return 0.5
        return _M1_CLOSED[self.shape]

    @property
    def c(self) -> float:
        """Theorem 3's c = -2 delta^2 int_0^inf z^-alpha g'(z delta) dz."""
        return 2.0 * self.gamma * self.delta ** (1 + self.alpha) * self.s**self.alpha * self.M

    @property
    def weight(self) -> float:
        return self.c

    @property
    def scale(self) -> float:
        """|z| = Y / (s delta)."""
        return 1.0 / (self.s * self.delta)

    # -- the standard variable Y ----------------------------------------------------------------
    def _rho_unnorm(self, y: np.ndarray) -> np.ndarray:
        shp = get_shape(self.shape)
        return y ** (-self.alpha) * -shp.df(y, **self.params)

    def _R(self, y: Any) -> np.ndarray:
        """P(Y <= y): closed form for alpha = -1 (2 [F(y) - 1/2 - y f(y)]) and the gaussian."""
        y = np.maximum(np.asarray(y, dtype=float), 0.0)
        shp = get_shape(self.shape)
        if self.point_mass:
            return (y >= 0.5).astype(float)
        if self.alpha == -1:
            return np.clip(2.0 * (0.5 - shp.sf(y, **self.params) - y * shp.f(y, **self.params)), 0.0, 1.0)
        if self.shape == "gaussian":
            return special.erf(math.sqrt(math.pi) * y)
        if self.shape == "atan":
            x = math.pi * y
            return (x / (1.0 + x * x) + np.arctan(x)) * (2.0 / math.pi)
        return np.interp(y, *self._sigmoid_cdf_table)

    @property
    def _key(self) -> tuple[str, int, float]:
        """What the standard variable Y depends on (not k, not delta): tables are cached by it."""
        return self.shape, self.alpha, self.q if self.shape == "q_pseudospike" else 1.5

    @property
    def _sigmoid_cdf_table(self) -> tuple[np.ndarray, np.ndarray]:
        return _cached_standard(self._key, "_build_sigmoid_cdf_table")

    def _build_sigmoid_cdf_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(y, R(y)) for the sigmoid with alpha = 1: cumulative quadrature on a dense grid."""
        y = np.concatenate([[0.0], np.logspace(-6, math.log10(12.0), 6000)])
        nodes, weights = np.polynomial.legendre.leggauss(12)
        lo, hi = y[:-1], y[1:]
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        pts = mid[:, None] + half[:, None] * nodes[None, :]
        vals = self._rho_unnorm(pts)
        pieces = (vals * weights[None, :]).sum(axis=1) * half
        cum = np.concatenate([[0.0], np.cumsum(pieces)]) / self.M
        cum[-1] = min(cum[-1], 1.0)
        y = np.append(y, 1e6)
        cum = np.append(cum, 1.0)
        return y, cum

    def _ppf_analytic(self, p: np.ndarray) -> np.ndarray | None:
        if self.point_mass:
            return np.full_like(p, 0.5)
        if self.alpha == -1 and self.shape == "superspike":
            r = np.sqrt(p)  # R(y) = (2y / (1 + 2y))^2
            return r / (2.0 * (1.0 - r))
        if self.alpha == -1 and self.shape == "triangular":
            return np.sqrt(p)  # R(y) = y^2 on [0, 1]
        if self.alpha == -1 and self.shape == "exponential":
            return special.gammaincinv(2.0, p) / 2.0  # R(y) = 1 - e^{-2y}(1 + 2y): Gamma(2, rate 2)
        if self.alpha == 1 and self.shape == "gaussian":
            return special.erfinv(p) / math.sqrt(math.pi)  # R(y) = erf(sqrt(pi) y): half-normal
        return None

    @property
    def sampler(self) -> str:
        if self.point_mass:
            return "point mass"
        return "analytic inverse CDF" if self._ppf_analytic(np.array([0.5])) is not None else "inverse-CDF table"

    @property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        return _cached_standard(self._key, "_build_table")

    def _build_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(p, y) of the inverse-CDF table: R on a dense log grid, inverted by interpolation."""
        p = _prob_grid()
        if self.alpha == 1 and self.shape == "sigmoid":
            ys, rs = self._sigmoid_cdf_table
        else:
            ys = np.concatenate([[0.0], np.logspace(-9, 12, 60000)])
            rs = self._R(ys)
        rs = np.maximum.accumulate(rs)
        keep = np.concatenate([[True], np.diff(rs) > 0])
        y_at_p = np.interp(p, rs[keep], ys[keep])
        return p, y_at_p

    def _ppf_Y(self, p: np.ndarray) -> np.ndarray:
        exact = self._ppf_analytic(p)
        if exact is not None:
            return exact
        tp, ty = self._table
        return np.interp(p, tp, ty)

    @property
    def table_error(self) -> float | None:
        return _cached_standard(self._key, "_build_table_error")

    def _build_table_error(self) -> float | None:
        """Largest CDF error of the table, max_p |R(Q_table(p)) - p| (Kolmogorov distance); None if exact."""
        if self.sampler != "inverse-CDF table":
            return None
        p = np.linspace(1e-6, 1.0 - 1e-6, 20001)
        return float(np.max(np.abs(self._R(self._ppf_Y(p)) - p)))

    # -- the z-source interface ---------------------------------------------------------------
    def density(self, z: Any) -> np.ndarray:
        """lambda(z) (even); zero everywhere for the point mass (shown as a spike instead)."""
        z = np.abs(np.asarray(z, dtype=float))
        if self.point_mass:
            return np.zeros_like(z)
        y = z / self.scale
        # at y = 0: alpha = 1 takes the limit -f''(0) (evaluated at 1e-6, exact to ~1e-12); alpha = -1 gives 0
        safe = np.where(y > 0, y, 1e-6 if self.alpha == 1 else 1.0)
        rho = np.where((y > 0) | (self.alpha == 1), self._rho_unnorm(safe) / self.M, 0.0)
        return 0.5 * rho / self.scale  # half of |z|'s density on each side

    def abs_cdf(self, t: Any) -> np.ndarray:
        return self._R(np.asarray(t, dtype=float) / self.scale)

    def sample_abs(self, shape: Any, rng: np.random.Generator) -> np.ndarray:
        p = rng.uniform(0.0, 1.0, size=shape)
        return self._ppf_Y(p) * self.scale

    def sample(self, shape: Any, rng: np.random.Generator) -> np.ndarray:
        mag = self.sample_abs(shape, rng)
        return np.where(rng.uniform(size=np.shape(mag)) < 0.5, -mag, mag)

    def tail(self, a: Any, p: int) -> np.ndarray:
        """E[|z|^p ; |z| >= a] by quadrature of the density (+inf where it diverges)."""
        a = np.abs(np.asarray(a, dtype=float))
        y0 = a / self.scale
        if self.point_mass:
            return np.where(y0 <= 0.5, (0.5 * self.scale) ** p, 0.0)
        r = p - self.alpha

        shp = get_shape(self.shape)
        smooth = self.shape in _M1_CLOSED
        # a smooth f has -f'(y)/y -> -f''(0) at 0: use that limit below 1e-6 (no 0/0 cancellation)
        lim = float(-shp.df(np.array([1e-6]), **self.params)[0] / 1e-6) if smooth and r == -1 else 0.0

        def integrand(y: np.ndarray) -> np.ndarray:
            safe = np.where(y > 1e-6, y, 1e-6)
            val = safe**r * -shp.df(safe, **self.params)
            return np.where(y > 1e-6, val, lim) if smooth and r == -1 else val

        support = shp.support
        # y^r (-f') ~ y^r |f'(0+)| near 0: divergent at a = 0 when r <= -1 and f has a corner
        diverges = (y0 == 0) & (r <= -1) & (not smooth)
        out = np.full_like(y0, np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[~diverges] = _tail_quad(integrand, y0[~diverges], support) / self.M * self.scale**p
        return out

    def emax(self, m: int) -> float:
        """E[max_k |z_k|]; inf when E|z| diverges (alpha = -1 and int y f(y) dy = inf)."""
        m = _check_m(m)
        if not self.finite_mean:
            return math.inf
        if self.point_mass:
            return 0.5 * self.scale
        return _emax_Y(self.shape, self.alpha, self.q if self.shape == "q_pseudospike" else 0.0, m) * self.scale

    @property
    def finite_mean(self) -> bool:
        """E|z| < inf? alpha = 1: always (E Y = 1/M); alpha = -1: iff int y f(y) dy < inf."""
        if self.alpha == 1 or self.point_mass:
            return True
        return self.shape not in ("superspike", "atan") and not (self.shape == "q_pseudospike" and self.q <= 2.0)


@lru_cache(maxsize=64)
def _cached_standard(key: tuple[str, int, float], builder: str) -> Any:
    """Build (once per shape, alpha, q) a table of the standard variable Y, shared by every k and delta."""
    shape, alpha, q = key
    return getattr(Theorem3Target(shape, 1.0, 1.0, alpha, q), builder)()


@lru_cache(maxsize=512)
def _emax_Y(shape: str, alpha: int, q: float, m: int) -> float:
    """E[max of m copies of Y] for the standard variable Y (independent of k and delta; cached)."""
    t = Theorem3Target(shape, 1.0, 1.0, alpha, q if shape == "q_pseudospike" else 1.5)
    if alpha == 1 and shape == "sigmoid":  # tabulated CDF: integrate on its own nodes
        y, r = t._sigmoid_cdf_table
        return float(integrate.trapezoid(1.0 - r**m, y))
    return _emax_quad(t._R, math.inf, m)


# ---------------------------------------------------------------------------------------------
# estimators written once against a z-source
# ---------------------------------------------------------------------------------------------
ZSource = ZDistribution | Theorem3Target


def g2_estimate(u: Any, z: Any, delta: float, alpha: int) -> np.ndarray:
    """LocalZO derivative (Eq. 7 with Eq. 8): mean over the last axis of G2(u; z_k, delta).

    ``u`` broadcasts against ``z[..., k]`` without its last axis.
    """
    delta = positive("delta", delta)
    alpha = _check_alpha(alpha)
    u = np.asarray(u, dtype=float)[..., None]
    az = np.abs(np.asarray(z, dtype=float))
    with np.errstate(divide="ignore"):
        val = np.where(np.abs(u) <= az * delta, az**alpha / (2.0 * delta), 0.0)
    return val.mean(axis=-1)


def expected_surrogate(src: ZSource, u: Any, delta: float, alpha: int) -> np.ndarray:
    """c * E_z[G2](u) = c (1/delta) int_{|u|/delta}^inf z^alpha lambda(z) dz (Eq. 9); c = 1 for a distribution."""
    a = np.abs(np.asarray(u, dtype=float)) / delta
    return src.weight * src.tail(a, alpha) / (2.0 * delta)


def second_moment(src: ZSource, u: Any, delta: float, alpha: int) -> np.ndarray:
    """E[(c G2)^2](u) for one sample: c^2 E[|z|^(2 alpha) ; |z| >= |u|/delta] / (4 delta^2)."""
    a = np.abs(np.asarray(u, dtype=float)) / delta
    return src.weight**2 * src.tail(a, 2 * alpha) / (4.0 * delta * delta)


def single_sample_variance(src: ZSource, u: Any, delta: float, alpha: int) -> np.ndarray:
    """Var[c G2](u) of one sample (+inf where the second moment diverges); divide by m for Eq. 7."""
    mean = expected_surrogate(src, u, delta, alpha)
    with np.errstate(invalid="ignore"):
        var = second_moment(src, u, delta, alpha) - mean * mean
    return np.where(np.isinf(mean), np.inf, np.maximum(var, 0.0))


def bth_over_delta(src: ZSource, m: int) -> float:
    """Expected back-propagation threshold over delta, E[max_k |z_k|] (Eq. 17, Table 1)."""
    return src.emax(m)


def sample_g2(src: ZSource, u: Any, delta: float, alpha: int, m: int, n: int,
              rng: np.random.Generator) -> np.ndarray:
    """``n`` independent LocalZO estimates c * (1/m) sum_k G2(u; z_k) per u: shape (n, len(u))."""
    u = np.atleast_1d(np.asarray(u, dtype=float))
    z = src.sample_abs((n, u.size, _check_m(m)), rng)
    return src.weight * g2_estimate(u[None, :], z, delta, alpha)


def pooled_mean(u: Any, abs_z: Any, delta: float, alpha: int, weight: float = 1.0) -> np.ndarray:
    """Mean of c G2(u; z) over all samples |z| (one z-set shared by every u), in O((n + len(u)) log n).

    Averaging N estimates of m samples each equals averaging G2 over the N m samples pooled.
    """
    a = np.sort(np.ravel(np.abs(np.asarray(abs_z, dtype=float))))
    with np.errstate(divide="ignore"):
        powers = a**alpha
    suffix = np.concatenate([np.cumsum(powers[::-1])[::-1], [0.0]])
    idx = np.searchsorted(a, np.abs(np.asarray(u, dtype=float)) / delta, side="left")
    return weight * suffix[idx] / (2.0 * delta * a.size)


@dataclass(frozen=True)
class MonteCarlo:
    mean: np.ndarray
    stderr: np.ndarray
    n: int


def monte_carlo(src: ZSource, u: Any, delta: float, alpha: int, m: int, n: int,
                rng: np.random.Generator, chunk: int = 200_000) -> MonteCarlo:
    """Mean and standard error of ``n`` LocalZO estimates at each u (independent z per estimate)."""
    u = np.atleast_1d(np.asarray(u, dtype=float))
    total = np.zeros(u.size)
    total_sq = np.zeros(u.size)
    per = max(1, chunk // max(1, u.size * m))
    done = 0
    while done < n:
        k = min(per, n - done)
        est = sample_g2(src, u, delta, alpha, m, k, rng)
        total += est.sum(axis=0)
        total_sq += (est * est).sum(axis=0)
        done += k
    mean = total / n
    var = np.maximum(total_sq / n - mean * mean, 0.0) * n / max(n - 1, 1)
    return MonteCarlo(mean, np.sqrt(var / n), n)


# ---------------------------------------------------------------------------------------------
# membrane potentials and active fractions
# ---------------------------------------------------------------------------------------------
def _u_dist(kind: str, lo: float, hi: float, mean: float, std: float):
    if kind == "uniform":
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"u range must be two finite numbers A < B; got {lo!r} {hi!r}")
        return stats.uniform(loc=lo, scale=hi - lo)
    if kind == "normal":
        return stats.norm(loc=mean, scale=positive("u_std", std))
    raise ValueError(f"u_dist must be 'uniform' or 'normal'; got {kind!r}")


def _u_nodes(udist: Any, breaks: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights over the bulk of ``udist``, split at ``breaks``."""
    lo, hi = udist.support()
    if not math.isfinite(lo):
        lo = float(udist.ppf(1e-16))
    if not math.isfinite(hi):
        hi = float(udist.isf(1e-16))
    cuts = np.unique(np.clip([lo, hi, *[b for b in breaks if math.isfinite(b)]], lo, hi))
    edges = np.unique(np.concatenate([np.linspace(a, b, 49) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]))
    x, w = np.polynomial.legendre.leggauss(16)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


def active_fractions(src: ZSource, udist: Any, delta: float, ms: Any) -> np.ndarray:
    """P(estimate != 0) = E_u[1 - F_|z|(|u|/delta)^m] for potentials u ~ ``udist``, for each m (quadrature)."""
    ms = [_check_m(m) for m in np.atleast_1d(ms)]
    zsup = getattr(src, "support", math.inf)
    nodes, weights = _u_nodes(udist, [0.0, -delta * zsup, delta * zsup])
    dens = udist.pdf(nodes) * weights
    cdf = src.abs_cdf(np.abs(nodes) / delta)
    return np.array([float(np.sum((1.0 - cdf**m) * dens)) for m in ms])


def active_fraction(src: ZSource, udist: Any, delta: float, m: int) -> float:
    """P(estimate != 0) = E_u[1 - F_|z|(|u|/delta)^m] for potentials u ~ ``udist`` (a frozen scipy.stats law)."""
    return float(active_fractions(src, udist, delta, [m])[0])


def sparsegrad_active_fraction(udist: Any, bth: float) -> float:
    """SparseGrad keeps the SD where |u| < B_th (paper Eq. 4): P(-B_th < u < B_th)."""
    if math.isinf(bth):
        return 1.0
    return float(udist.cdf(bth) - udist.cdf(-bth))


# ---------------------------------------------------------------------------------------------
# declared parameters, configuration, page view
# ---------------------------------------------------------------------------------------------
LOCALZO_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("source", "Sample z from", "distribution", kind="choice", choices=("distribution", "surrogate"),
              help="distribution: pick lambda, see the surrogate it gives (Theorem 2). surrogate: pick a registry "
                   "surrogate g, sample from the density that reproduces it (Theorem 3)."),
    ParamSpec("dist", "Distribution λ of z", "normal", kind="choice", choices=tuple(DISTRIBUTIONS),
              help="All have unit variance. normal, uniform, laplace: closed forms (Eqs. 10-12); others: quadrature."),
    ParamSpec("target", "Target surrogate g", "sigmoid", kind="choice", choices=TARGETS,
              help="Registry shape at steepness k; superspike is the paper's fast sigmoid 1/(1+k|u|)^2."),
    ParamSpec("k", "Target steepness", 10.0, symbol="k", domain=(0.0, 1e5), open_low=True, slider=(0.5, 200.0),
              step=0.01, help="sigmoid: k sigma'(k u); superspike (fast sigmoid): 1/(1+k|u|)^2; others: the "
                             "registry convention with beta = k."),
    Q_SPEC,
    ParamSpec("delta", "LocalZO step", 0.5, symbol=r"\delta", domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 2.0), step=0.01, help="Width of the 2-point difference; narrows the surrogate."),
    ParamSpec("m", "Samples per estimate", 1, kind="int", symbol="m", domain=(1, 10_000), slider=(1, 20), step=1,
              help="Eq. 7 averages G2 over m samples z_k."),
    ParamSpec("alpha", "Exponent", "1", kind="choice", symbol=r"\alpha", choices=tuple(str(a) for a in ALPHAS),
              help="|z|^alpha in Eq. 8 (a non-zero integer; the paper uses 1, and -1 for the fast sigmoid)."),
    ParamSpec("n_samples", "Monte Carlo estimates per u", 2000, kind="int", domain=(10, 1_000_000),
              slider=(10, 20_000), step=10, help="Independent LocalZO estimates averaged at each u."),
    ParamSpec("u_span", "Plotted range of u", 2.0, symbol=r"\Delta u", domain=(0.0, 1e3), open_low=True,
              slider=(0.05, 5.0), step=0.05, help="Curves cover -span .. span."),
    ParamSpec("n_points", "Curve resolution", 401, kind="int", domain=(11, 5001), slider=(51, 1001), step=50,
              help="Points per curve."),
    ParamSpec("u_dist", "Membrane potentials u", "uniform", kind="choice", choices=("uniform", "normal"),
              help="Distribution of u - theta over neurons, for the fraction active in the backward pass."),
    ParamSpec("u_lo", "u from", -1.0, domain=(-1e3, 1e3), slider=(-5.0, 5.0), step=0.05,
              help="Uniform potentials: lower end."),
    ParamSpec("u_hi", "u to", 1.0, domain=(-1e3, 1e3), slider=(-5.0, 5.0), step=0.05,
              help="Uniform potentials: upper end."),
    ParamSpec("u_mean", "u mean", -0.5, domain=(-1e3, 1e3), slider=(-5.0, 5.0), step=0.05,
              help="Normal potentials: mean."),
    ParamSpec("u_std", "u s.d.", 0.5, domain=(0.0, 1e3), open_low=True, slider=(0.01, 5.0), step=0.01,
              help="Normal potentials: standard deviation."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of all random draws on this page."),
)


def make_source(source: str, dist: str = "normal", target: str = "sigmoid", k: float = 10.0, delta: float = 0.5,
                alpha: int = 1, q: float = 1.5) -> ZSource:
    """The z-source of a page state: a distribution (Theorem 2) or a Theorem 3 target."""
    if source == "distribution":
        return lookup(DISTRIBUTIONS, dist, "dist")
    if source == "surrogate":
        return Theorem3Target(target, k, delta, int(alpha), q)
    raise ValueError(f"source must be 'distribution' or 'surrogate'; got {source!r}")


@dataclass(frozen=True)
class LocalZOConfig(DeclaredConfig):
    """A validated LocalZO page state."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = LOCALZO_PARAMS
    source: str = "distribution"
    dist: str = "normal"
    target: str = "sigmoid"
    k: float = 10.0
    q: float = 1.5
    delta: float = 0.5
    m: int = 1
    alpha: str = "1"
    n_samples: int = 2000
    u_span: float = 2.0
    n_points: int = 401
    u_dist: str = "uniform"
    u_lo: float = -1.0
    u_hi: float = 1.0
    u_mean: float = -0.5
    u_std: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.alpha, int | float) and not isinstance(self.alpha, bool):
            object.__setattr__(self, "alpha", str(int(self.alpha)) if float(self.alpha).is_integer() else
                               str(self.alpha))
        super().__post_init__()
        if self.u_dist == "uniform" and not self.u_lo < self.u_hi:
            raise ValueError(f"u range must have u_lo < u_hi; got {self.u_lo:g} and {self.u_hi:g}")
        self.z_source()  # validates the Theorem 3 combination

    @property
    def a(self) -> int:
        return int(self.alpha)

    def z_source(self) -> ZSource:
        return make_source(self.source, self.dist, self.target, self.k, self.delta, self.a, self.q)

    def u_distribution(self):
        return _u_dist(self.u_dist, self.u_lo, self.u_hi, self.u_mean, self.u_std)


@dataclass(frozen=True)
class LocalZOView:
    """Everything the LocalZO page shows, computed from one configuration."""

    config: LocalZOConfig
    source_label: str
    method: str
    weight: float
    u: np.ndarray
    expected: np.ndarray  # c * E[G2] (closed form or quadrature)
    target: np.ndarray | None  # g(u) for a Theorem 3 target
    one_draw: np.ndarray  # one estimate per u (independent z per neuron)
    mc_mean: np.ndarray
    mc_stderr: np.ndarray  # standard error of mc_mean from the exact variance (inf where it diverges)
    variance_1: np.ndarray  # single-sample variance; / m for the Eq. 7 average
    area: float  # int of the expected surrogate
    bth_over_delta: float
    bth: float
    sparse_sd: np.ndarray  # expected surrogate truncated at |u| < B_th (SparseGrad)
    active_localzo: float
    active_sparse: float
    m_values: np.ndarray
    bth_by_m: np.ndarray
    active_localzo_by_m: np.ndarray
    active_sparse_by_m: np.ndarray
    z: np.ndarray  # grid for the density
    density: np.ndarray
    samples: np.ndarray  # signed samples from the inverse-transform sampler
    sampler: str
    table_error: float | None
    conv_n: np.ndarray
    conv_err: np.ndarray  # sup-norm error of the MC estimate vs the expected surrogate
    conv_stderr: np.ndarray  # typical standard error at that n (mean over u)
    u_samples: np.ndarray
    notes: tuple[str, ...] = ()
    infinite_variance_at: tuple[float, ...] = ()


def _area(src: ZSource, alpha: int) -> float:
    """int c E[G2] du = c E[|z|^(alpha+1)] (Lemma 1); exact via the tail at a = 0."""
    return float(src.weight * src.tail(np.array([0.0]), alpha + 1)[0]) if alpha + 1 > 0 else float(src.weight)


def localzo_view(cfg: LocalZOConfig) -> LocalZOView:
    """The page's computation (deterministic for a given seed)."""
    src = cfg.z_source()
    rng = np.random.default_rng(cfg.seed)
    alpha, delta, m = cfg.a, cfg.delta, cfg.m
    u = np.linspace(-cfg.u_span, cfg.u_span, cfg.n_points)
    notes: list[str] = []
    expected = expected_surrogate(src, u, delta, alpha)
    target = src.g(u) if isinstance(src, Theorem3Target) else None
    one = sample_g2(src, u, delta, alpha, m, 1, rng)[0]
    pool = src.sample_abs((cfg.n_samples, m), rng)
    mc_mean = pooled_mean(u, pool, delta, alpha, src.weight)
    var1 = single_sample_variance(src, u, delta, alpha)
    inf_at = tuple(float(x) for x in u[np.isinf(var1)])
    if inf_at:
        notes.append("the single-sample variance is infinite at u = 0 (E[|z|^(2 alpha)] diverges there)")
    if np.any(np.isinf(expected)):
        notes.append("the expected surrogate is infinite at u = 0 (E[|z|^alpha] diverges for alpha < 0)")
    area = _area(src, alpha)
    bod = bth_over_delta(src, m)
    if math.isinf(bod):
        notes.append("E[max |z_k|] diverges (heavy tail of lambda): the expected back-propagation threshold is "
                     "infinite, so SparseGrad has no finite matching threshold (paper Sec. 4.6.2)")
    bth = bod * delta
    udist = cfg.u_distribution()
    act = active_fraction(src, udist, delta, m)
    act_sp = sparsegrad_active_fraction(udist, bth)
    sparse_sd = np.where(np.abs(u) < bth, expected, 0.0)
    m_values = np.unique(np.clip(np.array([1, 2, 3, 5, 10, 20, m]), 1, 10_000))
    bth_by_m = np.array([bth_over_delta(src, int(k)) for k in m_values])
    act_by_m = active_fractions(src, udist, delta, m_values)
    sp_by_m = np.array([sparsegrad_active_fraction(udist, b * delta) for b in bth_by_m])
    # density of z with samples from the inverse-transform sampler
    samples = src.sample(20_000, rng)
    q90, q99 = np.quantile(np.abs(samples), [0.9, 0.99])
    zmax = float(min(q99, 4.0 * q90)) * 1.15 or 1.0  # heavy tails: keep the bulk readable
    z = np.linspace(-zmax, zmax, 801)
    dens = src.density(z)
    # Monte Carlo convergence: nested prefixes of one sample stream, one z-set shared across u
    conv_n = np.array([10, 30, 100, 300, 1000, 3000, 10_000, 30_000])
    zs = src.sample_abs((int(conv_n[-1]), m), rng)
    fin = np.isfinite(expected) & np.isfinite(var1)
    errs = [float(np.max(np.abs(pooled_mean(u[fin], zs[:n], delta, alpha, src.weight) - expected[fin])))
            for n in conv_n]
    ses = [float(np.mean(np.sqrt(var1[fin] / (m * n)))) for n in conv_n]
    u_samples = udist.rvs(size=4000, random_state=rng)
    label = src.label if isinstance(src, ZDistribution) else f"{src.label}, k = {src.k:g}"
    return LocalZOView(
        config=cfg, source_label=label, method=getattr(src, "method", "quadrature of λ (Theorem 3)"),
        weight=float(src.weight), u=u, expected=expected, target=target, one_draw=one, mc_mean=mc_mean,
        mc_stderr=np.sqrt(var1 / (m * cfg.n_samples)), variance_1=var1, area=area, bth_over_delta=bod, bth=bth,
        sparse_sd=sparse_sd,
        active_localzo=act, active_sparse=act_sp, m_values=m_values, bth_by_m=bth_by_m,
        active_localzo_by_m=act_by_m, active_sparse_by_m=sp_by_m, z=z, density=dens, samples=samples,
        sampler=getattr(src, "sampler", "inverse CDF (scipy.stats ppf)"), table_error=getattr(src, "table_error", None),
        conv_n=conv_n, conv_err=np.array(errs), conv_stderr=np.array(ses), u_samples=u_samples, notes=tuple(notes),
        infinite_variance_at=inf_at,
    )


def localzo_at(cfg: LocalZOConfig, u: Any, samples: int | None = None, seed: int = 0) -> dict[str, Any]:
    """The CLI's numbers at chosen u (lists aligned with u); ``None``-worthy values stay inf/NaN here."""
    src = cfg.z_source()
    u = np.atleast_1d(np.asarray(u, dtype=float))
    alpha, delta, m = cfg.a, cfg.delta, cfg.m
    out: dict[str, Any] = {"u": u, "notes": []}
    exp = expected_surrogate(src, u, delta, alpha)
    out["expected_surrogate"] = exp
    if np.any(np.isinf(exp)):
        out["notes"].append("expected_surrogate is null at u = 0: E[|z|^alpha] diverges for alpha < 0")
    var = single_sample_variance(src, u, delta, alpha)
    out["single_sample_variance"] = var
    if np.any(np.isinf(var)):
        out["notes"].append("single_sample_variance is null where it is infinite (E[|z|^(2 alpha); |z| >= |u|/delta] "
                            "diverges)")
    bod = bth_over_delta(src, m)
    out["bth_over_delta"] = bod
    out["bth"] = bod * delta
    if math.isinf(bod):
        out["notes"].append("bth is null: E[max_k |z_k|] diverges for this sampling density (heavy tail)")
    out["area"] = _area(src, alpha)
    out["method"] = getattr(src, "method", "quadrature (Theorem 3 density)")
    if isinstance(src, Theorem3Target):
        out["theorem3_c"] = src.c
        out["target_surrogate"] = src.g(u)
        out["sampler"] = src.sampler
        out["table_error"] = src.table_error
    if samples is not None:
        rng = np.random.default_rng(seed)
        mc = monte_carlo(src, u, delta, alpha, m, samples, rng)
        out["monte_carlo_mean"] = mc.mean
        out["monte_carlo_stderr"] = np.where(np.isinf(var), np.nan, mc.stderr)
        if np.any(np.isinf(var)):
            out["notes"].append("monte_carlo_stderr is null where the variance is infinite: the sample standard "
                                "deviation does not estimate anything there")
        udist = cfg.u_distribution()
        us = udist.rvs(size=samples, random_state=rng)
        nz = sample_g2(src, us, delta, alpha, m, 1, rng)[0] != 0
        out["active_fraction"] = float(nz.mean())
        out["active_fraction_stderr"] = float(nz.std() / math.sqrt(samples))
    udist = cfg.u_distribution()
    out["active_fraction_exact"] = active_fraction(src, udist, delta, m)
    out["sparsegrad_active_fraction"] = sparsegrad_active_fraction(udist, bod * delta)
    return out


# ---------------------------------------------------------------------------------------------
# the paper's printed numbers, recomputed
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperCheck:
    where: str
    quantity: str
    printed: str
    computed: float
    holds: bool
    comment: str = ""


def fast_sigmoid_truncated_bth(k: float, delta: float, zmax: float) -> tuple[float, float]:
    """delta E|z| for the fast sigmoid's Theorem 3 density on |z| <= zmax (paper Sec. 5.2, App. A.3.2).

    Returns (the paper's formula (2/k) int_0^{k delta zmax} x^2/(1+x)^3 dx, i.e. the truncated
    density left unnormalised; and the same divided by the kept probability mass).
    """
    top = k * delta * zmax
    raw = (2.0 / k) * (math.log1p(top) + 2.0 / (1.0 + top) - 0.5 / (1.0 + top) ** 2 - 1.5)
    mass = float(Theorem3Target("superspike", k, delta, -1).abs_cdf(np.array([zmax]))[0])
    return raw, raw / mass


def _agrees(x: float, printed: str) -> tuple[bool, str]:
    """Does ``x`` agree with a printed decimal to within one unit of its last digit? Say how."""
    value = float(printed)
    digits = len(printed.split(".")[1]) if "." in printed else 0
    unit = 10.0**-digits
    if round(x, digits) == value:
        return True, ""
    if value <= x < value + unit:
        return True, f"{x:.{digits + 2}f}: the paper truncates instead of rounding"
    if abs(x - value) < unit:
        return True, f"{x:.{digits + 2}f}: agrees within one unit of the last printed digit"
    return False, f"{x:.{digits + 2}f}: not reproduced"


def paper_checks() -> tuple[PaperCheck, ...]:
    """Every number printed in the LocalZO paper that this library can recompute."""
    out: list[PaperCheck] = []

    def add(where: str, quantity: str, printed: str, x: float, extra: str = "") -> None:
        holds, note = _agrees(x, printed)
        out.append(PaperCheck(where, quantity, printed, x, holds, "; ".join(t for t in (note, extra) if t)))

    for name, printed in (("normal", ("0.798", "1.569")), ("uniform", ("0.866", "1.443")),
                          ("laplace", ("0.707", "1.615"))):
        d = DISTRIBUTIONS[name]
        for m, value in zip((1, 5), printed, strict=True):
            add("Table 1", f"B_th/δ, {d.label}, m = {m}", value, d.emax(m))
    add("Sec. 4.6.1, A.3.1", "sigmoid constant 1/a² = 2∫₀^∞ e⁻ˣ(1−e⁻ˣ)/(x(1+e⁻ˣ)³) dx", "0.4262", SIGMOID_CONSTANT,
        "closed form 7ζ(3)/(2π²)")
    a = 1.0 / math.sqrt(SIGMOID_CONSTANT)
    add("Sec. 5.2", "k = a/δ at δ = 0.05", "30.63", a / 0.05)
    t = Theorem3Target("sigmoid", a / 0.05, 0.05, 1)
    add("Sec. 5.2", "Theorem 3's c for that sigmoid", "1", t.c)
    add("A.3.1, Table 3", "sigmoid B_th/δ (m = 1) = a/2", "0.7659", t.emax(1),
        "the paper's a uses the truncated constant 0.4262")
    fs = Theorem3Target("superspike", 100.0, 0.05, -1)
    add("Sec. 4.6.2, A.3.2", "fast sigmoid c (k = 100)", "0.02", fs.c)
    raw, renorm = fast_sigmoid_truncated_bth(100.0, 0.05, 10.0)
    add("Sec. 5.2", "fast sigmoid B_th (k = 100, δ = 0.05, z in [−10, 10])", "0.0461", raw,
        f"the paper's own formula (2/k)∫₀^{{kδ·10}} x²/(1+x)³ dx gives {raw:.4f}, {renorm:.4f} with the truncated "
        "density renormalised")
    return tuple(out)
