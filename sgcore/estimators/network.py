"""Gradient estimators in a stochastic binary network small enough to enumerate (Gygax & Zenke 2024).

The network (paper Sec. 3.1 Eq. 7 stacked as in Sec. 3.2, Fig. 2, 3): a fixed input x, hidden
layers of stochastic binary units and one stochastic binary output. Layer l = 1 .. L + 1
(L hidden layers, layer L + 1 the output) computes

    u_l = W_l h_{l-1} + b_l,   p_l = sigma(beta_N (u_l - theta)),   h_l ~ Ber(p_l) independently,

with h_0 = x and y = h_{L+1}. With at most :data:`MAX_HIDDEN_UNITS` hidden units every spike
pattern can be enumerated, so E[y] and its exact gradient are known and every estimator's bias,
variance and direction can be measured against them:

* exact: E[y] = sum_patterns P(pattern) p_out(h_L) and, by the score-function identity inside the
  sum, dE[y]/dW_l[i, j] = sum P(pattern) p_out beta_N (h_l,i - p_l,i) h_{l-1,j} for hidden
  layers, and sum P(pattern) beta_N p_out (1 - p_out) h_{L,j} for the output layer (analytic; no
  autograd);
* ``stochastic_sg``: sampled forward pass, chain rule through the *sampled* hidden spikes with
  dh/du := SD(u) = beta_SG sigma'(beta_SG (u - theta)) at every unit, the output included (paper
  Eq. 2; the smoothed stochastic derivative of Sec. 3.2.2 / Fig. 3 when beta_SG = beta_N). The SD
  does not depend on the sampled spike of the unit itself, so with no hidden layer and
  beta_SG = beta_N every sample *is* the exact gradient (Eq. 6 = Eq. 8); with hidden layers it is
  biased (Sec. 3.2.1: the expectation of the product of the chain-rule factors is not the
  derivative of the expectation). Its exact mean is enumerable too
  (:func:`stochastic_sg_expectation`);
* ``deterministic_sg``: Heaviside forward pass at the mean threshold, h = H(u - theta) with
  H(0) = 1/2, and the same SD backward (Sec. 3.2.3: the sampled path replaced by the deterministic
  roll-out); all samples are equal, variance 0;
* ``finite_difference``: central differences (f(w + eps e_p) - f(w - eps e_p)) / (2 eps) per
  parameter with independent noise for the + and the - evaluations (Fig. 3, gray);
  ``finite_difference_crn``: the same with common random numbers (one set of uniforms per sample
  shared by both evaluations). f is the sampled output y (``target="output"``, the default) or
  p_out given the sampled last hidden layer (``target="rate"``). Both have expectation equal to
  the central difference of the exact E[y]: unbiased up to O(eps^2);
* ``reinforce``: the score-function estimator (y - b) d log P(h_1, ..., h_L, y) / d params
  (paper Sec. 7) with the baseline b = mean of y over an independent batch of K forward passes
  (``baseline="batch"``) or b = 0 (``"none"``). As b is independent of every sample, the estimator
  is unbiased and its K samples are pairwise uncorrelated.

Flattened parameter order (:func:`flatten_params`): layer by layer from the first hidden layer to
the output layer; within a layer W_l in row-major order (row i = receiving unit, column j =
sending unit), then b_l. :func:`param_names` labels them ``W1[i,j]``, ``b1[i]``, ..., ``Wout[0,j]``,
``bout[0]``.

Statistics (:func:`estimator_stats`): mean, ||mean - g|| with a delta-method standard error and the
noise floor sqrt(trace S / K), the variance trace S, cosines with g, and a split-sample t-test of
"bias = 0" (:func:`bias_test`). Each estimator draws its uniforms as ``rng.random((K, H + 1))``
(columns: hidden units in order, then y) with h = 1[U < p].

Spike patterns are numbered with unit 0 as the most significant bit: pattern k of a layer of n
units has h_i = bit (n - 1 - i) of k; a path through all hidden layers is numbered the same way
over the concatenated units (layer 1 most significant), i.e. lexicographically by layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from ..lif import escape_log_probability, escape_probability
from ..params import DeclaredConfig, ParamSpec, choice, count, declared, finite, positive
from ..shapes import heaviside, surrogate_derivative

__all__ = [
    "BIAS_ALPHA",
    "ESCAPE_FAMILY",
    "ESTIMATORS",
    "ESTIMATOR_PARAMS",
    "MAX_HIDDEN_UNITS",
    "RANDOM_ESTIMATORS",
    "SG_EXACT_TOLERANCE",
    "BiasSweep",
    "BiasTest",
    "BinaryNet",
    "Convergence",
    "EstimatorConfig",
    "EstimatorStats",
    "EstimatorView",
    "ExactGradient",
    "SampledPath",
    "SpikeTree",
    "all_patterns",
    "bias_sweep",
    "bias_test",
    "convergence",
    "deterministic_sg",
    "estimator_samples",
    "estimator_stats",
    "estimator_view",
    "exact_expected_output",
    "exact_gradient",
    "finite_difference",
    "finite_difference_crn",
    "flatten_params",
    "param_names",
    "random_net",
    "reinforce",
    "sample_outputs",
    "sample_path",
    "spike_patterns",
    "spike_tree",
    "stochastic_sg",
    "stochastic_sg_expectation",
    "surrogate",
    "unflatten_params",
]

#: The network's escape noise (Eq. 7): a family of :data:`sgcore.escape.ESCAPE_FAMILIES`, i.e. the CDF of its
#: registry shape (:func:`sgcore.lif.escape_probability`). The scores beta_N (h - p) of the exact gradient and
#: REINFORCE are those of the logistic family: d log sigma(z) / dz = 1 - sigma(z).
ESCAPE_FAMILY = "sigmoid"

#: Most hidden units a network may have (2^12 = 4096 enumerated spike patterns).
MAX_HIDDEN_UNITS = 12

#: The estimators, in display order: name -> label.
ESTIMATORS: Mapping[str, str] = MappingProxyType(
    {
        "stochastic_sg": "Stochastic SG (smoothed stochastic derivative)",
        "deterministic_sg": "Deterministic SG",
        "finite_difference": "Finite differences (independent noise for + and -)",
        "finite_difference_crn": "Finite differences (common random numbers)",
        "reinforce": "REINFORCE (score function)",
    }
)

#: Estimators that vary from sample to sample in every network (the SGs can be deterministic).
RANDOM_ESTIMATORS = ("finite_difference", "finite_difference_crn", "reinforce")

FD_TARGETS = ("output", "rate")
BASELINES = ("batch", "none")

#: Significance level of the bias test: an estimator is called biased when its p-value is below it.
BIAS_ALPHA = 0.01
#: Relative exact bias ||E[SG] - grad E[y]|| / ||grad E[y]|| below which the stochastic SG counts as exact.
SG_EXACT_TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _frozen(a: Any, shape: tuple[int, ...] | None, name: str) -> np.ndarray:
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of finite numbers; got {a!r}") from None
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers only")
    arr.setflags(write=False)
    return arr


# ---------------------------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BinaryNet:
    """A stochastic binary network: input ``x``, per-layer ``weights`` and ``biases`` (hidden
    layers first, the one-unit output layer last), escape-noise steepness ``beta_n`` and threshold
    ``theta``. Arrays are copied and made read-only on construction."""

    x: Any
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    beta_n: float = 4.0
    theta: float = 0.0

    def __post_init__(self) -> None:
        x = _frozen(self.x, None, "x")
        if x.ndim != 1 or x.size < 1:
            raise ValueError(f"x must be a non-empty vector; got shape {x.shape}")
        weights, biases = list(self.weights), list(self.biases)
        if len(weights) < 1 or len(weights) != len(biases):
            raise ValueError(f"weights and biases must be lists of the same length >= 1 (one entry per layer, "
                             f"the output layer last); got {len(weights)} and {len(biases)}")
        fan_in = x.size
        ws: list[np.ndarray] = []
        bs: list[np.ndarray] = []
        for layer, (w, b) in enumerate(zip(weights, biases, strict=True), start=1):
            name = "out" if layer == len(weights) else str(layer)
            w_arr = _frozen(w, None, f"W{name}")
            if w_arr.ndim != 2 or w_arr.shape[1] != fan_in or w_arr.shape[0] < 1:
                raise ValueError(f"W{name} must have shape (units, {fan_in}); got {w_arr.shape}")
            ws.append(w_arr)
            bs.append(_frozen(b, (w_arr.shape[0],), f"b{name}"))
            fan_in = w_arr.shape[0]
        if ws[-1].shape[0] != 1:
            raise ValueError(f"the output layer Wout must have exactly one unit; got {ws[-1].shape[0]}")
        hidden = sum(w.shape[0] for w in ws[:-1])
        if hidden > MAX_HIDDEN_UNITS:
            raise ValueError(f"hidden layers must have at most {MAX_HIDDEN_UNITS} units in total (every spike "
                             f"pattern is enumerated); got {hidden}")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "weights", tuple(ws))
        object.__setattr__(self, "biases", tuple(bs))
        object.__setattr__(self, "beta_n", positive("beta_n", self.beta_n))
        object.__setattr__(self, "theta", finite("theta", self.theta))

    @classmethod
    def from_lists(cls, x: Sequence[float], weights: Sequence[Any], biases: Sequence[Any] | None = None,
                   beta_n: float = 4.0, theta: float = 0.0) -> BinaryNet:
        """A network from nested lists (e.g. edited by hand on a page); biases default to zeros."""
        if biases is None:
            biases = [np.zeros(np.shape(w)[0]) for w in weights]
        return cls(x, tuple(weights), tuple(biases), beta_n, theta)

    @property
    def n_in(self) -> int:
        return int(self.x.size)

    @property
    def hidden(self) -> tuple[int, ...]:
        """Sizes of the hidden layers (empty without a hidden layer)."""
        return tuple(int(w.shape[0]) for w in self.weights[:-1])

    @property
    def n_hidden(self) -> int:
        return sum(self.hidden)

    @property
    def n_params(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True))

    def with_params(self, flat: Any) -> BinaryNet:
        """The same network with parameters replaced by a flat vector (see :func:`flatten_params`)."""
        weights, biases = unflatten_params(flat, self)
        return BinaryNet(self.x, weights, biases, self.beta_n, self.theta)

    def as_lists(self) -> dict[str, Any]:
        return {"input": self.x.tolist(), "weights": [w.tolist() for w in self.weights],
                "biases": [b.tolist() for b in self.biases]}

    def as_dict(self) -> dict[str, Any]:
        """Everything :meth:`from_lists` needs to rebuild the network (the network.json download, the CLI's
        ``net``)."""
        return {**self.as_lists(), "beta_n": self.beta_n, "theta": self.theta}


def random_net(n_in: int = 4, hidden: Sequence[int] = (3, 3), *, seed: int = 0, weight_scale: float = 1.0,
               beta_n: float = 4.0, theta: float = 0.0) -> BinaryNet:
    """A network drawn from ``seed``.

    x ~ U[0, 1]^n_in (non-negative, like input firing rates); W_l ~ N(0, weight_scale^2 / fan_in)
    and b_l ~ N(0, weight_scale^2 / fan_in) with fan_in the size of the previous layer, so u has a
    standard deviation of about 0.6 to 0.9 weight_scale (E[x^2] = 1/3, E[h^2] = p): with
    beta_N * weight_scale of order 1 to 5 the units fire with probabilities well inside (0, 1).
    At theta = 0 only the product beta_N * weight_scale matters for E[y] and for every gradient
    relative to its norm ((c W, c b, beta_N / c) is the same network; gradients scale by 1 / c).
    """
    n_in = count("n_in", n_in, 1)
    sizes = tuple(count(f"hidden[{i}]", n, 1) for i, n in enumerate(hidden))
    scale = positive("weight_scale", weight_scale)
    rng = np.random.default_rng([int(seed), 0])
    x = rng.uniform(0.0, 1.0, n_in)
    weights, biases = [], []
    fan_in = n_in
    for n in (*sizes, 1):
        sd = scale / math.sqrt(fan_in)
        weights.append(rng.normal(0.0, sd, (n, fan_in)))
        biases.append(rng.normal(0.0, sd, n))
        fan_in = n
    return BinaryNet(x, tuple(weights), tuple(biases), beta_n, theta)


# ---------------------------------------------------------------------------------------------
# flattening
# ---------------------------------------------------------------------------------------------
def flatten_params(weights: Sequence[Any], biases: Sequence[Any]) -> np.ndarray:
    """Concatenate W_1, b_1, W_2, b_2, ..., Wout, bout (each W row-major). Leading batch axes are kept:
    ``weights[l]`` of shape (..., n_l, n_{l-1}) and ``biases[l]`` of shape (..., n_l)."""
    parts = []
    for w, b in zip(weights, biases, strict=True):
        w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
        parts.append(w.reshape(*w.shape[:-2], -1))
        parts.append(b)
    return np.concatenate(parts, axis=-1)


def _layer_shapes(net: BinaryNet | Sequence[int]) -> list[tuple[int, int]]:
    """(units, fan_in) per layer, from a net or from (n_in, *hidden)."""
    if isinstance(net, BinaryNet):
        return [w.shape for w in net.weights]
    sizes = [int(n) for n in net]
    sizes.append(1)
    return [(sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]


def unflatten_params(flat: Any, net: BinaryNet | Sequence[int]) -> tuple[tuple[np.ndarray, ...],
                                                                          tuple[np.ndarray, ...]]:
    """Split a flat vector (or a batch of them, last axis = parameters) into (weights, biases).

    ``net`` gives the layer shapes: a :class:`BinaryNet` or the sizes ``(n_in, *hidden)``.
    """
    flat = np.asarray(flat, dtype=np.float64)
    shapes = _layer_shapes(net)
    total = sum(n * m + n for n, m in shapes)
    if flat.shape[-1:] != (total,):
        raise ValueError(f"expected {total} parameters on the last axis; got shape {flat.shape}")
    lead = flat.shape[:-1]
    weights, biases = [], []
    i = 0
    for n, m in shapes:
        weights.append(flat[..., i:i + n * m].reshape(*lead, n, m))
        i += n * m
        biases.append(flat[..., i:i + n])
        i += n
    return tuple(weights), tuple(biases)


def param_names(net: BinaryNet | Sequence[int]) -> tuple[str, ...]:
    """Labels in the flattened order: ``W1[i,j]``, ``b1[i]``, ..., ``Wout[0,j]``, ``bout[0]``."""
    shapes = _layer_shapes(net)
    names: list[str] = []
    for layer, (n, m) in enumerate(shapes, start=1):
        tag = "out" if layer == len(shapes) else str(layer)
        names += [f"W{tag}[{i},{j}]" for i in range(n) for j in range(m)]
        names += [f"b{tag}[{i}]" for i in range(n)]
    return tuple(names)


# ---------------------------------------------------------------------------------------------
# exact enumeration
# ---------------------------------------------------------------------------------------------
def all_patterns(n: int) -> np.ndarray:
    """All 2^n binary patterns of n units as a (2^n, n) float array; row k holds the bits of k with
    unit 0 the most significant bit (so rows are in lexicographic order)."""
    n = int(n)
    k = np.arange(2**n)
    return ((k[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def spike_patterns(hidden: Sequence[int]) -> int:
    """Spike patterns of hidden layers of sizes ``hidden``, 2^(total units): the paths exact values sum over."""
    return 2 ** sum(int(n) for n in hidden)


def _rate(net: BinaryNet, v: Any) -> np.ndarray:
    """p = F(s (u - theta)) of the network's escape family (Eq. 7) at v = u - theta."""
    return escape_probability(v, net.beta_n, ESCAPE_FAMILY)


