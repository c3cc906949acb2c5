"""Closed-loop integrals of surrogate gradients (Gygax & Zenke Sec. 4.2, Fig. 5, Methods 8.3).

A vector field is a gradient iff its integral around every closed path vanishes. We integrate the
SG field of the Eq. 10 network around the circle

    theta(alpha) = c + r (d1 sin alpha + d2 cos alpha),   alpha in [0, 2 pi],

(alpha = 0 at c + r d2, increasing toward +d1), i.e. I = int F(theta(alpha)) . theta'(alpha) d alpha
with theta'(alpha) = r (d1 cos alpha - d2 sin alpha) (the tangent *with* the step length).

Quadrature: the forward state of a step network is piecewise constant along the circle, so its SG
field jumps where a pre-activation changes sign. We locate those points (dense sign scan +
bisection), split the circle there, and use Gauss-Kronrod 7-15 on every smooth piece, graded
geometrically toward each break and halved adaptively until the pair agrees to LOOP_RTOL (which
resolves the steep but smooth transitions of a sigmoid forward with beta_f = 10000, and reports an
error estimate). The exact-gradient references (the beta_SG sigmoid networks) are graded toward their
own pre-activations' sign changes. A plain midpoint rule with N steps shows convergence (Fig. 5C).

In plane coordinates (a along d1, b along d2) the path runs *clockwise*, so Stokes' theorem reads
I = - iint_disc curl F dA with curl F = dF_b/da - dF_a/db, F_a = F . d1, F_b = F . d2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .params import DeclaredConfig, ParamSpec, declared, work
from .shapes import Surrogate, sd_param_specs
from .signflip import WEIGHT_NAMES, SignflipWeights, _backward, _forward, sigmoid_activation, step_activation

__all__ = [
    "CIRCULATION_TOLERANCE",
    "FIG5_D1",
    "FIG5_D2",
    "LOOP_PARAMS",
    "LoopConfig",
    "LoopView",
    "loop_curl",
    "loop_heatmaps",
    "loop_integrals",
    "part_key",
    "curl_map",
    "gradient_field",
    "loop_integral",
    "loop_view",
    "midpoint_ladder",
    "midpoint_loop_integral",
    "plane_vectors",
    "stokes_disc_integral",
]

#: Plane of Fig. 5 from the authors' notebook (float32 as printed; re-orthonormalised in float64).
FIG5_D1 = (0.09305991, 0.5905991, -0.30914232, 0.4299941, -0.60172135)
FIG5_D2 = (-0.14934348, 0.25011492, 0.26179737, -0.78792286, -0.47516188)

Field = Callable[[np.ndarray], np.ndarray]  # (n, 5) points -> (n, 5) vectors
PreActs = Callable[[np.ndarray], np.ndarray]  # (n, 5) points -> (n, k) pre-activations


# --- the field ----------------------------------------------------------------------------------
def _weights(points: np.ndarray) -> SignflipWeights:
    return SignflipWeights(*(points[:, i] for i in range(5)))


def gradient_field(x: float, beta_f: float | None, sd: Callable[[np.ndarray], np.ndarray] | None) -> Field:
    """The Eq. 10 network's gradient field over parameter space.

    ``beta_f=None`` is the step forward. ``sd=None`` gives the true gradient of that forward;
    otherwise every node derivative is replaced by ``sd`` (the SG, Eq. 11).
    """
    act, dact = step_activation() if beta_f is None else sigmoid_activation(beta_f)
    d = dact if sd is None else sd

    def field(points: np.ndarray) -> np.ndarray:
        wts = _weights(points)
        grad = _backward(wts, x, _forward(wts, x, act), d)["grad"]
        return np.stack([grad[k] for k in WEIGHT_NAMES], axis=-1)

    return field


def output_fn(x: float, beta_f: float | None) -> Callable[[np.ndarray], np.ndarray]:
    act = step_activation()[0] if beta_f is None else sigmoid_activation(beta_f)[0]
    return lambda points: _forward(_weights(points), x, act)["y"]


def preactivations(x: float, beta_f: float | None) -> PreActs:
    """Pre-activations (w x, v1 g, v2 g, z) whose sign changes are the forward's breaks."""
    act = step_activation()[0] if beta_f is None else sigmoid_activation(beta_f)[0]

    def pre(points: np.ndarray) -> np.ndarray:
        fw = _forward(_weights(points), x, act)
        return np.stack([fw["a_g"], fw["a_1"], fw["a_2"], fw["z"]], axis=-1)

    return pre


