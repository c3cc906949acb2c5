"""Plain-text exports of results (CSV), shared by pages and notebooks."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np

from .escape import EscapeView
from .signflip import SignflipView

__all__ = ["columns_to_csv", "escape_tables", "signflip_tables"]


def columns_to_csv(columns: Mapping[str, np.ndarray]) -> str:
    """Equal-length 1-D columns -> CSV text with a header row (NaN written as empty)."""
    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    n = {a.shape for a in arrays}
    if len(n) != 1 or len(next(iter(n))) != 1:
        raise ValueError("columns must be 1-D arrays of equal length")
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    for row in zip(*arrays, strict=True):
        buf.write(",".join("" if (isinstance(x, float) and x != x) else repr(float(x)) if isinstance(x, float)
                           else str(x) for x in (v.item() for v in row)) + "\n")
    return buf.getvalue()


def escape_tables(v: EscapeView) -> dict[str, str]:
    """CSV tables of the escape-noise page: curves, rasters, thresholds."""
    curves = columns_to_csv({
        "u": v.u,
        "firing_probability": v.firing_probability,
        "step": v.step,
        "d_expected_output": v.d_expected_output,
        "surrogate_derivative": v.surrogate_derivative,
        "stochad_right": v.stochad_right,
        "stochad_left": v.stochad_left,
    })
    trials, inputs = v.raster_stoch.shape
    rasters = columns_to_csv({
        "trial": np.repeat(np.arange(1, trials + 1), inputs),
        "u": np.tile(v.u_inputs, trials),
        "y_deterministic": v.raster_det.ravel().astype(np.float64),
        "y_stochastic": v.raster_stoch.ravel().astype(np.int64),
    })
    thresholds = columns_to_csv({"threshold": v.thresholds})
    return {"curves": curves, "rasters": rasters, "thresholds": thresholds}


def signflip_tables(v: SignflipView) -> dict[str, str]:
    """CSV tables of the sign-flip page: the sweep along w and the (long-format) landscape plane."""
    sw, pl = v.sweep, v.plane
    sweep = columns_to_csv({
        "w": sw.w, "output": sw.output, "smoothed_output": sw.smoothed_output, "integrated_sg": sw.integrated_sg,
        "grad_true_w": sw.grad_true_w, "grad_sg_w": sw.grad_sg_w, "grad_smoothed_w": sw.grad_smoothed_w,
        "sign_flip": sw.flip.astype(np.int64),
    })
    aa, bb = np.meshgrid(pl.a, pl.b)
    cols = {pl.axis_x: aa.ravel(), pl.axis_y: bb.ravel(), "output": pl.output.ravel(),
            f"grad_true_{pl.axis_x}": pl.grad_true[0].ravel(), f"grad_true_{pl.axis_y}": pl.grad_true[1].ravel()}
    for beta, (gx, gy) in pl.grad_sg.items():
        cols[f"grad_sg{beta:g}_{pl.axis_x}"] = gx.ravel()
        cols[f"grad_sg{beta:g}_{pl.axis_y}"] = gy.ravel()
    cols[f"sign_flip_{pl.component}"] = pl.disagree.ravel().astype(np.int64)
    return {"sweep": sweep, "plane": columns_to_csv(cols)}
