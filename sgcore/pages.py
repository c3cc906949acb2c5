"""The page registry: each page of the app once, with everything the sidebar, lessons, CLI, tests and benchmarks read.

A page is its script (``path``) plus one :class:`Page` entry in :data:`PAGES`: the title it gives ``page_setup``,
its place in the navigation, the keys a link may carry (``specs``), its preset chips, its lesson and its CLI
subcommands. Plain data: no Streamlit here.

>>> PAGES["escape"].commands[0].name
'escape'
>>> PAGES.by_title("Live training").key
'training'
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from . import classify_page, design_page, sweeps_page, training_page
from . import commands as cmd
from .classify import commands as classify_cmd
from .classify.data import RANDMAN_PARAMS
from .design import DESIGN_PARAMS, INIT_PARAMS, DesignConfig, InitConfig, design_view, init_view
from .escape import ESCAPE_PARAMS, EscapeConfig, escape_view
from .estimators import ESTIMATOR_PARAMS, EstimatorConfig, estimator_view
from .localzo import LOCALZO_PARAMS, LocalZOConfig, localzo_view
from .loop import LOOP_PARAMS, LoopConfig, loop_view
from .params import ParamSpec
from .signflip import SIGNFLIP_PARAMS, SignflipConfig, signflip_view
from .snn import LIF_TRACE_PARAMS, TRAIN_PARAMS
from .sweep import commands as sweep_cmd

__all__ = ["HOME", "PAGES", "Command", "Compute", "Lesson", "Page", "Registry"]

HOME = "home"  #: key of the entry point (``app.py``)


@dataclass(frozen=True)
class Lesson:
    """A short lesson a classroom link opens (``lesson=1``): a title and a Markdown body."""

    title: str
    body: str


@dataclass(frozen=True)
class Command:
    """One subcommand of ``python -m sgcore``.

    Its options are ``specs`` (declared parameters, as ``--kebab-case``) followed by what ``add_arguments`` adds;
    ``run`` turns the parsed arguments into the dictionary printed as JSON (``ValueError``: exit status 2).
    """

    name: str
    help: str
    run: Callable[[argparse.Namespace], Mapping[str, Any]]
    specs: tuple[ParamSpec, ...] = ()
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None


@dataclass(frozen=True)
class Compute:
    """One computation a page draws: its configuration class and the view function the page, the CLI and the
    CSV downloads share. ``values`` maps the page's link values to the configuration's fields (default: as
    they are; other keys are ignored by ``from_mapping``)."""

    config: type
    view: Callable[[Any], Any]
    values: Callable[[Mapping[str, Any]], Mapping[str, Any]] = dict

    def configure(self, values: Mapping[str, Any] | None = None) -> Any:
        """The validated configuration for the page's link ``values`` (defaults where absent)."""
        return self.config.from_mapping(self.values(values or {}))

    def run(self, values: Mapping[str, Any] | None = None) -> Any:
        """The view for the page's link ``values``."""
        return self.view(self.configure(values))


@dataclass(frozen=True)
class Page:
    """One page of the app.

    ``title`` is the string the script passes to ``page_setup`` (lessons and classroom links are keyed by it);
    ``path`` is the script relative to the app's root; ``specs`` are every key a link may carry, as the page checks
    them; ``presets`` are its preset chips (label -> values); ``probe`` is the slider the benchmarks move (one that
    feeds a chart at default settings); ``computes`` are the computations it draws (config -> view).
    """

    key: str
    title: str
    path: str
    label: str
    icon: str
    blurb: str
    specs: tuple[ParamSpec, ...] = ()
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    lesson: Lesson | None = None
    commands: tuple[Command, ...] = ()
    probe: str | None = None
    computes: tuple[Compute, ...] = ()

    @property
    def url_path(self) -> str:
        """The page's URL path as Streamlit names a ``pages/`` script: ``pages/1_Escape_noise.py`` -> ``Escape_noise``
        (the entry point is ``""``)."""
        if self.key == HOME:
            return ""
        stem = PurePosixPath(self.path).stem
        head, _, rest = stem.partition("_")
        return rest if head.isdigit() and rest else stem


