"""What the design and initialisation pages take: declared parameters, validated configs and the paper's presets.

:data:`DESIGN_PARAMS` / :class:`DesignConfig` for the SD-design page, :data:`INIT_PARAMS` / :class:`InitConfig`
for the calculator (an :class:`OptionalSpec` left unset is derived), :data:`PRESETS` the paper's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, ClassVar

from ..params import DeclaredConfig, ParamSpec, declared, work
from ..shapes import Q_SPEC, SHAPES


@dataclass(frozen=True)
class OptionalSpec(ParamSpec):
    """A ParamSpec whose value may be left unset (None): the calculator then derives it (see ``notes``).

    ``default`` is None; ``fallback`` is what a widget shows before the user sets the value.
    """

    fallback: float = 0.0

    def validate(self, value: Any) -> Any:
        return None if value is None else super().validate(value)

    def describe_domain(self) -> str:
        return super().describe_domain() + " (or unset: derived)"


_SHAPE_SPEC = ParamSpec("shape", "SD shape f", "exponential", kind="choice", choices=SHAPES,
                        help="Standard form f of the registry (peak 1, unit area, Table S1).")

#: The surrogate-design page's declared parameters, the fields of :class:`DesignConfig` (Herranz-Celotti &
#: Rouat Sec. 2.2 and Table S1: shape, dampening gamma, sharpness s; Eq. 2's voltage range).
DESIGN_PARAMS: tuple[ParamSpec, ...] = (
    _SHAPE_SPEC,
    ParamSpec("gamma", "Dampening", 1.0, symbol=r"\gamma", domain=(0.0, 1e4), open_low=True, slider=(0.01, 5.0),
              step=0.01, help="Height of the SD: sigma'(v) = gamma f(s v)."),
    ParamSpec("sharpness", "Sharpness", 1.0, symbol="s", domain=(0.0, 1e4), open_low=True, slider=(0.01, 20.0),
              step=0.01, help="Inverse width of the SD (the paper calls it the width)."),
    ParamSpec("thr", "Threshold", 1.0, symbol=r"\vartheta", domain=(-1e4, 1e4), slider=(-5.0, 5.0), step=0.05,
              help="v = y - thr is the centred voltage."),
    ParamSpec("y_min", "Lowest voltage", -1.0, symbol=r"y_{\min}", domain=(-1e6, 1e6), slider=(-50.0, 50.0),
              step=0.1, help="y is uniform on [y_min, y_max] (Eq. 2's non-informative prior)."),
    ParamSpec("y_max", "Highest voltage", 3.0, symbol=r"y_{\max}", domain=(-1e6, 1e6), slider=(-50.0, 50.0),
              step=0.1, help="y is uniform on [y_min, y_max]."),
    replace(Q_SPEC),
    ParamSpec("v_span", "Plotted range of v", 4.0, symbol=r"\Delta v", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 20.0), step=0.5, help="SD curves on -span .. span."),
    ParamSpec("n_points", "Curve resolution", 401, kind="int", domain=(11, 10_001), slider=(51, 2001), step=50,
              help="Points per curve."),
    ParamSpec("mc_samples", "Monte Carlo samples", 20_000, kind="int", domain=(10, 10_000_000),
              slider=(100, 200_000), step=100, help="Draws of y for the Monte Carlo check of Eq. 2."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of the Monte Carlo draws."),
)


@declared
class DesignConfig(DeclaredConfig):
    """A validated SD-design page state."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = DESIGN_PARAMS

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.y_min < self.y_max:
            raise ValueError(f"y_min must be below y_max; got y_min={self.y_min:g}, y_max={self.y_max:g}")


def _opt(name: str, label: str, symbol: str, domain: tuple[float, float], slider: tuple[float, float],
         fallback: float, help_text: str, step: float = 0.001, open_low: bool = False) -> OptionalSpec:
    return OptionalSpec(name, label, None, symbol=symbol, domain=domain, slider=slider, step=step,
                        open_low=open_low, help=help_text, fallback=fallback)


