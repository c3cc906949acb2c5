"""LocalZO: zeroth-order surrogates, sampling any surrogate, sparse backward passes.

Mukhoty et al. (2023). The 2-point zeroth-order estimate of the Heaviside's derivative
(Eq. 8, Eq. 7 averages it over ``m`` samples)

    G2(u; z, delta) = |z|^alpha / (2 delta)   if |u| <= |z| delta,   else 0,

has the expectation (Eq. 9)

    E_z[G2](u) = (1 / delta) int_{|u|/delta}^inf z^alpha lambda(z) dz,

a surrogate derivative. Two directions are implemented with one interface, a *z-source*, which
gives |z|'s CDF, a sampler, tail expectations E[|z|^p ; |z| >= a] and the weight ``c`` by which
G2 is multiplied (1 for a distribution). This package re-exports the public API of its modules:

* :mod:`.distributions` -- Theorem 2: pick lambda, get a surrogate (:data:`DISTRIBUTIONS`, unit
  variance; Normal, Uniform and Laplace in closed form, Eqs. 10-12, others by quadrature);
* :mod:`.theorem3` -- Theorem 3: pick a registry surrogate g, get the density
  lambda(z) = -delta^2 g'(z delta) / (c z^alpha) with c * E[G2] = g (:class:`Theorem3Target`);
* :mod:`.estimator` -- everything written once against a z-source: the estimate, its expectation
  and variance, the back-propagation threshold, Monte Carlo;
* :mod:`.sparsity` -- the fraction of neurons active in LocalZO's and SparseGrad's backward pass;
* :mod:`.page` -- the page's declared parameters, config, view and CLI numbers;
* :mod:`.checks` -- the paper's printed numbers, recomputed;
* :mod:`.common` -- the exponents offered and the sigmoid constant, shared by all of them.
"""

from .checks import PaperCheck as PaperCheck
from .checks import fast_sigmoid_truncated_bth as fast_sigmoid_truncated_bth
from .checks import paper_checks
from .common import ALPHAS, SIGMOID_CONSTANT
from .distributions import DISTRIBUTIONS, ZDistribution
from .estimator import MonteCarlo as MonteCarlo
from .estimator import ZSource as ZSource
from .estimator import (
    bth_over_delta,
    expected_surrogate,
    g2_estimate,
    monte_carlo,
    pooled_mean,
    sample_g2,
    second_moment,
    single_sample_variance,
)
from .page import LOCALZO_PARAMS, LocalZOConfig, LocalZOPoints, LocalZOView, localzo_view, make_source
from .sparsity import active_fraction, active_fractions, sparsegrad_active_fraction
from .theorem3 import TARGETS, Theorem3Target

__all__ = [
    "ALPHAS",
    "DISTRIBUTIONS",
    "LOCALZO_PARAMS",
    "LocalZOConfig",
    "LocalZOPoints",
    "LocalZOView",
    "MonteCarlo",
    "PaperCheck",
    "SIGMOID_CONSTANT",
    "TARGETS",
    "Theorem3Target",
    "ZDistribution",
    "ZSource",
    "active_fraction",
    "active_fractions",
    "bth_over_delta",
    "expected_surrogate",
    "g2_estimate",
    "localzo_view",
    "make_source",
    "paper_checks",
    "pooled_mean",
    "monte_carlo",
    "second_moment",
    "single_sample_variance",
    "sparsegrad_active_fraction",
    "sample_g2",
]
