"""Headless twin of every page: ``python -m sgcore <page> --param value ...`` prints one JSON object.

Options are built from the pages' declared parameters (kebab-case), so the CLI, the widgets and
the library accept exactly the same values. Invalid input exits with status 2 and one line
naming the parameter and its valid range. The subcommands are those of the page registry
(:mod:`sgcore.pages`): a page's entry names its commands, their extra options and their runners.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from . import pages as _pages
from .export import to_jsonable
from .params import ParamSpec

__all__ = ["OPTIONAL_DEPENDENCIES", "build_parser", "main", "to_jsonable"]

#: Modules a command may need that a plain install leaves out, and the extra that installs them: a command that
#: finds one missing exits with status 1 and one line saying what to install.
OPTIONAL_DEPENDENCIES = {"dask": "sweep", "distributed": "sweep"}


#: A negative number in any float syntax Python's ``float`` reads (-1, -.5, -1e-3, -1E+2, -1_000, -inf, -nan):
#: argparse's own matcher knows plain decimals only, so it took ``-1e-3`` for an option and said "expected N
#: arguments". Matched here, such a word is a value, and the option's type rejects it with the parameter's own
#: message (e.g. -inf out of range).
_NEGATIVE_NUMBER = re.compile(
    r"^-(?:(?:\d[\d_]*(?:\.(?:\d[\d_]*)?)?|\.\d[\d_]*)(?:e[+-]?\d[\d_]*)?|inf(?:inity)?|nan)$", re.IGNORECASE)


class _OneLineParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER  # argparse's hook; read by its option/value split

    def error(self, message: str) -> None:  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


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


def build_parser(registry: _pages.Registry | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand of ``registry`` (default: :data:`sgcore.pages.PAGES`)."""
    registry = _pages.PAGES if registry is None else registry
    parser = _OneLineParser(prog="python -m sgcore", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"sgcore {__version__}")
    sub = parser.add_subparsers(dest="page", required=True, parser_class=_OneLineParser)
    for command in registry.commands().values():
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        for spec in command.specs:
            _add_spec(p, spec)
        if command.add_arguments is not None:
            command.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None, registry: _pages.Registry | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand and print its result as one JSON line.

    Returns 0; 2 when the runner rejects the values; 1 when the command needs an optional dependency that is not
    installed (:data:`OPTIONAL_DEPENDENCIES`). argparse errors exit with status 2 (``SystemExit``), ``--version``
    and ``--help`` with status 0.
    """
    registry = _pages.PAGES if registry is None else registry
    args = build_parser(registry).parse_args(argv)
    try:
        result = registry.commands()[args.page].run(args)
    except ValueError as err:
        print(f"python -m sgcore {args.page}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        extra = OPTIONAL_DEPENDENCIES.get((err.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"python -m sgcore {args.page}: error: this needs {err.name!r}, which a plain install leaves out: "
              f'pip install "surrogate-gradient-explorer[{extra}]" (from a checkout: pip install ".[{extra}]")',
              file=sys.stderr)
        return 1
    try:
        json.dump(to_jsonable(result), sys.stdout)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
    return 0
