"""What each page's CLI subcommand adds to its declared options, and how it runs them into the page's view.

A page's runner maps its extra options onto the page's config, computes the view the page draws (the same ``*_view``
call) and returns it serialised by :func:`sgcore.export.view_to_dict` (the view's ``CLI_FIELDS``, or the parts the
options asked for): there is no second, CLI-only result. ``ValueError`` is an invalid combination of values (exit
status 2). An ``*_arguments`` function adds the options
that are not declared parameters. The page registry (:mod:`sgcore.pages`) names which belong to which subcommand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from .design import DESIGN_PARAMS, DesignConfig, DesignView, InitConfig, design_view, init_conditions
from .escape import EscapeConfig, EscapeView, escape_view
from .estimators import EstimatorConfig, EstimatorView, estimator_view
from .export import view_to_dict
from .localzo import TARGETS, LocalZOConfig, LocalZOView, localzo_view
from .loop import LoopConfig, loop_view
from .params import cli_type, count, finite, positive
from .signflip import WEIGHT_NAMES, SignflipConfig, signflip_view
from .snn import (
    LIF_TRACE_PARAMS,
    PRESETS,
    TRAIN_PARAMS,
    InitFluctuation,
    TrainConfig,
    default_target,
    init_fluctuation,
    lif_trace,
    train,
)

__all__ = [
    "HIDDEN_KEYS", "PLOT_ONLY", "escape_arguments", "estimators_arguments", "localzo_arguments", "loop_arguments",
    "run_design", "run_escape", "run_estimators", "run_init", "run_lif", "run_localzo", "run_loop", "run_signflip",
    "run_train", "signflip_arguments", "train_arguments",
]

HIDDEN_KEYS = ("hidden1", "hidden2", "hidden3")  # the estimators page's layer sliders: --hidden N N N on the CLI
PLOT_ONLY = ("v_span", "n_points", "mc_samples", "seed")  # the design page's plotting controls
_TARGET_ALIASES = {"fast_sigmoid": "superspike"}


# --- argument types ---------------------------------------------------------------------------------------------
def _finite_float(name: str) -> Callable[[str], float]:
    return cli_type(finite, name)


def _positive(name: str) -> Callable[[str], float]:
    return cli_type(positive, name)


def _count(name: str, lo: int, hi: int) -> Callable[[str], int]:
    return cli_type(count, name, lo, hi)


def _target(text: str) -> str:
    name = _TARGET_ALIASES.get(text, text)
    if name not in TARGETS:
        raise argparse.ArgumentTypeError(f"target must be one of {', '.join(TARGETS)} or fast_sigmoid; got {text!r}")
    return name


def _range(pair: Sequence[float], name: str) -> tuple[float, float]:
    lo, hi = pair
    if not lo < hi:
        raise ValueError(f"{name} must be two finite numbers A < B; got {lo:g} {hi:g}")
    return lo, hi


def _config_from_args(cls, args: argparse.Namespace):
    values = {}
    for spec in cls.PARAMS:
        value = getattr(args, spec.name)
        if spec.kind == "floats" and isinstance(value, list):
            value = spec.parse(",".join(value))
        values[spec.name] = value
    return cls(**values)


# --- escape -------------------------------------------------------------------------------------------------------
def escape_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--u", nargs="+", type=_finite_float("u"), default=None,
                   help="evaluate at these membrane potentials (default: the page's grid)")


def run_escape(args: argparse.Namespace) -> dict[str, Any]:
    view = escape_view(_config_from_args(EscapeConfig, args), u=args.u)
    return view_to_dict(view, EscapeView.CLI_FIELDS)


# --- sign flip ----------------------------------------------------------------------------------------------------
def signflip_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sweep", type=_count("sweep", 3, 20_001), default=None, metavar="N",
                   help="add the sweep along w, on N points (= --n-sweep N)")
    p.add_argument("--w-range", nargs=2, type=_finite_float("w_range"), default=None, metavar=("A", "B"),
                   help="sweep range of w (= --w-min A --w-max B; default -0.2 0.2)")
    p.add_argument("--grid", type=_count("grid", 3, 1001), default=None, metavar="N",
                   help="add the landscape plane and its sign-disagreement count, on an N x N grid (= --n-grid N)")
    p.add_argument("--grid-range", nargs=2, type=_finite_float("grid_range"), default=None, metavar=("A", "B"),
                   help="range of both plane axes (= --plane-min A --plane-max B; default -2 2)")
    p.add_argument("--square", action="store_true",
                   help="add the line integrals around the square path in the plane (--square-x, --square-y, "
                        "--square-half): the SG for beta_SG and each --betas-landscape, and the true gradient")


def run_signflip(args: argparse.Namespace) -> dict[str, Any]:
    if args.sweep is not None:
        args.n_sweep = args.sweep
    if args.w_range is not None:
        args.w_min, args.w_max = _range(args.w_range, "w-range")
    if args.grid is not None:
        args.n_grid = args.grid
    if args.grid_range is not None:
        args.plane_min, args.plane_max = _range(args.grid_range, "grid-range")
    view = signflip_view(_config_from_args(SignflipConfig, args))
    fields = (["config", "point"] + ["sweep"] * (args.sweep is not None) + ["plane"] * (args.grid is not None)
              + ["square"] * args.square)
    return view_to_dict(view, fields)


# --- loop integrals -----------------------------------------------------------------------------------------------
def loop_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--beta-sg", type=_positive("beta_sg"), default=None, help="one beta_SG (instead of --betas-sg)")
    p.add_argument("--steps", type=_count("steps", 10, 10_000_000), default=None, metavar="N",
                   help="midpoint-rule ladder up to N steps (= --max-steps N): the integrals' ladder_sg / "
                        "ladder_exact at N = 10 * 3^k <= N")
    p.add_argument("--axes", nargs=2, choices=WEIGHT_NAMES, default=None, metavar=("A", "B"),
                   help="plane 'axes': the two parameters spanning it")
    p.add_argument("--curl-grid", type=_count("curl-grid", 11, 801), default=None,
                   metavar="N", help="add the curl map on an N x N grid (= --n-grid N) and Stokes' check")


def run_loop(args: argparse.Namespace) -> dict[str, Any]:
    if args.beta_sg is not None:
        args.betas_sg = [str(args.beta_sg)]
    if args.axes is not None:
        args.axis_a, args.axis_b = args.axes
    if args.steps is not None:
        args.max_steps = args.steps
    if args.curl_grid is not None:
        args.n_grid = args.curl_grid
    view = loop_view(_config_from_args(LoopConfig, args))
    return view_to_dict(view, ["config", "integrals"] + ["curl"] * (args.curl_grid is not None))


# --- LocalZO ------------------------------------------------------------------------------------------------------
def localzo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--u", nargs="+", type=_finite_float("u"), default=None,
                   help="membrane potentials u - theta at which to evaluate (default 0)")
    p.add_argument("--target", type=_target, default=None, metavar="SHAPE",
                   help="sample z from Theorem 3's density for this registry surrogate (or fast_sigmoid) "
                        "instead of --dist")
    p.add_argument("--samples", type=_count("samples", 1, 10_000_000), default=None,
                   metavar="N", help="add Monte Carlo mean/stderr at --u and the active fraction (N draws)")
    p.add_argument("--u-range", nargs=2, type=_finite_float("u_range"), default=None, metavar=("A", "B"),
                   help="uniform membrane potentials on [A, B] for active_fraction (= --u-lo A --u-hi B)")


def run_localzo(args: argparse.Namespace) -> dict[str, Any]:
    args.source = "surrogate" if args.target is not None else "distribution"
    args.target = args.target or "sigmoid"
    if args.u_range is not None:
        args.u_lo, args.u_hi = _range(args.u_range, "u-range")
    cfg = _config_from_args(LocalZOConfig, args)
    view = localzo_view(cfg, u_points=args.u if args.u is not None else [0.0], samples=args.samples)
    return view_to_dict(view, LocalZOView.CLI_FIELDS)


# --- gradient estimators ------------------------------------------------------------------------------------------
def estimators_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hidden", nargs="*", type=_count("hidden", 0, 6), default=None,
                   metavar="N", help="units per hidden layer, up to 3 layers of 0..6 units, at most 12 in "
                                     "total (default 3 3; no values = no hidden layer)")


def run_estimators(args: argparse.Namespace) -> dict[str, Any]:
    hidden = args.hidden if args.hidden is not None else [3, 3]
    if len(hidden) > len(HIDDEN_KEYS):
        raise ValueError(f"hidden must list at most {len(HIDDEN_KEYS)} layer sizes; got {len(hidden)}")
    for key, n in zip(HIDDEN_KEYS, [*hidden, 0, 0, 0], strict=False):
        setattr(args, key, n)
    view = estimator_view(_config_from_args(EstimatorConfig, args))
    return view_to_dict(view, EstimatorView.CLI_FIELDS)


# --- live training ------------------------------------------------------------------------------------------------
def train_arguments(p: argparse.ArgumentParser) -> None:
    p.set_defaults(**{spec.name: None for spec in TRAIN_PARAMS})  # a --preset fills what is not given
    p.add_argument("--preset", choices=(*PRESETS, "none"), default="none",
                   help="start from a preset (paper: Fig. 6, Tables 2-3; quick: Adam, learns in seconds); "
                        "explicit options override it")
    p.add_argument("--epochs", type=_count("epochs", 1, 100_000), default=50, metavar="N",
                   help="epochs to train (default 50)")
    p.add_argument("--target", default="default", metavar="NAME",
                   help="target raster: 'default' (a dithered band pattern) or a picture of sgcore.targets")


def run_train(args: argparse.Namespace) -> dict[str, Any]:
    network = args.network or "deterministic"
    values: dict[str, Any] = dict(PRESETS[args.preset][network]) if args.preset != "none" else {}
    values |= {spec.name: getattr(args, spec.name) for spec in TRAIN_PARAMS if getattr(args, spec.name) is not None}
    values["network"] = network
    cfg = TrainConfig(**values)
    if args.target == "default":
        target = default_target(cfg.n_out, cfg.n_steps)
    else:
        from .targets import target_raster

        target = target_raster(args.target, cfg.n_out, cfg.n_steps)
    import torch

    torch.set_num_threads(1)  # one thread per process, as on the server
    out = train(cfg, target, epochs=args.epochs)
    out["epochs"] = args.epochs
    out["target"] = args.target
    out["config"] = cfg.as_dict()
    # what the initialisation realised (the training page's table): measured on the same network, before training
    out["init_fluctuation"] = view_to_dict(init_fluctuation(cfg), InitFluctuation.CLI_FIELDS)
    return out


def run_lif(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = lif_trace(args.weight, args.input_period, args.steps, reset=args.reset)
    out["config"] = {spec.name: getattr(args, spec.name) for spec in LIF_TRACE_PARAMS}
    return out


# --- surrogate design ---------------------------------------------------------------------------------------------
def run_design(args: argparse.Namespace) -> dict[str, Any]:
    for name in PLOT_ONLY:
        setattr(args, name, next(p.default for p in DESIGN_PARAMS if p.name == name))
    return view_to_dict(design_view(_config_from_args(DesignConfig, args)), DesignView.CLI_FIELDS)


def run_init(args: argparse.Namespace) -> dict[str, Any]:
    # the calculator's result: what the page's init panel shows (its simulation is not run here)
    return view_to_dict(init_conditions(_config_from_args(InitConfig, args)))
