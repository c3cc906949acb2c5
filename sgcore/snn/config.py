"""The trainer's declared parameters (:data:`TRAIN_PARAMS`), the validated :class:`TrainConfig` and the
presets (Gygax & Zenke Tables 2-3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..initschemes import INIT_SCHEMES
from ..lif import LIFParams
from ..localzo import ALPHAS, DISTRIBUTIONS
from ..params import DeclaredConfig, ParamSpec, declared, lookup
from ..shapes import SCALINGS, SHAPES, sd_param_specs
from .backward import BACKWARDS

__all__ = ["PRESETS", "PRESET_EPOCHS", "TRAIN_PARAMS", "TrainConfig", "preset"]


_SD = {spec.name: spec for spec in sd_param_specs()}  # the dampening and the shape's own q, as every page has them
_SIZE_CAP = 400
_STEP_CAP = 400
_TRIAL_CAP = 32

#: The spike-train trainer's declared parameters, the fields of :class:`TrainConfig` (Gygax & Zenke Sec. 5,
#: Fig. 6, Methods 8.4.1, Tables 2-3).
TRAIN_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("network", "Network", "deterministic", kind="choice", choices=("deterministic", "stochastic"),
              help="deterministic: Heaviside spikes; stochastic: sigmoid escape noise, gradients averaged over "
                   "trials."),
    ParamSpec("n_in", "Input neurons", 200, kind="int", domain=(1, _SIZE_CAP), slider=(10, _SIZE_CAP), step=10,
              help="Frozen Poisson inputs."),
    ParamSpec("n_hidden", "Hidden neurons", 200, kind="int", domain=(1, _SIZE_CAP), slider=(10, _SIZE_CAP), step=10),
    ParamSpec("n_out", "Output neurons", 200, kind="int", domain=(1, _SIZE_CAP), slider=(10, _SIZE_CAP), step=10,
              help="Rows of the target raster."),
    ParamSpec("n_steps", "Time steps", 189, kind="int", domain=(2, _STEP_CAP), slider=(20, _STEP_CAP), step=1,
              help="Columns of the target raster (the paper's 198 is a typo for 189)."),
    ParamSpec("trials", "Trials", 10, kind="int", domain=(1, _TRIAL_CAP), slider=(1, _TRIAL_CAP), step=1,
              help="Stochastic network: trials simulated in a batch; the update is their average."),
    ParamSpec("lr", "Learning rate", 1e-4, symbol=r"\eta", domain=(0.0, 10.0), open_low=True, slider=(1e-6, 0.1),
              step=1e-6, help="Output-layer learning rate (hidden layer: lr * hidden_lr_factor)."),
    ParamSpec("hidden_lr_factor", "Hidden / output learning rate", 0.1, domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 10.0), step=0.01, help="eta_hid / eta_out (paper: 0.1 deterministic, 1 stochastic)."),
    ParamSpec("optimizer", "Optimizer", "gd", kind="choice", choices=("gd", "adam"),
              help="gd: plain gradient descent (the paper); adam: Adam (beta1 0.9, beta2 0.999, eps 1e-8)."),
    ParamSpec("backward", "Backward pass", "sg", kind="choice", choices=BACKWARDS,
              help="sg: surrogate derivative; localzo: LocalZO estimate; sparsegrad: SD truncated at B_th."),
    ParamSpec("shape", "SD shape", "superspike", kind="choice", choices=SHAPES,
              help="Surrogate-derivative shape from the registry (sg and sparsegrad)."),
    ParamSpec("scale", "SD scaling", "auto", kind="choice", choices=("auto", *SCALINGS),
              help="auto = the shape's paper convention (superspike: peak 1/(beta|u|+1)^2; sigmoid: density "
                   "beta sigma (1 - sigma)); density = unit area; peak = SD(0) = 1; gamma = your dampening."),
    ParamSpec("beta_sg", "SD steepness", 10.0, symbol=r"\beta_{SG}", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 100.0), step=0.5, help="Steepness of the surrogate derivative (Table 2: 10)."),
    _SD["gamma"],
    _SD["q"],
    ParamSpec("match_escape", "SD steepness = escape noise", False, kind="bool",
              help="Stochastic network: each layer's SD uses its escape-noise steepness (beta_hid, beta_out) "
                   "instead of beta_sg."),
    ParamSpec("beta_hid", "Escape noise, hidden", 10.0, symbol=r"\beta_{hid}", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 200.0), step=1.0, help="Steepness of the hidden layer's sigmoid escape noise."),
    ParamSpec("beta_out", "Escape noise, output", 100.0, symbol=r"\beta_{out}", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 200.0), step=1.0, help="Steepness of the output layer's sigmoid escape noise."),
    ParamSpec("localzo_dist", "LocalZO z distribution", "normal", kind="choice", choices=tuple(DISTRIBUTIONS),
              help="Unit-variance distribution of z."),
    ParamSpec("localzo_delta", "LocalZO delta", 0.1, symbol=r"\delta", domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 2.0), step=0.01, help="Active where |U - theta| <= delta |z|."),
    ParamSpec("localzo_m", "LocalZO samples", 1, kind="int", symbol="m", domain=(1, 20), slider=(1, 20), step=1,
              help="Samples z_k averaged per neuron and step (Eq. 7)."),
    ParamSpec("localzo_alpha", "LocalZO exponent", "1", kind="choice", symbol=r"\alpha",
              choices=tuple(str(a) for a in ALPHAS), help="|z|^alpha in Eq. 8."),
    ParamSpec("sparse_threshold", "SparseGrad threshold", 0.5, symbol="B_{th}", domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 2.0), step=0.01, help="SD kept where |U - theta| < B_th."),
    ParamSpec("reset", "Reset", "same", kind="choice", choices=("same", "next"),
              help="same: reset within the step (the paper's spike-train task); next: Eq. 21."),
    ParamSpec("backprop_reset", "Back-propagate through the reset", False, kind="bool",
              help="Keep the derivative of the reset factor (1 - S) (stochAD); off is common practice."),
    ParamSpec("dt", "Time step", 1.0, symbol=r"\Delta t", domain=(0.0, 100.0), open_low=True, slider=(0.1, 5.0),
              step=0.1, unit="ms"),
    ParamSpec("tau_mem", "Membrane time constant", 10.0, symbol=r"\tau_{mem}", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 100.0), step=0.5, unit="ms"),
    ParamSpec("tau_syn", "Synaptic time constant", 5.0, symbol=r"\tau_{syn}", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 50.0), step=0.5, unit="ms"),
    ParamSpec("input_rate", "Input rate", 50.0, symbol=r"\nu", domain=(0.0, 1000.0), open_low=True, slider=(1.0, 200.0),
              step=1.0,
              unit="Hz", help="Rate of the frozen Poisson input (and nu of the initialisation)."),
    ParamSpec("init", "Weight initialisation", "fluctuation", kind="choice", choices=INIT_SCHEMES,
              help="fluctuation: fluctuation-driven normal weights (nu = the input rate, sigma_U = 1). Herranz-Celotti "
                   "& Rouat's schemes: Glorot Var = 2/(fan_in + fan_out), He Var = 2/fan_in or orthogonal (QR), drawn "
                   "uniform, normal or BiGamma (+-Gamma(3, theta): never zero)."),
    ParamSpec("fano_window", "Fano window", 1, kind="int", domain=(1, 50), slider=(1, 20), step=1, unit="steps",
              help="1: per-step bins (the issue's recipe); 10: the paper's moving average."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seeds the input, the weights and the escape noise."),
)


@declared
class TrainConfig(DeclaredConfig):
    """A validated training configuration; defaults are the paper's deterministic network (Tables 2-3).

    Its fields are :data:`TRAIN_PARAMS`, in order (``network`` too: a user's choice with a widget and a URL key).
    """

    PARAMS = TRAIN_PARAMS

    def __post_init__(self) -> None:
        if isinstance(self.localzo_alpha, int) and not isinstance(self.localzo_alpha, bool):
            object.__setattr__(self, "localzo_alpha", str(self.localzo_alpha))
        super().__post_init__()
        if self.fano_window > self.n_steps:
            raise ValueError(f"fano_window must be an integer in [1, n_steps = {self.n_steps}]; "
                             f"got {self.fano_window}")

    @property
    def lif(self) -> LIFParams:
        return LIFParams(dt=self.dt, tau_mem=self.tau_mem, tau_syn=self.tau_syn, theta=1.0, reset=self.reset,
                         detach_reset=not self.backprop_reset)

    @property
    def batch(self) -> int:
        """Trials simulated per epoch (1 for the deterministic network)."""
        return self.trials if self.network == "stochastic" else 1

    @classmethod
    def preset(cls, name: str, network: str = "deterministic", **overrides: Any) -> TrainConfig:
        return preset(name, network, **overrides)


_PAPER: dict[str, dict[str, Any]] = {
    "deterministic": dict(network="deterministic", n_in=200, n_hidden=200, n_out=200, n_steps=189, trials=1,
                          lr=1e-4, hidden_lr_factor=0.1, optimizer="gd", backward="sg", shape="superspike",
                          scale="auto", beta_sg=10.0, reset="same", backprop_reset=False, input_rate=50.0),
    "stochastic": dict(network="stochastic", n_in=200, n_hidden=200, n_out=200, n_steps=189, trials=10,
                       lr=1e-5, hidden_lr_factor=1.0, optimizer="gd", backward="sg", shape="sigmoid",
                       scale="auto", beta_sg=10.0, match_escape=False, beta_hid=10.0, beta_out=100.0,
                       reset="same", backprop_reset=False, input_rate=50.0),
}

#: Presets: ``PRESETS[name][network]`` holds the TrainConfig overrides.
#: "paper": Gygax & Zenke Fig. 6, Tables 2-3 (200-200-200, 189 steps, plain gradient descent, deterministic
#: SuperSpike beta 10 with eta_hid 1e-5 / eta_out 1e-4, stochastic sigma'(beta 10) SD with escape noise
#: beta_hid 10 / beta_out 100, eta 1e-5, 10 trials; 5000 epochs in the paper).
#: "quick": the paper's network and SDs with Adam (lr 2e-3, both layers), tuned so that both networks visibly
#: learn the 25%-density :func:`default_target` in PRESET_EPOCHS["quick"] = 600 epochs. Measured (1 thread):
#: deterministic L2 10557 -> 4220, van Rossum 48904 -> 2402 in 1.6 s; stochastic L2 10623 -> 5223,
#: van Rossum 48780 -> 7921, output Fano 0.75 -> 0.35 in 9.3 s.
PRESETS: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "paper": _PAPER,
    "quick": {net: {**values, "lr": 2e-3, "hidden_lr_factor": 1.0, "optimizer": "adam"}
              for net, values in _PAPER.items()},
}

#: Epochs the presets are meant to run for (the paper trained 5000).
PRESET_EPOCHS: Mapping[str, int] = {"paper": 5000, "quick": 600}


def preset(name: str, network: str = "deterministic", **overrides: Any) -> TrainConfig:
    """The TrainConfig of preset ``name`` ("paper" or "quick") for ``network``, with ``overrides`` applied."""
    table = lookup(PRESETS, name, "preset")
    values = dict(lookup(table, network, "network"))
    values.update(overrides)
    return TrainConfig(**values)
