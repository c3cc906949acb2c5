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

Modules, one job each (every public name is re-exported here, import from :mod:`sgcore.estimators`):

* :mod:`.network` -- :class:`BinaryNet`, :func:`random_net`, the flat parameter order and the units'
  firing probabilities under :data:`ESCAPE_FAMILY`;
* :mod:`.exact` -- enumeration of all spike patterns: :func:`exact_gradient`, :func:`exact_expected_output`;
* :mod:`.tree` -- the tree of spike patterns (Fig. 3): :func:`spike_tree`;
* :mod:`.sampling` -- sampled and deterministic roll-outs, :func:`sample_outputs`, :func:`sample_path`;
* :mod:`.methods` -- the five estimators (:data:`ESTIMATORS`) and :func:`estimator_samples`;
* :mod:`.statistics` -- samples against the exact gradient: :func:`estimator_stats`, :func:`bias_test`,
  :func:`convergence`;
* :mod:`.sweep` -- the SGs' exact bias against beta_SG and beta_N: :func:`bias_sweep`;
* :mod:`.config` -- declared parameters and :class:`EstimatorConfig`;
* :mod:`.view` -- the page's computation, :func:`estimator_view` and :class:`EstimatorView`.
"""

from __future__ import annotations

from .config import ESTIMATOR_PARAMS, EstimatorConfig
from .exact import ExactGradient, all_patterns, exact_expected_output, exact_gradient, spike_patterns
from .methods import (
    ESTIMATORS,
    RANDOM_ESTIMATORS,
    deterministic_sg,
    estimator_samples,
    finite_difference,
    finite_difference_crn,
    reinforce,
    stochastic_sg,
    stochastic_sg_expectation,
    surrogate,
)
from .network import (
    ESCAPE_FAMILY,
    MAX_HIDDEN_UNITS,
    BinaryNet,
    flatten_params,
    param_names,
    random_net,
    unflatten_params,
)
from .network import _rate as _rate  # tests compare it with expit
from .sampling import SampledPath, sample_outputs, sample_path
from .statistics import (
    BIAS_ALPHA,
    BiasTest,
    Convergence,
    EstimatorStats,
    bias_test,
    convergence,
    estimator_stats,
)
from .sweep import BiasSweep, bias_sweep
from .tree import SpikeTree, spike_tree
from .view import SG_EXACT_TOLERANCE, TREE_MAX_UNITS, EstimatorView, estimator_view

__all__ = [
    "BIAS_ALPHA",
    "ESCAPE_FAMILY",
    "ESTIMATORS",
    "ESTIMATOR_PARAMS",
    "MAX_HIDDEN_UNITS",
    "RANDOM_ESTIMATORS",
    "SG_EXACT_TOLERANCE",
    "TREE_MAX_UNITS",
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