# --- the path -----------------------------------------------------------------------------------
def plane_vectors(kind: str = "fig5", seed: int = 0, axes: tuple[str, str] = ("v1", "v2")) -> np.ndarray:
    """Orthonormal (2, 5) plane basis: ``fig5`` (the paper's), ``random`` (from ``seed``) or ``axes``."""
    if kind == "fig5":
        raw = np.array([FIG5_D1, FIG5_D2], dtype=np.float64)
    elif kind == "random":
        raw = np.random.default_rng(seed).standard_normal((2, 5))
    elif kind == "axes":
        a, b = axes
        if a not in WEIGHT_NAMES or b not in WEIGHT_NAMES or a == b:
            raise ValueError(f"axes must be two different parameters of {', '.join(WEIGHT_NAMES)}; got {axes}")
        raw = np.zeros((2, 5))
        raw[0, WEIGHT_NAMES.index(a)] = raw[1, WEIGHT_NAMES.index(b)] = 1.0
    else:
        raise ValueError(f"plane must be one of fig5, random, axes; got {kind!r}")
    q, _ = np.linalg.qr(raw.T)  # Gram-Schmidt in float64, keeping each vector's direction
    basis = q.T * np.sign(np.sum(q.T * raw, axis=1, keepdims=True))
    return basis


