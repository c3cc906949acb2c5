"""The classification page's CLI twins, wired by the page registry: ``randman`` (the data) and ``classify`` (one
network trained, with its evaluations).

``run_randman`` builds the dataset the page would build and returns its JSON-able summary: the config, the shape of
``x``, the class counts per split, spikes per sample and the checksum (``ValueError``: invalid values, exit 2).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..params import cli_type, count
from .config import CLASSIFY_PARAMS, CLASSIFY_PRESETS, DATA_PARAMS, ClassifyConfig, DataConfig
from .data import Dataset, RandmanConfig, load_shd, load_shd_pair, randman

__all__ = ["CLASSIFY_CLI_PARAMS", "classify_arguments", "data_for", "randman_arguments", "run_classify",
           "run_randman"]


def randman_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample", type=cli_type(count, "sample", 0), default=None, metavar="I",
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


# --- classify ---------------------------------------------------------------------------------------------------
#: The ``classify`` command's declared options: the network's and the data's.
CLASSIFY_CLI_PARAMS = (*CLASSIFY_PARAMS, *DATA_PARAMS)


def classify_arguments(p: argparse.ArgumentParser) -> None:
    p.set_defaults(**{spec.name: None for spec in CLASSIFY_CLI_PARAMS})  # a --preset fills what is not given
    p.add_argument("--preset", choices=(*CLASSIFY_PRESETS, "none"), default="quick",
                   help="start from a preset (quick: the page's demo; fig_s1: Randman, 128 hidden units; fig7_shd: "
                        "Table 3 on SHD, needs --path); explicit options override it")
    p.add_argument("--epochs", type=cli_type(count, "epochs", 1, 100_000), default=20, metavar="N",
                   help="epochs to train (default 20)")
    p.add_argument("--gradient-trials", type=cli_type(count, "gradient-trials", 2, 1000), default=None, metavar="K",
                   help="add Fig. S1's cosines of K single-trial stochastic gradients (and of the deterministic one) "
                        "with their mean, before and after training")
    p.add_argument("--path", default=None, metavar="FILE", help="--dataset shd: the SHD training file (HDF5)")
    p.add_argument("--test-path", default=None, metavar="FILE", help="--dataset shd: the SHD test file (HDF5)")


def data_for(values: dict[str, Any], path: str | None = None, test_path: str | None = None) -> Dataset:
    """The dataset the data ``values`` (:data:`DATA_PARAMS`) describe; SHD from ``path`` (and ``test_path``)."""
    cfg = DataConfig.from_mapping(values)
    if cfg.dataset == "randman":
        return randman(cfg.randman())
    if not path:
        raise ValueError("dataset shd needs --path FILE (the SHD training file, HDF5)")
    return load_shd_pair(path, test_path) if test_path else load_shd(path)


def run_classify(args: argparse.Namespace) -> dict[str, Any]:
    from .trainer import train_classifier

    data_values, net_values = CLASSIFY_PRESETS[args.preset] if args.preset != "none" else ({}, {})
    given = {spec.name: getattr(args, spec.name) for spec in CLASSIFY_CLI_PARAMS
             if getattr(args, spec.name) is not None}
    data_values = {**data_values, **{k: v for k, v in given.items() if k in {s.name for s in DATA_PARAMS}}}
    net_values = {**net_values, **{k: v for k, v in given.items() if k in {s.name for s in CLASSIFY_PARAMS}}}
    cfg = ClassifyConfig.from_mapping(net_values)
    data = data_for(data_values, args.path, args.test_path)
    import torch

    torch.set_num_threads(1)  # one thread per process, as on the server
    out = train_classifier(cfg, data, epochs=args.epochs, gradient_trials=args.gradient_trials or 0)
    return {"config": cfg.as_dict(), "data": data.summary(), "epochs": args.epochs, **out}