#: The initialisation-conditions calculator's declared parameters, the fields of :class:`InitConfig`
#: (Herranz-Celotti & Rouat Sec. 3.3-3.4, Appendix B).
INIT_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("alpha_decay", "Membrane decay", 0.9, symbol=r"\alpha_{decay}", domain=(0.0, 1.0), open_low=True,
              open_high=True, slider=(0.5, 0.999), step=0.001, help="y_t = alpha_decay y_{t-1} + ... (Eq. 1)."),
    ParamSpec("thr", "Threshold", 1.0, symbol=r"\vartheta", domain=(0.0, 1e4), open_low=True, slider=(0.05, 5.0),
              step=0.05, help="Firing threshold (> 0), also the size of the subtractive reset."),
    ParamSpec("n_rec", "Recurrent neurons", 100, kind="int", symbol=r"n_{rec}", domain=(2, 100_000),
              slider=(10, 400), step=1, help="Layer size; each neuron has n_rec - 1 recurrent inputs."),
    ParamSpec("n_in", "Inputs", 100, kind="int", symbol=r"n_{in}", domain=(1, 100_000), slider=(1, 1000), step=1,
              help="Dimension of z_t (data channels, or the layer below)."),
    ParamSpec("mean_z", "Input mean", 0.5, symbol=r"\mathrm{Mean}[z]", domain=(-1e3, 1e3), slider=(0.0, 2.0),
              step=0.01, help="Measured on the train set for a first layer; 1/2 for a layer below (CI)."),
    ParamSpec("var_z", "Input variance", 0.25, symbol=r"\mathrm{Var}[z]", domain=(0.0, 1e6), slider=(0.0, 2.0),
              step=0.01, help="Measured on the train set for a first layer; 1/4 for a layer below."),
    ParamSpec("var_w_in", "Input-weight variance", 0.01, symbol=r"\mathrm{Var}[w_{in}]", domain=(0.0, 1e4),
              open_low=True, slider=(0.0001, 0.1), step=0.0001,
              help="Chosen freely (Mean[w_in] = 0); e.g. Glorot 2/(n_in + n_rec)."),
    ParamSpec("xi", "Input is a layer below", 0, kind="int", symbol=r"\xi", domain=(0, 1), slider=(0, 1), step=1,
              help="0: z is data (no gradient to pass); 1: z is the layer below (adds its terms to CIII, CIV)."),
    _opt("mean_w_rec", "Mean[w_rec] used by CII", r"\mathrm{Mean}[w_{rec}]", (-1e3, 1e3), (-0.1, 0.1), 0.0,
         "Default: the CI mean."),
    _opt("min_w_rec", "Min[w_rec]", r"\mathrm{Min}[w_{rec}]", (-1e3, 1e3), (-1.0, 1.0), -0.1,
         "For CIII and B.6. Default: uniform W_rec with the CI mean and CII variance: mean - sqrt(3 var)."),
    _opt("max_w_rec", "Max[w_rec]", r"\mathrm{Max}[w_{rec}]", (-1e3, 1e3), (-1.0, 1.0), 0.1,
         "For CIII and B.6. Default: mean + sqrt(3 var) of the uniform W_rec."),
    _opt("e_w_rec_sq", "E[w_rec^2]", r"E[w_{rec}^2]", (0.0, 1e6), (0.0001, 0.1), 0.01,
         "For CIV. Default: Var + Mean^2 of W_rec (CII and CI).", open_low=True),
    _opt("max_w_in", "Max[w_in]", r"\mathrm{Max}[w_{in}]", (0.0, 1e3), (0.0, 1.0), 0.1,
         "For CIII (xi = 1) and B.6. Default: sqrt(3 Var[w_in]) (uniform, mean 0); Min[w_in] = -Max[w_in]."),
    _opt("gamma_in", "Dampening of the layer below", r"\gamma_{in}", (0.0, 1e4), (0.0, 2.0), 1.0,
         "xi = 1 only. Default: CIII of a data-driven layer (xi = 0) with this layer's n_rec, decay, threshold and "
         "W_rec statistics."),
    _opt("e_sd_in_sq", "E[sigma'_in^2] of the layer below", r"E[\sigma'^2_{in}]", (0.0, 1e4), (0.0, 1.0), 0.1,
         "xi = 1 only. Default: CIV of a data-driven layer (xi = 0) with this layer's statistics."),
    _opt("gamma", "Dampening for the sharpness", r"\gamma", (0.0, 1e4), (0.01, 5.0), 1.0,
         "Dampening used to solve CIV for s. Default: the CIII dampening.", step=0.01, open_low=True),
    _opt("y_min", "Lowest voltage", r"y_{\min}", (-1e6, 1e6), (-50.0, 50.0), -1.0,
         "For Eq. 2. Default: Appendix B.6 (Eq. 74).", step=0.1),
    _opt("y_max", "Highest voltage", r"y_{\max}", (-1e6, 1e6), (-50.0, 50.0), 3.0,
         "For Eq. 2. Default: Appendix B.6 (Eq. 72).", step=0.1),
    replace(_SHAPE_SPEC, help="Shape whose sharpness is solved from CIV through Eq. 2 (the paper: exponential)."),
    replace(Q_SPEC),
    ParamSpec("n_steps", "Simulated steps", 150, kind="int", domain=(2, 100_000), slider=(20, 1000), step=10,
              help="Time steps of the 'does the theory hold?' simulation."),
    ParamSpec("batch", "Simulated inputs", 16, kind="int", domain=(1, 10_000), slider=(1, 256), step=1,
              help="Independent input sequences (batch) in the simulation."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of weights and inputs in the simulation."),
)


