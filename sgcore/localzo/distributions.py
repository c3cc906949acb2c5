"""Theorem 2's direction: the registry of unit-variance z distributions, their tails and E[max_k |z_k|].

Mukhoty et al. (2023). Normal, Uniform and Laplace have closed-form tails E[|z|^p ; |z| >= a]
(Eqs. 10-12 for p = alpha, every alpha through incomplete gamma functions) and E[max_k |z_k|]
(Table 1, Eqs. 23-25); any other distribution goes by quadrature of its density.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from scipy import special, stats

from .common import _check_m
from .quadrature import _emax_quad, _tail_quad

__all__ = ["DISTRIBUTIONS", "ZDistribution"]

_SQ3 = math.sqrt(3.0)
_B_LAP = 1.0 / math.sqrt(2.0)  # Laplace scale b with variance 2 b^2 = 1


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
def _emax_cached(src: ZDistribution, m: int) -> float:
    return _emax_quad(src.abs_cdf, src.support, m)


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
