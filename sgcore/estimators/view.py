"""Everything the gradient-estimator page shows, computed from one config (Gygax & Zenke 2024, Sec. 3.2, 7,
Fig. 3, S1): the exact gradient, every estimator's samples, statistics and convergence, the stochastic SG's
exact bias, the tree of spike patterns and one sampled path. ``python -m sgcore estimators`` prints it too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from .config import EstimatorConfig
from .exact import ExactGradient, exact_gradient, spike_patterns
from .methods import ESTIMATORS, estimator_samples, stochastic_sg_expectation
from .network import BinaryNet, param_names
from .sampling import SampledPath, sample_outputs, sample_path
from .statistics import Convergence, EstimatorStats, convergence, estimator_stats
from .tree import SpikeTree, spike_tree

__all__ = ["SG_EXACT_TOLERANCE", "TREE_MAX_UNITS", "EstimatorView", "estimator_view"]


#: Relative exact bias ||E[SG] - grad E[y]|| / ||grad E[y]|| below which the stochastic SG counts as exact.
SG_EXACT_TOLERANCE = 1e-9

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
