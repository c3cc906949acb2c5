"""The tree of spike patterns, layer by layer as a Markov chain (Gygax & Zenke 2024, Fig. 3).

Each node is a pattern of one hidden layer reached from its parent pattern; the tree gives conditional rates,
transition and marginal probabilities and every path's probability, independently of the joint enumeration
in :mod:`.exact` (the tests hold the two together).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .exact import all_patterns
from .network import BinaryNet, _pattern_prob, _rate

__all__ = ["SpikeTree", "spike_tree"]


@dataclass(frozen=True, eq=False)
class SpikeTree:
    """The tree of spike patterns: layer l's node is a pattern of h_l reached from its parent h_{l-1}.

    Per hidden layer l (index 0 = the first hidden layer):

    * ``patterns[l]``: (2^n_l, n_l) the layer's patterns (see :func:`all_patterns`);
    * ``cond_rate[l]``: (parents, n_l) E[h_l | h_{l-1}] = p_l for every parent pattern (one parent,
      the input x, for the first layer);
    * ``transition[l]``: (parents, 2^n_l) P(h_l = child | h_{l-1} = parent);
    * ``marginal[l]``: (2^n_l,) P(h_l = pattern);
    * ``nodes[l]``: (M_l, l + 1) pattern indices of every path prefix down to layer l and
      ``node_probability[l]`` (M_l,) its probability (M_l = prod_{k <= l} 2^n_k).

    ``output_rate`` is E[y | h_L] = p_out per pattern of the last hidden layer (one value without
    hidden layers); ``paths``/``path_probability``/``path_output_rate`` list the full paths.
    """

    hidden: tuple[int, ...]
    patterns: tuple[np.ndarray, ...]
    cond_rate: tuple[np.ndarray, ...]
    transition: tuple[np.ndarray, ...]
    marginal: tuple[np.ndarray, ...]
    nodes: tuple[np.ndarray, ...]
    node_probability: tuple[np.ndarray, ...]
    output_rate: np.ndarray
    paths: np.ndarray
    path_probability: np.ndarray
    path_output_rate: np.ndarray
    expected_output: float

def spike_tree(net: BinaryNet) -> SpikeTree:
    """The tree of all spike patterns (Gygax & Zenke Fig. 3) with conditional rates and path probabilities (layer by
    layer,
    as a Markov chain; independent of the joint enumeration used for the exact gradient)."""
    parents = net.x[None, :]
    pats, rates, trans, margs, nodes, node_p = [], [], [], [], [], []
    marg = np.ones(1)
    prefix = np.zeros((1, 0), dtype=np.int64)
    prefix_p = np.ones(1)
    for w, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        pt = all_patterns(w.shape[0])
        v = parents @ w.T + (b - net.theta)
        t = _pattern_prob(net, v, pt)
        pats.append(pt)
        rates.append(_rate(net, v))
        trans.append(t)
        marg = marg @ t
        margs.append(marg)
        last = prefix[:, -1] if prefix.shape[1] else np.zeros(prefix.shape[0], dtype=np.int64)
        child_p = prefix_p[:, None] * t[last]  # (M, C)
        m, c = child_p.shape
        prefix = np.concatenate([np.repeat(prefix, c, axis=0), np.tile(np.arange(c), m)[:, None]], axis=1)
        prefix_p = child_p.ravel()
        nodes.append(prefix)
        node_p.append(prefix_p)
        parents = pt
    out_rate = _rate(net, parents @ net.weights[-1][0] + (net.biases[-1][0] - net.theta))
    last = prefix[:, -1] if prefix.shape[1] else np.zeros(1, dtype=np.int64)
    path_out = out_rate[last]
    return SpikeTree(net.hidden, tuple(pats), tuple(rates), tuple(trans), tuple(margs), tuple(nodes),
                     tuple(node_p), out_rate, prefix, prefix_p, path_out, float(prefix_p @ path_out))
