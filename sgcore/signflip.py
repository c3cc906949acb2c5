"""The sign-flip network of Gygax & Zenke Eq. 10-12 (Sec. 4.1, Table 1, Fig. 4, Methods 8.3).

    g = s(w x),  h1 = s(v1 g),  h2 = s(v2 g),  y = s(u1 h1 + u2 h2),

with s a sigmoid of steepness beta_f (or the Heaviside step with H(0) = 1/2, its limit). The
surrogate gradient (SG) keeps this forward pass and replaces every node's derivative by a
registered SD (Eq. 11; default the paper's sigmoid SD beta_SG sigma(beta_SG a)(1 - sigma(beta_SG a))).
The "smoothed" network runs the forward pass with the SD's antiderivative instead.

All derivatives are analytic (chain rule written out once in ``_backward``) and vectorised:
every weight may be an array, so the same code evaluates a point, a sweep along w and a grid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.special import expit

from .params import DeclaredConfig, ParamSpec, declared, work
from .paths import ClosedPath, line_integral
from .shapes import Surrogate, heaviside, sd_param_specs

__all__ = [
    "WEIGHT_NAMES",
    "SignflipWeights",
    "SignflipConfig",
    "SIGNFLIP_PARAMS",
    "SignflipPlane",
    "SignflipPoint",
    "SignflipSquare",
    "SignflipSweep",
    "SignflipView",
    "network",
    "gradient_field",
    "output_fn",
    "preactivations",
    "signflip_point",
    "signflip_sweep",
    "signflip_plane",
    "signflip_square",
    "signflip_view",
]

#: The five weights of the Eq. 10 network, in the order of its parameter vectors (Gygax & Zenke Sec. 4.1).
WEIGHT_NAMES = ("w", "v1", "v2", "u1", "u2")


@dataclass(frozen=True)
class SignflipWeights:
    """Parameters of the Eq. 10 network (scalars or broadcastable arrays)."""

    w: Any = 0.0
    v1: Any = 0.05
    v2: Any = 0.1
    u1: Any = 1.0
    u2: Any = -1.0

    def as_dict(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in WEIGHT_NAMES}


Activation = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]


def sigmoid_activation(beta_f: float) -> Activation:
    """sigma(beta_f a) and its derivative beta_f sigma (1 - sigma)."""
    def act(a):
        return expit(beta_f * a)

    def dact(a):
        return beta_f * expit(beta_f * a) * expit(-beta_f * a)

    return act, dact


def step_activation() -> Activation:
    """Heaviside with H(0) = 1/2 (the beta_f -> inf limit) and its a.e. derivative 0."""
    return heaviside, lambda a: np.zeros_like(np.asarray(a, dtype=np.float64))


def _forward(wts: SignflipWeights, x: float, act) -> dict[str, np.ndarray]:
    a_g = np.asarray(wts.w, dtype=np.float64) * x
    g = act(a_g)
    a_1 = np.asarray(wts.v1, dtype=np.float64) * g
    a_2 = np.asarray(wts.v2, dtype=np.float64) * g
    h1, h2 = act(a_1), act(a_2)
    z = np.asarray(wts.u1, dtype=np.float64) * h1 + np.asarray(wts.u2, dtype=np.float64) * h2
    return {"a_g": a_g, "g": g, "a_1": a_1, "a_2": a_2, "h1": h1, "h2": h2, "z": z, "y": act(z)}


def _backward(wts: SignflipWeights, x: float, fw: Mapping[str, np.ndarray], d) -> dict[str, Any]:
    """Chain rule of Eq. 10 with node derivative ``d`` evaluated at the forward pre-activations.

    Returns the gradient of y with respect to every weight, and the two factors of Eq. 12:
    dy/dw = two_path * positive, two_path = u1 v1 d(v1 g) + u2 v2 d(v2 g),
    positive = d(z) d(w x) x (positive for x > 0).
    """
    dz, d1, d2, dg = d(fw["z"]), d(fw["a_1"]), d(fw["a_2"]), d(fw["a_g"])
    u1, u2 = np.asarray(wts.u1, dtype=np.float64), np.asarray(wts.u2, dtype=np.float64)
    v1, v2 = np.asarray(wts.v1, dtype=np.float64), np.asarray(wts.v2, dtype=np.float64)
    two_path = u1 * v1 * d1 + u2 * v2 * d2
    positive = dz * dg * x
    grad = {
        "w": two_path * positive,
        "v1": dz * u1 * d1 * fw["g"],
        "v2": dz * u2 * d2 * fw["g"],
        "u1": dz * fw["h1"],
        "u2": dz * fw["h2"],
    }
    return {"grad": grad, "two_path": two_path, "positive": positive}


def network(
    wts: SignflipWeights, x: float, beta_f: float | None, surrogate: Surrogate
) -> dict[str, Any]:
    """Forward values, true gradient, SG and the smoothed network's output and gradient (Gygax & Zenke Eqs. 10-12).

    ``beta_f=None`` is the step forward (Heaviside, H(0) = 1/2); its true gradient is 0 a.e.
    """
    act, dact = step_activation() if beta_f is None else sigmoid_activation(beta_f)
    fw = _forward(wts, x, act)
    true = _backward(wts, x, fw, dact)
    sg = _backward(wts, x, fw, surrogate.sd)
    fw_s = _forward(wts, x, surrogate.primitive)
    smooth = _backward(wts, x, fw_s, surrogate.sd)
    return {"forward": fw, "true": true, "sg": sg, "smoothed_forward": fw_s, "smoothed": smooth}


# --- the network as a field over parameter space (points: (n, 5) rows of WEIGHT_NAMES) -------------------------
Field = Callable[[np.ndarray], np.ndarray]  # (n, 5) points -> (n, 5) vectors


def _weights_at(points: np.ndarray) -> SignflipWeights:
    return SignflipWeights(*(points[:, i] for i in range(5)))


def gradient_field(x: float, beta_f: float | None, sd: Callable[[np.ndarray], np.ndarray] | None) -> Field:
    """The Eq. 10 network's gradient over parameter space: (n, 5) points -> (n, 5) gradients.

    ``beta_f=None`` is the step forward. ``sd=None`` gives the true gradient of that forward;
    otherwise every node derivative is replaced by ``sd`` (the SG, Eq. 11).
    """
    act, dact = step_activation() if beta_f is None else sigmoid_activation(beta_f)
    d = dact if sd is None else sd

    def field(points: np.ndarray) -> np.ndarray:
        wts = _weights_at(points)
        grad = _backward(wts, x, _forward(wts, x, act), d)["grad"]
        return np.stack([grad[k] for k in WEIGHT_NAMES], axis=-1)

    return field


def output_fn(x: float, beta_f: float | None) -> Callable[[np.ndarray], np.ndarray]:
    """The network's output y over parameter space: (n, 5) points -> (n,) (Gygax & Zenke Eq. 10)."""
    act = step_activation()[0] if beta_f is None else sigmoid_activation(beta_f)[0]
    return lambda points: _forward(_weights_at(points), x, act)["y"]


