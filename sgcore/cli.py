"""Headless twin of every page: ``python -m sgcore <page> --param value ...`` prints one JSON object.

Options are built from the pages' declared parameters (kebab-case), so the CLI, the widgets and
the library accept exactly the same values. Invalid input exits with status 2 and one line
naming the parameter and its valid range.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .design import DESIGN_PARAMS, INIT_PARAMS, DesignConfig, InitConfig, design_at, init_at
from .escape import ESCAPE_PARAMS, EscapeConfig, escape_at, escape_view
from .estimators import ESTIMATOR_PARAMS, EstimatorConfig, estimators_at
from .localzo import LOCALZO_PARAMS, TARGETS, LocalZOConfig, localzo_at
from .loop import (
    LOOP_PARAMS,
    LoopConfig,
    curl_map,
    gradient_field,
    loop_integral,
    loop_integrals,
    midpoint_loop_integral,
    preactivations,
    stokes_disc_integral,
)
from .params import ParamSpec
from .signflip import SIGNFLIP_PARAMS, WEIGHT_NAMES, SignflipConfig, signflip_plane, signflip_point, signflip_sweep
from .snn import LIF_TRACE_PARAMS, PRESETS, TRAIN_PARAMS, TrainConfig, default_target, lif_trace, train

__all__ = ["main", "to_jsonable"]


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def to_jsonable(obj: Any) -> Any:
    """Arrays -> lists, NaN/inf -> null, recursively."""
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _add_spec(parser: argparse.ArgumentParser, spec: ParamSpec) -> None:
    def convert(text: str, spec: ParamSpec = spec) -> Any:
        try:
            return spec.parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    extra = f" ({spec.describe_domain()}; default {spec.default!r})"
    if spec.kind == "bool":
        parser.add_argument(spec.flag, dest=spec.name, action="store_true", help=(spec.help or spec.label))
        return
    if spec.kind == "floats":
        parser.add_argument(spec.flag, dest=spec.name, nargs="+", type=str, default=spec.default,
                            metavar="X", help=(spec.help or spec.label) + extra)
        return
    parser.add_argument(spec.flag, dest=spec.name, type=convert, default=spec.default,
                        metavar=spec.name.upper(), help=(spec.help or spec.label) + extra)


def _finite_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be finite numbers; got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be finite numbers; got {text!r}")
    return x


def _run_escape(args: argparse.Namespace) -> dict[str, Any]:
    cfg = _config_from_args(EscapeConfig, args)
    if args.u is not None:
        out: dict[str, Any] = escape_at(cfg, args.u)
    else:
        view = escape_view(cfg)
        out = escape_at(cfg, view.u)
        out.update(
            matched=view.matched,
            rel_l2_diff=view.rel_l2_diff,
            max_abs_diff=view.max_abs_diff,
            threshold_mean=view.threshold_mean,
        )
    out["config"] = cfg.as_dict()
    out["resolved_scale"] = cfg.resolved_scale
    return out


def _config_from_args(cls, args: argparse.Namespace):
    values = {}
    for spec in cls.PARAMS:
        value = getattr(args, spec.name)
        if spec.kind == "floats" and isinstance(value, list):
            value = spec.parse(",".join(value))
        values[spec.name] = value
    return cls(**values)


def _run_signflip(args: argparse.Namespace) -> dict[str, Any]:
    cfg = _config_from_args(SignflipConfig, args)
    pt = signflip_point(cfg)
    out: dict[str, Any] = {**pt.forward, "grad_true": pt.grad_true, "grad_surrogate": pt.grad_surrogate,
                           "sign_flip": pt.sign_flip, "sign_flips": pt.flips,
                           "eq12": {"two_path_true": pt.two_path_true, "two_path_sg": pt.two_path_sg,
                                    "positive_true": pt.positive_true, "positive_sg": pt.positive_sg},
                           "forward": "step" if cfg.step else f"sigmoid beta_f={cfg.beta_f:g}"}
    if args.sweep is not None:
        sw = signflip_sweep(cfg, n=args.sweep, w_range=_range(args.w_range, "w-range"))
        out["sweep"] = {"w": sw.w, "output": sw.output, "smoothed_output": sw.smoothed_output,
                        "integrated_sg": sw.integrated_sg, "grad_true_w": sw.grad_true_w,
                        "grad_sg_w": sw.grad_sg_w}
    if args.grid is not None:
        pl = signflip_plane(cfg, n=args.grid, plane_range=_range(args.grid_range, "grid-range"))
        out["sign_disagreement"] = {"count": pl.count, "fraction": pl.fraction, "n": args.grid * args.grid,
                                    "plane": [pl.axis_x, pl.axis_y], "component": pl.component,
                                    "fractions_by_component": pl.fractions}
    out["config"] = cfg.as_dict()
    return out


def _run_loop(args: argparse.Namespace) -> dict[str, Any]:
    if args.beta_sg is not None:
        args.betas_sg = [str(args.beta_sg)]
    if args.axes is not None:
        args.axis_a, args.axis_b = args.axes
    cfg = _config_from_args(LoopConfig, args)
    c, d, r, x = cfg.centre, cfg.basis, cfg.radius, cfg.x
    fwd = cfg.forward_beta
    li = loop_integrals(cfg)
    single = len(cfg.betas_sg) == 1

    def pick(values: dict) -> Any:
        return next(iter(values.values())) if single else {f"{k:g}": v for k, v in values.items()}

    out: dict[str, Any] = {
        "loop_integral_sg": pick(li.loop_sg),
        "loop_integral_exact": pick(li.loop_exact),
        "steps": args.steps,
        "loop_integral_sg_midpoint": pick({b: midpoint_loop_integral(gradient_field(x, fwd, cfg.surrogate(b).sd),
                                                                     c, d, r, args.steps) for b in cfg.betas_sg}),
        "loop_integral_exact_midpoint": pick({b: midpoint_loop_integral(gradient_field(x, b, None), c, d, r,
                                                                        args.steps) for b in cfg.betas_sg}),
        "quadrature": "Gauss-Legendre on the pieces between the forward's breaks, graded toward each break",
        "breaks": li.breaks,
        "plane_vectors": {"d1": d[0], "d2": d[1]},
        "forward": "step" if fwd is None else f"sigmoid beta_f={fwd:g}",
    }
    if args.curl_grid is not None:
        beta_curl = fwd if fwd is not None else cfg.curl_beta_f
        beta_sg = cfg.curl_beta_sg
        field = gradient_field(x, beta_curl, cfg.surrogate(beta_sg).sd)
        axis, curl = curl_map(field, c, d, r, args.curl_grid)
        aa, bb = np.meshgrid(axis, axis)
        cell = (axis[1] - axis[0]) ** 2
        _, cum, _ = loop_integral({0: field}, preactivations(x, beta_curl), c, d, r)
        out["stokes"] = {"beta_f": beta_curl, "beta_sg": beta_sg, "loop_integral": float(cum[0][-1]),
                         "minus_curl_integral_polar": stokes_disc_integral(field, c, d, r),
                         "grid": args.curl_grid, "orientation": "clockwise in (d1, d2): I = -iint curl"}
        out["stokes_curl_integral"] = -float(np.sum(curl[aa**2 + bb**2 <= r * r]) * cell)
    out["config"] = cfg.as_dict()
    return out


_TARGET_ALIASES = {"fast_sigmoid": "superspike"}


def _target(text: str) -> str:
    name = _TARGET_ALIASES.get(text, text)
    if name not in TARGETS:
        raise argparse.ArgumentTypeError(f"target must be one of {', '.join(TARGETS)} or fast_sigmoid; got {text!r}")
    return name


def _run_localzo(args: argparse.Namespace) -> dict[str, Any]:
    args.source = "surrogate" if args.target is not None else "distribution"
    args.target = args.target or "sigmoid"
    if args.u_range is not None:
        args.u_lo, args.u_hi = _range(args.u_range, "u-range")
    cfg = _config_from_args(LocalZOConfig, args)
    u = args.u if args.u is not None else [0.0]
    out = localzo_at(cfg, u, samples=args.samples, seed=cfg.seed)
    out["config"] = cfg.as_dict()
    return out


_HIDDEN_KEYS = ("hidden1", "hidden2", "hidden3")
_PLOT_ONLY = ("v_span", "n_points", "mc_samples", "seed")  # the design page's plotting controls


def _run_design(args: argparse.Namespace) -> dict[str, Any]:
    for name in _PLOT_ONLY:
        setattr(args, name, next(p.default for p in DESIGN_PARAMS if p.name == name))
    return design_at(_config_from_args(DesignConfig, args))


def _run_init(args: argparse.Namespace) -> dict[str, Any]:
    return init_at(_config_from_args(InitConfig, args))


def _run_estimators(args: argparse.Namespace) -> dict[str, Any]:
    hidden = args.hidden if args.hidden is not None else [3, 3]
    if len(hidden) > len(_HIDDEN_KEYS):
        raise ValueError(f"hidden must list at most {len(_HIDDEN_KEYS)} layer sizes; got {len(hidden)}")
    for key, n in zip(_HIDDEN_KEYS, [*hidden, 0, 0, 0], strict=False):
        setattr(args, key, n)
    cfg = _config_from_args(EstimatorConfig, args)
    out = estimators_at(cfg)
    out["config"] = cfg.as_dict()
    return out


def _run_train(args: argparse.Namespace) -> dict[str, Any]:
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
    return out


def _run_lif(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = lif_trace(args.weight, args.input_period, args.steps, reset=args.reset)
    out["config"] = {spec.name: getattr(args, spec.name) for spec in LIF_TRACE_PARAMS}
    return out


def _range(pair: Sequence[float], name: str) -> tuple[float, float]:
    lo, hi = pair
    if not lo < hi:
        raise ValueError(f"{name} must be two finite numbers A < B; got {lo:g} {hi:g}")
    return lo, hi


def _positive(text: str) -> float:
    x = _finite_float(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text!r}")
    return x


def _count(text: str, name: str, lo: int, hi: int) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} must be an integer in [{lo}, {hi}]; got {text!r}") from None
    if not lo <= n <= hi:
        raise argparse.ArgumentTypeError(f"{name} must be an integer in [{lo}, {hi}]; got {text!r}")
    return n


_COMMANDS: dict[str, tuple[str, Sequence[ParamSpec], Callable[[argparse.Namespace], dict]]] = {
    "escape": ("Escape noise vs surrogate derivative (Gygax & Zenke Sec. 3.1, App. B)",
               ESCAPE_PARAMS, _run_escape),
    "signflip": ("Sign-flip network of Eq. 10-12 (Gygax & Zenke Sec. 4.1, Fig. 4)", SIGNFLIP_PARAMS, _run_signflip),
    "localzo": ("LocalZO: zeroth-order surrogates, Theorem 3 sampling, sparse backward (Mukhoty et al. 2023)",
                tuple(p for p in LOCALZO_PARAMS if p.name not in ("source", "target")), _run_localzo),
    "estimators": ("Exact gradient of a tiny stochastic network vs SG, finite differences, REINFORCE (Gygax & Zenke "
                   "Sec. 3.2, 7)", tuple(p for p in ESTIMATOR_PARAMS if p.name not in _HIDDEN_KEYS), _run_estimators),
    "design": ("Surrogate moments, tails and Eq. 2 for a voltage range (Herranz-Celotti & Rouat Sec. 2.2, Table S1)",
               tuple(p for p in DESIGN_PARAMS if p.name not in _PLOT_ONLY), _run_design),
    "init": ("Initialisation conditions I-IV of a LIF layer (Herranz-Celotti & Rouat Sec. 2.6, App. B); options "
             "left out are derived (see notes)", INIT_PARAMS, _run_init),
    "train": ("Train a deterministic or stochastic feed-forward LIF network on a target raster (Gygax & Zenke Fig. 6)",
              (), _run_train),
    "lif": ("One LIF neuron driven by one periodic input: spikes, membrane and current (Methods 8.1)",
            LIF_TRACE_PARAMS, _run_lif),
    "loop": ("Closed-loop integrals of the SG (Gygax & Zenke Sec. 4.2, Fig. 5); defaults = Fig. 5",
             LOOP_PARAMS, _run_loop),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m sgcore", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="page", required=True, parser_class=_OneLineParser)
    for name, (help_text, specs, _) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        for spec in specs:
            _add_spec(p, spec)
        if name == "escape":
            p.add_argument("--u", nargs="+", type=_finite_float, default=None,
                           help="evaluate at these membrane potentials (default: the page's grid)")
        if name == "signflip":
            p.add_argument("--sweep", type=lambda t: _count(t, "sweep", 3, 100_001), default=None, metavar="N",
                           help="add the sweep along w on N points")
            p.add_argument("--w-range", nargs=2, type=_finite_float, default=(-0.2, 0.2), metavar=("A", "B"),
                           help="sweep range of w (default -0.2 0.2)")
            p.add_argument("--grid", type=lambda t: _count(t, "grid", 2, 2001), default=None, metavar="N",
                           help="add the sign-disagreement count on an N x N grid of the landscape plane")
            p.add_argument("--grid-range", nargs=2, type=_finite_float, default=(-2.0, 2.0), metavar=("A", "B"),
                           help="range of both plane axes (default -2 2)")
        if name == "localzo":
            p.add_argument("--u", nargs="+", type=_finite_float, default=None,
                           help="membrane potentials u - theta at which to evaluate (default 0)")
            p.add_argument("--target", type=_target, default=None, metavar="SHAPE",
                           help="sample z from Theorem 3's density for this registry surrogate (or fast_sigmoid) "
                                "instead of --dist")
            p.add_argument("--samples", type=lambda t: _count(t, "samples", 1, 10_000_000), default=None,
                           metavar="N", help="add Monte Carlo mean/stderr at --u and the active fraction (N draws)")
            p.add_argument("--u-range", nargs=2, type=_finite_float, default=None, metavar=("A", "B"),
                           help="uniform membrane potentials on [A, B] for active_fraction (= --u-lo A --u-hi B)")
        if name == "estimators":
            p.add_argument("--hidden", nargs="*", type=lambda t: _count(t, "hidden", 0, 6), default=None,
                           metavar="N", help="units per hidden layer, up to 3 layers of 0..6 units, at most 12 in "
                                             "total (default 3 3; no values = no hidden layer)")
        if name == "train":
            for spec in TRAIN_PARAMS:  # default None: a --preset fills what is not given
                _add_spec(p, spec)
                p.set_defaults(**{spec.name: None})
            p.add_argument("--preset", choices=(*PRESETS, "none"), default="none",
                           help="start from a preset (paper: Fig. 6, Tables 2-3; quick: Adam, learns in seconds); "
                                "explicit options override it")
            p.add_argument("--epochs", type=lambda t: _count(t, "epochs", 1, 100_000), default=50, metavar="N",
                           help="epochs to train (default 50)")
            p.add_argument("--target", default="default", metavar="NAME",
                           help="target raster: 'default' (a dithered band pattern) or a picture of sgcore.targets")
        if name == "loop":
            p.add_argument("--beta-sg", type=_positive, default=None, help="one beta_SG (instead of --betas-sg)")
            p.add_argument("--steps", type=lambda t: _count(t, "steps", 1, 100_000_000), default=100_000,
                           metavar="N", help="midpoint-rule steps for the *_midpoint values (default 100000)")
            p.add_argument("--axes", nargs=2, choices=WEIGHT_NAMES, default=None, metavar=("A", "B"),
                           help="plane 'axes': the two parameters spanning it")
            p.add_argument("--curl-grid", type=lambda t: _count(t, "curl-grid", 3, 2001), default=None,
                           metavar="N", help="add Stokes' check with the curl on an N x N grid over the disc")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = _COMMANDS[args.page][2](args)
    except ValueError as err:
        print(f"python -m sgcore {args.page}: error: {err}", file=sys.stderr)
        return 2
    json.dump(to_jsonable(result), sys.stdout)
    sys.stdout.write("\n")
    return 0
