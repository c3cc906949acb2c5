"""The stochastic binary network: its parameters, their flat order and its units' firing probabilities.

Gygax & Zenke 2024, Sec. 3.1 Eq. 7 stacked as in Sec. 3.2 (Fig. 2, 3): a fixed input x, hidden layers of
stochastic binary units and one stochastic binary output; layer l computes u_l = W_l h_{l-1} + b_l,
p_l = sigma(beta_N (u_l - theta)) and h_l ~ Ber(p_l) independently (:class:`BinaryNet`, :func:`random_net`).

Flattened parameter order (:func:`flatten_params`): layer by layer from the first hidden layer to the output
layer; within a layer W_l in row-major order (row i = receiving unit, column j = sending unit), then b_l.
:func:`param_names` labels them ``W1[i,j]``, ``b1[i]``, ..., ``Wout[0,j]``, ``bout[0]``.

The firing probabilities of the network's escape noise (:data:`ESCAPE_FAMILY`) are the private helpers
``_rate``, ``_no_rate``, ``_log_prob``, ``_resid`` and ``_pattern_prob`` that the exact, sampled and tree
computations share; they read :data:`ESCAPE_FAMILY` here, so it is switched in one place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lif import escape_log_probability, escape_probability
from ..params import count, finite, positive

__all__ = [
    "ESCAPE_FAMILY", "MAX_HIDDEN_UNITS", "BinaryNet", "flatten_params", "param_names", "random_net",
    "unflatten_params",
]


#: The network's escape noise (Eq. 7): a family of :data:`sgcore.escape.ESCAPE_FAMILIES`, i.e. the CDF of its
#: registry shape (:func:`sgcore.lif.escape_probability`). The scores beta_N (h - p) of the exact gradient and
#: REINFORCE are those of the logistic family: d log sigma(z) / dz = 1 - sigma(z).
ESCAPE_FAMILY = "sigmoid"

#: Most hidden units a network may have (2^12 = 4096 enumerated spike patterns).
MAX_HIDDEN_UNITS = 12

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
# firing probabilities of the escape noise (Eq. 7)
# ---------------------------------------------------------------------------------------------
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


def _pattern_prob(net: BinaryNet, v: np.ndarray, pats: np.ndarray) -> np.ndarray:
    """P(child | parent) for parents' v = u - theta (parents, n) and children pats (C, n) -> (parents, C)."""
    lp1 = escape_log_probability(v, net.beta_n, ESCAPE_FAMILY)
    lp0 = escape_log_probability(v, net.beta_n, ESCAPE_FAMILY, spiked=False)
    return np.exp(lp1 @ pats.T + lp0 @ (1.0 - pats).T)
