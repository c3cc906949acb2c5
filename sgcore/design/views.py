"""What the SD-design and initialisation pages show and the CLI prints, each computed from one config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from .config import DesignConfig, InitConfig
from .eq2 import Eq2Check, eq2_check, sd_moment, sd_moment_mc, sd_second_moment
from .gallery import ShapeMoments, sd_curve, sd_curves, shape_moments
from .simulation import TheoryCheck, theory_check


@dataclass(frozen=True)
class DesignView:
    """Everything the SD-design page shows and ``python -m sgcore design`` prints (its ``CLI_FIELDS``: not the
    plotted curves), computed from one configuration."""

    CLI_FIELDS: ClassVar[tuple[str, ...]] = (
        "config", "moments", "sd_peak", "sd_second_moment", "sd_first_moment", "mc_mean", "mc_stderr", "s_grid",
        "second_moment_vs_s", "check", "notes")

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

    @property
    def sd_peak(self) -> float:
        """Peak of the SD gamma f(s v): gamma times the peak of f."""
        return self.config.gamma * self.moments.peak

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The CSV download: every shape's SD at the same gamma, s on the v grid."""
        return {"sd_curves": {"v": self.v, **dict(self.curves)}}


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


def init_view(cfg: InitConfig) -> TheoryCheck:
    """The initialisation page's computation: Conditions I-IV (``.result``) and the simulation panel."""
    return theory_check(cfg)