def _no_rate(net: BinaryNet, v: Any) -> np.ndarray:
    """1 - p without cancellation."""
    return escape_probability(v, net.beta_n, ESCAPE_FAMILY, spiked=False)


def _log_prob(net: BinaryNet, h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """log P(h | v) per unit: log p where h = 1, log(1 - p) where h = 0 (exact in the tails)."""
    return np.where(h > 0, escape_log_probability(v, net.beta_n, ESCAPE_FAMILY),
                    escape_log_probability(v, net.beta_n, ESCAPE_FAMILY, spiked=False))


def _resid(net: BinaryNet, h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """h - p, accurate when p is close to 1."""
    return np.where(h > 0, _no_rate(net, v), -_rate(net, v))


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
    """E[y] and dE[y]/d(params) by enumerating all 2^H hidden patterns (analytic, no autograd).

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
    """E[y] = sum over all hidden patterns of P(pattern) p_out(h_L)."""
    en = _enumerate(net)
    return float(np.sum(en["prob"] * _rate(net, en["v_out"])))


# ---------------------------------------------------------------------------------------------
# the tree of spike patterns (Fig. 3)
# ---------------------------------------------------------------------------------------------
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


def _pattern_prob(net: BinaryNet, v: np.ndarray, pats: np.ndarray) -> np.ndarray:
    """P(child | parent) for parents' v = u - theta (parents, n) and children pats (C, n) -> (parents, C)."""
    lp1 = escape_log_probability(v, net.beta_n, ESCAPE_FAMILY)
    lp0 = escape_log_probability(v, net.beta_n, ESCAPE_FAMILY, spiked=False)
    return np.exp(lp1 @ pats.T + lp0 @ (1.0 - pats).T)


def spike_tree(net: BinaryNet) -> SpikeTree:
    """The tree of all spike patterns with conditional rates and path probabilities (layer by layer,
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


# ---------------------------------------------------------------------------------------------
# sampled forward passes
# ---------------------------------------------------------------------------------------------
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
    """Sample one path through the tree of spike patterns (reproducible for an integer seed)."""
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


# ---------------------------------------------------------------------------------------------
# estimators: each returns a (K, n_params) array of per-sample gradient estimates
# ---------------------------------------------------------------------------------------------
def surrogate(v: Any, beta_sg: float) -> np.ndarray:
    """SD(u - theta) = beta_SG sigma(beta_SG v) (1 - sigma(beta_SG v)): the registry's sigmoid shape in
    density scaling, i.e. the derivative of the escape noise when beta_SG = beta_N (paper Eq. 1, 6)."""
    return surrogate_derivative(v, "sigmoid", beta_sg, scale="density")


def _backprop(net: BinaryNet, ro: Mapping[str, Any], beta_sg: float) -> np.ndarray:
    """Chain rule through the rolled-out spikes with dh/du := SD(u - theta) at every unit."""
    hs, vs = ro["h"], ro["v"]
    delta = surrogate(ro["v_out"], beta_sg)[:, None]  # (K, 1)
    gw = [delta[:, :, None] * hs[-1][:, None, :]]
    gb = [delta]
    for layer in range(len(vs) - 1, -1, -1):
        delta = (delta @ net.weights[layer + 1]) * surrogate(vs[layer], beta_sg)
        gw.append(delta[:, :, None] * hs[layer][:, None, :])
        gb.append(delta)
    return flatten_params(gw[::-1], gb[::-1])


def stochastic_sg(net: BinaryNet, beta_sg: float, samples: int,
                  rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Stochastic surrogate gradient (paper Eq. 2, Sec. 3.2.2): K sampled forward passes, the chain rule
    through the sampled hidden spikes with dh/du := SD(u - theta) of steepness beta_SG at every unit,
    the output unit included. Its derivative does not depend on the sampled y. The uniforms are
    ``rng.random((K, H + 1))`` (see the module docstring), so an integer ``rng`` reproduces them."""
    beta_sg = positive("beta_sg", beta_sg)
    k = count("samples", samples, 1)
    ro = _rollout(net.weights, net.biases, net, _rng(rng).random((k, net.n_hidden + 1)))
    return _backprop(net, ro, beta_sg)


def stochastic_sg_expectation(net: BinaryNet, beta_sg: float) -> np.ndarray:
    """The exact mean of :func:`stochastic_sg`: its value on every hidden spike pattern (it does not
    depend on y) weighted by the pattern's probability. Minus :func:`exact_gradient`, the exact bias."""
    beta_sg = positive("beta_sg", beta_sg)
    en = _enumerate(net)
    ro = {"h": [net.x[None, :], *(h for _, h, _ in en["layers"])], "v": [v for *_, v in en["layers"]],
          "v_out": en["v_out"]}
    return en["prob"] @ _backprop(net, ro, beta_sg)


def deterministic_sg(net: BinaryNet, beta_sg: float, samples: int = 1) -> np.ndarray:
    """Deterministic surrogate gradient (Sec. 3.2.3): the Heaviside roll-out h = H(u - theta) at the
    mean threshold and the same SD backward. Returns K identical rows (a read-only broadcast view)."""
    beta_sg = positive("beta_sg", beta_sg)
    k = count("samples", samples, 1)
    row = _backprop(net, _rollout(net.weights, net.biases, net, None), beta_sg)[0]
    return np.broadcast_to(row, (k, row.size))


def _finite_difference(net: BinaryNet, eps: float, samples: int, rng: np.random.Generator | int | None,
                       target: str, common: bool) -> np.ndarray:
    eps = positive("eps", eps)
    k = count("samples", samples, 1)
    target = choice("target", target, FD_TARGETS)
    gen = _rng(rng)
    key = "y" if target == "output" else "p_out"
    u_plus = gen.random((k, net.n_hidden + 1))
    u_minus = u_plus if common else gen.random((k, net.n_hidden + 1))
    return (_perturbed(net, eps, u_plus, key) - _perturbed(net, -eps, u_minus, key)) / (2.0 * eps)


def finite_difference(net: BinaryNet, eps: float, samples: int, rng: np.random.Generator | int | None = None,
                      target: str = "output") -> np.ndarray:
    """Central finite differences (f(w + eps e_p) - f(w - eps e_p)) / (2 eps) with independent noise for
    the + and the - evaluations.

    ``target="output"``: f is the sampled output y; ``"rate"``: p_out given the sampled last hidden
    layer. Sample k draws two independent sets of uniforms, one for all + evaluations and one for all -
    evaluations (shared across parameters, which leaves each coordinate's distribution as with fresh
    noise per evaluation). Expectation: the central difference of the exact E[y] (bias O(eps^2)); the
    variance grows like 1 / eps^2. Column p equals (sample_outputs(w + eps e_p, K, g) -
    sample_outputs(w - eps e_p, K, g)) / (2 eps) for one generator g seeded like ``rng``.
    """
    return _finite_difference(net, eps, samples, rng, target, common=False)


def finite_difference_crn(net: BinaryNet, eps: float, samples: int, rng: np.random.Generator | int | None = None,
                          target: str = "output") -> np.ndarray:
    """Central finite differences with common random numbers: sample k uses one set of uniforms for the +
    and the - evaluations of every parameter. Same expectation as :func:`finite_difference`, but
    f(w + eps) - f(w - eps) is non-zero only when a spike flips, so the variance grows like 1 / eps
    instead of 1 / eps^2. Column p equals (sample_outputs(w + eps e_p, K, seed) - sample_outputs(w - eps e_p,
    K, seed)) / (2 eps) for an integer seed."""
    return _finite_difference(net, eps, samples, rng, target, common=True)


def reinforce(net: BinaryNet, samples: int, rng: np.random.Generator | int | None = None,
              baseline: str = "batch") -> np.ndarray:
    """Score-function (REINFORCE) estimator (y - b) d log P(h_1, ..., h_L, y) / d params.

    d log P / dW_l[i, j] = beta_N (h_l,i - p_l,i) h_{l-1,j} for every layer, the output (with h = y)
    included. ``baseline="batch"``: b is the mean output of an independent batch of K forward passes,
    so E[(y - b) score] = dE[y]/dparams exactly and the K samples are pairwise uncorrelated
    (E[score] = 0 and b is independent of every sample); ``"none"``: b = 0. The uniforms of the K
    samples are drawn first (``rng.random((K, H + 1))``), those of the baseline batch after them.
    """
    k = count("samples", samples, 1)
    baseline = choice("baseline", baseline, BASELINES)
    gen = _rng(rng)
    width = net.n_hidden + 1
    ro = _rollout(net.weights, net.biases, net, gen.random((k, width)))
    b = 0.0
    if baseline == "batch":
        b = float(np.mean(_rollout(net.weights, net.biases, net, gen.random((k, width)))["y"]))
    hs, vs = ro["h"], ro["v"]
    gw, gb = [], []
    for layer, v in enumerate(vs):
        r = net.beta_n * _resid(net, hs[layer + 1], v)
        gw.append(r[:, :, None] * hs[layer][:, None, :])
        gb.append(r)
    r_out = (net.beta_n * _resid(net, ro["y"], ro["v_out"]))[:, None]
    gw.append(r_out[:, :, None] * hs[-1][:, None, :])
    gb.append(r_out)
    return (ro["y"] - b)[:, None] * flatten_params(gw, gb)


def estimator_samples(name: str, net: BinaryNet, samples: int, rng: np.random.Generator | int | None = None, *,
                      beta_sg: float | None = None, eps: float = 0.05, target: str = "output",
                      baseline: str = "batch") -> np.ndarray:
    """Dispatch by name (a key of :data:`ESTIMATORS`); ``beta_sg`` defaults to ``net.beta_n``."""
    beta = net.beta_n if beta_sg is None else beta_sg
    if name == "stochastic_sg":
        return stochastic_sg(net, beta, samples, rng)
    if name == "deterministic_sg":
        return deterministic_sg(net, beta, samples)
    if name == "finite_difference":
        return finite_difference(net, eps, samples, rng, target)
    if name == "finite_difference_crn":
        return finite_difference_crn(net, eps, samples, rng, target)
    if name == "reinforce":
        return reinforce(net, samples, rng, baseline)
    raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {name!r}")


# ---------------------------------------------------------------------------------------------
# statistics against the exact gradient
# ---------------------------------------------------------------------------------------------
def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity along the last axis; NaN where either vector is zero."""
    num = np.sum(a * b, axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    ok = den > 0
    return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


@dataclass(frozen=True)
class BiasTest:
    """Split-sample test of H0: E[estimate] = exact gradient (see :func:`bias_test`)."""

    t: float
    df: int
    p_value: float
    deterministic: bool


def _moments(samples: np.ndarray, exact: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Samples, mean, mean - exact and covariance (ddof = 1), shifted by the first sample so that
    identical samples give exactly their value and exactly zero covariance."""
    g = np.asarray(samples, dtype=np.float64)
    shifted = g - g[0]
    ms = shifted.mean(axis=0)
    c = shifted - ms
    cov = c.T @ c / (g.shape[0] - 1)
    m = g[0] + ms
    return g, m, m - exact, cov


def bias_test(samples: Any, exact: Any, *, random: bool = False) -> BiasTest:
    """Is the bias of the estimator distinguishable from zero?

    Split-sample projection t-test: the first half of the K samples fixes a direction
    v = (mean_1 - g) / ||mean_1 - g||; on the second half (independent of v) the projections
    v . (sample - g) have mean v . bias, zero under H0, and a one-sample two-sided t-test (scipy.stats.t,
    K2 - 1 degrees of freedom) gives the p-value. Assumptions: i.i.d. samples (REINFORCE's batch
    baseline leaves them uncorrelated, which suffices for the mean and variance used here) and a projected
    mean close to normal (CLT; rare-event estimators such as finite differences with common random
    numbers need enough flips). The test is robust to singular and ill-conditioned covariances (rare
    events, structural constraints such as dW_1[i, :] proportional to x), which break Hotelling's T^2
    here, at the price of half the samples' power.

    If all samples are equal (to 1e-10 of the gradient's scale, at least 1e-12), ``deterministic=True``:
    p = 1 if ||mean - g|| is within 1e-8 of that scale; otherwise p = 0 for a deterministic estimator,
    but NaN when ``random=True`` says that the estimator does vary and K was too small to see it (e.g.
    no spike flipped in any finite difference). Likewise t and p are NaN if the second half's projections
    do not vary at all although the samples do.
    """
    g = np.asarray(samples, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    k = g.shape[0]
    if k < 4 or g.ndim != 2 or g.shape[1] != exact.size:
        raise ValueError(f"samples must have shape (K >= 4, {exact.size}) for a bias test; got {g.shape}")
    scale = float(max(np.linalg.norm(exact), np.sqrt(np.mean(np.sum(g * g, axis=1))), 1e-12))
    if float(np.max(np.ptp(g, axis=0))) <= 1e-10 * scale:
        if float(np.linalg.norm(g.mean(axis=0) - exact)) <= 1e-8 * scale:
            return BiasTest(0.0, 0, 1.0, True)
        return BiasTest(math.nan, 0, math.nan, True) if random else BiasTest(math.inf, 0, 0.0, True)
    half = k // 2
    d1 = g[:half].mean(axis=0) - exact
    n1 = float(np.linalg.norm(d1))
    if n1 <= 1e-12 * scale:
        return BiasTest(0.0, k - half - 1, 1.0, False)
    proj = (g[half:] - exact) @ (d1 / n1)
    mean, sd = float(proj.mean()), float(proj.std(ddof=1))
    df = proj.size - 1
    if sd <= 1e-12 * scale:  # no variation left along v (rare events): nothing to test with
        return BiasTest(math.nan, df, math.nan, False)
    t = mean / (sd / math.sqrt(proj.size))
    return BiasTest(t, df, float(2.0 * stats.t.sf(abs(t), df)), False)


@dataclass(frozen=True, eq=False)
class EstimatorStats:
    """An estimator's K samples summarised against the exact gradient g.

    * ``mean`` (flat) and ``mean_weights`` / ``mean_biases`` (shaped like the parameters);
    * ``bias_norm`` = ||mean - g||; ``bias_norm_stderr`` by the delta method,
      sqrt(d' S d / K) / ||d|| with d = mean - g (sqrt(trace S / K) when d = 0);
    * ``noise_floor`` = sqrt(trace S / K): what ``bias_norm`` is for an unbiased estimator
      (E||mean - g||^2 = ||bias||^2 + trace Sigma / K); ``bias_norm_debiased`` =
      sqrt(max(||d||^2 - trace S / K, 0));
    * ``variance`` = trace S = sum of per-coordinate variances (ddof = 1) of a single sample;
    * ``cosine`` of the mean with g; ``sample_cosines`` (K,) of each sample with g (paper Fig. S1B
      compares single trials with the trial mean: ``sample_cosines_to_mean``);
    * ``test``: :class:`BiasTest` (split-sample projection t-test), ``p_value`` its p-value.
    """

    name: str
    samples: int
    mean: np.ndarray
    mean_weights: tuple[np.ndarray, ...]
    mean_biases: tuple[np.ndarray, ...]
    bias_norm: float
    bias_norm_stderr: float
    bias_norm_debiased: float
    noise_floor: float
    variance: float
    cosine: float
    sample_cosines: np.ndarray
    sample_cosines_to_mean: np.ndarray
    test: BiasTest

    @property
    def p_value(self) -> float:
        return self.test.p_value

    @property
    def verdict(self) -> str:
        """The bias test's answer in words: for samples without variation "biased (exact)" if p = 0, else
        "exact"; otherwise "too few events" when the test had nothing to test with (p is NaN), "biased" when
        p < :data:`BIAS_ALPHA`, else "not detected"."""
        p = self.p_value
        if self.test.deterministic:
            return "biased (exact)" if p == 0.0 else "exact"
        if not np.isfinite(p):
            return "too few events"
        return "biased" if p < BIAS_ALPHA else "not detected"


def estimator_stats(samples: Any, exact: Any, net: BinaryNet | Sequence[int] | None = None,
                    name: str = "", *, random: bool | None = None) -> EstimatorStats:
    """Summarise (K, n_params) ``samples`` against the flat exact gradient (see :class:`EstimatorStats`).
    ``net`` (or the sizes ``(n_in, *hidden)``) shapes the mean like the parameters. ``random`` (passed
    to :func:`bias_test`) defaults to whether ``name`` is one of :data:`RANDOM_ESTIMATORS`."""
    exact = np.asarray(exact, dtype=np.float64)
    g, m, d, cov = _moments(samples, exact)
    k = g.shape[0]
    if k < 4 or g.ndim != 2 or g.shape[1] != exact.size:
        raise ValueError(f"samples must have shape (K >= 4, {exact.size}); got {g.shape}")
    trace = float(np.trace(cov))
    dn = float(np.linalg.norm(d))
    floor = math.sqrt(max(trace, 0.0) / k)
    se = math.sqrt(max(float(d @ cov @ d), 0.0) / k) / dn if dn > 0 else floor
    weights, biases = unflatten_params(m, net) if net is not None else ((), ())
    return EstimatorStats(
        name=name, samples=k, mean=m, mean_weights=weights, mean_biases=biases, bias_norm=dn, bias_norm_stderr=se,
        bias_norm_debiased=math.sqrt(max(dn * dn - trace / k, 0.0)), noise_floor=floor, variance=trace,
        cosine=float(_cos(m, exact)), sample_cosines=_cos(g, exact), sample_cosines_to_mean=_cos(g, m),
        test=bias_test(g, exact, random=name in RANDOM_ESTIMATORS if random is None else random),
    )


@dataclass(frozen=True, eq=False)
class Convergence:
    """Bias, noise floor and cosine of the running mean over nested prefixes of the samples."""

    n: np.ndarray
    bias_norm: np.ndarray
    noise_floor: np.ndarray
    cosine: np.ndarray


def convergence(samples: Any, exact: Any, n: Sequence[int] | None = None) -> Convergence:
    """||mean_n - g||, sqrt(trace S_n / n) and cos(mean_n, g) for the first n samples, n in ``n``
    (default 10, 30, 100, 300, ... below K, and K)."""
    g = np.asarray(samples, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    k = g.shape[0]
    if n is None:
        grid = [v for v in (10, 30, 100, 300, 1000, 3000, 10_000, 30_000) if v < k]
        n = [*grid, k]
    ns = np.asarray(n, dtype=np.int64)
    if np.any(ns < 2) or np.any(ns > k):
        raise ValueError(f"prefix sizes must be in [2, {k}]; got {ns.tolist()}")
    shifted = g - g[0]  # shifted sums: exact for identical samples, and less cancellation
    uniq, back = np.unique(ns, return_inverse=True)  # sums over [0, n1), [n1, n2), ... then running totals
    head = shifted[:uniq[-1]]
    starts = np.concatenate([[0], uniq[:-1]])
    s1 = np.cumsum(np.add.reduceat(head, starts, axis=0), axis=0)[back]
    s2 = np.cumsum(np.add.reduceat(np.sum(head * head, axis=1), starts))[back]
    ms = s1 / ns[:, None]
    trace = (s2 - ns * np.sum(ms * ms, axis=1)) / (ns - 1)
    means = g[0] + ms
    return Convergence(ns, np.linalg.norm(means - exact, axis=1), np.sqrt(np.maximum(trace, 0.0) / ns),
                       _cos(means, exact))


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
    """Relative bias of the stochastic SG (its exact expectation) and of the deterministic SG against
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


# ---------------------------------------------------------------------------------------------
# declared parameters, configuration, page view
# ---------------------------------------------------------------------------------------------
def _hidden_spec(i: int, default: int) -> ParamSpec:
    return ParamSpec(f"hidden{i}", f"Units in hidden layer {i}", default, kind="int", symbol=f"n_{i}", domain=(0, 6),
                     slider=(0, 6), step=1,
                     help=f"Stochastic binary units in hidden layer {i}; 0 leaves the layer out. At most "
                          f"{MAX_HIDDEN_UNITS} hidden units in total (every spike pattern is enumerated).")


ESTIMATOR_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("n_in", "Inputs", 4, kind="int", symbol=r"n_{\mathrm{in}}", domain=(1, 8), slider=(1, 8), step=1,
              help="Size of the fixed input x, drawn from the seed uniformly in [0, 1]."),
    _hidden_spec(1, 3),
    _hidden_spec(2, 3),
    _hidden_spec(3, 0),
    ParamSpec("beta_n", "Escape-noise steepness", 4.0, symbol=r"\beta_N", domain=(0.0, 1e3), open_low=True,
              slider=(0.1, 50.0), step=0.1, help="p = sigma(beta_N (u - theta)) (paper Eq. 7); large = nearly "
                                                 "deterministic."),
    ParamSpec("beta_sg", "SD steepness", 4.0, symbol=r"\beta_{SG}", domain=(0.0, 1e3), open_low=True,
              slider=(0.1, 50.0), step=0.1, help="SD(u) = beta_SG sigma'(beta_SG (u - theta)); matched to the "
                                                 "escape noise when beta_SG = beta_N."),
    ParamSpec("theta", "Threshold", 0.0, symbol=r"\theta", domain=(-1e3, 1e3), slider=(-3.0, 3.0), step=0.05,
              help="Firing threshold (the mean threshold of the stochastic units)."),
    ParamSpec("weight_scale", "Weight scale", 1.0, symbol=r"\sigma_w", domain=(0.0, 1e3), open_low=True,
              slider=(0.05, 10.0), step=0.05, help="Weights and biases ~ N(0, sigma_w^2 / fan_in)."),
    ParamSpec("samples", "Samples per estimator", 2000, kind="int", symbol="K", domain=(10, 100_000),
              slider=(10, 20_000), step=10, help="Independent gradient estimates per estimator."),
    ParamSpec("fd_eps", "Finite-difference step", 0.05, symbol=r"\varepsilon", domain=(0.0, 10.0), open_low=True,
              slider=(0.001, 1.0), step=0.001, help="Central differences (f(w + eps) - f(w - eps)) / (2 eps)."),
    ParamSpec("fd_target", "Finite differences of", "output", kind="choice", choices=FD_TARGETS,
              help="output: the sampled spike y; rate: p_out given the sampled last hidden layer."),
    ParamSpec("baseline", "REINFORCE baseline", "batch", kind="choice", choices=BASELINES,
              help="batch: mean output of an independent batch (unbiased); none: b = 0."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of the input, the weights and all samples."),
)


@declared
class EstimatorConfig(DeclaredConfig):
    """A validated gradient-estimator page state."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ESTIMATOR_PARAMS

    def __post_init__(self) -> None:
        super().__post_init__()
        total = self.hidden1 + self.hidden2 + self.hidden3
        if total > MAX_HIDDEN_UNITS:
            raise ValueError(f"hidden1 + hidden2 + hidden3 must be at most {MAX_HIDDEN_UNITS} (every spike pattern "
                             f"is enumerated); got {self.hidden1} + {self.hidden2} + {self.hidden3} = {total}")

    @classmethod
    def with_hidden(cls, hidden: Sequence[int], **values: Any) -> EstimatorConfig:
        """A config from a tuple of up to 3 hidden layer sizes, e.g. ``with_hidden((3, 3), beta_n=2)``."""
        sizes = tuple(hidden)
        if len(sizes) > 3:
            raise ValueError(f"hidden must list at most 3 layer sizes; got {sizes!r}")
        padded = (*sizes, 0, 0, 0)[:3]
        return cls(hidden1=padded[0], hidden2=padded[1], hidden3=padded[2], **values)

    @property
    def hidden(self) -> tuple[int, ...]:
        """Hidden layer sizes, layers with 0 units left out."""
        return tuple(n for n in (self.hidden1, self.hidden2, self.hidden3) if n > 0)

    def net(self) -> BinaryNet:
        return random_net(self.n_in, self.hidden, seed=self.seed, weight_scale=self.weight_scale, beta_n=self.beta_n,
                          theta=self.theta)


@dataclass(frozen=True, eq=False)
class EstimatorView:
    """Everything the gradient-estimator page shows.

    ``stats`` and ``convergence`` are keyed like :data:`ESTIMATORS`; ``stochastic_sg_mean`` is the
    exact expectation of the stochastic SG (by enumeration) and ``stochastic_sg_bias_norm`` its exact
    bias norm; ``tree`` is None above :data:`TREE_MAX_UNITS` hidden units; ``path`` is one sampled
    path; ``mc_expected_output`` the mean of K sampled outputs (with its standard error).
    ``python -m sgcore estimators`` prints its ``CLI_FIELDS`` (not the tree, the sampled path or the convergence
    curves).
    """

    CLI_FIELDS: ClassVar[tuple[str, ...]] = (
        "config", "net", "param_names", "exact", "exact_expected_output", "stats", "stochastic_sg_mean",
        "stochastic_sg_bias_norm", "stochastic_sg_relative_bias", "stochastic_sg_is_exact", "n_paths",
        "mc_expected_output", "mc_expected_output_stderr", "notes")

    config: EstimatorConfig
    net: BinaryNet
    param_names: tuple[str, ...]
    exact: ExactGradient
    stats: Mapping[str, EstimatorStats]
    convergence: Mapping[str, Convergence]
    stochastic_sg_mean: np.ndarray
    stochastic_sg_bias_norm: float
    tree: SpikeTree | None
    path: SampledPath
    mc_expected_output: float
    mc_expected_output_stderr: float
    notes: tuple[str, ...]

    @property
    def exact_expected_output(self) -> float:
        return self.exact.expected_output

    @property
    def exact_gradient(self) -> np.ndarray:
        return self.exact.gradient

    @property
    def exact_gradient_norm(self) -> float:
        """||grad E[y]|| (exact)."""
        return float(np.linalg.norm(self.exact.gradient))

    @property
    def stochastic_sg_relative_bias(self) -> float:
        """The stochastic SG's exact bias relative to the exact gradient, ||E[SG] - grad E[y]|| / ||grad E[y]||
        (NaN when the gradient vanishes)."""
        g = self.exact_gradient_norm
        return self.stochastic_sg_bias_norm / g if g > 0 else math.nan

    @property
    def stochastic_sg_is_exact(self) -> bool:
        """Whether the stochastic SG is the exact gradient of E[y]: a single unit with a matched SD
        (beta_SG = beta_N; Gygax & Zenke Eq. 6 = Eq. 8), or an exact relative bias below
        :data:`SG_EXACT_TOLERANCE`."""
        rel = self.stochastic_sg_relative_bias
        return bool(not self.net.hidden and math.isclose(self.config.beta_sg, self.net.beta_n)
                    or (np.isfinite(rel) and rel < SG_EXACT_TOLERANCE))

    @property
    def n_paths(self) -> int:
        """Spike patterns (paths through the tree) enumerated for the exact values."""
        return spike_patterns(self.net.hidden)

    def tables(self) -> dict[str, dict[str, Any]]:
        """The CSV download: per parameter (W1 row-major, b1, ..., Wout, bout), the exact gradient, the stochastic
        SG's expectation and each estimator's mean."""
        cols: dict[str, Any] = {"parameter": np.array(self.param_names), "exact": self.exact_gradient,
                                "stochastic_sg_expectation": self.stochastic_sg_mean}
        for name, s in self.stats.items():
            cols[f"{name}_mean"] = s.mean
        return {"gradients": cols}


#: Largest number of hidden units for which the view builds the tree of spike patterns.
TREE_MAX_UNITS = 8


def _streams(seed: int) -> dict[str, np.random.Generator]:
    names = ("path", *ESTIMATORS)
    return {n: np.random.default_rng([int(seed), i + 1]) for i, n in enumerate(names)}


def _all_samples(cfg: EstimatorConfig, net: BinaryNet) -> dict[str, np.ndarray]:
    rngs = _streams(cfg.seed)
    return {name: estimator_samples(name, net, cfg.samples, rngs[name], beta_sg=cfg.beta_sg, eps=cfg.fd_eps,
                                    target=cfg.fd_target, baseline=cfg.baseline) for name in ESTIMATORS}


def _notes(cfg: EstimatorConfig, net: BinaryNet, exact: ExactGradient) -> tuple[str, ...]:
    notes = []
    if not net.hidden and cfg.beta_sg == net.beta_n:
        notes.append("no hidden layer and beta_SG = beta_N: every stochastic SG sample is the exact gradient")
    if cfg.beta_sg != net.beta_n:
        notes.append(f"beta_SG = {cfg.beta_sg:g} differs from beta_N = {net.beta_n:g}: the SD does not match the "
                     "escape noise, so even a single stochastic unit gets a scaled gradient")
    if np.linalg.norm(exact.gradient) < 1e-12:
        notes.append("the exact gradient vanishes (saturated units): cosines are undefined")
    return tuple(notes)


def estimator_view(cfg: EstimatorConfig, net: BinaryNet | None = None) -> EstimatorView:
    """The page's computation (deterministic for a given seed). ``net`` replaces the seed-drawn
    network (e.g. weights edited by hand); its beta_N and theta are then used."""
    net = cfg.net() if net is None else net
    exact = exact_gradient(net)
    drawn = _all_samples(cfg, net)
    st = {name: estimator_stats(g, exact.gradient, net, name) for name, g in drawn.items()}
    conv = {name: convergence(g, exact.gradient) for name, g in drawn.items()}
    y = sample_outputs(net, cfg.samples, np.random.default_rng([int(cfg.seed), 99]))
    tree = spike_tree(net) if net.n_hidden <= TREE_MAX_UNITS else None
    path = sample_path(net, _streams(cfg.seed)["path"])
    sg_mean = stochastic_sg_expectation(net, cfg.beta_sg)
    return EstimatorView(
        config=cfg, net=net, param_names=param_names(net), exact=exact, stats=MappingProxyType(st),
        convergence=MappingProxyType(conv), stochastic_sg_mean=sg_mean,
        stochastic_sg_bias_norm=float(np.linalg.norm(sg_mean - exact.gradient)), tree=tree, path=path,
        mc_expected_output=float(y.mean()),
        mc_expected_output_stderr=float(y.std(ddof=1) / math.sqrt(y.size)), notes=_notes(cfg, net, exact),
    )
