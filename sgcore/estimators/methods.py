"""The five gradient estimators, each returning a (K, n_params) array of per-sample estimates
(Gygax & Zenke 2024, Sec. 3.2 Eq. 2, Sec. 7, Fig. 3).

* ``stochastic_sg``: sampled forward pass, chain rule through the *sampled* hidden spikes with
  dh/du := SD(u) = beta_SG sigma'(beta_SG (u - theta)) at every unit, the output included (Eq. 2; the
  smoothed stochastic derivative of Sec. 3.2.2 / Fig. 3 when beta_SG = beta_N); its exact mean by
  enumeration is :func:`stochastic_sg_expectation`;
* ``deterministic_sg``: the Heaviside roll-out at the mean threshold and the same SD backward (Sec. 3.2.3);
* ``finite_difference`` / ``finite_difference_crn``: central differences with independent noise for + and -,
  or with common random numbers (Fig. 3, gray);
* ``reinforce``: the score-function estimator (y - b) d log P(h_1, ..., h_L, y) / d params (Sec. 7).

:func:`estimator_samples` dispatches by a key of :data:`ESTIMATORS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..params import choice, count, positive
from ..shapes import surrogate_derivative
from .exact import _enumerate
from .network import BinaryNet, _resid, _rng, flatten_params
from .sampling import _perturbed, _rollout

__all__ = [
    "ESTIMATORS", "RANDOM_ESTIMATORS", "deterministic_sg", "estimator_samples", "finite_difference",
    "finite_difference_crn", "reinforce", "stochastic_sg", "stochastic_sg_expectation", "surrogate",
]


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
    ``rng.random((K, H + 1))`` (see :mod:`.sampling`), so an integer ``rng`` reproduces them."""
    beta_sg = positive("beta_sg", beta_sg)
    k = count("samples", samples, 1)
    ro = _rollout(net.weights, net.biases, net, _rng(rng).random((k, net.n_hidden + 1)))
    return _backprop(net, ro, beta_sg)


def stochastic_sg_expectation(net: BinaryNet, beta_sg: float) -> np.ndarray:
    """The exact mean of :func:`stochastic_sg` (Gygax & Zenke Sec. 3.2.1: biased with hidden layers): its value on
    every hidden spike pattern (it does not
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
    """Central finite differences (Gygax & Zenke Fig. 3) (f(w + eps e_p) - f(w - eps e_p)) / (2 eps) with
    independent noise for
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
    """Score-function (REINFORCE) estimator (y - b) d log P(h_1, ..., h_L, y) / d params (Gygax & Zenke Sec. 7).

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