def preactivations(x: float, beta_f: float | None) -> Callable[[np.ndarray], np.ndarray]:
    """Pre-activations (w x, v1 g, v2 g, z) of Gygax & Zenke Eq. 10 over parameter space: where they change sign, a
    step forward (and its SG field) jumps, and a steep sigmoid forward has its transitions."""
    act = step_activation()[0] if beta_f is None else sigmoid_activation(beta_f)[0]

    def pre(points: np.ndarray) -> np.ndarray:
        fw = _forward(_weights_at(points), x, act)
        return np.stack([fw["a_g"], fw["a_1"], fw["a_2"], fw["z"]], axis=-1)

    return pre


# --- declared parameters ------------------------------------------------------------------------
def _weight_spec(name: str, default: float, symbol: str) -> ParamSpec:
    return ParamSpec(name, f"Weight {name}", default, symbol=symbol, domain=(-1e3, 1e3), slider=(-2.0, 2.0),
                     step=0.005, help=f"Parameter {name} of the Eq. 10 network.")


_BETA_OPTIONS = (1.0, 2.0, 4.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 50.0, 100.0)

#: The sign-flip page's declared parameters, the fields of :class:`SignflipConfig` (Table 1's values by default).
SIGNFLIP_PARAMS: tuple[ParamSpec, ...] = (
    _weight_spec("w", 0.0, "w"),
    _weight_spec("v1", 0.05, "v_1"),
    _weight_spec("v2", 0.1, "v_2"),
    _weight_spec("u1", 1.0, "u_1"),
    _weight_spec("u2", -1.0, "u_2"),
    ParamSpec("x", "Input", 1.0, symbol="x", domain=(-1e3, 1e3), slider=(-2.0, 2.0), step=0.05,
              help="Input of the network (Table 1: x = 1)."),
    ParamSpec("beta_f", "Forward steepness", 100.0, symbol=r"\beta_f", domain=(0.0, 1e4), open_low=True,
              slider=(1.0, 200.0), step=1.0, help="Steepness of the forward sigmoid (ignored with the step)."),
    ParamSpec("step", "Step activation (beta_f -> inf)", False, kind="bool",
              help="Heaviside forward with H(0) = 1/2, the limit of a sigmoid at 0."),
    *sd_param_specs(beta_default=25.0, beta_slider=(0.5, 100.0)),
    ParamSpec("w_min", "Sweep from w =", -0.2, domain=(-1e3, 1e3), slider=(-2.0, 0.0), step=0.05,
              help="Left end of the sweep along w."),
    ParamSpec("w_max", "Sweep to w =", 0.2, domain=(-1e3, 1e3), slider=(0.0, 2.0), step=0.05,
              help="Right end of the sweep along w."),
    ParamSpec("n_sweep", "Sweep points", 401, kind="int", domain=(3, 20001), slider=(51, 2001), step=50,
              help="Points along w."),
    ParamSpec("plane_x", "Landscape x-axis", "v1", kind="choice", choices=WEIGHT_NAMES,
              help="Parameter on the landscape's horizontal axis."),
    ParamSpec("plane_y", "Landscape y-axis", "v2", kind="choice", choices=WEIGHT_NAMES,
              help="Parameter on the landscape's vertical axis."),
    ParamSpec("plane_min", "Landscape from", -2.0, domain=(-1e3, 1e3), slider=(-5.0, 0.0), step=0.1,
              help="Lower bound of both landscape axes."),
    ParamSpec("plane_max", "Landscape to", 2.0, domain=(-1e3, 1e3), slider=(0.0, 5.0), step=0.1,
              help="Upper bound of both landscape axes."),
    ParamSpec("n_grid", "Landscape resolution", 81, kind="int", domain=(3, 1001), slider=(21, 301), step=10,
              help="Grid points per landscape axis."),
    ParamSpec("betas_landscape", "beta_SG of the landscape panels", (2.0, 4.0, 20.0), kind="floats",
              domain=(0.0, 1e4), open_low=True, slider=(1.0, 100.0), options=_BETA_OPTIONS, max_items=4,
              help="One landscape panel per value (Fig. 4C: 2, 4, 20)."),
    ParamSpec("component", "Gradient component of the sign map", "w", kind="choice", choices=WEIGHT_NAMES,
              help="Only dy/dw sums two paths (Eq. 12), so it is the component that can flip."),
    ParamSpec("square_x", "Square: centre on the x-axis", 0.5, domain=(-1e3, 1e3), slider=(-2.0, 2.0), step=0.05,
              help="Centre of the square path along the landscape's horizontal parameter."),
    ParamSpec("square_y", "Square: centre on the y-axis", 0.5, domain=(-1e3, 1e3), slider=(-2.0, 2.0), step=0.05,
              help="Centre of the square path along the landscape's vertical parameter."),
    ParamSpec("square_half", "Square: half side", 0.5, domain=(0.0, 100.0), open_low=True, slider=(0.05, 2.0),
              step=0.05, help="Half the side of the square path (default: the square from (0, 0) to (1, 1))."),
)
_SPEC = {p.name: p for p in SIGNFLIP_PARAMS}

