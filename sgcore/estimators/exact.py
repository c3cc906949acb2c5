"""Exact values by enumerating every hidden spike pattern: E[y] and its gradient (Gygax & Zenke 2024, Sec. 3.2).

With at most :data:`~sgcore.estimators.network.MAX_HIDDEN_UNITS` hidden units, E[y] = sum_patterns
P(pattern) p_out(h_L) and, by the score-function identity inside the sum, dE[y]/dW_l[i, j] = sum P(pattern)
p_out beta_N (h_l,i - p_l,i) h_{l-1,j} for hidden layers and sum P(pattern) beta_N p_out (1 - p_out) h_{L,j}
for the output layer (analytic; no autograd). Every estimator is measured against these values.

Spike patterns are numbered with unit 0 as the most significant bit: pattern k of a layer of n units has
h_i = bit (n - 1 - i) of k; a path through all hidden layers is numbered the same way over the concatenated
units (layer 1 most significant), i.e. lexicographically by layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .network import BinaryNet, _log_prob, _no_rate, _rate, _resid, flatten_params

__all__ = ["ExactGradient", "all_patterns", "exact_expected_output", "exact_gradient", "spike_patterns"]


def all_patterns(n: int) -> np.ndarray:
    """All 2^n binary patterns of n units as a (2^n, n) float array; row k holds the bits of k with
    unit 0 the most significant bit (so rows are in lexicographic order)."""
    n = int(n)
    k = np.arange(2**n)
    return ((k[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def spike_patterns(hidden: Sequence[int]) -> int:
    """Spike patterns of hidden layers of sizes ``hidden``, 2^(total units): the paths exact values sum over."""
    return 2 ** sum(int(n) for n in hidden)

def _enumerate(net: BinaryNet) -> dict[str, Any]:
    """Every hidden pattern (N = 2^H rows) with its log-probability and the layer quantities."""
    bits = all_patterns(net.n_hidden)
    n = bits.shape[0]
    prev = np.broadcast_to(net.x, (n, net.n_in))
    log_p = np.zeros(n)
    layers = []
    col = 0
    for w, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        h = bits[:, col:col + w.shape[0]]
        col += w.shape[0]
        v = prev @ w.T + (b - net.theta)
        log_p += np.sum(_log_prob(net, h, v), axis=1)
        layers.append((prev, h, v))
        prev = h
    v_out = prev @ net.weights[-1][0] + (net.biases[-1][0] - net.theta)
    return {"bits": bits, "prob": np.exp(log_p), "log_prob": log_p, "layers": layers, "last": prev,
            "v_out": v_out}


@dataclass(frozen=True, eq=False)
class ExactGradient:
    """E[y] and its gradient by enumeration (flat, and split like the weights and biases)."""

    expected_output: float
    gradient: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]


def exact_gradient(net: BinaryNet) -> ExactGradient:
    """E[y] and dE[y]/d(params) by enumerating all 2^H hidden patterns (analytic, no autograd): the exact
    gradient of the smoothed probabilistic model (Gygax & Zenke Sec. 3.2, Fig. 3).

    dE[y]/dtheta = sum_patterns P(pattern) [p_out d log P(pattern)/dtheta + d p_out/dtheta] with
    d log P / dW_l[i, j] = beta_N (h_l,i - p_l,i) h_{l-1,j} and d p_out / du_out = beta_N p_out (1 - p_out).
    """
    en = _enumerate(net)
    prob, v_out = en["prob"], en["v_out"]
    p_out = _rate(net, v_out)
    q = prob * p_out
    gw, gb = [], []
    for prev, h, v in en["layers"]:
        a = net.beta_n * q[:, None] * _resid(net, h, v)
        gw.append(a.T @ prev)
        gb.append(a.sum(axis=0))
    a_out = net.beta_n * prob * p_out * _no_rate(net, v_out)
    gw.append((a_out @ en["last"])[None, :])
    gb.append(np.array([a_out.sum()]))
    return ExactGradient(float(q.sum()), flatten_params(gw, gb), tuple(gw), tuple(gb))


def exact_expected_output(net: BinaryNet) -> float:
    """E[y] = sum over all hidden patterns of P(pattern) p_out(h_L) (Gygax & Zenke Sec. 3.2)."""
    en = _enumerate(net)
    return float(np.sum(en["prob"] * _rate(net, en["v_out"])))
