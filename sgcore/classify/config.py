"""The classifier's declared parameters (:data:`CLASSIFY_PARAMS`), the validated :class:`ClassifyConfig`, the
data choice (:data:`DATA_PARAMS`) and the presets (Gygax & Zenke Tables 2-3, Fig. 7, S1).

The backward method and its parameters are the spike-train trainer's own declarations (one definition:
:data:`sgcore.snn.TRAIN_PARAMS`), so a backward method or shape registered once is offered on both pages.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..initschemes import CONDITIONS, INIT_SCHEMES, check_conditions
from ..params import DeclaredConfig, ParamSpec, declared, work
from ..snn.config import TRAIN_PARAMS
from .data import RANDMAN_PARAMS
from .engine import LAYER_KINDS, LOSSES, NetSpec
from .optim import OPTIMIZERS

__all__ = ["CLASSIFY_PARAMS", "CLASSIFY_PRESETS", "DATA_PARAMS", "HOSTED_MINIBATCH_CELLS", "MINIBATCH_CELLS",
           "ClassifyConfig", "DataConfig", "classify_preset"]

_T = {p.name: p for p in TRAIN_PARAMS}
_BACKWARD = ("backward", "shape", "scale", "beta_sg", "gamma", "q", "sparse_threshold", "localzo_dist",
             "localzo_delta", "localzo_m", "localzo_alpha")
#: Bound on one epoch's work, training samples x steps x hidden units x (inputs + hidden units): the Fig. S1 preset
#: is 8.4e8; SHD-sized dense networks (8156 x 350 x 128 x 828) are 3e11.
EPOCH_WORK = 2e12
#: Bound on a minibatch's state, minibatch x steps x hidden neurons (the engine keeps ~45 bytes per cell: Table 3's
#: SHD ConvSNN, 400 x 350 x 2080 = 2.9e8 cells, peaked at 13 GB). A hosted page uses :data:`HOSTED_MINIBATCH_CELLS`.
MINIBATCH_CELLS = 3.5e8
#: The same bound on a server shared by a class (~1 GB per training).
HOSTED_MINIBATCH_CELLS = 2e7

#: The classification page's declared parameters, the fields of :class:`ClassifyConfig` (Gygax & Zenke Sec. 6,
#: Fig. 7, Methods 8.4.2, Tables 2-3; the architecture, initialisation and conditions after Herranz-Celotti & Rouat).
CLASSIFY_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("network", "Network", "deterministic", kind="choice", choices=("deterministic", "stochastic"),
              help="deterministic: Heaviside spikes; stochastic: sigmoid escape noise (one trial per update, "
                   "Table 2)."),
    ParamSpec("layers", "Layer kind", "dense", kind="choice", choices=LAYER_KINDS,
              help="dense: all-to-all weights; conv: Table 3's 1-D convolutions (16-32-64 channels, kernels 21-7-7, "
                   "strides 10-3-3, recurrent kernel 5), the ConvSNN of Fig. 7, for SHD's 700 input channels."),
    ParamSpec("n_layers", "Hidden layers", 1, kind="int", domain=(1, 3), slider=(1, 3), step=1,
              help="LIF layers between the input and the readout (conv: the first n of Table 3's)."),
    ParamSpec("n_hidden", "Hidden neurons per layer", 128, kind="int", domain=(1, 512), slider=(8, 256), step=8,
              help="Dense layers (Fig. S1: 128); conv layers have Table 3's channels x their length."),
    ParamSpec("recurrent", "Recurrent hidden layers", False, kind="bool",
              help="Each hidden layer also receives its own spikes through recurrent weights V (Table 3's ConvSNN is "
                   "recurrent; its initial variance is shared 0.9 / 0.1 between input and recurrence)."),
    ParamSpec("init", "Weight initialisation", "fluctuation", kind="choice", choices=INIT_SCHEMES,
              help="fluctuation: fluctuation-driven normal weights (Methods 8.4.2). Herranz-Celotti & Rouat's schemes "
                   "(Fig. 4): Glorot Var = 2/(fan_in + fan_out), He Var = 2/fan_in or orthogonal (QR), drawn uniform, "
                   "normal or BiGamma (+-Gamma(3, theta): never zero)."),
    ParamSpec("conditions", "HC conditions I-IV", "none", kind="choice", choices=CONDITIONS,
              help="Herranz-Celotti & Rouat's Conditions (Sec. 2.6, Fig. 5) on top of the initialisation: I sets the "
                   "mean and II the variance of the recurrent weights, III the SD's dampening and IV its sharpness "
                   "(the backward then uses scale gamma with those values). Needs one dense recurrent layer. III and "
                   "IV together have no solution (the dampening III gives is too small for IV)."),
    ParamSpec("loss", "Readout", "max", kind="choice", choices=LOSSES,
              help="max: the maximum over time of each readout membrane potential (Eq. 29); sum / mean over time."),
    ParamSpec("reg", "Activity regulariser", True, kind="bool",
              help="Soft upper bound on each layer's mean spike count per sample (Eqs. 26-27, with the sign that "
                   "penalises activity above the bound)."),
    ParamSpec("theta_upper", "Regulariser bound", 7.0, symbol=r"\vartheta_{upper}", domain=(0.0, 1e4),
              slider=(0.0, 50.0), step=0.5,
              help="Spikes per neuron and sample above which activity is penalised (Table 3: 7)."),
    ParamSpec("lambda_upper", "Regulariser strength", 0.01, symbol=r"\lambda_{upper}", domain=(0.0, 100.0),
              slider=(0.0, 1.0), step=0.01, help="Table 3: 0.01."),
    ParamSpec("optimizer", "Optimizer", "smorms3", kind="choice", choices=tuple(OPTIMIZERS),
              help="smorms3: as in Methods 8.4.2 (Funk 2015's update; the paper's printed m differs); adam; gd: "
                   "plain gradient descent."),
    ParamSpec("lr", "Learning rate", 0.01, symbol=r"\eta", domain=(0.0, 10.0), open_low=True, slider=(1e-5, 0.1),
              step=1e-5, help="Table 2: 0.01 with SMORMS3."),
    ParamSpec("batch", "Minibatch", 32, kind="int", domain=(1, 1024), slider=(1, 400), step=1,
              help="Samples per update (Table 3: 400 on SHD)."),
    ParamSpec("beta_noise", "Escape noise", 10.0, symbol=r"\beta_N", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 100.0), step=1.0,
              help="Steepness of the stochastic network's sigmoid escape noise (Table 2: 10); also the noise the "
                   "deterministic network is tested with in the cross-evaluation."),
    *(_T[name] for name in _BACKWARD),
    ParamSpec("reset", "Reset", "next", kind="choice", choices=("next", "same"),
              help="next: the membrane resets at the step after a spike (Table 3, classification); same: in the "
                   "spike's own step."),
    ParamSpec("bp_reset", "Back-propagate through the reset", False, kind="bool",
              help="Fig. S2C 'diff. reset': gradients also flow through the reset factor (1 - S)."),
    ParamSpec("tau_mem", "Membrane time constant", 20.0, symbol=r"\tau_{mem}", unit="ms", domain=(0.0, 1e4),
              open_low=True, slider=(1.0, 100.0), step=1.0, help="Table 3: 20 ms."),
    ParamSpec("tau_syn", "Synaptic time constant", 10.0, symbol=r"\tau_{syn}", unit="ms", domain=(0.0, 1e4),
              open_low=True, slider=(1.0, 100.0), step=1.0, help="Table 3: 10 ms."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Initial weights, minibatch order and escape noise."),
)


@declared
class ClassifyConfig(DeclaredConfig):
    """Everything one network's training on the classification page (and ``python -m sgcore classify``) is
    built from, besides the data."""

    PARAMS = CLASSIFY_PARAMS

    def __post_init__(self) -> None:
        if isinstance(self.localzo_alpha, int) and not isinstance(self.localzo_alpha, bool):
            object.__setattr__(self, "localzo_alpha", str(self.localzo_alpha))
        super().__post_init__()
        check_conditions(self.conditions, recurrent=self.recurrent, layers=self.layers, n_layers=self.n_layers,
                         backward=self.backward)

    @property
    def stochastic(self) -> bool:
        return self.network == "stochastic"

    def spec(self, n_in: int, n_classes: int, steps: int, dt_ms: float) -> NetSpec:
        """The engine's network for data of these dimensions (conv: the first ``n_layers`` of Table 3's layers;
        ``ValueError`` naming the kernel that does not fit the input)."""
        conv = {}
        if self.layers == "conv":
            table3 = NetSpec(layers="conv", n_in=max(n_in, 700))
            conv = {"layers": "conv", "channels": table3.channels[:self.n_layers],
                    "kernels": table3.kernels[:self.n_layers], "strides": table3.strides[:self.n_layers],
                    "rec_kernel": table3.rec_kernel}
        return NetSpec(**conv, n_in=n_in, hidden=(self.n_hidden,) * self.n_layers, n_classes=n_classes, steps=steps,
                       dt_ms=dt_ms, recurrent=self.recurrent, tau_mem=self.tau_mem, tau_syn=self.tau_syn,
                       reset=self.reset, bp_reset=self.bp_reset, stochastic=self.stochastic,
                       beta_noise=self.beta_noise, loss=self.loss, reg=self.reg, theta_upper=self.theta_upper,
                       lambda_upper=self.lambda_upper)

    def minibatch_cells(self, steps: int, hidden: tuple[int, ...], limit: float = MINIBATCH_CELLS) -> int:
        """A minibatch's state size, or ``ValueError`` naming the factors when it exceeds ``limit``."""
        return work({"batch": self.batch, "steps": steps, "hidden neurons": sum(hidden)}, limit,
                    "use a smaller minibatch, fewer steps or fewer hidden neurons")

    def epoch_work(self, n_train: int, n_in: int, steps: int, hidden: tuple[int, ...] | None = None) -> int:
        """One epoch's size, or ``ValueError`` naming the factors when it exceeds :data:`EPOCH_WORK` (``hidden``:
        the layers' neuron counts, default ``n_layers`` x ``n_hidden``)."""
        hidden = hidden or (self.n_hidden,) * self.n_layers
        return work({"training samples": n_train, "steps": steps, "hidden units": sum(hidden),
                     "(inputs + hidden units)": n_in + max(hidden)}, EPOCH_WORK,
                    "use fewer samples, steps or hidden units")


