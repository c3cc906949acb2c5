"""What the SD-design and initialisation pages show and the CLI prints, each computed from one config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ..shapes import get_shape
from .calculator import init_conditions
from .config import DesignConfig, InitConfig
from .eq2 import Eq2Check, eq2_check, sd_moment, sd_moment_mc, sd_second_moment
from .gallery import ShapeMoments, sd_curve, sd_curves, shape_moments
from .simulation import TheoryCheck, theory_check


@dataclass(frozen=True)
class DesignView:
    """Everything the SD-design page shows, computed from one configuration."""

    config: DesignConfig
    moments: ShapeMoments
    v: np.ndarray
    sd: np.ndarray  # gamma f(s v) of the chosen shape
    curves: Mapping[str, np.ndarray]  # every shape at the same gamma, s
    sd_second_moment: float  # Eq. 2
    sd_first_moment: float  # E[sigma']
    mc_mean: float
    mc_stderr: float
    s_grid: np.ndarray
    second_moment_vs_s: np.ndarray  # Eq. 2 along s_grid
    check: Eq2Check | None  # Appendix B for the exponential
    notes: tuple[str, ...] = ()


def design_view(cfg: DesignConfig) -> DesignView:
    """The SD-design page's computation (deterministic for a given seed)."""
    v = np.linspace(-cfg.v_span, cfg.v_span, cfg.n_points)
    mom = shape_moments(cfg.shape, cfg.q)
    args = (cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max, cfg.q)
    e2 = sd_moment(cfg.shape, 2, *args)
    e1 = sd_moment(cfg.shape, 1, *args)
    mc, se = sd_moment_mc(cfg.shape, 2, *args, n=cfg.mc_samples, rng=np.random.default_rng(cfg.seed))
    s_grid = np.geomspace(0.01, 100.0, 41)
    e2_s = np.array([sd_second_moment(cfg.shape, cfg.gamma, s, cfg.thr, cfg.y_min, cfg.y_max, cfg.q)
                     for s in s_grid])
    notes: list[str] = []
    check = None
    if cfg.shape == "exponential":
        check = eq2_check(cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max)
        if not check.agree:
            notes.append(check.note)
    if not mom.tail_finite:
        notes.append(f"int v^2 f is infinite: v^2 f decays like |v|^-{mom.tail_exponent:.3g} (needs an exponent > 1).")
    if not cfg.y_min < cfg.thr < cfg.y_max:
        notes.append("The voltage range does not contain the threshold: the SD is evaluated on one flank only.")
    return DesignView(cfg, mom, v, sd_curve(cfg.shape, v, cfg.gamma, cfg.sharpness, cfg.q),
                      MappingProxyType(sd_curves(v, cfg.gamma, cfg.sharpness, cfg.q)), e2, e1, mc, se, s_grid, e2_s,
                      check, tuple(notes))


def design_at(cfg: DesignConfig) -> dict[str, Any]:
    """The CLI's numbers (``python -m sgcore design ...``): gallery numbers of f and Eq. 2 for the range."""
    mom = shape_moments(cfg.shape, cfg.q)
    args = (cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max, cfg.q)
    out: dict[str, Any] = {
        "shape": cfg.shape, "peak": mom.peak, "area": mom.area, "int_f_sq": mom.int_f_sq,
        "tail_moment": mom.tail_moment if mom.tail_finite else None, "tail_moment_finite": mom.tail_finite,
        "tail_exponent": mom.tail_exponent, "closed_forms": dict(mom.closed),
        "sd_second_moment": sd_moment(cfg.shape, 2, *args), "sd_first_moment": sd_moment(cfg.shape, 1, *args),
        "sd_peak": cfg.gamma * mom.peak, "notes": [],
    }
    out |= get_shape(cfg.shape).pick_params(q=cfg.q)
    if not mom.tail_finite:
        out["notes"].append(f"tail_moment is null: int v^2 f diverges (v^2 f ~ |v|^-{mom.tail_exponent:.3g}).")
    if cfg.shape == "exponential":
        chk = eq2_check(cfg.gamma, cfg.sharpness, cfg.thr, cfg.y_min, cfg.y_max)
        out["appendix_b_closed_form"] = chk.printed
        out["appendix_b_agrees"] = chk.agree
        if not chk.agree:
            out["notes"].append(chk.note)
    out["config"] = cfg.as_dict()
    return out


def init_at(cfg: InitConfig) -> dict[str, Any]:
    """The CLI's numbers (``python -m sgcore init ...``): Conditions I-IV and how each input was obtained."""
    r = init_conditions(cfg)
    out: dict[str, Any] = {
        "mean_w_rec": r.mean_w_rec, "var_w_rec": r.var_w_rec, "dampening": r.dampening,
        "sd_second_moment": r.sd_second_moment, "sharpness": r.sharpness, "shape": r.shape,
        "mean_w_rec_used": r.mean_w_rec_used, "var_w_rec_authors_code": r.var_w_rec_authors_code,
        "gamma_for_sharpness": r.gamma_for_sharpness, "max_sd_second_moment": r.max_sd_second_moment,
        "civ_feasible": r.civ_feasible, "min_w_rec": r.min_w_rec, "max_w_rec": r.max_w_rec,
        "e_w_rec_sq": r.e_w_rec_sq, "max_w_in": r.max_w_in, "e_w_in_sq": r.e_w_in_sq, "y_min": r.y_min,
        "y_max": r.y_max, "derived": dict(r.derived), "notes": list(r.notes),
    }
    out |= get_shape(cfg.shape).pick_params(q=r.q)
    if cfg.xi == 1:
        out["gamma_in"] = r.gamma_in
        out["e_sd_in_sq"] = r.e_sd_in_sq
    out["config"] = cfg.as_dict()
    return out


def init_view(cfg: InitConfig) -> TheoryCheck:
    """The initialisation page's computation: Conditions I-IV (``.result``) and the simulation panel."""
    return theory_check(cfg)