#: Bound on the landscape's network evaluations, n_grid^2 x (1 + len(betas_landscape)) (the main SG and one per
#: landscape beta_SG): the default is 3.3e4, the sliders' top 301^2 x 5 = 4.5e5 (0.2 s); at 1e6 (447^2 x 5) the view
#: takes 0.4 s and the plane's CSV download 5 s, while the domains' top 1001^2 x 5 = 5.0e6 took 2.6 s and 25 s.
PLANE_WORK = 1e6


@declared
class SignflipConfig(DeclaredConfig):
    """Everything the sign-flip page (and ``python -m sgcore signflip``) computes from."""

    PARAMS = SIGNFLIP_PARAMS

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.w_min < self.w_max:
            raise ValueError(f"w_min must be below w_max; got [{self.w_min:g}, {self.w_max:g}]")
        if not self.plane_min < self.plane_max:
            raise ValueError(f"plane_min must be below plane_max; got [{self.plane_min:g}, {self.plane_max:g}]")
        if self.plane_x == self.plane_y:
            raise ValueError(f"plane_x and plane_y must be different parameters; both are {self.plane_x!r}")
        work({"n_grid^2": self.n_grid**2, "(1 + len(betas_landscape))": 1 + len(self.betas_landscape)}, PLANE_WORK,
             "lower n_grid or give fewer betas_landscape")

    @property
    def weights(self) -> SignflipWeights:
        return SignflipWeights(self.w, self.v1, self.v2, self.u1, self.u2)

    @property
    def forward_beta(self) -> float | None:
        return None if self.step else self.beta_f

    @property
    def square_path(self) -> ClosedPath:
        """The square path in the landscape's plane: centre (square_x, square_y) on (plane_x, plane_y), the other
        parameters at the configured point."""
        centre = self.weights.as_dict()
        centre[self.plane_x], centre[self.plane_y] = self.square_x, self.square_y
        basis = np.zeros((2, 5))
        basis[0, WEIGHT_NAMES.index(self.plane_x)] = basis[1, WEIGHT_NAMES.index(self.plane_y)] = 1.0
        return ClosedPath.square(np.array([centre[n] for n in WEIGHT_NAMES], dtype=np.float64), basis,
                                 self.square_half)

    @property
    def square_betas(self) -> tuple[float, ...]:
        """The SG steepnesses integrated around the square: the main beta_SG, then the landscape panels'."""
        return tuple(dict.fromkeys((self.beta_sg, *self.betas_landscape)))

    def surrogate(self, beta: float | None = None) -> Surrogate:
        return Surrogate.of(self, beta)