def _path(c: np.ndarray, d: np.ndarray, r: float, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, co = np.sin(alpha)[:, None], np.cos(alpha)[:, None]
    points = c + r * (d[0] * s + d[1] * co)
    tangent = r * (d[0] * co - d[1] * s)
    return points, tangent


def find_breaks(pre: PreActs, c: np.ndarray, d: np.ndarray, r: float, scan: int = 4096,
                iters: int = 52) -> np.ndarray:
    """Angles in (0, 2 pi) where the sign pattern of the pre-activations changes (bisection-refined)."""
    alpha = np.linspace(0.0, 2 * np.pi, scan + 1)
    sign = np.sign(pre(_path(c, d, r, alpha)[0]))
    change = np.flatnonzero(np.any(sign[1:] != sign[:-1], axis=1))
    if change.size == 0:
        return np.empty(0)
    lo, hi = alpha[change], alpha[change + 1]
    ref = sign[change]
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        same = np.all(np.sign(pre(_path(c, d, r, mid)[0])) == ref, axis=1)
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return 0.5 * (lo + hi)


#: Relative tolerance of the accurate loop integrals: each piece is halved until its Gauss-Kronrod 7-15 pair
#: agrees to LOOP_RTOL x max(1, int |integrand| d alpha) x (its share of the circle).
LOOP_RTOL = 1e-10
#: Halvings of a piece beyond the initial grading (a piece then is 2**-40 of a display step: far below any
#: transition width of a sigmoid with beta <= 1e6 on a circle of radius <= 100).
LOOP_MAX_HALVINGS = 40
_ROUNDOFF = 64 * np.finfo(np.float64).eps
#: Bound on the pieces refined at once (15 field evaluations each).
LOOP_MAX_PIECES = 60_000


def _graded_pieces(edges: np.ndarray, graded: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every [edges[i], edges[i+1]] split geometrically toward a graded endpoint. Returns (starts, ends, interval
    index of each piece)."""
    ratios = 0.5 ** np.arange(1, levels + 1)
    left, right = graded[:-1], graded[1:]
    starts, ends, owner = [], [], []
    for code_left in (False, True):
        for code_right in (False, True):
            idx = np.flatnonzero((left == code_left) & (right == code_right))
            if idx.size == 0:
                continue
            cuts = [0.0, 1.0]
            if code_left:
                cuts += list(ratios)
            if code_right:
                cuts += list(1 - ratios)
            cuts = np.unique(cuts)
            a, width = edges[idx][:, None], (edges[idx + 1] - edges[idx])[:, None]
            starts.append((a + width * cuts[None, :-1]).ravel())
            ends.append((a + width * cuts[None, 1:]).ravel())
            owner.append(np.repeat(idx, len(cuts) - 1))
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(owner)


# Gauss-Kronrod 7-15 on [-1, 1] (QUADPACK qk15): the Kronrod rule (exact to degree 23) and the embedded Gauss rule
# (degree 13, on every other node) from the same 15 evaluations; |K15 - G7| bounds G7's error, far above K15's.
_XGK = np.array([0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                 0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                 0.207784955007898467600689403773245, 0.0])
_WGK = np.array([0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                 0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                 0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                 0.204432940075298892414161999234649, 0.209482141084727828012999174891714])
_WG7 = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                 0.381830050505118944950369775488975, 0.417959183673469387755102040816327])
_GK_NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])
_GK_WEIGHTS = np.concatenate([_WGK[:-1], _WGK[::-1]])
_G7_WEIGHTS = np.zeros(15)
_G7_WEIGHTS[1::2] = np.concatenate([_WG7[:-1], _WG7[::-1]])


def _gk_sums(fields: Mapping[Any, Field], c: np.ndarray, d: np.ndarray, r: float, s: np.ndarray,
             e: np.ndarray) -> tuple[dict[Any, np.ndarray], dict[Any, np.ndarray], dict[Any, np.ndarray]]:
    """Kronrod and embedded Gauss sums of every field's integrand on each piece [s, e], and the Kronrod sums of
    sum_j |F_j theta'_j| (the scale of their round-off: the five terms of F . theta' can cancel)."""
    half = 0.5 * (e - s)
    nodes = ((0.5 * (s + e))[:, None] + half[:, None] * _GK_NODES[None, :]).ravel()
    points, tangent = _path(c, d, r, nodes)
    kron, gauss, mags = {}, {}, {}
    for k, f in fields.items():
        terms = f(points) * tangent
        g = np.sum(terms, axis=1).reshape(s.size, -1)
        kron[k], gauss[k] = (g @ _GK_WEIGHTS) * half, (g @ _G7_WEIGHTS) * half
        mags[k] = (np.sum(np.abs(terms), axis=1).reshape(s.size, -1) @ _GK_WEIGHTS) * half
    return kron, gauss, mags


def _adaptive_loop(fields: Mapping[Any, Field], pre: PreActs | None, c: np.ndarray, d: np.ndarray, r: float,
                   display: int = 361, levels: int = 14, rtol: float = LOOP_RTOL
                   ) -> tuple[np.ndarray, dict[Any, np.ndarray], np.ndarray, dict[Any, float]]:
    """:func:`loop_integral` with each field's estimated absolute error (fourth element).

    Pieces start graded toward the breaks; a piece whose Kronrod and Gauss sums differ by more than its share of
    the tolerance is halved. The estimate is the sum over the accepted pieces of that difference (the Kronrod
    sum, which is kept, is far more accurate than the difference says).
    """
    alpha_disp = np.linspace(0.0, 2 * np.pi, display)
    breaks = find_breaks(pre, c, d, r) if pre is not None else np.empty(0)
    edges = np.unique(np.concatenate([alpha_disp, breaks]))
    s, e, owner = _graded_pieces(edges, np.isin(edges, breaks), levels)
    keys = list(fields)
    per_interval = {k: np.zeros(len(edges) - 1) for k in keys}
    error = dict.fromkeys(keys, 0.0)
    scale = None
    for depth in range(LOOP_MAX_HALVINGS + 1):
        kron, gauss, mags = _gk_sums(fields, c, d, r, s, e)
        diff = {k: np.abs(kron[k] - gauss[k]) for k in keys}
        if scale is None:  # int |integrand| d alpha, per field, from the first pass
            scale = {k: max(1.0, float(np.sum(np.abs(kron[k])))) for k in keys}
        share = (e - s) / (2 * np.pi)
        # a piece is done when within its share of the tolerance, or when the sums differ only by round-off
        ok = np.all([diff[k] <= np.maximum(rtol * scale[k] * share, _ROUNDOFF * mags[k]) for k in keys], axis=0)
        if depth == LOOP_MAX_HALVINGS or 2 * np.count_nonzero(~ok) > LOOP_MAX_PIECES:  # bounded work: report it
            ok[:] = True
        for k in keys:
            per_interval[k] += np.bincount(owner[ok], weights=kron[k][ok], minlength=len(edges) - 1)
            error[k] += float(np.sum(diff[k][ok]))
        bad = ~ok
        if not bad.any():
            break
        s, e, owner = s[bad], e[bad], owner[bad]
        mid = 0.5 * (s + e)
        s, e, owner = np.concatenate([s, mid]), np.concatenate([mid, e]), np.concatenate([owner, owner])
    disp_index = np.searchsorted(edges, alpha_disp)
    out = {k: np.concatenate([[0.0], np.cumsum(per_interval[k])])[disp_index] for k in keys}
    return alpha_disp, out, breaks, error


def loop_integral(fields: Mapping[Any, Field], pre: PreActs | None, c: np.ndarray, d: np.ndarray, r: float,
                  display: int = 361, levels: int = 14) -> tuple[np.ndarray, dict[Any, np.ndarray], np.ndarray]:
    """Accurate closed-loop integrals of several fields along the same circle.

    Returns ``(alpha, cumulative, breaks)``: ``alpha`` are ``display`` angles from 0 to 2 pi and
    ``cumulative[key][i]`` the integral from 0 to ``alpha[i]``; the loop integral is ``[-1]``.
    Breaks are the angles where ``pre`` changes sign (graded quadrature around them); pieces are halved
    adaptively until the loop is within :data:`LOOP_RTOL` (relative to ``int |integrand|``).
    """
    alpha, out, breaks, _ = _adaptive_loop(fields, pre, c, d, r, display, levels)
    return alpha, out, breaks


_CHUNK = 200_000


def midpoint_loop_integral(field: Field, c: np.ndarray, d: np.ndarray, r: float, steps: int,
                           chunk: int = _CHUNK) -> float:
    """The plain midpoint rule with ``steps`` equal steps (for the convergence panel)."""
    total = 0.0
    h = 2 * np.pi / steps
    for start in range(0, steps, chunk):
        alpha = (np.arange(start, min(start + chunk, steps)) + 0.5) * h
        points, tangent = _path(c, d, r, alpha)
        total += float(np.sum(field(points) * tangent)) * h
    return total


def midpoint_ladder(field: Field, c: np.ndarray, d: np.ndarray, r: float, max_steps: int,
                    base: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint-rule values for N = base * 3^k <= max_steps from one evaluation on the finest grid.

    Tripling N keeps every old midpoint (it is the middle third's midpoint), so all coarser sums are
    sub-sums of the finest one.
    """
    levels = max(0, int(np.floor(np.log(max(max_steps, base) / base) / np.log(3) + 1e-12)))
    finest = base * 3**levels
    h = 2 * np.pi / finest
    g = np.empty(finest)
    for start in range(0, finest, _CHUNK):  # bounded memory at large N
        alpha = (np.arange(start, min(start + _CHUNK, finest)) + 0.5) * h
        points, tangent = _path(c, d, r, alpha)
        g[start:start + alpha.size] = np.sum(field(points) * tangent, axis=1)
    ladder, values = [], []
    for j in range(levels, -1, -1):
        stride = 3**j
        ladder.append(finest // stride)
        values.append(float(np.sum(g[(stride - 1) // 2::stride])) * h * stride)
    return np.array(ladder), np.array(values)


# --- curl and Stokes ----------------------------------------------------------------------------
def curl_at(field: Field, c: np.ndarray, d: np.ndarray, a: np.ndarray, b: np.ndarray,
            h: float = 1e-5) -> np.ndarray:
    """curl F = dF_b/da - dF_a/db at plane coordinates (a, b), by central differences of F."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = a.shape
    p = c + a.reshape(-1, 1) * d[0] + b.reshape(-1, 1) * d[1]
    fb = (field(p + h * d[0]) - field(p - h * d[0])) @ d[1] / (2 * h)
    fa = (field(p + h * d[1]) - field(p - h * d[1])) @ d[0] / (2 * h)
    return (fb - fa).reshape(shape)


def curl_map(field: Field, c: np.ndarray, d: np.ndarray, extent: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Curl on an n x n grid of [-extent, extent]^2 (rows: b, columns: a)."""
    axis = np.linspace(-extent, extent, n)
    aa, bb = np.meshgrid(axis, axis)
    return axis, curl_at(field, c, d, aa, bb)


def stokes_disc_integral(field: Field, c: np.ndarray, d: np.ndarray, r: float, n_rho: int = 48,
                         n_phi: int = 192) -> float:
    """- iint_disc curl F dA in polar coordinates (Gauss-Legendre in rho, periodic rule in phi).

    Equals the clockwise loop integral of :func:`loop_integral` when F is smooth on the disc.
    """
    x, w = np.polynomial.legendre.leggauss(n_rho)
    rho, w_rho = 0.5 * r * (x + 1), 0.5 * r * w
    phi = np.arange(n_phi) * (2 * np.pi / n_phi)
    rr, pp = np.meshgrid(rho, phi, indexing="ij")
    curl = curl_at(field, c, d, rr * np.cos(pp), rr * np.sin(pp))
    return -float(np.sum(curl * rr * w_rho[:, None]) * (2 * np.pi / n_phi))


# --- declared parameters and the page computation ----------------------------------------------
def _centre_spec(name: str) -> ParamSpec:
    return ParamSpec(f"c_{name}", f"Centre {name}", 0.0, symbol=f"c_{{{name}}}", domain=(-1e3, 1e3),
                     slider=(-2.0, 2.0), step=0.05, help=f"Centre of the circle: parameter {name}.")


_SD = {p.name: p for p in sd_param_specs()}
LOOP_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("plane", "Plane", "fig5", kind="choice", choices=("fig5", "random", "axes"),
              help="fig5: the paper's plane; random: orthonormal directions from the seed; axes: two parameters."),
    ParamSpec("seed", "Seed of the random plane", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1,
              widget="number"),
    ParamSpec("axis_a", "First axis", "v1", kind="choice", choices=WEIGHT_NAMES, help="Plane 'axes': d1."),
    ParamSpec("axis_b", "Second axis", "v2", kind="choice", choices=WEIGHT_NAMES, help="Plane 'axes': d2."),
    *(_centre_spec(n) for n in WEIGHT_NAMES),
    ParamSpec("radius", "Radius", 1.8, symbol="r", domain=(0.0, 100.0), open_low=True, slider=(0.05, 4.0),
              step=0.05, help="Radius of the circle."),
    ParamSpec("x", "Input", 1.0, symbol="x", domain=(-1e3, 1e3), slider=(-2.0, 2.0), step=0.05),
    ParamSpec("forward", "Forward", "step", kind="choice", choices=("step", "sigmoid"),
              help="step: Heaviside with H(0) = 1/2; sigmoid: steepness beta_f (the notebook used 10000)."),
    ParamSpec("beta_f", "Forward steepness", 10000.0, symbol=r"\beta_f", domain=(0.0, 1e6), open_low=True,
              slider=(1.0, 20000.0), step=1.0, help="Sigmoid forward only."),
    ParamSpec("betas_sg", "beta_SG values", (1.0, 5.0, 20.0), kind="floats", domain=(0.0, 1e4), open_low=True,
              slider=(0.5, 100.0), options=(0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0), max_items=4,
              help="One SG curve per value (Fig. 5: 1, 5, 20)."),
    _SD["shape"], _SD["scale"], _SD["gamma"], _SD["q"],
    ParamSpec("max_steps", "Convergence: up to N steps", 10000, kind="int", domain=(10, 10_000_000),
              slider=(100, 1_000_000), step=100,
              help="The midpoint-rule ladder uses N = 10 * 3^k up to this (Fig. 5C)."),
    ParamSpec("curl_beta_f", "Curl map: forward steepness", 20.0, symbol=r"\beta_f^{curl}", domain=(0.0, 1e3),
              open_low=True, slider=(1.0, 100.0), step=1.0,
              help="The curl needs a smooth forward: the map and the Stokes check use a sigmoid of this steepness."),
    ParamSpec("curl_beta_sg", "Curl map: beta_SG", 5.0, symbol=r"\beta_{SG}^{curl}", domain=(0.0, 1e4),
              open_low=True, slider=(0.5, 100.0), step=0.5, help="SD steepness of the curl map."),
    ParamSpec("n_grid", "Heatmap resolution", 81, kind="int", domain=(11, 801), slider=(31, 301), step=10),
)
_SPEC = {p.name: p for p in LOOP_PARAMS}


#: Bound on the convergence ladders' field evaluations, max_steps x len(betas_sg): the default is 3e4, the sliders'
#: top 1e6 x 4 = 4e6 (0.7 s); 1e7 x 4 took 20 s, while 1e7 with one beta_SG (the domain's top) stays allowed.
LOOP_STEPS = 1e7


@declared
class LoopConfig(DeclaredConfig):
    """Everything the loop page (and ``python -m sgcore loop``) computes from; defaults = Fig. 5."""

    PARAMS = LOOP_PARAMS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.plane == "axes" and self.axis_a == self.axis_b:
            raise ValueError(f"axis_a and axis_b must be different parameters; both are {self.axis_a!r}")
        work({"max_steps": self.max_steps, "len(betas_sg)": len(self.betas_sg)}, LOOP_STEPS,
             "lower max_steps or give fewer betas_sg")

    @property
    def centre(self) -> np.ndarray:
        return np.array([getattr(self, f"c_{n}") for n in WEIGHT_NAMES])

    @property
    def basis(self) -> np.ndarray:
        return plane_vectors(self.plane, self.seed, (self.axis_a, self.axis_b))

    @property
    def forward_beta(self) -> float | None:
        return None if self.forward == "step" else self.beta_f

    def surrogate(self, beta: float) -> Surrogate:
        return Surrogate.of(self, beta)


#: Largest N of the exact gradients' midpoint ladder (they are at round-off well before).
EXACT_LADDER_MAX = 1000
#: |loop integral| above which a field counts as circulating around the circle (not conservative there).
CIRCULATION_TOLERANCE = 1e-6

_GEOMETRY = ("plane", "seed", "axis_a", "axis_b", "c_w", "c_v1", "c_v2", "c_u1", "c_u2", "radius", "x")
_SD_FIELDS = ("shape", "scale", "gamma", "q")
#: Which fields each part of the page depends on (cache keys: the rest is reset to defaults).
PART_FIELDS = {
    "heatmaps": (*_GEOMETRY, "beta_f", "n_grid"),
    "integrals": (*_GEOMETRY, "forward", "beta_f", "betas_sg", *_SD_FIELDS, "max_steps"),
    "curl": (*_GEOMETRY, "curl_beta_f", "curl_beta_sg", *_SD_FIELDS, "n_grid"),
}


def part_key(cfg: LoopConfig, part: str) -> LoopConfig:
    """``cfg`` with every field the ``part`` does not depend on reset to its default."""
    keep = PART_FIELDS[part]
    return LoopConfig(**{f.name: getattr(cfg, f.name) for f in fields(LoopConfig) if f.name in keep})


@dataclass(frozen=True)
class LoopHeatmaps:
    basis: np.ndarray
    extent: float
    grid: np.ndarray
    output_step: np.ndarray
    output_sigmoid: np.ndarray


@dataclass(frozen=True)
class LoopIntegrals:
    alpha: np.ndarray
    breaks: np.ndarray
    output_along: np.ndarray  # forward as configured
    output_along_sigmoid: np.ndarray  # sigmoid forward of steepness beta_f (Fig. 5B dashed)
    cumulative_sg: dict[float, np.ndarray]  # starts at the output's value at alpha = 0
    cumulative_exact: dict[float, np.ndarray]  # exact gradient of the beta_SG-sigmoid network, from its output
    loop_sg: dict[float, float]
    loop_exact: dict[float, float]
    loop_sg_error: dict[float, float]  # estimated absolute quadrature error of loop_sg (see LOOP_RTOL)
    loop_exact_error: dict[float, float]  # the same for loop_exact
    ladder: np.ndarray
    ladder_sg: dict[float, np.ndarray]
    ladder_exact: dict[float, np.ndarray]  # on ladder[:len(values)] (capped at EXACT_LADDER_MAX)

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The CSV downloads: accumulated integrals along the circle, and the midpoint ladder (exact gradients'
        values past :data:`EXACT_LADDER_MAX` empty)."""
        accumulated = {"alpha_rad": self.alpha, "output": self.output_along,
                       **{f"sg_beta{b:g}": v for b, v in self.cumulative_sg.items()},
                       **{f"exact_beta{b:g}": v for b, v in self.cumulative_exact.items()}}
        n = self.ladder.size
        convergence = {"steps": self.ladder.astype(np.int64), **{f"sg_beta{b:g}": v for b, v in self.ladder_sg.items()},
                       **{f"exact_beta{b:g}": np.pad(v, (0, n - v.size), constant_values=np.nan)
                          for b, v in self.ladder_exact.items()}}
        return {"accumulated": accumulated, "convergence": convergence}

    @property
    def worst_beta(self) -> float:
        """The beta_SG whose SG loop integral is largest in magnitude (the first of equals)."""
        return max(self.loop_sg, key=lambda b: abs(self.loop_sg[b]))

    @property
    def worst_loop_sg(self) -> float:
        """The SG loop integral of :attr:`worst_beta`."""
        return self.loop_sg[self.worst_beta]

    @property
    def exact_loop_max(self) -> float:
        """max over beta_SG of |loop integral of the exact gradient| (zero up to quadrature error)."""
        return max(abs(v) for v in self.loop_exact.values())

    @property
    def circulates(self) -> bool:
        """Whether some SG field integrates to more than :data:`CIRCULATION_TOLERANCE` around the circle: then
        it is not the gradient of any function (Gygax & Zenke Sec. 4.2)."""
        return abs(self.worst_loop_sg) > CIRCULATION_TOLERANCE


@dataclass(frozen=True)
class LoopCurl:
    axis: np.ndarray
    curl: np.ndarray
    stokes_loop: float
    stokes_curl: float

    @property
    def stokes_relative_difference(self) -> float:
        """|loop integral - (- disc integral of the curl)| / |loop integral|: how well Stokes' theorem holds."""
        return abs(self.stokes_loop - self.stokes_curl) / max(abs(self.stokes_loop), 1e-300)


@dataclass(frozen=True)
class LoopView:
    """Everything the loop page draws; ``python -m sgcore loop`` prints its config and integrals (and the curl with
    ``--curl-grid``)."""

    config: LoopConfig
    heatmaps: LoopHeatmaps
    integrals: LoopIntegrals
    curl: LoopCurl

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The CSV downloads (those of :meth:`LoopIntegrals.tables`)."""
        return self.integrals.tables()


def loop_heatmaps(cfg: LoopConfig) -> LoopHeatmaps:
    """Fig. 5A: the output over the plane for the step and the sigmoid (beta_f) network."""
    c, d, x = cfg.centre, cfg.basis, cfg.x
    extent = 1.25 * cfg.radius
    grid = np.linspace(-extent, extent, cfg.n_grid)
    aa, bb = np.meshgrid(grid, grid)
    points = c + aa.reshape(-1, 1) * d[0] + bb.reshape(-1, 1) * d[1]
    return LoopHeatmaps(d, extent, grid, output_fn(x, None)(points).reshape(aa.shape),
                        output_fn(x, cfg.beta_f)(points).reshape(aa.shape))


def loop_integrals(cfg: LoopConfig) -> LoopIntegrals:
    """Fig. 5B, 5C: accumulated SG and exact-gradient integrals along the circle, and convergence in N."""
    c, d, r, x = cfg.centre, cfg.basis, cfg.radius, cfg.x
    fwd = cfg.forward_beta
    sg_fields = {b: gradient_field(x, fwd, cfg.surrogate(b).sd) for b in cfg.betas_sg}
    exact_fields = {b: gradient_field(x, b, None) for b in cfg.betas_sg}
    alpha, cum_sg, breaks, err_sg = _adaptive_loop(sg_fields, preactivations(x, fwd), c, d, r)
    # each smooth network's steep transitions are where its own pre-activations change sign: grade toward them
    pres = [preactivations(x, b) for b in cfg.betas_sg]
    _, cum_exact, _, err_exact = _adaptive_loop(
        exact_fields, lambda points: np.concatenate([p(points) for p in pres], axis=1), c, d, r)
    path_points = _path(c, d, r, alpha)[0]
    y_along = output_fn(x, fwd)(path_points)
    ladders = {("sg", b): midpoint_ladder(f, c, d, r, cfg.max_steps) for b, f in sg_fields.items()}
    # exact gradients are smooth and periodic: the midpoint rule reaches round-off by N ~ 300
    ladders |= {("exact", b): midpoint_ladder(f, c, d, r, min(cfg.max_steps, EXACT_LADDER_MAX))
                for b, f in exact_fields.items()}
    ladder = next(iter(ladders.values()))[0]
    return LoopIntegrals(
        alpha=alpha, breaks=breaks, output_along=y_along,
        output_along_sigmoid=output_fn(x, cfg.beta_f)(path_points),
        cumulative_sg={b: y_along[0] + v for b, v in cum_sg.items()},
        cumulative_exact={b: output_fn(x, b)(path_points[:1])[0] + v for b, v in cum_exact.items()},
        loop_sg={b: float(v[-1]) for b, v in cum_sg.items()},
        loop_exact={b: float(v[-1]) for b, v in cum_exact.items()},
        loop_sg_error=err_sg, loop_exact_error=err_exact,
        ladder=ladder,
        ladder_sg={b: ladders[("sg", b)][1] for b in sg_fields},
        ladder_exact={b: ladders[("exact", b)][1] for b in exact_fields},
    )


def loop_curl(cfg: LoopConfig) -> LoopCurl:
    """Curl of the SG field (smooth forward curl_beta_f) on the plane, and Stokes' theorem checked."""
    c, d, r, x = cfg.centre, cfg.basis, cfg.radius, cfg.x
    field = gradient_field(x, cfg.curl_beta_f, cfg.surrogate(cfg.curl_beta_sg).sd)
    axis, curl = curl_map(field, c, d, 1.25 * r, cfg.n_grid)
    _, cum, _ = loop_integral({0: field}, preactivations(x, cfg.curl_beta_f), c, d, r, display=73)
    return LoopCurl(axis, curl, float(cum[0][-1]), stokes_disc_integral(field, c, d, r))


def loop_view(cfg: LoopConfig) -> LoopView:
    """Everything the loop-integral page shows."""
    return LoopView(cfg, loop_heatmaps(cfg), loop_integrals(cfg), loop_curl(cfg))
