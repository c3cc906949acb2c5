"""Closed-loop integrals of surrogate gradients (Gygax & Zenke Sec. 4.2, Fig. 5, Methods 8.3).

A vector field is a gradient iff its integral around every closed path vanishes. We integrate the
SG field of the Eq. 10 network around a closed path in a plane of parameter space: the paper's circle

    theta(alpha) = c + r (d1 sin alpha + d2 cos alpha),   alpha in [0, 2 pi],

(alpha = 0 at c + r d2, increasing toward +d1), or the square of half side r through the same start, i.e.
I = int F(theta(alpha)) . theta'(alpha) d alpha with the tangent theta' *with* the step length
(:mod:`sgcore.paths` holds the paths and the quadrature).

Quadrature: the forward state of a step network is piecewise constant along the path, so its SG
field jumps where a pre-activation changes sign. We locate those points (dense sign scan +
bisection), split the path there, and use Gauss-Kronrod 7-15 on every smooth piece, graded
geometrically toward each break and halved adaptively until the pair agrees to LOOP_RTOL (which
resolves the steep but smooth transitions of a sigmoid forward with beta_f = 10000, and reports an
error estimate). The exact-gradient references (the beta_SG sigmoid networks) are graded toward their
own pre-activations' sign changes. A plain midpoint rule with N steps shows convergence (Fig. 5C).

In plane coordinates (a along d1, b along d2) the path runs *clockwise*, so Stokes' theorem reads
I = - iint curl F dA over the enclosed region, with curl F = dF_b/da - dF_a/db, F_a = F . d1, F_b = F . d2.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .params import DeclaredConfig, ParamSpec, declared, work
from .paths import LINE_RTOL, PATH_KINDS, ClosedPath, line_integral, midpoint_ladder
from .shapes import Surrogate, sd_param_specs
from .signflip import WEIGHT_NAMES, Field, gradient_field, output_fn, preactivations

__all__ = [
    "CIRCULATION_TOLERANCE",
    "EXACT_LADDER_MAX",
    "FIG5_D1",
    "FIG5_D2",
    "LOOP_PARAMS",
    "LOOP_RTOL",
    "LoopConfig",
    "LoopCurl",
    "LoopHeatmaps",
    "LoopIntegrals",
    "LoopView",
    "curl_at",
    "curl_map",
    "gradient_field",
    "loop_curl",
    "loop_heatmaps",
    "loop_integrals",
    "loop_view",
    "output_fn",
    "part_key",
    "plane_vectors",
    "preactivations",
    "stokes_integral",
]

#: Plane of Fig. 5 from the authors' notebook (float32 as printed; re-orthonormalised in float64).
FIG5_D1 = (0.09305991, 0.5905991, -0.30914232, 0.4299941, -0.60172135)
#: Second vector of Fig. 5's plane (see :data:`FIG5_D1`).
FIG5_D2 = (-0.14934348, 0.25011492, 0.26179737, -0.78792286, -0.47516188)
#: Relative tolerance of the accurate loop integrals (see :data:`sgcore.paths.LINE_RTOL`).
LOOP_RTOL = LINE_RTOL
PLANES = ("fig5", "random", "axes", "custom")


# --- the plane ----------------------------------------------------------------------------------
def plane_vectors(kind: str = "fig5", seed: int = 0, axes: tuple[str, str] = ("v1", "v2"),
                  vectors: tuple[tuple[float, ...], tuple[float, ...]] | None = None) -> np.ndarray:
    """Orthonormal (2, 5) plane basis: ``fig5`` (the paper's), ``random`` (standard normal from ``seed``),
    ``axes`` (two parameters) or ``custom`` (``vectors``, e.g. another tool's d1, d2).

    Gram-Schmidt in float64: d1 is the first vector normalised, d2 the second with its d1 component removed,
    normalised. A ``random`` plane is ``numpy.random.default_rng(seed).standard_normal((2, 5))`` so treated.
    """
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
    elif kind == "custom":
        raw = np.array(vectors, dtype=np.float64) if vectors is not None else np.zeros((2, 0))
        if raw.shape != (2, 5) or not np.all(np.isfinite(raw)):
            raise ValueError(f"a custom plane needs two finite vectors of 5 numbers (d1, d2); got {vectors!r}")
        n1 = np.linalg.norm(raw[0])
        if n1 == 0:
            raise ValueError("d1 must not be the zero vector")
        rest = raw[1] - (raw[1] @ raw[0]) / n1**2 * raw[0]
        if np.linalg.norm(rest) <= 1e-8 * np.linalg.norm(raw[1]) or np.linalg.norm(raw[1]) == 0:
            raise ValueError("d1 and d2 must span a plane (d2 is zero or parallel to d1)")
    else:
        raise ValueError(f"plane must be one of {', '.join(PLANES)}; got {kind!r}")
    q, _ = np.linalg.qr(raw.T)  # Gram-Schmidt in float64, keeping each vector's direction
    basis = q.T * np.sign(np.sum(q.T * raw, axis=1, keepdims=True))
    return basis


# --- curl and Stokes ----------------------------------------------------------------------------
def curl_at(field: Field, c: np.ndarray, d: np.ndarray, a: np.ndarray, b: np.ndarray,
            h: float = 1e-5) -> np.ndarray:
    """curl F = dF_b/da - dF_a/db at plane coordinates (a, b), by central differences of F (a non-zero curl:
    the SG field is no gradient, Gygax & Zenke Sec. 4.2)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = a.shape
    p = c + a.reshape(-1, 1) * d[0] + b.reshape(-1, 1) * d[1]
    fb = (field(p + h * d[0]) - field(p - h * d[0])) @ d[1] / (2 * h)
    fa = (field(p + h * d[1]) - field(p - h * d[1])) @ d[0] / (2 * h)
    return (fb - fa).reshape(shape)


def curl_map(field: Field, c: np.ndarray, d: np.ndarray, extent: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Curl (:func:`curl_at`) on an n x n grid of [-extent, extent]^2 (rows: b, columns: a)."""
    axis = np.linspace(-extent, extent, n)
    aa, bb = np.meshgrid(axis, axis)
    return axis, curl_at(field, c, d, aa, bb)


def stokes_integral(field: Field, path: ClosedPath, n: int = 48) -> float:
    """- iint curl F dA over the region the path encloses (see :meth:`ClosedPath.area_integral`).

    Equals the clockwise path integral of :func:`sgcore.paths.line_integral` when F is smooth inside.
    """
    return -path.area_integral(lambda a, b: curl_at(field, path.centre, path.basis, a, b), n)


# --- declared parameters and the page computation ----------------------------------------------
def _centre_spec(name: str) -> ParamSpec:
    return ParamSpec(f"c_{name}", f"Centre {name}", 0.0, symbol=f"c_{{{name}}}", domain=(-1e3, 1e3),
                     slider=(-2.0, 2.0), step=0.05, help=f"Centre of the path: parameter {name}.")


_SD = {p.name: p for p in sd_param_specs()}
#: The loop-integral page's declared parameters, the fields of :class:`LoopConfig`.
LOOP_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("plane", "Plane", "fig5", kind="choice", choices=("fig5", "random", "axes"),
              help="fig5: the paper's plane; random: orthonormal directions from the seed (printed in full, to "
                   "reproduce elsewhere); axes: two parameters."),
    ParamSpec("seed", "Seed of the random plane", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1,
              widget="number",
              help="d1, d2 = Gram-Schmidt of numpy.random.default_rng(seed).standard_normal((2, 5))."),
    ParamSpec("path", "Path", "circle", kind="choice", choices=PATH_KINDS,
              help="circle (Fig. 5) of radius r, or the square of half side r; both start at c + r d2 and run "
                   "toward +d1 (clockwise in the plane)."),
    ParamSpec("axis_a", "First axis", "v1", kind="choice", choices=WEIGHT_NAMES, help="Plane 'axes': d1."),
    ParamSpec("axis_b", "Second axis", "v2", kind="choice", choices=WEIGHT_NAMES, help="Plane 'axes': d2."),
    *(_centre_spec(n) for n in WEIGHT_NAMES),
    ParamSpec("radius", "Size r", 1.8, symbol="r", domain=(0.0, 100.0), open_low=True, slider=(0.05, 4.0),
              step=0.05, help="Radius of the circle, or half side of the square."),
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
    def closed_path(self) -> ClosedPath:
        """The integration path: a circle or square of size ``radius`` around ``centre`` in the plane."""
        return ClosedPath(self.path, self.centre, self.basis, self.radius)

    @property
    def forward_beta(self) -> float | None:
        return None if self.forward == "step" else self.beta_f

    def surrogate(self, beta: float) -> Surrogate:
        return Surrogate.of(self, beta)


#: Largest N of the exact gradients' midpoint ladder (they are at round-off well before).
EXACT_LADDER_MAX = 1000
#: |loop integral| above which a field counts as circulating around the path (not conservative there).
CIRCULATION_TOLERANCE = 1e-6

_GEOMETRY = ("plane", "seed", "axis_a", "axis_b", "path", "c_w", "c_v1", "c_v2", "c_u1", "c_u2", "radius", "x")
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
    """The output of the Eq. 10 network over the loop's plane (Gygax & Zenke Fig. 5A): ``grid`` values of the plane
    coordinates within ``extent``, the step network's output and the sigmoid network's (steepness beta_f), both of
    shape (len(grid), len(grid)); ``basis`` is the plane's d1, d2."""

    basis: np.ndarray
    extent: float
    grid: np.ndarray
    output_step: np.ndarray
    output_sigmoid: np.ndarray


@dataclass(frozen=True)
class LoopIntegrals:
    """The SG integrated around the closed path, I = int F(theta(alpha)) . theta'(alpha) d alpha (Gygax & Zenke
    Sec. 4.2, Fig. 5B-C): accumulated along the path and closed, for every beta_SG, beside the exact gradient of the
    beta_SG-sigmoid network (whose loop integral vanishes), with quadrature error estimates and the midpoint
    ladder's values for growing step numbers (Fig. 5C)."""

    basis: np.ndarray  # (2, 5): the plane's d1, d2 in full precision (to reproduce the plane elsewhere)
    path: str  # circle or square
    alpha: np.ndarray  # path parameter t in [0, 2 pi] (the angle, for the circle)
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
        """The CSV downloads: accumulated integrals along the path, and the midpoint ladder (exact gradients'
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
        """Whether some SG field integrates to more than :data:`CIRCULATION_TOLERANCE` around the path: then
        it is not the gradient of any function (Gygax & Zenke Sec. 4.2)."""
        return abs(self.worst_loop_sg) > CIRCULATION_TOLERANCE


@dataclass(frozen=True)
class LoopCurl:
    """The curl of the SG field in the loop's plane, curl F = dF_b/da - dF_a/db (Gygax & Zenke Sec. 4.2), on an
    ``axis`` x ``axis`` grid, and Stokes' check: the loop integral (``stokes_loop``) against - iint curl F dA over
    the enclosed region (``stokes_curl``)."""

    axis: np.ndarray
    curl: np.ndarray
    stokes_loop: float
    stokes_curl: float

    @property
    def stokes_relative_difference(self) -> float:
        """|loop integral - (- area integral of the curl)| / |loop integral|: how well Stokes' theorem holds."""
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
    """Fig. 5B, 5C: accumulated SG and exact-gradient integrals along the path, and convergence in N."""
    path, x = cfg.closed_path, cfg.x
    fwd = cfg.forward_beta
    sg_fields = {b: gradient_field(x, fwd, cfg.surrogate(b).sd) for b in cfg.betas_sg}
    exact_fields = {b: gradient_field(x, b, None) for b in cfg.betas_sg}
    alpha, cum_sg, breaks, err_sg = line_integral(sg_fields, preactivations(x, fwd), path)
    # each smooth network's steep transitions are where its own pre-activations change sign: grade toward them
    pres = [preactivations(x, b) for b in cfg.betas_sg]
    _, cum_exact, _, err_exact = line_integral(
        exact_fields, lambda points: np.concatenate([p(points) for p in pres], axis=1), path)
    path_points = path(alpha)[0]
    y_along = output_fn(x, fwd)(path_points)
    ladders = {("sg", b): midpoint_ladder(f, path, cfg.max_steps) for b, f in sg_fields.items()}
    # exact gradients are smooth and periodic on the circle: the midpoint rule reaches round-off by N ~ 300 (on the
    # square, whose corners are kinks of the integrand, it converges like 1/N^2)
    ladders |= {("exact", b): midpoint_ladder(f, path, min(cfg.max_steps, EXACT_LADDER_MAX))
                for b, f in exact_fields.items()}
    ladder = next(iter(ladders.values()))[0]
    return LoopIntegrals(
        basis=path.basis, path=path.kind, alpha=alpha, breaks=breaks, output_along=y_along,
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
    path, x = cfg.closed_path, cfg.x
    field = gradient_field(x, cfg.curl_beta_f, cfg.surrogate(cfg.curl_beta_sg).sd)
    axis, curl = curl_map(field, path.centre, path.basis, 1.25 * path.r, cfg.n_grid)
    _, cum, _, _ = line_integral({0: field}, preactivations(x, cfg.curl_beta_f), path, display=73)
    return LoopCurl(axis, curl, float(cum[0][-1]), stokes_integral(field, path))


def loop_view(cfg: LoopConfig) -> LoopView:
    """Everything the loop-integral page shows (Gygax & Zenke Sec. 4.2, Fig. 5, Methods 8.3)."""
    return LoopView(cfg, loop_heatmaps(cfg), loop_integrals(cfg), loop_curl(cfg))
