"""Sampled forward passes of the network: roll-outs, perturbed roll-outs and one sampled path
(Gygax & Zenke 2024, Sec. 3.2, Fig. 3).

K samples draw their uniforms as ``rng.random((K, H + 1))`` (columns: hidden units in order, then y) with
h = 1[U < p]; the deterministic roll-out (Sec. 3.2.3) is h = H(u - theta) with H(0) = 1/2. The estimators in
:mod:`.methods` are built on these roll-outs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import count
from ..shapes import heaviside
from .network import BinaryNet, _log_prob, _rate, _rng

__all__ = ["SampledPath", "sample_outputs", "sample_path"]


def _rollout(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], net: BinaryNet,
             uniforms: np.ndarray | None) -> dict[str, Any]:
    """Forward pass of K samples: h = 1[U < p] with ``uniforms`` of shape (K, H + 1) (the last column
    for y), or the deterministic roll-out h = H(u - theta) when ``uniforms`` is None (K = 1).

    Returns the spikes ``h`` (h[0] = x of shape (1, n_in), then (K, n_l) per hidden layer), ``v`` =
    u - theta per hidden layer ((1, n_1) for the first, whose input is fixed; (K, n_l) after), and
    ``v_out``, ``p_out``, ``y`` of shape (K,).
    """
    prev = net.x[None, :]
    hs, vs = [prev], []
    col = 0
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        v = prev @ w.T + (b - net.theta)
        if uniforms is None:
            h = heaviside(v)
        else:
            h = (uniforms[:, col:col + w.shape[0]] < _rate(net, v)).astype(np.float64)
        col += w.shape[0]
        vs.append(v)
        hs.append(h)
        prev = h
    k = 1 if uniforms is None else uniforms.shape[0]
    v_out = np.broadcast_to(prev @ weights[-1][0] + (biases[-1][0] - net.theta), (k,))
    p_out = _rate(net, v_out)
    y = heaviside(v_out) if uniforms is None else (uniforms[:, -1] < p_out).astype(np.float64)
    return {"h": hs, "v": vs, "v_out": v_out, "p_out": p_out, "y": y}


def _downstream(net: BinaryNet, layer: int, h: np.ndarray, uniforms: np.ndarray, key: str) -> np.ndarray:
    """``y`` or ``p_out`` of the roll-out continued from hidden layer ``layer`` (0-based) with spikes h."""
    prev = h
    col = sum(net.hidden[:layer + 1])
    for w, b in zip(net.weights[layer + 1:-1], net.biases[layer + 1:-1], strict=True):
        p = _rate(net, prev @ w.T + (b - net.theta))
        prev = (uniforms[:, col:col + w.shape[0]] < p).astype(np.float64)
        col += w.shape[0]
    p_out = _rate(net, prev @ net.weights[-1][0] + (net.biases[-1][0] - net.theta))
    return p_out if key == "p_out" else (uniforms[:, -1] < p_out).astype(np.float64)


def _perturbed(net: BinaryNet, delta: float, uniforms: np.ndarray, key: str) -> np.ndarray:
    """(K, n_params): ``y`` (or ``p_out``) of the roll-out with the same uniforms when parameter p alone
    is moved by ``delta``, for every p.

    Equal to a full roll-out of the perturbed network (tests check it), but cheap: moving W_l[i, j]
    (b_l[i]) moves only u_l,i, by delta h_{l-1,j} (delta); with the uniforms fixed, that changes at
    most the spike of unit i, and the rest of the roll-out after a flip of unit i is the same whichever
    parameter caused it. So one continued roll-out per hidden unit suffices.
    """
    base = _rollout(net.weights, net.biases, net, uniforms)
    k = uniforms.shape[0]
    f_base = base[key]
    hs, cols = base["h"], []
    col = 0
    for layer, w in enumerate(net.weights[:-1]):
        n, m = w.shape
        a = np.concatenate([np.broadcast_to(hs[layer], (k, m)), np.ones((k, 1))], axis=1)  # (K, m + 1)
        v = np.broadcast_to(base["v"][layer], (k, n))
        spikes = uniforms[:, col:col + n, None] < _rate(net, v[:, :, None] + delta * a[:, None, :])
        old = hs[layer + 1]
        changed = spikes != (old[:, :, None] > 0)  # (K, n, m + 1)
        flipped = np.empty((k, n))
        for i in range(n):
            h = old.copy()
            h[:, i] = 1.0 - h[:, i]
            flipped[:, i] = _downstream(net, layer, h, uniforms, key)
        vals = np.where(changed, flipped[:, :, None], f_base[:, None, None])
        cols += [vals[:, :, :m].reshape(k, n * m), vals[:, :, m]]
        col += n
    m = net.weights[-1].shape[1]
    a = np.concatenate([np.broadcast_to(hs[-1], (k, m)), np.ones((k, 1))], axis=1)
    p = _rate(net, base["v_out"][:, None] + delta * a)
    cols.append(p if key == "p_out" else (uniforms[:, -1:] < p).astype(np.float64))
    return np.concatenate(cols, axis=1)


def sample_outputs(net: BinaryNet, samples: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """K sampled outputs y (0.0 / 1.0) of independent forward passes."""
    k = count("samples", samples, 1)
    return _rollout(net.weights, net.biases, net, _rng(rng).random((k, net.n_hidden + 1)))["y"]


@dataclass(frozen=True, eq=False)
class SampledPath:
    """One forward pass: per layer (hidden layers, then the output) the potential u, the rate
    p = E[h | previous layer] and the spikes h; the pattern index of each hidden layer, the index of
    the whole path (see :func:`all_patterns`), its probability and the output's."""

    u: tuple[np.ndarray, ...]
    p: tuple[np.ndarray, ...]
    h: tuple[np.ndarray, ...]
    pattern_index: tuple[int, ...]
    path_index: int
    path_probability: float
    output_rate: float
    y: int


def _bits_to_index(bits: np.ndarray) -> int:
    return int(sum(int(v) << (len(bits) - 1 - i) for i, v in enumerate(bits)))


def sample_path(net: BinaryNet, seed: int | np.random.Generator | None = 0) -> SampledPath:
    """Sample one path through the tree of spike patterns (Gygax & Zenke Fig. 3; reproducible for an integer
    seed)."""
    uni = _rng(seed).random((1, net.n_hidden + 1))
    ro = _rollout(net.weights, net.biases, net, uni)
    us, ps, hs, idx = [], [], [], []
    log_p = 0.0
    for v, h in zip(ro["v"], ro["h"][1:], strict=True):
        us.append(v[0] + net.theta)
        ps.append(_rate(net, v[0]))
        hs.append(h[0].astype(np.int64))
        idx.append(_bits_to_index(h[0]))
        log_p += float(np.sum(_log_prob(net, h[0], v[0])))
    p_out = float(_rate(net, float(ro["v_out"][0])))
    y = int(ro["y"][0])
    us.append(np.array([ro["v_out"][0] + net.theta]))
    ps.append(np.array([p_out]))
    hs.append(np.array([y]))
    path_bits = np.concatenate([h for h in hs[:-1]]) if hs[:-1] else np.zeros(0)
    return SampledPath(tuple(us), tuple(ps), tuple(hs), tuple(idx), _bits_to_index(path_bits), math.exp(log_p),
                       p_out, y)