def _opposite(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Strictly opposite signs (a zero on either side is not a disagreement)."""
    return np.sign(a) * np.sign(b) < 0


# --- the three views ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SignflipPoint:
    """The Eq. 10 network at one point (Gygax & Zenke Sec. 4.1, Table 1): forward values, the true gradient and the
    SG by weight, the two factors of Eq. 12 (the two-path sum that decides the sign, and the positive factor) for
    both, and where the SG's sign differs from the true gradient's (``flips``; ``sign_flip`` for w)."""

    forward: dict[str, float]
    grad_true: dict[str, float]
    grad_surrogate: dict[str, float]
    two_path_true: float
    two_path_sg: float
    positive_true: float
    positive_sg: float
    sign_flip: bool
    flips: dict[str, bool]


def signflip_point(cfg: SignflipConfig) -> SignflipPoint:
    """Values, gradients and the Eq. 12 decomposition at the configured point."""
    net = network(cfg.weights, cfg.x, cfg.forward_beta, cfg.surrogate())
    fw = {k: float(net["forward"][k]) for k in ("g", "h1", "h2", "z", "y")}
    true = {k: float(v) for k, v in net["true"]["grad"].items()}
    sg = {k: float(v) for k, v in net["sg"]["grad"].items()}
    flips = {k: bool(_opposite(np.float64(true[k]), np.float64(sg[k]))) for k in WEIGHT_NAMES}
    return SignflipPoint(
        forward=fw, grad_true=true, grad_surrogate=sg,
        two_path_true=float(net["true"]["two_path"]), two_path_sg=float(net["sg"]["two_path"]),
        positive_true=float(net["true"]["positive"]), positive_sg=float(net["sg"]["positive"]),
        sign_flip=flips["w"], flips=flips,
    )


@dataclass(frozen=True)
class SignflipSweep:
    """Fig. 4B along w: the output, the smoothed network's output and the integrated SG, their derivatives in w
    (true, SG, smoothed), where the SG's sign flips, and the index of each curve's minimum (``argmin``)."""

    w: np.ndarray
    output: np.ndarray
    smoothed_output: np.ndarray
    integrated_sg: np.ndarray
    grad_true_w: np.ndarray
    grad_sg_w: np.ndarray
    grad_smoothed_w: np.ndarray
    flip: np.ndarray
    argmin: dict[str, int]


def signflip_sweep(cfg: SignflipConfig, n: int | None = None,
                   w_range: tuple[float, float] | None = None) -> SignflipSweep:
    """Fig. 4B: output, smoothed output and integrated SG along w, and their derivatives.

    The integrated SG starts at the output's value at the left end (trapezoid rule, Methods 8.3).
    """
    lo, hi = w_range if w_range is not None else (cfg.w_min, cfg.w_max)
    w = np.linspace(lo, hi, cfg.n_sweep if n is None else n)
    wts = SignflipWeights(w, cfg.v1, cfg.v2, cfg.u1, cfg.u2)
    net = network(wts, cfg.x, cfg.forward_beta, cfg.surrogate())
    y = net["forward"]["y"]
    sg = net["sg"]["grad"]["w"]
    integ = y[0] + cumulative_trapezoid(sg, w, initial=0.0)
    smooth = net["smoothed_forward"]["y"]
    return SignflipSweep(
        w=w, output=y, smoothed_output=smooth, integrated_sg=integ,
        grad_true_w=net["true"]["grad"]["w"], grad_sg_w=sg, grad_smoothed_w=net["smoothed"]["grad"]["w"],
        flip=_opposite(net["true"]["grad"]["w"], sg),
        argmin={"output": int(np.argmin(y)), "smoothed_output": int(np.argmin(smooth)),
                "integrated_sg": int(np.argmin(integ))},
    )


@dataclass(frozen=True)
class SignflipPlane:
    """The output landscape over two weights (Gygax & Zenke Fig. 4C): the output on the (``b``, ``a``) grid, the true
    gradient's and each beta_SG's SG components along the two axes, and where the SG and the true ``component``
    disagree in sign (the map, its fraction and count, and the fraction per component)."""

    axis_x: str
    axis_y: str
    a: np.ndarray  # values along the x-axis parameter
    b: np.ndarray  # values along the y-axis parameter
    output: np.ndarray  # (len(b), len(a))
    grad_true: tuple[np.ndarray, np.ndarray]  # components along (axis_x, axis_y)
    grad_sg: dict[float, tuple[np.ndarray, np.ndarray]]  # per beta_SG
    component: str
    disagree: np.ndarray  # SG (main beta_SG) and true component of opposite sign
    true_zero: np.ndarray
    fraction: float
    count: int
    fractions: dict[str, float]  # per component


def _plane_weights(cfg: SignflipConfig, a: np.ndarray, b: np.ndarray) -> SignflipWeights:
    values = SignflipWeights(cfg.w, cfg.v1, cfg.v2, cfg.u1, cfg.u2).as_dict()
    aa, bb = np.meshgrid(a, b)
    values[cfg.plane_x], values[cfg.plane_y] = aa, bb
    return SignflipWeights(**values)


def signflip_plane(cfg: SignflipConfig, n: int | None = None,
                   plane_range: tuple[float, float] | None = None) -> SignflipPlane:
    """Fig. 4C: output over two parameters, true and SG fields, and the sign-disagreement map."""
    lo, hi = plane_range if plane_range is not None else (cfg.plane_min, cfg.plane_max)
    a = np.linspace(lo, hi, cfg.n_grid if n is None else n)
    b = a.copy()
    wts = _plane_weights(cfg, a, b)
    main = network(wts, cfg.x, cfg.forward_beta, cfg.surrogate())
    true, sg = main["true"]["grad"], main["sg"]["grad"]
    fields_sg = {}
    for beta in cfg.betas_landscape:
        g = network(wts, cfg.x, cfg.forward_beta, cfg.surrogate(beta))["sg"]["grad"]
        fields_sg[beta] = (g[cfg.plane_x], g[cfg.plane_y])
    fractions = {k: float(np.mean(_opposite(true[k], sg[k]))) for k in WEIGHT_NAMES}
    disagree = _opposite(true[cfg.component], sg[cfg.component])
    return SignflipPlane(
        axis_x=cfg.plane_x, axis_y=cfg.plane_y, a=a, b=b, output=main["forward"]["y"],
        grad_true=(true[cfg.plane_x], true[cfg.plane_y]), grad_sg=fields_sg, component=cfg.component,
        disagree=disagree, true_zero=true[cfg.component] == 0, fraction=float(disagree.mean()),
        count=int(disagree.sum()), fractions=fractions,
    )


@dataclass(frozen=True)
class SignflipSquare:
    """Line integrals around the square path in the landscape's plane (Methods 8.3's integrated SG, on a closed
    path): a gradient field integrates to zero around it, the SG field does not."""

    axis_x: str
    axis_y: str
    corners: np.ndarray  # (5, 2): the square's corners in (axis_x, axis_y), from the start's right, closed
    t: np.ndarray  # path parameter in [0, 2 pi]: the perimeter travelled is 8 r t / (2 pi)
    breaks: np.ndarray
    output_along: np.ndarray
    cumulative_sg: dict[float, np.ndarray]  # per beta_SG, starting at the output's value
    cumulative_exact: np.ndarray  # the true gradient of the forward (0 a.e. for the step), from the output
    loop_sg: dict[float, float]
    loop_sg_error: dict[float, float]  # estimated absolute quadrature error
    loop_exact: float
    loop_exact_error: float

    def table(self) -> dict[str, np.ndarray]:
        return {"t": self.t, "output": self.output_along,
                **{f"sg_beta{b:g}": v for b, v in self.cumulative_sg.items()}, "exact": self.cumulative_exact}


def signflip_square(cfg: SignflipConfig) -> SignflipSquare:
    """Integrate the SG (each of :attr:`SignflipConfig.square_betas`) and the true gradient around the square.

    The pieces are graded toward the forward's transitions (its pre-activations' sign changes) and refined
    adaptively (:func:`sgcore.paths.line_integral`), with an error estimate for every value.
    """
    path, x, fwd = cfg.square_path, cfg.x, cfg.forward_beta
    fields = {b: gradient_field(x, fwd, cfg.surrogate(b).sd) for b in cfg.square_betas}
    fields["exact"] = gradient_field(x, fwd, None)
    t, cum, breaks, err = line_integral(fields, preactivations(x, fwd), path)
    y = output_fn(x, fwd)(path(t)[0])
    i, j = WEIGHT_NAMES.index(cfg.plane_x), WEIGHT_NAMES.index(cfg.plane_y)
    h = cfg.square_half
    corners = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1], [1, 1]]) * h + path.centre[[i, j]]
    betas = cfg.square_betas
    return SignflipSquare(
        axis_x=cfg.plane_x, axis_y=cfg.plane_y, corners=corners, t=t, breaks=breaks, output_along=y,
        cumulative_sg={b: y[0] + cum[b] for b in betas}, cumulative_exact=y[0] + cum["exact"],
        loop_sg={b: float(cum[b][-1]) for b in betas}, loop_sg_error={b: err[b] for b in betas},
        loop_exact=float(cum["exact"][-1]), loop_exact_error=err["exact"],
    )


@dataclass(frozen=True)
class SignflipView:
    """Everything the sign-flip page draws and ``python -m sgcore signflip`` prints (its ``point``, and the
    ``sweep`` / ``plane`` when asked for)."""

    config: SignflipConfig
    point: SignflipPoint
    sweep: SignflipSweep
    plane: SignflipPlane
    square: SignflipSquare

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The CSV downloads: the sweep along w and the landscape plane (long format, one row per grid point)."""
        sw, pl = self.sweep, self.plane
        sweep = {"w": sw.w, "output": sw.output, "smoothed_output": sw.smoothed_output,
                 "integrated_sg": sw.integrated_sg, "grad_true_w": sw.grad_true_w, "grad_sg_w": sw.grad_sg_w,
                 "grad_smoothed_w": sw.grad_smoothed_w, "sign_flip": sw.flip.astype(np.int64)}
        aa, bb = np.meshgrid(pl.a, pl.b)
        plane = {pl.axis_x: aa.ravel(), pl.axis_y: bb.ravel(), "output": pl.output.ravel(),
                 f"grad_true_{pl.axis_x}": pl.grad_true[0].ravel(), f"grad_true_{pl.axis_y}": pl.grad_true[1].ravel()}
        for beta, (gx, gy) in pl.grad_sg.items():
            plane[f"grad_sg{beta:g}_{pl.axis_x}"] = gx.ravel()
            plane[f"grad_sg{beta:g}_{pl.axis_y}"] = gy.ravel()
        plane[f"sign_flip_{pl.component}"] = pl.disagree.ravel().astype(np.int64)
        return {"sweep": sweep, "plane": plane, "square": self.square.table()}


def signflip_view(cfg: SignflipConfig) -> SignflipView:
    """Everything the sign-flip page shows (Gygax & Zenke Sec. 4.1, Eqs. 10-12, Table 1, Fig. 4)."""
    return SignflipView(cfg, signflip_point(cfg), signflip_sweep(cfg), signflip_plane(cfg), signflip_square(cfg))
