"""The initialisation calculator: Conditions I-IV for one :class:`InitConfig`, each unset input derived.

:class:`InitResult` records every value used and how it was obtained (given, or from which condition/equation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .conditions import (
    condition_i,
    condition_ii,
    condition_ii_authors_code,
    condition_iii,
    condition_iv,
    sharpness_for,
    voltage_range,
)
from .config import InitConfig


@dataclass(frozen=True)
class InitResult:
    """Conditions I-IV for one configuration, with every derived input and how it was derived (what the
    calculator panel shows and ``python -m sgcore init`` prints). ``gamma_in`` / ``e_sd_in_sq`` are None without
    a layer below (xi = 0)."""

    config: InitConfig
    mean_w_rec: float  # CI
    mean_w_rec_used: float  # the mean CII used (given or CI)
    var_w_rec: float  # CII (re-derived = Eq. 28)
    var_w_rec_authors_code: float  # CII as the authors' code computes it
    dampening: float  # CIII
    sd_second_moment: float  # CIV target E[sigma'^2]
    sharpness: float | None  # s meeting CIV through Eq. 2 (None: no solution)
    gamma_for_sharpness: float
    max_sd_second_moment: float  # sup over s of E[sigma'^2] = gamma^2 (peak 1)
    civ_feasible: bool
    shape: str
    q: float
    min_w_rec: float
    max_w_rec: float
    e_w_rec_sq: float
    max_w_in: float
    e_w_in_sq: float
    gamma_in: float | None
    e_sd_in_sq: float | None
    y_min: float
    y_max: float
    derived: Mapping[str, str]  # parameter -> how it was obtained
    notes: tuple[str, ...]


def init_conditions(cfg: InitConfig) -> InitResult:
    """Conditions I-IV for ``cfg`` (Herranz-Celotti & Rouat Sec. 3.3-3.4, Appendix B); options left unset are
    derived as described in ``derived``/``notes``."""
    n, a, thr, n_in, xi = cfg.n_rec, cfg.alpha_decay, cfg.thr, cfg.n_in, cfg.xi
    derived: dict[str, str] = {}
    notes: list[str] = []

    m_ci = condition_i(n, a, thr)
    if cfg.mean_w_rec is None:
        m = m_ci
        derived["mean_w_rec"] = "CI mean (3 - 2 alpha) thr / (n_rec - 1)"
    else:
        m = cfg.mean_w_rec
        derived["mean_w_rec"] = "given (used by CII instead of the CI mean)"
    var = condition_ii(n, n_in, cfg.mean_z, cfg.var_z, cfg.var_w_in, m)
    var_code = condition_ii_authors_code(n, n_in, cfg.mean_z, cfg.var_z, cfg.var_w_in, m)
    var_used = var
    if var <= 0:
        var_used = 0.0
        notes.append(f"CII has no solution: 2 (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] < Mean[w_rec]^2/2, so "
                     f"Var[w_rec] = {var:.4g} <= 0; 0 is used for the derived weight statistics.")
    h = math.sqrt(3.0 * var_used)
    if cfg.min_w_rec is None:
        lo = m - h
        derived["min_w_rec"] = "uniform W_rec with the CII variance: Mean - sqrt(3 Var)"
    else:
        lo = cfg.min_w_rec
        derived["min_w_rec"] = "given"
    if cfg.max_w_rec is None:
        hi = m + h
        derived["max_w_rec"] = "uniform W_rec with the CII variance: Mean + sqrt(3 Var)"
    else:
        hi = cfg.max_w_rec
        derived["max_w_rec"] = "given"
    if not lo < hi:
        raise ValueError(f"min_w_rec must be below max_w_rec; the derived/given values are {lo:g} and {hi:g}")
    if cfg.e_w_rec_sq is None:
        e_w2 = var_used + m * m
        derived["e_w_rec_sq"] = "Var[w_rec] (CII) + Mean[w_rec]^2"
    else:
        e_w2 = cfg.e_w_rec_sq
        derived["e_w_rec_sq"] = "given"
    if cfg.max_w_in is None:
        max_in = math.sqrt(3.0 * cfg.var_w_in)
        derived["max_w_in"] = "uniform W_in with mean 0: sqrt(3 Var[w_in])"
    else:
        max_in = cfg.max_w_in
        derived["max_w_in"] = "given"
    e_win2 = cfg.var_w_in
    derived["e_w_in_sq"] = "Var[w_in] (Mean[w_in] = 0)"

    gamma_in: float | None = None
    e_sd_in: float | None = None
    if xi == 1:
        if cfg.gamma_in is None:
            gamma_in = condition_iii(n, a, thr, lo, hi)
            derived["gamma_in"] = "CIII of a data-driven (xi = 0) layer below with this layer's statistics"
        else:
            gamma_in = cfg.gamma_in
            derived["gamma_in"] = "given"
        if cfg.e_sd_in_sq is None:
            e_sd_in = condition_iv(n, a, thr, e_w2)
            derived["e_sd_in_sq"] = "CIV of a data-driven (xi = 0) layer below with this layer's statistics"
        else:
            e_sd_in = cfg.e_sd_in_sq
            derived["e_sd_in_sq"] = "given"
        if n_in != n:
            notes.append(f"xi = 1 but n_in = {n_in} differs from n_rec = {n}: the layer-below defaults assume a layer "
                         f"like this one.")
    elif cfg.gamma_in is not None or cfg.e_sd_in_sq is not None:
        notes.append("gamma_in / e_sd_in_sq are ignored when xi = 0 (the input is data).")

    gamma3 = condition_iii(n, a, thr, lo, hi, xi, n_in, max_in, gamma_in or 0.0)
    if lo > 0:
        notes.append("Min[w_rec] > 0: Eq. 41's assumption Max[w] Max[dy] = Min[w] Min[dy] (symmetric weights) fails; "
                     "CIII is then not meaningful.")
    if gamma3 <= 0:
        notes.append(f"CIII gives a non-positive dampening ({gamma3:.4g}): no SD meets Condition III here.")
    e_target = condition_iv(n, a, thr, e_w2, xi, n_in, e_win2, e_sd_in or 0.0)
    if e_target <= 0:
        notes.append(f"CIV asks for E[sigma'^2] = {e_target:.4g} <= 0: impossible (the layer-below term exceeds "
                     f"1 - alpha^2).")

    b_lo, b_hi = voltage_range(n, n_in, a, thr, lo, hi, -max_in, max_in)
    y_lo = cfg.y_min if cfg.y_min is not None else b_lo
    y_hi = cfg.y_max if cfg.y_max is not None else b_hi
    derived["y_min"] = "given" if cfg.y_min is not None else "Appendix B.6 Eq. 74 (b = 0, z in [0, 1])"
    derived["y_max"] = "given" if cfg.y_max is not None else "Appendix B.6 Eq. 72 (b = 0, z in [0, 1])"
    if not y_lo < y_hi:
        raise ValueError(f"y_min must be below y_max; the derived/given values are {y_lo:g} and {y_hi:g}")

    if cfg.gamma is None:
        g_s = gamma3
        derived["gamma"] = "CIII dampening"
    else:
        g_s = cfg.gamma
        derived["gamma"] = "given"
    peak2 = g_s * g_s
    s_root = None
    if g_s > 0 and e_target > 0:
        s_root = sharpness_for(e_target, cfg.shape, g_s, thr, y_lo, y_hi, cfg.q)
    feasible = s_root is not None
    if not feasible and g_s > 0 and e_target > 0:
        why = (" With the CIII dampening (and xi = 0) this happens for every symmetric W_rec: give a larger 'gamma' "
               "to solve for s." if cfg.gamma is None else "")
        if e_target >= peak2:
            notes.append(f"No sharpness meets CIV: E[sigma'^2] = gamma^2/(s L) int f(s v)^2 is at most gamma^2 = "
                         f"{peak2:.4g} (f <= 1), below the CIV target {e_target:.4g}.{why}")
        else:  # a root exists in theory; the search up to s = 1e-300 and 1e300 found no sign change
            notes.append(f"No sharpness found for CIV: the target {e_target:.4g} is below gamma^2 = {peak2:.4g}, so "
                         f"some s meets it in theory, but E[sigma'^2](s) did not cross it for s in [1e-300, 1e300] "
                         f"(the target is within rounding of gamma^2).")
    return InitResult(
        config=cfg, mean_w_rec=m_ci, mean_w_rec_used=m, var_w_rec=var, var_w_rec_authors_code=var_code,
        dampening=gamma3,
        sd_second_moment=e_target, sharpness=s_root, gamma_for_sharpness=g_s, max_sd_second_moment=peak2,
        civ_feasible=feasible, shape=cfg.shape, q=cfg.q, min_w_rec=lo, max_w_rec=hi, e_w_rec_sq=e_w2,
        max_w_in=max_in, e_w_in_sq=e_win2, gamma_in=gamma_in, e_sd_in_sq=e_sd_in, y_min=y_lo, y_max=y_hi,
        derived=MappingProxyType(derived), notes=tuple(notes))