# --- the data choice ----------------------------------------------------------------------------------------------
_R = {p.name: p for p in RANDMAN_PARAMS}
DATA_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("dataset", "Dataset", "randman", kind="choice", choices=("randman", "shd"),
              help="randman: seeded random manifolds (Zenke & Vogels 2021), made on the fly; shd: the Spiking "
                   "Heidelberg Digits from your own HDF5 files (local use only)."),
    *(replace(p, name="data_" + p.name if p.name == "seed" else p.name) for p in RANDMAN_PARAMS),
)


@declared
class DataConfig(DeclaredConfig):
    """The data choice: Randman's parameters (its seed named ``data_seed`` beside the network's ``seed``)."""

    PARAMS = DATA_PARAMS

    def randman(self) -> Any:
        """The Randman config these values describe."""
        from .data import RandmanConfig

        return RandmanConfig(**{p.name: getattr(self, "data_" + p.name if p.name == "seed" else p.name)
                                for p in RANDMAN_PARAMS})


# --- presets ------------------------------------------------------------------------------------------------------
_QUICK_DATA = {"dataset": "randman", "classes": 10, "units": 40, "steps": 50, "dim": 2, "samples_per_class": 100,
               "spikes": 1, "data_seed": 0}
_SHARED = {"optimizer": "smorms3", "lr": 0.01, "shape": "superspike", "beta_sg": 10.0, "scale": "auto",
           "beta_noise": 10.0, "loss": "max", "reg": True, "reset": "next"}
