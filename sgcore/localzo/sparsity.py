"""Sparse backward passes: the fraction of neurons LocalZO and SparseGrad keep, for a law of potentials u.

A neuron is *active* in LocalZO's backward pass when its estimate is non-zero, i.e. when
``|u| <= delta * max_k |z_k|`` (Mukhoty et al. 2023); SparseGrad (Perez-Nieves & Goodman 2021,
paper Eq. 4) keeps the surrogate only where ``|u| < B_th``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from ..params import finite, positive
from .common import _check_m
from .estimator import ZSource

__all__ = ["active_fraction", "active_fractions", "sparsegrad_active_fraction"]


def _u_dist(kind: str, lo: float, hi: float, mean: float, std: float) -> Any:
    """The frozen scipy.stats law of the potentials u - theta: uniform on [lo, hi] or normal(mean, std)."""
    if kind == "uniform":
        lo, hi = finite("u_lo", lo), finite("u_hi", hi)
        if not lo < hi:
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
    """P(estimate != 0) = E_u[1 - F_|z|(|u|/delta)^m] for potentials u ~ ``udist``, for each m (quadrature): the
    fraction of neurons active in LocalZO's backward pass (Mukhoty et al. Sec. 4.5)."""
    ms = [_check_m(m) for m in np.atleast_1d(ms)]
    zsup = getattr(src, "support", math.inf)
    nodes, weights = _u_nodes(udist, [0.0, -delta * zsup, delta * zsup])
    dens = udist.pdf(nodes) * weights
    cdf = src.abs_cdf(np.abs(nodes) / delta)
    return np.array([float(np.sum((1.0 - cdf**m) * dens)) for m in ms])


def active_fraction(src: ZSource, udist: Any, delta: float, m: int) -> float:
    """P(estimate != 0) = E_u[1 - F_|z|(|u|/delta)^m] for potentials u ~ ``udist`` (a frozen scipy.stats law): the
    fraction of neurons active in LocalZO's backward pass (Mukhoty et al. Sec. 4.5)."""
    return float(active_fractions(src, udist, delta, [m])[0])


def sparsegrad_active_fraction(udist: Any, bth: float) -> float:
    """SparseGrad keeps the SD where |u| < B_th (paper Eq. 4): P(-B_th < u < B_th)."""
    if math.isinf(bth):
        return 1.0
    return float(udist.cdf(bth) - udist.cdf(-bth))
