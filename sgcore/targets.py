"""Target rasters: pictures turned into binary spike rasters (rows = neurons, columns = time steps).

A target raster is a 0/1 ``uint8`` array of shape ``(n_neurons, n_steps)``; row 0 is neuron 0 (drawn at
the top), column 0 is the first time step. It is made from a grayscale picture (float array, ``1`` = dark
ink = spike, ``0`` = white paper = silence) in three steps:

1. :func:`resize_gray` resamples the picture to ``(n_neurons, n_steps)`` (area average when shrinking,
   bilinear when enlarging; ``fit`` chooses stretch, centre-crop or pad).
2. :func:`match_density` maps the grey levels linearly so that their mean is exactly ``density``: if the
   picture is darker than wanted, the ink is lightened (``g * density / mean``, white stays white); if it is
   lighter, the paper is darkened (``1 - (1 - g) (1 - density) / (1 - mean)``, black stays black). Both maps
   keep the levels in [0, 1] and keep the relative contrast; a blank picture becomes a uniform grey.
3. :func:`floyd_steinberg` error-diffuses the levels to 0/1 (serpentine scan, a slightly jittered threshold so
   that flat greys give every neuron about the same rate instead of the classic pattern of silent and busy
   rows, and a few warm-up rows so the top rows are not empty). Error diffusion conserves the total ink up to
   what crosses the top and bottom edges, a fraction of a spike per column: measured on random pictures,
   the density is within 0.001 of ``density`` at 200 x 189 and within 0.003 at 60 x 80.

Shipped pictures (:data:`TARGETS`) are drawn procedurally here (anti-aliased strokes from distance fields in
numpy, no fonts or third-party images). Users can upload their own picture: :func:`load_image` validates and
decodes PNG, JPEG, GIF (first frame), BMP and WebP at a bounded cost (pixel caps checked from the header, large
pictures reduced while decoding); :func:`upload_raster` = load + dither.

``python -m sgcore.targets`` writes previews of the shipped targets to ``assets/targets/<name>.png`` (below the
working folder: run it from a checkout's root to refresh the app's previews).
No Streamlit inside.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, features

from .params import count, interval

__all__ = [
    "DEFAULT_DENSITY",
    "DEFAULT_N_NEURONS",
    "DEFAULT_N_STEPS",
    "IMAGE_FORMATS",
    "MAX_PIXELS",
    "MAX_UPLOAD_BYTES",
    "RLE_BMP_MAX_PIXELS",
    "TARGETS",
    "Target",
    "WEBP_MAX_PIXELS",
    "WORK_PIXELS",
    "dither",
    "floyd_steinberg",
    "load_image",
    "match_density",
    "raster_png",
    "resize_gray",
    "target_raster",
    "upload_raster",
    "write_previews",
]

#: Neurons (rows) of a target raster: Fig. 6's 200 output neurons.
DEFAULT_N_NEURONS = 200
#: Time steps (columns) of a target raster: Fig. 6's 189.
DEFAULT_N_STEPS = 189
#: Spike density the targets are dithered to (about a quarter of the raster's cells spike).
DEFAULT_DENSITY = 0.25

Fit = Literal["stretch", "crop", "pad"]
_FITS = ("stretch", "crop", "pad")


# ---------------------------------------------------------------------------------------------------------------
# Dithering
# ---------------------------------------------------------------------------------------------------------------


def _check_size(n_neurons: int, n_steps: int) -> tuple[int, int]:
    return count("n_neurons", n_neurons, 1), count("n_steps", n_steps, 1)


def _check_density(density: float) -> float:
    return interval("density", density, 0.0, 1.0, open_low=True, open_high=True)


def _check_gray(gray: np.ndarray) -> np.ndarray:
    g = np.asarray(gray, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] < 1 or g.shape[1] < 1:
        raise ValueError(f"gray must be a non-empty 2-D array (rows, columns); got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("gray must contain only finite values (NaN or inf found)")
    return np.clip(g, 0.0, 1.0)


def resize_gray(gray: np.ndarray, n_neurons: int, n_steps: int, *, fit: Fit = "stretch") -> np.ndarray:
    """Resample a grayscale picture (values clipped to [0, 1]) to ``(n_neurons, n_steps)`` float64.

    ``fit``: ``"stretch"`` fills the raster (the aspect ratio may change), ``"crop"`` keeps the aspect ratio
    and cuts the centre out, ``"pad"`` keeps the aspect ratio and pads with white (0). Shrinking averages
    areas (box filter), enlarging interpolates bilinearly.
    """
    n_neurons, n_steps = _check_size(n_neurons, n_steps)
    if fit not in _FITS:
        raise ValueError(f"fit must be one of {', '.join(_FITS)}; got {fit!r}")
    g = _check_gray(gray)
    h, w = g.shape
    if fit == "crop":
        # Largest centred window with the raster's aspect ratio.
        if w * n_neurons > h * n_steps:
            cw = max(1, round(h * n_steps / n_neurons))
            x0 = (w - cw) // 2
            g = g[:, x0 : x0 + cw]
        else:
            ch = max(1, round(w * n_neurons / n_steps))
            y0 = (h - ch) // 2
            g = g[y0 : y0 + ch, :]
        return _resample(g, n_neurons, n_steps)
    if fit == "pad":
        scale = min(n_neurons / h, n_steps / w)
        ih, iw = max(1, min(n_neurons, round(h * scale))), max(1, min(n_steps, round(w * scale)))
        out = np.zeros((n_neurons, n_steps))
        y0, x0 = (n_neurons - ih) // 2, (n_steps - iw) // 2
        out[y0 : y0 + ih, x0 : x0 + iw] = _resample(g, ih, iw)
        return out
    return _resample(g, n_neurons, n_steps)


def _resample(g: np.ndarray, rows: int, cols: int) -> np.ndarray:
    h, w = g.shape
    if (h, w) == (rows, cols):
        return g.copy()
    shrinking = h >= rows and w >= cols
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    im = Image.fromarray(g.astype(np.float32), mode="F").resize((cols, rows), resample)
    return np.clip(np.asarray(im, dtype=np.float64), 0.0, 1.0)


def match_density(levels: np.ndarray, density: float) -> np.ndarray:
    """Map grey levels in [0, 1] linearly so that their mean is exactly ``density`` (see the module doc).

    Darker than wanted: ``g * density / mean`` (paper stays white). Lighter than wanted:
    ``1 - (1 - g) (1 - density) / (1 - mean)`` (ink stays black). The result stays in [0, 1].
    """
    d = _check_density(density)
    g = _check_gray(levels)
    m = float(g.mean())
    if m >= d:
        return g * (d / m)
    return 1.0 - (1.0 - g) * ((1.0 - d) / (1.0 - m))


# Floyd-Steinberg weights: forward, back-below, below, forward-below (relative to the scan direction).
_FS = (7 / 16, 3 / 16, 5 / 16, 1 / 16)


def floyd_steinberg(levels: np.ndarray, *, jitter: float = 0.2, seed: int = 0, warmup: int = 8) -> np.ndarray:
    """Error-diffuse grey levels (any real values; ``1`` = spike) to a 0/1 ``uint8`` array.

    Serpentine Floyd-Steinberg: even rows left to right, odd rows right to left. At the left and right
    borders a missing neighbour's share of the error goes to the neighbours that exist, so the whole error is
    passed on; only in the last row the downward shares leave the raster (a fraction of a spike per column).

    Two changes make it suit spike rasters, where every row is a neuron:

    * ``jitter``: the threshold is ``0.5 + U(-jitter, jitter)`` per cell, from a generator seeded with
      ``seed`` (so the result is deterministic). Plain Floyd-Steinberg turns a flat 25 % grey into a regular
      pattern in which every other row is silent and the others fire at 50 %; with the jittered threshold
      every neuron fires at about the local grey level (row counts spread less than binomial ones).
    * ``warmup``: the first ``warmup`` rows, mirrored, are diffused first and discarded, so that the top rows
      start with a settled error instead of staying empty while it builds up (at low densities).

    Pure 0/1 input comes out unchanged (for ``jitter < 0.5``).
    """
    g = np.asarray(levels, dtype=np.float64)
    if g.ndim != 2:
        raise ValueError(f"levels must be a 2-D array; got shape {g.shape}")
    jitter = interval("jitter", jitter, 0.0, 0.5, open_high=True)
    k = max(0, min(int(warmup), g.shape[0]))
    g = np.vstack([g[:k][::-1], g])
    h, w = g.shape
    rows = g.tolist()
    thresholds = (0.5 + jitter * (2.0 * np.random.default_rng(seed).random((h, w)) - 1.0)).tolist()
    out = np.zeros((h, w), dtype=np.uint8)
    w_fwd, w_back, w_down, w_fdown = _FS
    for i in range(h):
        row, thr = rows[i], thresholds[i]
        below = rows[i + 1] if i + 1 < h else None
        step = 1 if i % 2 == 0 else -1
        cols = range(w) if step == 1 else range(w - 1, -1, -1)
        orow = [0] * w
        for j in cols:
            old = row[j]
            new = 1 if old >= thr[j] else 0
            orow[j] = new
            err = old - new
            if err == 0.0:
                continue
            jf, jb = j + step, j - step
            has_f = 0 <= jf < w
            has_b = 0 <= jb < w
            if below is None:  # last row: the standard forward share; the rest leaves the raster
                if has_f:
                    row[jf] += w_fwd * err
                continue
            wf = w_fwd if has_f else 0.0
            wb = w_back if has_b else 0.0
            wfd = w_fdown if has_f else 0.0
            e = err / (wf + wb + w_down + wfd)
            if has_f:
                row[jf] += wf * e
                below[jf] += wfd * e
            if has_b:
                below[jb] += wb * e
            below[j] += w_down * e
        out[i] = orow
    return out[k:]


def dither(
    gray: np.ndarray, n_neurons: int, n_steps: int, density: float = DEFAULT_DENSITY, *, fit: Fit = "stretch"
) -> np.ndarray:
    """Grayscale picture (``1`` = dark = spike) -> 0/1 ``uint8`` raster ``(n_neurons, n_steps)`` at ``density``.

    :func:`resize_gray`, then :func:`match_density` (levels' mean = ``density``), then :func:`floyd_steinberg`,
    which conserves the mean up to a few spikes lost from the last row.
    """
    levels = match_density(resize_gray(gray, n_neurons, n_steps, fit=fit), density)
    return floyd_steinberg(levels)


# ---------------------------------------------------------------------------------------------------------------
# Procedural pictures (anti-aliased strokes from distance fields)
# ---------------------------------------------------------------------------------------------------------------


class _Canvas:
    """Pixel grid of shape (h, w); coordinates in pixels, (x, y) = (column, row), pixel centres at +0.5."""

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.x = np.arange(w, dtype=np.float64)[None, :] + 0.5
        self.y = np.arange(h, dtype=np.float64)[:, None] + 0.5
        self.ink = np.zeros((h, w))
        self.unit = float(min(h, w))

    def coverage(self, dist: np.ndarray, width: float) -> np.ndarray:
        """Distance to a stroke's centre line -> coverage of a stroke ``width`` pixels wide.

        A one-pixel anti-aliasing ramp at the edge; strokes thinner than a pixel are drawn one pixel wide at
        proportionally reduced darkness.
        """
        half = max(width, 1.0) / 2
        return np.clip(half - dist + 0.5, 0.0, 1.0) * min(1.0, width)

    def distance(self, pts: np.ndarray, reach: float) -> np.ndarray:
        """Distance from every pixel centre to a polyline (k, 2); exact up to ``reach``, ``inf`` beyond it."""
        p = np.asarray(pts, dtype=np.float64)
        d = np.full((self.h, self.w), np.inf)
        for (ax, ay), (bx, by) in zip(p[:-1], p[1:], strict=True):
            # Only pixels within ``reach`` of the segment matter: work on its bounding box.
            r0, r1 = max(0, int(min(ay, by) - reach)), min(self.h, int(max(ay, by) + reach) + 1)
            c0, c1 = max(0, int(min(ax, bx) - reach)), min(self.w, int(max(ax, bx) + reach) + 1)
            if r0 >= r1 or c0 >= c1:
                continue
            px, py = self.x[:, c0:c1], self.y[r0:r1, :]
            dx, dy = bx - ax, by - ay
            ll = dx * dx + dy * dy
            t = np.clip(((px - ax) * dx + (py - ay) * dy) / ll, 0.0, 1.0) if ll > 0 else 0.0
            win = d[r0:r1, c0:c1]
            np.minimum(win, np.hypot(px - ax - t * dx, py - ay - t * dy), out=win)
        return d

    def polyline(self, pts: np.ndarray, width: float, level: float = 1.0) -> None:
        """Stroke a polyline (k, 2) with round joins and caps."""
        self.paint(self.coverage(self.distance(pts, max(width, 1.0) / 2 + 1.0), width) * level)

    def disc(self, cx: float, cy: float, r: float, level: float = 1.0) -> None:
        """Fill a disc."""
        d = np.hypot(self.x - cx, self.y - cy)
        self.paint(np.clip(r - d + 0.5, 0.0, 1.0) * level)

    def paint(self, cover: np.ndarray) -> None:
        """Union with the current ink (darkest wins)."""
        np.maximum(self.ink, cover, out=self.ink)


def _ellipse_arc(cx: float, cy: float, ax: float, ay: float, a0: float, a1: float) -> np.ndarray:
    """Points (k, 2) on an ellipse arc from angle ``a0`` to ``a1`` (degrees, counter-clockwise on screen)."""
    t = np.radians(np.linspace(a0, a1, max(12, int(abs(a1 - a0) / 3))))
    return np.column_stack([cx + ax * np.cos(t), cy - ay * np.sin(t)])


def _draw_sg(h: int, w: int) -> np.ndarray:
    """The letters S and G in thick round strokes, side by side, centred."""
    c = _Canvas(h, w)
    # Letter box: height L, each letter ~0.62 L wide, gap 0.18 L; shrink L if the raster is narrow.
    L = min(0.8 * h, w / (2 * 0.62 + 0.18 + 0.16))
    sw = 0.2 * L  # stroke width
    lw = 0.62 * L
    gap = 0.18 * L
    x0 = (w - (2 * lw + gap)) / 2
    top = (h - L) / 2
    # S: two bowls of radius r stacked; upper opens to the lower right, lower opens to the upper left.
    r = (L - sw) / 4
    rx = (lw - sw) / 2
    cx = x0 + lw / 2
    cy1, cy2 = top + sw / 2 + r, top + L - sw / 2 - r

    s_pts = np.vstack([
        _ellipse_arc(cx, cy1, rx, r, 20, 270),  # upper bowl: from upper right over the top, down the left side
        _ellipse_arc(cx, cy2, rx, r, 90, -160),  # lower bowl: from the middle around the right, to lower left
    ])
    c.polyline(s_pts, sw)
    # G: an open ring (gap on the upper right), a bar into the middle and a short spur down the right side.
    gx = x0 + lw + gap + lw / 2
    gy = top + L / 2
    grx, gry = (lw - sw) / 2, (L - sw) / 2
    c.polyline(_ellipse_arc(gx, gy, grx, gry, 40, 360), sw)
    c.polyline(np.array([[gx + 0.05 * lw, gy], [gx + grx, gy], [gx + grx, gy + 0.55 * gry]]), sw)
    return c.ink


def _membrane_trace(n: int = 600) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """A current-based leaky integrate-and-fire neuron driven by two volleys of input pulses.

    Returns time in [0, 1], the depolarisation ``v`` (0 = rest, 1 = threshold, negative after a spike) and the
    indices of the spikes (where ``v`` reached 1 and was reset). Each volley's fifth pulse makes it fire.
    """
    t = np.linspace(0.0, 1.0, n)
    dt = float(t[1] - t[0])
    pulses = [0.07, 0.14, 0.19, 0.23, 0.26, 0.53, 0.58, 0.62, 0.65]
    tau_m, tau_s, jump, v_reset = 0.06, 0.012, 3.3, -0.35
    v, cur = np.zeros(n), 0.0
    spikes: list[int] = []
    k = 0
    for i in range(1, n):
        while k < len(pulses) and pulses[k] <= t[i]:
            cur += jump
            k += 1
        v[i] = v[i - 1] + dt * (cur - v[i - 1]) / tau_m
        cur *= math.exp(-dt / tau_s)
        if v[i] >= 1.0:
            spikes.append(i)
            v[i] = v_reset
            cur = 0.0
    return t, v, spikes


def _draw_spike(h: int, w: int) -> np.ndarray:
    """A membrane-potential trace integrating inputs, crossing the dashed threshold twice and spiking.

    Thick trace; below it, after a thin white gap, the area is shaded grey (a medium dither); threshold dashed.
    """
    c = _Canvas(h, w)
    t, v, spikes = _membrane_trace()
    rest, thr, peak = 0.66, 0.36, 0.06
    y = (rest + (thr - rest) * v) * h
    x = (0.04 + 0.92 * t) * w
    pts: list[np.ndarray] = []
    last = 0
    for i in spikes:
        # Upstroke from threshold to the peak, then straight down to the reset value.
        pts += [np.column_stack([x[last:i], y[last:i]]),
                np.array([[x[i - 1], thr * h], [x[i - 1] + 0.006 * w, peak * h], [x[i] + 0.012 * w, y[i]]])]
        last = i + 1
    pts.append(np.column_stack([x[last:], y[last:]]))
    trace = np.vstack(pts)
    sw = max(1.0, 0.06 * c.unit)
    gap = max(1.0, 0.6 * sw)
    # Shade below the trace, leaving a white gap along the stroke, then stroke the trace.
    below = (c.y > np.interp(c.x.ravel(), x, y)[None, :]) & (c.x > x[0]) & (c.x < x[-1])
    d = c.distance(trace, sw / 2 + gap + 1.0)
    c.paint(np.where(below, 0.5 * np.clip(d - sw / 2 - gap + 0.5, 0.0, 1.0), 0.0))
    c.paint(c.coverage(d, sw))
    dash = 0.045 * w
    xd = 0.04 * w
    while xd < 0.96 * w:
        c.polyline(np.array([[xd, thr * h], [min(xd + dash, 0.96 * w), thr * h]]), max(1.0, 0.03 * c.unit))
        xd += 2 * dash
    return c.ink


def _draw_wave(h: int, w: int) -> np.ndarray:
    """Three sinusoidal bands of one, two and three cycles."""
    c = _Canvas(h, w)
    x = np.linspace(-0.02 * w, 1.02 * w, max(200, 2 * w))
    u = x / w
    sw = max(1.0, 0.08 * h)
    for k, (yc, cycles, phase) in enumerate([(0.2, 1.0, 0.0), (0.5, 2.0, 0.6), (0.8, 3.0, 1.3)]):
        y = (yc + 0.085 * np.sin(2 * np.pi * cycles * u + phase)) * h
        c.polyline(np.column_stack([x, y]), sw * (1.15 - 0.15 * k))
    return c.ink


def _draw_rings(h: int, w: int) -> np.ndarray:
    """A bullseye: a solid centre inside three concentric rings, round in pixel space."""
    c = _Canvas(h, w)
    cx, cy = w / 2, h / 2
    R = 0.47 * c.unit
    rho = np.hypot(c.x - cx, c.y - cy)
    c.disc(cx, cy, 0.16 * R)
    for r, width in [(0.42, 0.13), (0.68, 0.12), (0.92, 0.11)]:
        c.paint(c.coverage(np.abs(rho - r * R), max(1.0, width * R)))
    return c.ink


def _draw_planet(h: int, w: int) -> np.ndarray:
    """A shaded sphere lit from the upper left, with a tilted ring: smooth greys, like a dithered photo."""
    c = _Canvas(h, w)
    cx, cy = w / 2, h / 2
    R = 0.36 * c.unit
    nx, ny = (c.x - cx) / R, (c.y - cy) / R
    rho = np.hypot(nx, ny)
    nz = np.sqrt(np.clip(1.0 - rho * rho, 0.0, 1.0))
    light = np.array([-0.5, -0.55, 0.67])
    light /= np.linalg.norm(light)
    lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, 1.0)
    inside = np.clip((1.0 - rho) * R + 0.5, 0.0, 1.0)
    sphere = (1.0 - 0.72 * lambert) * inside  # ink: dark on the night side, light highlight
    # Ring: an elliptical band (semi-axes a, b), tilted; q = 1 on its centre line.
    tilt = math.radians(-16)
    ct, st = math.cos(tilt), math.sin(tilt)
    ex = (c.x - cx) * ct + (c.y - cy) * st
    ey = -(c.x - cx) * st + (c.y - cy) * ct
    a, b = 1.8 * R, 0.42 * R
    q = np.hypot(ex / a, ey / b)
    scale = np.hypot(ex, ey) / np.maximum(q, 1e-9)  # local radius, to turn |q - 1| into pixels (approx.)
    half = 0.13  # half width of the band in units of q

    def band(hw: float) -> np.ndarray:
        # |q - 1| * scale is the distance along the ray from the centre, more than the distance across the
        # band where the ellipse is flat; the factor 0.35 gives a soft edge of a pixel or two everywhere.
        return np.clip((hw - np.abs(q - 1.0)) * scale * 0.35 + 0.5, 0.0, 1.0)

    ring = band(half) * 0.9
    front = ey > 0  # the near half of the ring is the lower one on screen
    img = np.maximum(sphere, np.where(front, 0.0, ring * (1.0 - inside)))  # back half hidden by the sphere
    img = np.where(front, img * (1.0 - band(half + 0.09)), img)  # a thin white gap along the front half
    img = np.maximum(img, np.where(front, ring, 0.0))
    c.paint(img)
    return c.ink


@dataclass(frozen=True)
class Target:
    """A shipped target picture: ``render(n_neurons, n_steps)`` -> grayscale float array (1 = ink = spike)."""

    name: str
    label: str
    description: str
    render: Callable[[int, int], np.ndarray]


#: The shipped target pictures by name, each a :class:`Target` drawn procedurally.
TARGETS: Mapping[str, Target] = MappingProxyType(
    {
        t.name: t
        for t in (
            Target("sg", "SG letters", "The letters S and G in thick round strokes.", _draw_sg),
            Target(
                "spike",
                "Membrane trace",
                "A membrane potential integrating input pulses, crossing the dashed threshold twice and spiking.",
                _draw_spike,
            ),
            Target("wave", "Waves", "Three sine waves of one, two and three cycles.", _draw_wave),
            Target("rings", "Bullseye", "A solid centre inside three concentric rings.", _draw_rings),
            Target("planet", "Ringed planet", "A shaded sphere with a tilted ring: smooth greys.", _draw_planet),
        )
    }
)


def _get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown target {name!r}; choose one of: {', '.join(TARGETS)}") from None


@functools.lru_cache(maxsize=64)
def _target_raster(name: str, n_neurons: int, n_steps: int, density: float) -> np.ndarray:
    gray = _get_target(name).render(n_neurons, n_steps)
    out = dither(gray, n_neurons, n_steps, density)
    out.setflags(write=False)
    return out


def target_raster(name: str, n_neurons: int = DEFAULT_N_NEURONS, n_steps: int = DEFAULT_N_STEPS,
                  density: float = DEFAULT_DENSITY) -> np.ndarray:
    """The dithered raster of a shipped target: 0/1 ``uint8`` ``(n_neurons, n_steps)``, cached and read-only."""
    _get_target(name)
    n_neurons, n_steps = _check_size(n_neurons, n_steps)
    return _target_raster(name, n_neurons, n_steps, _check_density(density))


# ---------------------------------------------------------------------------------------------------------------
# Uploaded images
# ---------------------------------------------------------------------------------------------------------------

# Pillow format names accepted (MPO = multi-picture JPEG from cameras; decoded as its first picture).
_PIL_FORMATS = ("PNG", "JPEG", "GIF", "BMP") + (("WEBP",) if features.check("webp") else ())
#: The image formats :func:`load_image` decodes (WebP when this Pillow can).
IMAGE_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "GIF", "BMP") + (("WebP",) if "WEBP" in _PIL_FORMATS else ())
_FORMATS_TEXT = ", ".join(IMAGE_FORMATS[:-1]) + " or " + IMAGE_FORMATS[-1]
_ACCEPTED = set(_PIL_FORMATS) | {"MPO"}


#: Largest upload accepted (bytes).
MAX_UPLOAD_BYTES = 2_000_000
#: Largest picture accepted (pixels, read from the header before anything is decoded). PNG, GIF and BMP are
#: decoded in full before they can be reduced, so this bounds their cost (see load_image); a 12-megapixel
#: photo (4032 x 3024) and a 4K screenshot fit.
MAX_PIXELS = 12_582_912  # 4096 x 3072
#: Pictures with more pixels are reduced while decoding to about this many (rasters have at most 400 x 400).
WORK_PIXELS = 1_048_576  # 1024 x 1024
#: WebP is decoded through full-size RGBA buffers (about 16 bytes and 25 ns per pixel here): a lower cap.
WEBP_MAX_PIXELS = 4_194_304  # 2048 x 2048
#: Run-length-encoded BMPs are decoded by Pillow in pure Python (up to a microsecond per pixel): a lower cap.
RLE_BMP_MAX_PIXELS = 262_144  # 512 x 512


def _fmt_bytes(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    if n >= 1e3:
        return f"{n / 1e3:.1f} kB"
    return f"{int(n)} bytes"


def _sniff(data: bytes) -> tuple[str | None, tuple[int, int] | None]:
    """Format by magic bytes and, where cheaply available, the declared (width, height)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        size = struct.unpack(">II", data[16:24]) if len(data) >= 24 and data[12:16] == b"IHDR" else None
        return "PNG", size
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG", None
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF", struct.unpack("<HH", data[6:10]) if len(data) >= 10 else None
    if data.startswith(b"BM"):
        return "BMP", None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP", None
    return None, None


def load_image(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS,
               work_pixels: int = WORK_PIXELS) -> np.ndarray:
    """Decode an uploaded image into a grayscale float array in [0, 1] (``1`` = dark), shape (height, width).

    Accepts PNG, JPEG, GIF (first frame), BMP and WebP (if this Pillow has WebP). Transparent pixels are
    composited on white, colour is converted to luma (0.299 R + 0.587 G + 0.114 B), EXIF orientation is
    applied, 16-bit greys are scaled to [0, 1]. Every invalid upload raises ``ValueError`` with a one-line
    message: empty, more than ``max_bytes``, not an accepted image, zero size, more than ``max_pixels`` pixels
    (checked from the header, before decoding; also Pillow's decompression-bomb guard; lower caps for WebP,
    :data:`WEBP_MAX_PIXELS`, and run-length-encoded BMP, :data:`RLE_BMP_MAX_PIXELS`, whose decoders are
    costlier), truncated or corrupt.

    Bounded cost: a picture of more than ``work_pixels`` pixels is reduced by an integer factor while it is
    decoded, to at most about ``work_pixels`` pixels (box average of the composited luma, the same filter as
    :func:`resize_gray`): JPEG is decoded at 1/2, 1/4 or 1/8 scale by libjpeg (``Image.draft``), the other
    formats are reduced right after decoding, before any float array is made. The result then has the reduced
    shape (same aspect ratio). Measured on a 2-core machine, any accepted upload costs well under 0.5 s of CPU.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")
    data = bytes(data)
    if len(data) == 0:
        raise ValueError(f"upload is empty (0 bytes); expected a {_FORMATS_TEXT} image of at most "
                         f"{_fmt_bytes(max_bytes)}")
    if len(data) > max_bytes:
        raise ValueError(f"image must be at most {_fmt_bytes(max_bytes)}; got {_fmt_bytes(len(data))}")
    kind, declared = _sniff(data)
    if declared is not None and (declared[0] == 0 or declared[1] == 0):
        raise ValueError(f"image has zero size ({declared[0]} x {declared[1]} pixels); it must be at least 1 x 1")
    if declared is not None and declared[0] * declared[1] > max_pixels:
        raise ValueError(_too_many_pixels(declared[0], declared[1], max_pixels))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS))
    except Image.DecompressionBombError:
        limit = min(max_pixels, 2 * Image.MAX_IMAGE_PIXELS) if Image.MAX_IMAGE_PIXELS else max_pixels
        raise ValueError(f"image has too many pixels (possible decompression bomb); at most {limit:,} "
                         "pixels allowed") from None
    except Exception as e:  # Pillow raises many types on malformed input
        if kind is not None:
            raise ValueError(f"{kind} image is truncated or corrupt and cannot be decoded ({_reason(e)})") from None
        raise ValueError(f"upload is not a {_FORMATS_TEXT} image") from None
    with im:
        fmt = im.format or kind or "image"
        if im.format not in _ACCEPTED:
            raise ValueError(f"upload is not a {_FORMATS_TEXT} image (got {fmt})")
        # Only the header has been read so far: every size check comes before any pixel is decoded.
        w, h = im.size
        if w == 0 or h == 0:
            raise ValueError(f"image has zero size ({w} x {h} pixels); it must be at least 1 x 1")
        if w * h > max_pixels:
            raise ValueError(_too_many_pixels(w, h, max_pixels))
        costly, cap = _costly_decoder(im)
        if costly and w * h > min(cap, max_pixels):
            cap = min(cap, max_pixels)
            raise ValueError(f"{costly} image has too many pixels ({w} x {h} = {w * h:,}); at most {cap:,} pixels "
                             f"allowed for {costly} (save the picture as PNG or JPEG, or make it smaller)")
        try:
            im.seek(0)
            if w * h <= work_pixels:
                im.load()
                frame = ImageOps.exif_transpose(im) or im
                gray = _to_gray(frame)
            else:
                gray = _to_gray(_decode_reduced(im, work_pixels))
        except Exception as e:  # truncated data, bad chunks, bad EXIF, ...
            raise ValueError(f"{fmt} image is truncated or corrupt and cannot be decoded ({_reason(e)})") from None
    return gray


#: EXIF orientation -> the transposition that displays the picture upright (as ``ImageOps.exif_transpose``).
_ORIENT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
#: BMP compression codes decoded by Pillow's pure-Python RLE decoder (BI_RLE8, BI_RLE4).
_BMP_RLE = (1, 2)


def _costly_decoder(im: Image.Image) -> tuple[str, int]:
    """(name, pixel cap) of a format whose decoder costs more per pixel than PNG's, or ("", 0)."""
    if im.format == "BMP" and im.info.get("compression") in _BMP_RLE:
        return "run-length-encoded BMP", RLE_BMP_MAX_PIXELS
    if im.format == "WEBP":
        return "WebP", WEBP_MAX_PIXELS
    return "", 0


def _reduce_factor(w: int, h: int, work_pixels: int) -> int:
    """Smallest integer factor k with ceil(w / k) * ceil(h / k) <= work_pixels (1 if nothing to reduce)."""
    k = max(1, math.ceil(math.sqrt(w * h / max(1, work_pixels))))
    while k > 1 and -(-w // (k - 1)) * -(-h // (k - 1)) <= work_pixels:
        k -= 1
    while -(-w // k) * -(-h // k) > work_pixels and k < max(w, h):
        k += 1
    return k


def _decode_reduced(im: Image.Image, work_pixels: int) -> Image.Image:
    """Decode a large picture to at most about ``work_pixels`` pixels, upright; mode L, RGB, I, F, La or RGBa.

    Everything at full resolution stays inside Pillow's C code and in 1-4 bytes per pixel. Transparent
    pictures are premultiplied by their alpha before the box average (``La``/``RGBa``), so that averaging and
    compositing on white commute: :func:`_to_gray` composites the averages exactly as it would the pixels.
    """
    method = _ORIENT.get(im.getexif().get(0x0112, 1))  # read before decoding (a decoded copy has no EXIF)
    w, h = im.size
    if im.format in ("JPEG", "MPO"):
        # libjpeg decodes straight to 1/2, 1/4 or 1/8 scale (and to luma only, for a colour JPEG).
        k = _reduce_factor(w, h, work_pixels)
        im.draft("L" if im.mode == "RGB" else im.mode, (max(1, w // k), max(1, h // k)))
    im.load()
    src: Image.Image = im
    if src.mode == "P":
        src = _palette_luma(src)  # 1 byte per pixel, transparency included
    elif src.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in src.info:
        if src.mode not in ("RGBA", "RGBa"):
            src = src.convert("RGBA")  # the same transparency rules as the exact path of _to_gray
        if src.mode == "RGBA":
            src = _swap(src, src.convert("RGBa"), im)
    elif src.mode == "1":
        src = _swap(src, src.convert("L"), im)
    elif src.mode.startswith("I;16"):
        src = _swap(src, src.convert("I"), im)
    elif src.mode not in ("L", "RGB", "I", "F"):
        src = _swap(src, src.convert("RGB"), im)  # CMYK, YCbCr, ...
    k = _reduce_factor(*src.size, work_pixels)
    out = src.reduce(k) if k > 1 else src.copy()
    if src is not im:
        src.close()
    return out.transpose(method) if method is not None else out


def _palette_luma(im: Image.Image) -> Image.Image:
    """A palette picture as an ``L`` picture of each entry's luma composited on white (rounded to 1/255).

    The entries' colours and alphas come from Pillow's own P -> RGBA conversion of a 256-pixel probe, so the
    transparency rules (a transparent index, or per-entry alphas) are the same as on the exact path.
    """
    probe = Image.new("P", (256, 1))
    probe.putdata(range(256))
    probe.putpalette(im.palette)
    if "transparency" in im.info:
        probe.info["transparency"] = im.info["transparency"]
    level = np.round((1.0 - _to_gray(probe.convert("RGBA"))[0]) * 255.0).astype(np.uint8)
    gray = im.copy()
    gray.info.pop("transparency", None)
    gray.putpalette(np.repeat(level, 3).tobytes(), rawmode="RGB")
    out = gray.convert("L")
    gray.close()
    return out


def _swap(old: Image.Image, new: Image.Image, keep: Image.Image) -> Image.Image:
    """``new``, after freeing ``old``'s pixels (unless it is ``keep``, closed by its caller)."""
    if old is not keep:
        old.close()
    return new


def _too_many_pixels(w: int, h: int, max_pixels: int) -> str:
    return f"image has too many pixels ({w} x {h} = {w * h:,}); at most {max_pixels:,} pixels allowed"


def _reason(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    if "BytesIO object at" in msg:  # Pillow's "cannot identify image file <_io.BytesIO ...>"
        msg = "cannot identify image data"
    return (msg[:80] + "...") if len(msg) > 83 else (msg or type(e).__name__)


def _to_gray(im: Image.Image) -> np.ndarray:
    """Picture -> ``1 - luma`` in [0, 1], composited on white; a few float planes, never a float RGBA array."""
    if im.mode.startswith("I") or im.mode == "F":
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if a.size and a.max() > 255 else 255.0
        return np.clip(1.0 - a / top, 0.0, 1.0)
    premultiplied = im.mode in ("RGBa", "La")  # from _decode_reduced: the colour is already times alpha
    if not premultiplied and (im.mode not in ("L", "LA", "RGB", "RGBA") or "transparency" in im.info):
        im = im.convert("RGBA")  # palette, 1-bit, CMYK, colour-key transparency: Pillow's rules
    a = np.asarray(im)
    if a.ndim == 2:
        a = a[:, :, None]
    # luma x 1000 of the colour, in integers (0.299 R + 0.587 G + 0.114 B; white is exactly 255 000)
    if im.mode in ("L", "LA", "La"):
        ink = a[:, :, 0].astype(np.int32) * 1000
    else:
        ink = a[:, :, 0].astype(np.int32) * 299
        ink += a[:, :, 1].astype(np.int32) * 587
        ink += a[:, :, 2].astype(np.int32) * 114
    if im.mode in ("L", "RGB"):
        lum = ink / 255_000.0
    else:  # composite on white: colour * alpha + white * (1 - alpha)
        alpha = a[:, :, -1].astype(np.float64)
        paper = 1000.0 * (255.0 - alpha)
        lum = ((ink if premultiplied else ink * (alpha / 255.0)) + paper) / 255_000.0
    return np.clip(1.0 - lum, 0.0, 1.0)


def upload_raster(
    data: bytes,
    n_neurons: int = DEFAULT_N_NEURONS,
    n_steps: int = DEFAULT_N_STEPS,
    density: float = DEFAULT_DENSITY,
    *,
    invert: bool = False,
    fit: Fit = "stretch",
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """:func:`load_image` + :func:`dither`; ``invert=True`` makes light areas spike instead of dark ones."""
    gray = load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    if invert:
        gray = 1.0 - gray
    return dither(gray, n_neurons, n_steps, density, fit=fit)


# ---------------------------------------------------------------------------------------------------------------
# PNG output
# ---------------------------------------------------------------------------------------------------------------


def raster_png(raster: np.ndarray, *, scale: int = 1) -> bytes:
    """A 0/1 raster as a 1-bit PNG: spikes black on white, neuron 0 at the top, time to the right.

    ``scale`` enlarges each cell to ``scale x scale`` pixels (nearest neighbour, stays crisp).
    """
    r = np.asarray(raster)
    if r.ndim != 2 or r.size == 0:
        raise ValueError(f"raster must be a non-empty 2-D array; got shape {r.shape}")
    if not np.isin(r, (0, 1)).all():
        raise ValueError("raster must contain only 0 and 1")
    scale = count("scale", scale, 1)
    paper = r == 0
    if scale > 1:
        paper = np.repeat(np.repeat(paper, scale, axis=0), scale, axis=1)
    buf = io.BytesIO()
    Image.fromarray(paper).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_previews(directory: str | Path | None = None, n_neurons: int = DEFAULT_N_NEURONS,
                   n_steps: int = DEFAULT_N_STEPS, density: float = DEFAULT_DENSITY, scale: int = 2) -> list[Path]:
    """Write ``<directory>/<name>.png`` for every shipped target (default: ``assets/targets`` below the working
    folder; never inside an installed package)."""
    d = Path(directory) if directory is not None else Path("assets") / "targets"
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in TARGETS:
        p = d / f"{name}.png"
        p.write_bytes(raster_png(target_raster(name, n_neurons, n_steps, density), scale=scale))
        paths.append(p)
    return paths


if __name__ == "__main__":
    for path in write_previews():
        r = target_raster(path.stem)
        print(f"{path}  {r.shape[0]} x {r.shape[1]}  density {r.mean():.4f}")
