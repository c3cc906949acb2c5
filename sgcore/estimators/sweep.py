"""Exact bias of the surrogate gradients as the steepnesses vary, by enumeration (Gygax & Zenke 2024,
Sec. 3.2.1-3.2.3, Fig. 3): the stochastic and the deterministic SG against beta_SG, and the matched
stochastic SG (beta_SG = beta_N) against beta_N.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import positive
from .config import EstimatorConfig
from .exact import exact_gradient
from .methods import deterministic_sg, stochastic_sg_expectation
from .network import BinaryNet

__all__ = ["BiasSweep", "bias_sweep"]


@dataclass(frozen=True, eq=False)
class BiasSweep:
    """Exact relative biases ||E[estimate] - g|| / ||g|| of the SGs (enumeration, no sampling; NaN where
    g = 0). Along ``beta_sg`` (beta_N fixed at ``current_beta_n``): ``stochastic`` and ``deterministic``;
    along ``beta_n`` with beta_SG = beta_N (weights fixed): ``matched``."""

    beta_sg: np.ndarray
    stochastic: np.ndarray
    deterministic: np.ndarray
    beta_n: np.ndarray
    matched: np.ndarray
    current_beta_n: float
    current_beta_sg: float


def _relative(a: np.ndarray, g: np.ndarray) -> float:
    norm = float(np.linalg.norm(g))
    return float(np.linalg.norm(a - g)) / norm if norm > 0 else math.nan


def bias_sweep(net: Any, beta_sg: float | None = None, grid: Sequence[float] | None = None) -> BiasSweep:
    """Relative bias (Gygax & Zenke Sec. 3.2.1-3.2.3) of the stochastic SG (its exact expectation) and of the
    deterministic SG against
    beta_SG, and of the matched stochastic SG against beta_N. ``net`` is a :class:`BinaryNet` or an
    :class:`EstimatorConfig` (then its network and beta_SG); ``grid`` defaults to 41 log-spaced values
    over the sliders' range 0.1 .. 50."""
    if isinstance(net, EstimatorConfig):
        beta_sg = net.beta_sg if beta_sg is None else beta_sg
        net = net.net()
    beta_sg = net.beta_n if beta_sg is None else positive("beta_sg", beta_sg)
    betas = np.geomspace(0.1, 50.0, 41) if grid is None else np.asarray(grid, dtype=np.float64)
    if betas.ndim != 1 or betas.size < 1 or not np.all(np.isfinite(betas) & (betas > 0)):
        raise ValueError("grid must be a non-empty list of finite numbers > 0")
    g = exact_gradient(net).gradient
    stoch = np.array([_relative(stochastic_sg_expectation(net, b), g) for b in betas])
    det = np.array([_relative(deterministic_sg(net, b)[0], g) for b in betas])
    matched = []
    for b in betas:
        other = BinaryNet(net.x, net.weights, net.biases, float(b), net.theta)
        matched.append(_relative(stochastic_sg_expectation(other, b), exact_gradient(other).gradient))
    return BiasSweep(betas, stoch, det, betas.copy(), np.array(matched), net.beta_n, float(beta_sg))