#: Bound on the theory check's multiply-adds, n_steps x batch x n_rec x (n_rec + n_in) (two layers, one step each
#: a batch x (n_rec + n_in) by n_rec product): the default is 4.8e7 (0.1 s), the SHD preset 3.1e8 (0.5 s); 1e9
#: keeps a rerun near a second, where the domains' maxima ask for 2e19.
INIT_WORK = 1e9
#: Bound on the simulated input spikes held at once, n_steps x batch x n_in (float64): 2e7 is 160 MB.
INIT_INPUTS = 2e7


@declared
class InitConfig(DeclaredConfig):
    """A validated initialisation-calculator state; optional fields left as None are derived."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = INIT_PARAMS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_w_rec is not None and self.max_w_rec is not None and not self.min_w_rec < self.max_w_rec:
            raise ValueError(f"min_w_rec must be below max_w_rec; got {self.min_w_rec:g} and {self.max_w_rec:g}")
        if self.y_min is not None and self.y_max is not None and not self.y_min < self.y_max:
            raise ValueError(f"y_min must be below y_max; got {self.y_min:g} and {self.y_max:g}")
        work({"n_steps": self.n_steps, "batch": self.batch, "n_in": self.n_in}, INIT_INPUTS,
             "lower n_steps, batch or n_in")
        work({"n_steps": self.n_steps, "batch": self.batch, "n_rec": self.n_rec,
              "(n_rec + n_in)": self.n_rec + self.n_in}, INIT_WORK, "lower n_steps, batch, n_rec or n_in")


def _slmnist(shape: str, q: float | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"shape": shape, "gamma": 1.0, "sharpness": 1.0}
    if q is not None:
        values["q"] = q
    return values


_SHD_N = 256
#: Named settings from the paper: page ("design" or "init"), values, and where they come from.
PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    **{f"slmnist_{s}": {"page": "design", "values": _slmnist(s),
                       "source": "Sec. 3.2 / Fig. 3: ALIF on sl-MNIST, dampening = sharpness = 1 for every SG"}
       for s in ("triangular", "exponential", "superspike", "sigmoid", "gaussian", "rectangular")},
    "slmnist_q1.05": {"page": "design", "values": _slmnist("q_pseudospike", 1.05),
                      "source": "Sec. 3.2 / Fig. 3 right: the best tail fatness q = 1.05 (gamma = s = 1)"},
    "slmnist_q2": {"page": "design", "values": _slmnist("q_pseudospike", 2.0),
                   "source": "Sec. 3.2: q = 2 turns q-PseudoSpike into the fast-sigmoid derivative (gamma = s = 1)"},
    "shd_lif_layer2": {
        "page": "init",
        "values": {"n_rec": _SHD_N, "n_in": _SHD_N, "xi": 1, "mean_z": 0.5, "var_z": 0.25,
                   "var_w_in": 2.0 / (_SHD_N + _SHD_N), "shape": "exponential", "alpha_decay": 0.9, "thr": 1.0},
        "source": "Sec. 2.5, 2.6, 3.4 / Fig. 5: LIF, 256 neurons per layer on SHD, exponential SG, second layer of the "
                  "stack (xi = 1, Mean z = 1/2, Var z = 1/4 by CI), Glorot Var[w_in] = 2/(n_in + n_rec). The paper "
                  "prints neither alpha_decay nor thr: 0.9 and 1 are placeholders.",
    },
})
