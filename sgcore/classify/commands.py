"""The Randman CLI twin: the options beyond :data:`RANDMAN_PARAMS` and the runner (wired by the page registry).

``run_randman`` builds the dataset the page would build and returns its JSON-able summary: the config, the shape of
``x``, the class counts per split, spikes per sample and the checksum (``ValueError``: invalid values, exit 2).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..params import count
from .data import RandmanConfig, randman

__all__ = ["randman_arguments", "run_randman"]


def _sample_index(text: str) -> int:
    try:
        return count("sample", text, 0)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def randman_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample", type=_sample_index, default=None, metavar="I",
                   help="add row I of x: its label, split and spikes as [step, unit, count] triples")


def _config_from_args(args: argparse.Namespace) -> RandmanConfig:
    return RandmanConfig(**{spec.name: getattr(args, spec.name) for spec in RandmanConfig.PARAMS})


def run_randman(args: argparse.Namespace) -> dict[str, Any]:
    cfg = _config_from_args(args)
    data = randman(cfg)
    out: dict[str, Any] = {"config": cfg.as_dict(), **data.summary()}
    sample = getattr(args, "sample", None)
    if sample is not None:
        if sample >= data.n_samples:
            raise ValueError(f"sample must be an integer in [0, {data.n_samples - 1}]; got {sample}")
        steps, units = np.nonzero(data.x[sample])
        out["sample"] = {"index": sample, "label": int(data.y[sample]),
                         "split": next(name for name, rows in data.split.items() if sample in rows),
                         "spikes": [[int(t), int(u), int(data.x[sample, t, u])] for t, u in zip(steps, units,
                                                                                               strict=True)]}
    return out
