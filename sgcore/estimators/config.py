"""The gradient-estimator page's declared parameters and validated configuration (Gygax & Zenke 2024,
Sec. 3.2, Fig. 3): network size, escape-noise and SD steepness, threshold, weight scale, samples, the
finite-difference step and target, the REINFORCE baseline and the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..params import DeclaredConfig, ParamSpec, declared, work
from .methods import BASELINES, FD_TARGETS
from .network import MAX_HIDDEN_UNITS, BinaryNet, random_net

__all__ = ["ESTIMATOR_PARAMS", "ESTIMATOR_WORK", "EstimatorConfig"]

#: Bound on the estimates the view draws, samples x n_params (each estimator's (K, n_params) array; finite
#: differences roll out K samples once per hidden unit): the default is 6.2e4, the sliders' top 20000 x 103
#: (8 inputs, 6 + 6 hidden) = 2.1e6 runs in 1.1 s with the bias sweep, 4.0e6 in 2.0-2.1 s, while the domain's top
#: 100000 x 103 = 1.0e7 took 4.9 s. The default network (31 parameters) keeps the domain's 100000 samples (1.0 s).
ESTIMATOR_WORK = 4e6


def _hidden_spec(i: int, default: int) -> ParamSpec:
    return ParamSpec(f"hidden{i}", f"Units in hidden layer {i}", default, kind="int", symbol=f"n_{i}", domain=(0, 6),
                     slider=(0, 6), step=1,
                     help=f"Stochastic binary units in hidden layer {i}; 0 leaves the layer out. At most "
                          f"{MAX_HIDDEN_UNITS} hidden units in total (every spike pattern is enumerated).")


#: The gradient-estimator page's declared parameters, the fields of :class:`EstimatorConfig`.
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
        work({"samples": self.samples, "n_params": self.n_params}, ESTIMATOR_WORK,
             "lower samples, or use fewer inputs or hidden units")

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

    @property
    def n_params(self) -> int:
        """Weights and biases of the network (``BinaryNet.n_params``), from the layer sizes alone."""
        sizes = (self.n_in, *self.hidden, 1)
        return sum(n * (m + 1) for m, n in zip(sizes, sizes[1:], strict=False))

    def net(self) -> BinaryNet:
        return random_net(self.n_in, self.hidden, seed=self.seed, weight_scale=self.weight_scale, beta_n=self.beta_n,
                          theta=self.theta)
