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
from dataclasses import fields
from typing import Any

import numpy as np

from .escape import ESCAPE_PARAMS, EscapeConfig, escape_at, escape_view
from .params import ParamSpec

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
    parser.add_argument(spec.flag, dest=spec.name, type=convert, default=spec.default,
                        metavar=spec.name.upper(), help=(spec.help or spec.label) + extra)


def _finite_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"u must be finite numbers; got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"u must be finite numbers; got {text!r}")
    return x


def _run_escape(args: argparse.Namespace) -> dict[str, Any]:
    cfg = EscapeConfig(**{f.name: getattr(args, f.name) for f in fields(EscapeConfig)})
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
    out["config"] = {f.name: getattr(cfg, f.name) for f in fields(EscapeConfig)}
    out["resolved_scale"] = cfg.resolved_scale
    return out


_COMMANDS: dict[str, tuple[str, Sequence[ParamSpec], Callable[[argparse.Namespace], dict]]] = {
    "escape": ("Escape noise vs surrogate derivative (Gygax & Zenke Sec. 3.1, App. B)",
               ESCAPE_PARAMS, _run_escape),
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