class Registry(Mapping[str, Page]):
    """Pages by key, in navigation order (the entry point first). Keys, titles, paths and command names are unique.

    Immutable: :meth:`add` returns a new registry (e.g. a scratch page in a test).
    """

    def __init__(self, pages: Iterable[Page]) -> None:
        self._pages: dict[str, Page] = {}
        seen: dict[str, set[str]] = {"key": set(), "title": set(), "path": set(), "command": set()}
        for page in pages:
            names = {"key": [page.key], "title": [page.title], "path": [page.path],
                     "command": [c.name for c in page.commands]}
            for kind, values in names.items():
                clash = sorted(set(values) & seen[kind]) or sorted({v for v in values if values.count(v) > 1})
                if clash:
                    raise ValueError(f"page {page.key!r}: {kind} {clash[0]!r} is already registered")
                seen[kind].update(values)
            self._pages[page.key] = page

    def __getitem__(self, key: str) -> Page:
        try:
            return self._pages[key]
        except KeyError:
            raise KeyError(f"unknown page {key!r}; registered: {', '.join(self._pages)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._pages)

    def __len__(self) -> int:
        return len(self._pages)

    def add(self, page: Page) -> Registry:
        """A new registry with ``page`` appended (last in the navigation)."""
        return Registry([*self.values(), page])

    def by_title(self, title: str) -> Page | None:
        """The page whose script calls ``page_setup(title)``, or None."""
        return next((p for p in self.values() if p.title == title), None)

    def content(self) -> tuple[Page, ...]:
        """Every page but the entry point, in navigation order."""
        return tuple(p for p in self.values() if p.key != HOME)

    def commands(self) -> dict[str, Command]:
        """Every CLI subcommand by name, in navigation order."""
        return {c.name: c for p in self.values() for c in p.commands}


def _frozen(presets: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({label: MappingProxyType(dict(values)) for label, values in presets.items()})


_SIGNFLIP_TABLE1 = {"w": 0.0, "v1": 0.05, "v2": 0.1, "u1": 1.0, "u2": -1.0, "beta_f": 100.0, "beta_sg": 25.0, "x": 1.0}
_LOOP_TABLE1_CENTRE = {"c_w": 0.0, "c_v1": 0.05, "c_v2": 0.1, "c_u1": 1.0, "c_u2": -1.0}

#: Every page of the app, in navigation order.
PAGES = Registry([
    Page(HOME, "Home", "app.py", "Home", ":material/home:", "The story in a few sentences."),
    Page(
        "escape", "Escape noise", "pages/1_Escape_noise.py", "Escape noise vs SD", ":material/ssid_chart:",
        "A single stochastic Perceptron: its expected output, the matching principle, trial "
        "rasters, the noisy-threshold view and stochAD's smoothed derivatives.",
        specs=ESCAPE_PARAMS,
        presets=_frozen({
            "Fig. 1: matched sigmoid": {"escape": "sigmoid", "beta_n": 5.0, "shape": "sigmoid", "beta_sg": 5.0},
            "Near-deterministic (β_N = 50)": {"escape": "sigmoid", "beta_n": 50.0, "shape": "sigmoid",
                                              "beta_sg": 5.0},
            "SuperSpike SD on sigmoid noise": {"escape": "sigmoid", "beta_n": 5.0, "shape": "superspike",
                                               "beta_sg": 5.0},
            "erf escape, matched": {"escape": "erf", "beta_n": 5.0, "shape": "gaussian", "beta_sg": 5.0},
            "Exponential escape, matched": {"escape": "exponential", "beta_n": 5.0, "shape": "escape_exp",
                                            "beta_sg": 5.0},
        }),
        lesson=Lesson(
            "when is a surrogate derivative exact?",
            "1. Leave the surrogate matched to the escape noise: the two curves in the derivative panel coincide. "
            "The surrogate *is* the derivative of the stochastic neuron's expected output (Eq. 6 = Eq. 8).\n"
            "2. Change only β_SG. The shapes still agree but the heights do not: what changed, and why does "
            "gradient descent still work?\n"
            "3. Make the noise very steep (large β_N). What happens to the true derivative of a *deterministic* "
            "neuron, and what does the surrogate give instead?"),
        commands=(Command("escape", "Escape noise vs surrogate derivative (Gygax & Zenke Sec. 3.1, App. B)",
                          cmd.run_escape, ESCAPE_PARAMS, cmd.escape_arguments),),
        probe="beta_sg",
        computes=(Compute(EscapeConfig, escape_view),),
    ),
    Page(
        "signflip", "Sign flip", "pages/2_Sign_flip.py", "Sign-flip landscape", ":material/swap_vert:",
        "The network of Eq. 10: where the surrogate gradient points against the true gradient, along w "
        "and over a plane of parameters, with the two-path factor of Eq. 12 that decides the sign.",
        specs=SIGNFLIP_PARAMS,
        presets=_frozen({
            "Table 1": _SIGNFLIP_TABLE1,
            "Fig. 4B, β_SG = 15": {**_SIGNFLIP_TABLE1, "beta_sg": 15.0},
            "Fig. 4B, β_SG = 25 (printed)": _SIGNFLIP_TABLE1,
            "Fig. 4B, β_SG = 30 (authors' notebook)": {**_SIGNFLIP_TABLE1, "beta_sg": 30.0},
            "Fig. 4C": {**_SIGNFLIP_TABLE1, "beta_f": 20.0, "w": 1.0, "beta_sg": 4.0,
                        "betas_landscape": (2.0, 4.0, 20.0)},
        }),
        lesson=Lesson(
            "a surrogate gradient that points the wrong way",
            "1. Find the red regions of the sign-disagreement map: there the SG and the true gradient of the "
            "smoothed output have opposite signs.\n"
            "2. Step along w with the step-forward switch: does following the SG increase or decrease the output?\n"
            "3. Which factor of Eq. 12 flips sign? Try to predict it before you move β_SG."),
        commands=(Command("signflip", "Sign-flip network of Eq. 10-12 (Gygax & Zenke Sec. 4.1, Fig. 4)",
                          cmd.run_signflip, SIGNFLIP_PARAMS, cmd.signflip_arguments),),
        probe="beta_sg",
        computes=(Compute(SignflipConfig, signflip_view),),
    ),
    Page(
        "loop", "Loop integrals", "pages/3_Loop_integrals.py", "Loop integrals", ":material/all_inclusive:",
        "The SG integrated around closed circles in parameter space: non-zero for SGs, zero for true "
        "gradients, with convergence in the number of steps, the curl map and Stokes' theorem.",
        specs=LOOP_PARAMS,
        presets=_frozen({
            "Fig. 5": {},
            "Fig. 5, notebook forward (sigmoid β_f = 10000)": {"forward": "sigmoid", "beta_f": 10000.0},
            "Random plane (seed 1)": {"plane": "random", "seed": 1},
            "(v1, v2) around Table 1": {"plane": "axes", "axis_a": "v1", "axis_b": "v2", "radius": 0.5,
                                        **_LOOP_TABLE1_CENTRE},
        }),
        lesson=Lesson(
            "is the SG the gradient of anything?",
            "1. Integrate the true gradient around a circle: the result is zero (up to round-off).\n"
            "2. Do the same with the SG: it is not zero, so no function has the SG as its gradient.\n"
            "3. Compare the loop value with the curl map: Stokes' theorem says they must agree."),
        commands=(Command("loop", "Closed-loop integrals of the SG (Gygax & Zenke Sec. 4.2, Fig. 5); defaults = Fig. 5",
                          cmd.run_loop, LOOP_PARAMS, cmd.loop_arguments),),
        probe="radius",
        computes=(Compute(LoopConfig, loop_view),),
    ),
    Page(
        "localzo", "LocalZO", "pages/4_LocalZO.py", "LocalZO", ":material/casino:",
        "Zeroth-order estimates of the Heaviside's derivative: the surrogate they average to, the density that "
        "reproduces any surrogate (Theorem 3), their variance, and how few neurons are active in the backward pass.",
        specs=LOCALZO_PARAMS,
        presets=_frozen({
            "Fig. 1: Normal, δ = 0.5": {"source": "distribution", "dist": "normal", "delta": 0.5, "m": 1,
                                        "alpha": "1"},
            "Table 2: Normal, δ = 0.05, m = 5": {"source": "distribution", "dist": "normal", "delta": 0.05, "m": 5,
                                                  "alpha": "1", "u_span": 0.2, "u_lo": -1.0, "u_hi": 1.0},
            "Uniform, δ = 0.5": {"source": "distribution", "dist": "uniform", "delta": 0.5, "alpha": "1"},
            "Sec. 5.2: sigmoid, k ≈ 30.63": {"source": "surrogate", "target": "sigmoid", "k": 30.63, "delta": 0.05,
                                            "alpha": "1", "u_span": 0.2},
            "Sec. 5.2: fast sigmoid, k = 100": {"source": "surrogate", "target": "superspike", "k": 100.0,
                                               "delta": 0.05, "alpha": "-1", "u_span": 0.1},
        }),
        lesson=Lesson(
            "a random finite difference as a surrogate",
            "1. One draw of the estimator is spiky; the average over draws is the smooth curve. Which distribution "
            "gives which surrogate?\n"
            "2. Increase m: the threshold B_th grows and more neurons are active in the backward pass.\n"
            "3. Choose the fast sigmoid as target with α = −1: why is its variance infinite at u = 0?"),
        commands=(Command("localzo", "LocalZO: zeroth-order surrogates, Theorem 3 sampling, sparse backward "
                                     "(Mukhoty et al. 2023)",
                          cmd.run_localzo, tuple(p for p in LOCALZO_PARAMS if p.name not in ("source", "target")),
                          cmd.localzo_arguments),),
        probe="delta",
        computes=(Compute(LocalZOConfig, localzo_view),),
    ),
    Page(
        "estimators", "Gradient estimators", "pages/5_Estimators.py", "Gradient estimators", ":material/account_tree:",
        "A stochastic network small enough to enumerate every spike pattern: the exact gradient of E[y] against "
        "stochastic and deterministic SGs, finite differences and REINFORCE — and why multilayer SGs are biased.",
        specs=ESTIMATOR_PARAMS,
        presets=_frozen({
            "No hidden layer: SG is exact": {"n_in": 4, "hidden1": 0, "hidden2": 0, "hidden3": 0, "beta_n": 4.0,
                                             "beta_sg": 4.0},
            "Smallest tree: 2 hidden units": {"n_in": 2, "hidden1": 2, "hidden2": 0, "hidden3": 0, "beta_n": 4.0,
                                              "beta_sg": 4.0, "seed": 20},
            "Two layers of 3 (default)": {},
            "Steep noise: large bias": {"hidden1": 3, "hidden2": 3, "beta_n": 8.0, "beta_sg": 8.0, "seed": 8},
            "Mismatched SD: β_SG = 1": {"beta_n": 4.0, "beta_sg": 1.0},
        }),
        lesson=Lesson(
            "exact gradients against estimators",
            "1. Start with no hidden layer: the stochastic SG equals the exact gradient. Now add a hidden layer: "
            "how large is the bias, and does the table detect it?\n"
            "2. Compare the variance of finite differences with and without common random numbers.\n"
            "3. Move β_SG away from β_N: where is the bias smallest?"),
        commands=(Command("estimators", "Exact gradient of a tiny stochastic network vs SG, finite differences, "
                                        "REINFORCE (Gygax & Zenke Sec. 3.2, 7)",
                          cmd.run_estimators, tuple(p for p in ESTIMATOR_PARAMS if p.name not in cmd.HIDDEN_KEYS),
                          cmd.estimators_arguments),),
        probe="beta_sg",
        computes=(Compute(EstimatorConfig, estimator_view),),
    ),
    Page(
        "training", "Live training", "pages/6_Training.py", "Live training", ":material/model_training:",
        "Fig. 6 trained live: a stochastic and a deterministic spiking network learn the same target picture side "
        "by side, with rasters, losses, Fano factors, the fraction active in the backward pass, and one LIF neuron.",
        specs=training_page.ALL_SPECS,
        presets=training_page.PAGE_PRESETS,
        lesson=Lesson(
            "do stochastic networks learn with surrogate gradients?",
            "1. Press Play and watch both output rasters approach the target. Which network matches exact spike "
            "times better (L2) and which is as good in the van Rossum distance?\n"
            "2. Follow the Fano factor: the output layer becomes more reliable, the hidden layer stays variable.\n"
            "3. Switch the backward pass to LocalZO or SparseGrad mid-run: how many neurons are still active?"),
        commands=(
            Command("train", "Train a deterministic or stochastic feed-forward LIF network on a target raster "
                             "(Gygax & Zenke Fig. 6)", cmd.run_train, TRAIN_PARAMS, cmd.train_arguments),
            Command("lif", "One LIF neuron driven by one periodic input: spikes, membrane and current (Methods 8.1)",
                    cmd.run_lif, LIF_TRACE_PARAMS),
        ),
    ),
    Page(
        "design", "Surrogate design", "pages/7_Surrogate_design.py", "Surrogate design", ":material/tune:",
        "Choose a surrogate deliberately: every shape's moments and tails, what the snnTorch, SpikingJelly and Norse "
        "presets are, Eq. 2's gradient variance, and the four initialisation conditions with a check by simulation.",
        specs=design_page.ALL_SPECS,
        presets=design_page.PAGE_PRESETS,
        lesson=Lesson(
            "choosing a surrogate deliberately",
            "1. Compare shapes at γ = s = 1: which have an infinite tail moment?\n"
            "2. Translate your favourite library's default surrogate: what are its γ and s?\n"
            "3. In the calculator, why can Conditions III and IV not both hold with the paper's dampening?"),
        commands=(
            Command("design", "Surrogate moments, tails and Eq. 2 for a voltage range (Herranz-Celotti & Rouat "
                              "Sec. 2.2, Table S1)",
                    cmd.run_design, tuple(p for p in DESIGN_PARAMS if p.name not in cmd.PLOT_ONLY)),
            Command("init", "Initialisation conditions I-IV of a LIF layer (Herranz-Celotti & Rouat Sec. 2.6, "
                            "App. B); options left out are derived (see notes)", cmd.run_init, INIT_PARAMS),
        ),
        probe="sharpness",
        computes=(Compute(DesignConfig, design_view), Compute(InitConfig, init_view, design_page.calculator_values)),
    ),
    Page(
        "classify", "Classification", "pages/8_Classification.py", "Classification", ":material/category:",
        "Fig. 7 and S1 live: a stochastic and a deterministic spiking network learn to classify spike patterns side "
        "by side — accuracy, the Fano factor that stays high, each network tested with the other's spike rule, and "
        "how close the deterministic gradient is to the mean stochastic one.",
        specs=classify_page.ALL_SPECS,
        presets=classify_page.PAGE_PRESETS,
        lesson=Lesson(
            "does classification punish stochasticity?",
            "1. Press Play: do both networks reach a validation accuracy well above chance?\n"
            "2. Watch the stochastic network's Fano factor: unlike the spike-train task, it stays high.\n"
            "3. Evaluate on the test split: which network survives being run with the other's spike rule?"),
        commands=(
            Command("classify", "Train a deterministic or stochastic LIF network to classify Randman or SHD spike "
                                "patterns (Gygax & Zenke Fig. 7, S1)", classify_cmd.run_classify,
                    classify_cmd.CLASSIFY_CLI_PARAMS, classify_cmd.classify_arguments),
            Command("randman", "Generate the Randman data (Zenke & Vogels 2021): shape, class counts, checksum",
                    classify_cmd.run_randman, RANDMAN_PARAMS, classify_cmd.randman_arguments),
        ),
    ),
    Page(
        "sweeps", "Sweeps", "pages/9_Sweeps.py", "Sweeps", ":material/grid_view:",
        "Herranz-Celotti & Rouat's sensitivity studies on our tasks: how training depends on the surrogate's shape, "
        "dampening, sharpness and tail, on the initialisation and on conditions I-IV, from a sweep's stored results.",
        specs=sweeps_page.ALL_SPECS,
        presets=sweeps_page.PAGE_PRESETS,
        lesson=Lesson(
            "reading a sensitivity study",
            "1. Plot the score against the dampening γ: is a low dampening better, as Herranz-Celotti & Rouat found "
            "(Fig. 3)? Do the error bars of neighbouring points overlap?\n"
            "2. Switch to the sharpness s: which shape gains most from a sharper surrogate?\n"
            "3. Open the runs table: how many seeds stand behind each point, and did any run fail? Which differences "
            "would you trust?"),
        commands=(
            Command("sweep", "Run a grid (and random samples) of training runs on Dask; results persisted and "
                             "resumable (Herranz-Celotti & Rouat Figs. 3-5)", sweep_cmd.run_sweep, (),
                    sweep_cmd.sweep_arguments),
        ),
    ),
])