#: name -> (data values, values of both networks). "quick": both networks visibly learn within seconds on a 2-core
#: machine; "fig_s1": Randman with 128 hidden units (Fig. S1); "fig7_shd": Table 3's training on SHD (the
#: recurrent ConvSNN); "s2c_*": Fig. S2C's variants: back-propagation through the reset, the sigmoid SG scaled by
#: 1/beta_SG (sigma (1 - sigma): gamma 1/4 of the unit-peak form), the unscaled sigmoid SG with beta_SG = 1.
CLASSIFY_PRESETS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "quick": (_QUICK_DATA, {**_SHARED, "n_layers": 1, "n_hidden": 128, "batch": 32}),
    "fig_s1": ({**_QUICK_DATA, "units": 100, "steps": 100, "dim": 1, "samples_per_class": 500},
               {**_SHARED, "n_layers": 1, "n_hidden": 128, "batch": 64}),
    "fig7_shd": ({"dataset": "shd"}, {**_SHARED, "layers": "conv", "n_layers": 3, "recurrent": True, "batch": 400}),
    # Fig. S2C's variants of the stochastic network's training, on the quick demo's data
    "s2c_diff_reset": (_QUICK_DATA, {**_SHARED, "n_layers": 1, "n_hidden": 128, "batch": 32, "bp_reset": True}),
    "s2c_scaled_sigmoid": (_QUICK_DATA, {**_SHARED, "n_layers": 1, "n_hidden": 128, "batch": 32, "shape": "sigmoid",
                                         "scale": "gamma", "gamma": 0.25}),
    "s2c_sigmoid_beta1": (_QUICK_DATA, {**_SHARED, "n_layers": 1, "n_hidden": 128, "batch": 32, "shape": "sigmoid",
                                        "scale": "density", "beta_sg": 1.0}),
}


def classify_preset(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data values, network values) of a preset; ``ValueError`` listing the names if unknown."""
    if name not in CLASSIFY_PRESETS:
        raise ValueError(f"preset must be one of {', '.join(CLASSIFY_PRESETS)}; got {name!r}")
    data, net = CLASSIFY_PRESETS[name]
    return dict(data), dict(net)
