"""Theorem 3's direction: the sampling density lambda(z) that makes LocalZO reproduce a registry surrogate.

Mukhoty et al. (2023), Theorem 3. :class:`Theorem3Target` gives |z|'s CDF, an inverse-transform
sampler (analytic inverse CDF where one exists, else a dense table of the standard variable Y
whose error is reported), tail expectations, E[max_k |z_k|] and the weight ``c``. Tables of Y
depend on (shape, alpha, q) only and are cached across every k and delta.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, ClassVar

import numpy as np
from scipy import integrate

from ..params import positive
from ..shapes import EVEN_SHAPES, Q_SPEC, SurrogateShape, get_shape
from .common import _check_alpha, _check_m
from .quadrature import _emax_quad_err, _tail_quad

__all__ = ["TARGETS", "Theorem3Target"]

#: Registry shapes that are surrogates in the paper's sense (Definition 4.1: even); a live view of the registry.
TARGETS: Mapping[str, SurrogateShape] = EVEN_SHAPES

# Every fact about a shape that Theorem 3 needs (corner or not at 0, M_1, closed-form CDFs and inverse
# CDFs of the standard variable, a jump, the tail index, the paper's name) is read from its registry record.


def _m1_quadrature(shape: SurrogateShape, params: Mapping[str, Any]) -> float:
    """M_1 = int_0^inf y^-1 (-f'(y)) dy by quadrature (a smooth peak: the integrand tends to -f''(0) at 0)."""
    def integrand(y: float) -> float:
        return float(-shape.df(np.array([y]), **params)[0] / y) if y > 0 else 0.0
    val, _ = integrate.quad(integrand, 0.0, 1.0, limit=200)
    tail, _ = integrate.quad(integrand, 1.0, math.inf, limit=200)
    return val + tail


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
        if self.alpha == 1 and not get_shape(self.shape).smooth_peak and not self.point_mass:
            raise ValueError(f"Theorem 3 with alpha = 1 needs g'(0) = 0, but {self.shape} has a corner at 0 "
                             "(c = inf, as the paper notes for the fast sigmoid); use alpha = -1")

    # -- the target ------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        shp = get_shape(self.shape)
        return shp.target_label or shp.label

    @property
    def params(self) -> dict[str, Any]:
        return get_shape(self.shape).pick_params(q=self.q)

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
        return get_shape(self.shape).jump_at is not None

    @cached_property
    def M(self) -> float:
        """M_alpha = int_0^inf y^-alpha (-f'(y)) dy of the standard form."""
        shp = get_shape(self.shape)
        if self.point_mass:  # -f' is a unit point mass at the jump
            return shp.jump_at ** (-self.alpha)
        if self.alpha == -1:
            return 0.5
        return shp.m1 if shp.m1 is not None else _m1_quadrature(shp, self.params)

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
        """P(Y <= y): closed form for alpha = -1 (2 [F(y) - 1/2 - y f(y)]), for the gaussian and atan."""
        y = np.maximum(np.asarray(y, dtype=float), 0.0)
        shp = get_shape(self.shape)
        if self.point_mass:
            return (y >= shp.jump_at).astype(float)
        if self.alpha == -1:
            return np.clip(2.0 * (0.5 - shp.sf(y, **self.params) - y * shp.f(y, **self.params)), 0.0, 1.0)
        closed = shp.theorem3_cdf.get(self.alpha)
        if closed is not None:
            return closed(y, **self.params)
        return np.interp(y, *self._cumulative_cdf_table)

    @property
    def _key(self) -> tuple[str, int, float]:
        """What the standard variable Y depends on (not k, not delta): tables are cached by it."""
        return self.shape, self.alpha, _standard_q(self.shape, self.q)

    @property
    def _cumulative_cdf_table(self) -> tuple[np.ndarray, np.ndarray]:
        return _cached_standard(self._key, "_build_cumulative_cdf_table")

    @property
    def _tabulated(self) -> bool:
        """alpha = 1 without a closed-form CDF (e.g. the sigmoid): R is cumulative quadrature on a grid."""
        return self.alpha == 1 and not self.point_mass and self.alpha not in get_shape(self.shape).theorem3_cdf

    def _build_cumulative_cdf_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(y, R(y)) with alpha = 1 where R has no closed form: cumulative quadrature on a dense grid."""
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

    #: Upper end of the tabulated CDF: 1 - R(y) is below 1e-20 there for the sigmoid; the rest enters the error.
    _Y_END: ClassVar[float] = 12.0

    def _gauss_cdf_nodes(self, n: int, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """(nodes, weights, R at the nodes, R at the last end) of n-point Gauss-Legendre on each of ``pieces``.

        R(node) = R(piece start) + int_start^node rho, both by 12-point Gauss-Legendre (pieces are short:
        a smooth rho is integrated to rounding), normalised by the exact M.
        """
        g12, w12 = np.polynomial.legendre.leggauss(12)
        lo, hi = pieces[:-1], pieces[1:]
        half = (hi - lo) / 2
        whole = (self._rho_unnorm((lo + hi)[:, None] / 2 + half[:, None] * g12) * w12).sum(axis=1) * half
        start = np.concatenate([[0.0], np.cumsum(whole)])[:-1]
        gn, wn = np.polynomial.legendre.leggauss(n)
        nodes = (lo + hi)[:, None] / 2 + half[:, None] * gn  # (pieces, n)
        sub = (nodes - lo[:, None]) / 2  # half-width of [start, node]
        inner = (lo[:, None, None] + sub[:, :, None] * (1.0 + g12))  # (pieces, n, 12)
        part = (self._rho_unnorm(inner) * w12).sum(axis=2) * sub
        r = np.minimum((start[:, None] + part) / self.M, 1.0)
        return nodes.ravel(), (half[:, None] * wn).ravel(), r.ravel(), (start[-1] + whole[-1]) / self.M

    def _build_emax_nodes(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], float, float]:
        """Gauss-Legendre data for E[max_k Y_k] = int_0^Y_END 1 - R^m: ((w, R) 12-point, (w, R) 8-point, tail, dR).

        ``tail`` = E[(Y - Y_END)+] = int_Y_END^inf 1 - R bounds the truncation (m times it for m copies);
        ``dR`` = |R(Y_END) + P(Y > Y_END) - 1|, the CDF's measured error (rounding, M), bounds |R error| on the grid.
        """
        pieces = np.concatenate([[0.0], np.logspace(-6, math.log10(self._Y_END), 200)])
        _, w12, r12, r_end = self._gauss_cdf_nodes(12, pieces)
        _, w8, r8, _ = self._gauss_cdf_nodes(8, pieces)
        rho = lambda y: float(self._rho_unnorm(np.array([y]))[0])  # noqa: E731
        tail, _ = integrate.quad(lambda y: (y - self._Y_END) * rho(y), self._Y_END, math.inf, limit=200)
        beyond, _ = integrate.quad(rho, self._Y_END, math.inf, limit=200)
        d_r = abs(r_end + beyond / self.M - 1.0) + 4 * np.finfo(float).eps
        return (w12, r12), (w8, r8), max(tail, 0.0) / self.M, d_r

    def _ppf_analytic(self, p: np.ndarray) -> np.ndarray | None:
        shp = get_shape(self.shape)
        if self.point_mass:
            return np.full_like(p, shp.jump_at)
        exact = shp.theorem3_ppf.get(self.alpha)
        return None if exact is None else exact(p, **self.params)

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
        if self._tabulated:
            ys, rs = self._cumulative_cdf_table
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
            jump = get_shape(self.shape).jump_at
            return np.where(y0 <= jump, (jump * self.scale) ** p, 0.0)
        r = p - self.alpha

        shp = get_shape(self.shape)
        smooth = shp.smooth_peak
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
            return get_shape(self.shape).jump_at * self.scale
        return _emax_Y(*self._key, m)[0] * self.scale

    def emax_error(self, m: int) -> float:
        """Estimated absolute error of :meth:`emax` (0 where it is exact: the point mass; inf with emax)."""
        m = _check_m(m)
        if not self.finite_mean:
            return math.inf
        if self.point_mass:
            return 0.0
        return _emax_Y(*self._key, m)[1] * self.scale

    @property
    def finite_mean(self) -> bool:
        """E|z| < inf? alpha = 1: always (E Y = 1/M); alpha = -1: iff int y f(y) dy < inf."""
        if self.alpha == 1 or self.point_mass:
            return True
        return get_shape(self.shape).finite_abs_moment(1.0, **self.params)


def _standard_q(shape: str, q: float) -> float:
    """q as far as the standard variable Y depends on it (the default for shapes that take no q)."""
    return get_shape(shape).pick_params(q=q).get("q", Q_SPEC.default)


@lru_cache(maxsize=64)
def _cached_standard(key: tuple[str, int, float], builder: str) -> Any:
    """Build (once per shape, alpha, q) a table of the standard variable Y, shared by every k and delta."""
    shape, alpha, q = key
    return getattr(Theorem3Target(shape, 1.0, 1.0, alpha, q), builder)()


@lru_cache(maxsize=512)
def _emax_Y(shape: str, alpha: int, q: float, m: int) -> tuple[float, float]:
    """(E[max of m copies of Y], an estimate of its absolute error) for the standard variable Y (cached).

    Without a closed-form CDF (alpha = 1, e.g. the sigmoid): 12-point Gauss-Legendre on short pieces of
    int_0^Y_END 1 - R^m, R at each node by quadrature of the density; the error estimate is the distance to
    the 8-point rule on the same pieces (the 12-point one is far closer), plus the truncation bound
    m E[(Y - Y_END)+] and m Y_END |dR| for the CDF's own error. Else scipy quad on the closed-form CDF and
    its error estimate.
    """
    t = Theorem3Target(shape, 1.0, 1.0, alpha, _standard_q(shape, q))
    if t._tabulated:
        (w12, r12), (w8, r8), tail, d_r = _cached_standard(t._key, "_build_emax_nodes")
        with np.errstate(divide="ignore"):
            val = float(np.dot(w12, -np.expm1(m * np.log(r12))))
            low = float(np.dot(w8, -np.expm1(m * np.log(r8))))
        # |d(1 - R^m)| <= m |dR| on [0, Y_END]
        return val, abs(val - low) + m * (tail + d_r * t._Y_END)
    return _emax_quad_err(t._R, math.inf, m)
