"""Escape noise and the single stochastic / deterministic Perceptron (Gygax & Zenke Sec. 3.1).

An escape-noise function is the CDF of a registered shape in density scaling, so the
matching principle (Eq. 6 vs Eq. 8) holds by construction: the derivative of the expected
output of a stochastic Perceptron with escape noise ``F(s (u - theta))`` is the SD of the same
shape and steepness in ``density`` scaling.

Families (one definition each, used everywhere):

* ``sigmoid``: p = sigma(beta_N (u - theta))   (Eq. 7, 23; logistic threshold noise);
* ``erf``: p = Phi(beta_N (u - theta))          (Gaussian threshold noise, s.d. 1/beta_N);
* ``exponential``: p = 1 - exp(-dt rho0 exp(beta_N (u - theta)))  (Gerstner's exponential
  escape rate over one step dt; a Gumbel-min threshold noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .params import DeclaredConfig, ParamSpec, declared, work
from .registry import NamedRegistry
from .shapes import Surrogate, SurrogateShape, get_shape, heaviside, sd_param_specs

__all__ = [
    "EscapeFamily",
    "ESCAPE_FAMILIES",
    "register_family",
    "registered_family",
    "EscapeNoise",
    "EscapeConfig",
    "EscapePoints",
    "EscapeView",
    "ESCAPE_PARAMS",
    "escape_points",
    "escape_view",
]


@dataclass(frozen=True)
class EscapeFamily:
    """A named escape-noise family: a registered shape's CDF used as firing probability."""

    name: str
    label: str
    shape: str
    noise: str
    p_latex: str
    noise_latex: str
    uses_rate: bool = False


#: The escape-noise families by name: each a registered shape's CDF as firing probability. A live registry:
#: :func:`register_family` adds to it and the escape page, the LIF step and the estimators offer the new one.
ESCAPE_FAMILIES: NamedRegistry[EscapeFamily] = NamedRegistry("escape family", EscapeFamily, (
    EscapeFamily(
        "sigmoid",
        "Sigmoid",
        "sigmoid",
        "logistic, scale 1/beta_N",
        r"p = \sigma\!\left(\beta_N (u-\theta)\right)",
        r"\xi = \tfrac{1}{\beta_N}\log\tfrac{x}{1-x}",
    ),
    EscapeFamily(
        "erf",
        "Error function (Gaussian threshold noise)",
        "gaussian",
        "normal, s.d. 1/beta_N",
        r"p = \Phi\!\left(\beta_N (u-\theta)\right)",
        r"\xi = \tfrac{1}{\beta_N}\Phi^{-1}(x)",
    ),
    EscapeFamily(
        "exponential",
        "Exponential escape rate",
        "escape_exp",
        "Gumbel-min, scale 1/beta_N",
        r"p = 1 - \exp\!\left(-\Delta t\,\rho_0\, e^{\beta_N (u-\theta)}\right)",
        r"\xi = \tfrac{1}{\beta_N}\left[\log\!\left(-\log(1-x)\right) - \log(\rho_0\Delta t)\right]",
        uses_rate=True,
    ),
), param="escape", check=lambda family: get_shape(family.shape))

#: Add an escape family (its ``shape`` must be registered): the escape page, the LIF step, the trainer's noise
#: helpers and the estimators' network can use it at once; a name already registered raises ``ValueError``.
register_family = ESCAPE_FAMILIES.register
#: Register escape families for the duration of a ``with`` block (tests, notebooks), then remove them.
registered_family = ESCAPE_FAMILIES.registered


def get_family(name: str) -> EscapeFamily:
    """Look up an escape family; unknown names raise ``ValueError`` listing valid ones."""
    return ESCAPE_FAMILIES.lookup(name)


# --- declared parameters of the escape-noise page -------------------------------------------

#: The escape-noise page's declared parameters, the fields of :class:`EscapeConfig`: one description each builds
#: the widget, the link value and the CLI option, and validates them.
ESCAPE_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("escape", "Escape-noise family", "sigmoid", kind="choice",
              choices=ESCAPE_FAMILIES, help="Firing probability p(u) of the stochastic Perceptron."),
    ParamSpec("beta_n", "Escape-noise steepness", 5.0, symbol=r"\beta_N", domain=(0.0, 1e4),
              open_low=True, slider=(0.5, 50.0), step=0.5,
              help="Steepness of the escape-noise function; beta_N -> inf is deterministic."),
    ParamSpec("theta", "Threshold", 0.0, symbol=r"\theta", domain=(-1e3, 1e3),
              slider=(-2.0, 2.0), step=0.05, help="Firing threshold (mean threshold)."),
    ParamSpec("rho0_dt", "Rate x time step", 1.0, symbol=r"\rho_0\,\Delta t", domain=(0.0, 1e6),
              open_low=True, slider=(0.05, 10.0), step=0.05,
              help="Exponential escape only: dt * rho0; the escape derivative peaks at "
                   "theta - ln(rho0 dt)/beta_N."),
    *sd_param_specs(),
    ParamSpec("u_span", "Plotted range of u - theta", 2.0, symbol=r"\Delta u", domain=(0.0, 1e3),
              open_low=True, slider=(0.25, 10.0), step=0.25, help="Curves cover theta +/- this."),
    ParamSpec("n_points", "Curve resolution", 401, kind="int", domain=(11, 20001),
              slider=(51, 2001), step=50, help="Points per curve."),
    ParamSpec("n_inputs", "Inputs in the sweep", 40, kind="int", domain=(2, 400),
              slider=(4, 200), step=1, help="Columns of the trial rasters."),
    ParamSpec("n_trials", "Trials", 25, kind="int", domain=(1, 2000), slider=(1, 200), step=1,
              help="Rows of the trial rasters."),
    ParamSpec("n_samples", "Threshold samples", 5000, kind="int", domain=(10, 2_000_000),
              slider=(100, 200_000), step=100, help="Samples of the noisy threshold."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of all random draws on this page."),
)
_SPEC = {p.name: p for p in ESCAPE_PARAMS}

#: Bound on the trial rasters' cells, n_trials x n_inputs (the only product of the page's sizes: the curves grow with
#: n_points alone, the threshold samples with n_samples alone): the default is 1e3, the sliders' top 200 x 200 = 4e4;
#: at 2e5 (500 x 400) the rasters' CSV download (one row per cell) takes 0.9 s, while the domains' top 2000 x 400 =
#: 8e5 took 3.9 s (19 MB). The computation itself stays below 0.3 s at every domain's top.
RASTER_CELLS = 2e5


# --- the escape noise itself ----------------------------------------------------------------
@dataclass(frozen=True)
class EscapeNoise:
    """Escape noise of a stochastic Perceptron: p(u) = F(s (u - c)) (Gygax & Zenke Sec. 3.1, Eq. 7).

    ``c`` is theta, or theta - ln(rho0 dt)/beta_N for the exponential family (where it is the
    mode of the escape derivative). Validated on construction.
    """

    family: str = "sigmoid"
    beta_n: float = 5.0
    theta: float = 0.0
    rho0_dt: float = 1.0

    def __post_init__(self) -> None:
        get_family(self.family)
        for name in ("beta_n", "theta", "rho0_dt"):
            object.__setattr__(self, name, _SPEC[name].validate(getattr(self, name)))

    @property
    def shape(self) -> SurrogateShape:
        """The registry shape whose CDF is the firing probability F (Gygax & Zenke Sec. 3.1, Eq. 7)."""
        return get_shape(ESCAPE_FAMILIES[self.family].shape)

    @property
    def s(self) -> float:
        return self.shape.sharpness(self.beta_n)

    @property
    def center(self) -> float:
        if ESCAPE_FAMILIES[self.family].uses_rate:
            return self.theta - math.log(self.rho0_dt) / self.beta_n
        return self.theta

    def _v(self, u: Any) -> np.ndarray:
        return self.s * (np.asarray(u, dtype=np.float64) - self.center)

    def firing_probability(self, u: Any) -> np.ndarray:
        """p(u) = E[y] (Eq. 7, 23)."""
        return self.shape.cdf(self._v(u))

    def no_spike_probability(self, u: Any) -> np.ndarray:
        """1 - p(u), computed without cancellation."""
        return self.shape.sf(self._v(u))

    def d_expected_output(self, u: Any) -> np.ndarray:
        """d/du E[y] = s f(s (u - c)) (Eq. 8)."""
        return self.s * self.shape.f(self._v(u))

    def stochad_right(self, u: Any) -> np.ndarray:
        """Smoothed right stochastic derivative given y = 0 (App. B): dp/du / (1 - p).

        NaN where p = 1 (y = 0 cannot occur); inf where it exceeds the largest float (the exponential family's
        grows like exp(beta_N (u - theta))). Where s * hazard overflowed (in the product or in the hazard itself) it is
        redone in log space, so a value below the float maximum stays exact."""
        v = self._v(u)
        with np.errstate(over="ignore"):
            right = self.s * self.shape.hazard(v)
            lost = np.isposinf(right)
            if np.any(lost):
                right[lost] = np.exp(math.log(self.s) + self.shape.log_hazard(v[lost]))
        return right

    def stochad_left(self, u: Any) -> np.ndarray:
        """Smoothed left stochastic derivative given y = 1 (App. B): dp/du / p.

        NaN where p = 0 (y = 1 cannot occur); inf where it exceeds the largest float."""
        with np.errstate(over="ignore"):
            return self.s * self.shape.reverse_hazard(self._v(u))

    def stochad_affine(self, u: Any, y: Any) -> np.ndarray:
        """(1 - p) d_R 1[y=0] + p d_L 1[y=1] for realisations ``y`` (App. B, Fig. S3)."""
        u = np.asarray(u, dtype=np.float64)
        y = np.broadcast_to(np.asarray(y), u.shape)
        p, q = self.firing_probability(u), self.no_spike_probability(u)
        right = np.where(y == 0, q * np.nan_to_num(self.stochad_right(u)), 0.0)
        left = np.where(y == 1, p * np.nan_to_num(self.stochad_left(u)), 0.0)
        return right + left

    def sample_thresholds(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Noisy thresholds Theta = c + xi, xi = F^{-1}(U)/s: H(u - Theta) ~ Ber(p(u)).

        For the sigmoid family xi = (1/beta_N) log(x / (1 - x)), x ~ U(0, 1) (logistic). The
        paper's Eq. 25 prints log(1 / (1 - x)), which is Exp(1) noise: not zero-mean and not
        the sigmoid's (see tests)."""
        return self.center + self.shape.sample(n, rng) / self.s

    def threshold_density(self, x: Any) -> np.ndarray:
        """Density of the noisy threshold Theta at ``x``."""
        return self.s * self.shape.f(self.s * (np.asarray(x, dtype=np.float64) - self.center))


# --- the page computation -------------------------------------------------------------------
@declared
class EscapeConfig(DeclaredConfig):
    """Everything the escape-noise page (and ``python -m sgcore escape``) computes from."""

    PARAMS = ESCAPE_PARAMS

    def __post_init__(self) -> None:
        super().__post_init__()
        work({"n_trials": self.n_trials, "n_inputs": self.n_inputs}, RASTER_CELLS, "lower n_trials or n_inputs")

    @property
    def noise(self) -> EscapeNoise:
        return EscapeNoise(self.escape, self.beta_n, self.theta, self.rho0_dt)

    @property
    def surrogate(self) -> Surrogate:
        return Surrogate.of(self)

    @property
    def resolved_scale(self) -> str:
        return self.surrogate.resolved_scale

    def sd(self, u: Any) -> np.ndarray:
        """The chosen surrogate derivative at u (centred on theta)."""
        return self.surrogate.sd(np.asarray(u, dtype=np.float64) - self.theta)


@dataclass(frozen=True)
class EscapePoints:
    """The escape page's curves at given membrane potentials ``u`` (the page's grid, or the CLI's ``--u``).

    ``stochad_affine_y0`` / ``_y1`` are App. B's affine combination for a realisation y = 0 / y = 1 (both equal
    d/du E[y]).
    """

    u: np.ndarray
    firing_probability: np.ndarray
    step: np.ndarray
    d_expected_output: np.ndarray
    surrogate_derivative: np.ndarray
    stochad_right: np.ndarray
    stochad_left: np.ndarray
    stochad_affine_y0: np.ndarray
    stochad_affine_y1: np.ndarray


def escape_points(cfg: EscapeConfig, u: Any) -> EscapePoints:
    """The escape page's curves at potentials ``u`` (finite numbers): firing probability (Eq. 7), dE[y]/du
    (Eq. 8) against the SD (Eq. 6), and stochAD's derivatives (Gygax & Zenke Sec. 3.1, App. B)."""
    u = np.atleast_1d(np.asarray(u, dtype=np.float64))
    if not np.all(np.isfinite(u)):
        raise ValueError("u must be finite numbers")
    noise = cfg.noise
    return EscapePoints(
        u=u,
        firing_probability=noise.firing_probability(u),
        step=heaviside(u - cfg.theta),
        d_expected_output=noise.d_expected_output(u),
        surrogate_derivative=cfg.sd(u),
        stochad_right=noise.stochad_right(u),
        stochad_left=noise.stochad_left(u),
        stochad_affine_y0=noise.stochad_affine(u, np.zeros_like(u)),
        stochad_affine_y1=noise.stochad_affine(u, np.ones_like(u)),
    )


@dataclass(frozen=True)
class EscapeView:
    """Named arrays behind the escape-noise page (and ``python -m sgcore escape``).

    ``points`` are the curves at extra potentials when asked for (the CLI's ``--u``); ``notes`` say why a value is
    infinite (null in the JSON): a smoothed stochastic derivative beyond the largest float. ``CLI_FIELDS`` are the
    fields the CLI prints (not the bulky rasters and threshold samples, which the CSV downloads carry).
    """

    CLI_FIELDS: ClassVar[tuple[str, ...]] = (
        "config", "resolved_scale", "u", "firing_probability", "step", "d_expected_output", "surrogate_derivative",
        "stochad_right", "stochad_left", "max_abs_diff", "rel_l2_diff", "matched", "mismatch", "sd_gamma", "sd_s",
        "threshold_mean", "points", "notes")

    config: EscapeConfig
    resolved_scale: str
    u: np.ndarray
    firing_probability: np.ndarray
    step: np.ndarray
    d_expected_output: np.ndarray
    surrogate_derivative: np.ndarray
    max_abs_diff: float
    rel_l2_diff: float
    matched: bool
    mismatch: tuple[str, ...]
    sd_gamma: float
    sd_s: float
    u_inputs: np.ndarray
    raster_det: np.ndarray
    raster_stoch: np.ndarray
    p_inputs: np.ndarray
    stochad_right: np.ndarray
    stochad_left: np.ndarray
    realisation: np.ndarray
    realised_right: np.ndarray
    realised_left: np.ndarray
    stochad_affine: np.ndarray
    thresholds: np.ndarray
    hist_edges: np.ndarray
    hist_density: np.ndarray
    threshold_grid: np.ndarray
    threshold_pdf: np.ndarray
    threshold_mc_p: np.ndarray
    threshold_mean: float
    points: EscapePoints | None = None
    notes: tuple[str, ...] = ()

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The CSV downloads: curves on the grid, rasters (long format), threshold samples."""
        trials, inputs = self.raster_stoch.shape
        return {
            "curves": {"u": self.u, "firing_probability": self.firing_probability, "step": self.step,
                       "d_expected_output": self.d_expected_output,
                       "surrogate_derivative": self.surrogate_derivative, "stochad_right": self.stochad_right,
                       "stochad_left": self.stochad_left},
            "rasters": {"trial": np.repeat(np.arange(1, trials + 1), inputs), "u": np.tile(self.u_inputs, trials),
                        "y_deterministic": self.raster_det.ravel().astype(np.float64),
                        "y_stochastic": self.raster_stoch.ravel().astype(np.int64)},
            "thresholds": {"threshold": self.thresholds},
        }

    @property
    def peak_d_expected_output(self) -> float:
        """max over the u grid of d/du E[y]."""
        return float(self.d_expected_output.max())

    @property
    def peak_surrogate_derivative(self) -> float:
        """max over the u grid of the SD."""
        return float(self.surrogate_derivative.max())


#: Relative L2 distance below which the SD and d/du E[y] count as matched.
MATCH_TOL = 1e-9


def escape_view(cfg: EscapeConfig, u: Any = None) -> EscapeView:
    """Compute everything the escape-noise page shows (Gygax & Zenke Sec. 3.1, App. B).

    ``u``: optional extra potentials whose curves fill ``points`` (``ValueError`` unless finite numbers).
    """
    noise = cfg.noise
    points = None if u is None else escape_points(cfg, u)
    curves = escape_points(cfg, np.linspace(cfg.theta - cfg.u_span, cfg.theta + cfg.u_span, cfg.n_points))
    u, p, dp, sd = curves.u, curves.firing_probability, curves.d_expected_output, curves.surrogate_derivative
    diff = dp - sd
    max_abs = float(np.max(np.abs(diff)))
    rel = float(np.linalg.norm(diff) / max(np.linalg.norm(dp), 1e-300))

    mismatch = []
    fam_shape = ESCAPE_FAMILIES[cfg.escape].shape
    if cfg.shape != fam_shape:
        mismatch.append(f"shape: the {cfg.escape} escape noise matches '{fam_shape}', not '{cfg.shape}'")
    if cfg.beta_sg != cfg.beta_n:
        mismatch.append(f"steepness: beta_SG = {cfg.beta_sg:g} but beta_N = {cfg.beta_n:g}")
    gamma, s = cfg.surrogate.dampening, cfg.surrogate.s
    if not math.isclose(gamma, s, rel_tol=1e-12):
        mismatch.append(f"scaling: gamma = {gamma:.4g} but the density needs gamma = s = {s:.4g}")
    if ESCAPE_FAMILIES[cfg.escape].uses_rate and cfg.rho0_dt != 1.0:
        mismatch.append("offset: rho0 dt != 1 moves the escape derivative to "
                        f"u = {noise.center:.4g}; the SD is centred on theta")

    notes = _overflow_notes(curves, points)

    rng = np.random.default_rng(cfg.seed)
    width = 2.0 * cfg.u_span / cfg.n_inputs
    u_in = cfg.theta - cfg.u_span + width * (np.arange(cfg.n_inputs) + 0.5)
    p_in = noise.firing_probability(u_in)
    det_row = heaviside(u_in - cfg.theta)
    raster_det = np.broadcast_to(det_row, (cfg.n_trials, cfg.n_inputs)).astype(np.float32)
    raster_stoch = (rng.random((cfg.n_trials, cfg.n_inputs)) < p_in).astype(np.int8)
    realisation = raster_stoch[0]

    thresholds = noise.sample_thresholds(cfg.n_samples, rng)
    lo, hi = cfg.theta - cfg.u_span, cfg.theta + cfg.u_span
    edges = np.linspace(lo, hi, 61)
    counts, _ = np.histogram(thresholds, bins=edges)
    hist_density = counts / (cfg.n_samples * np.diff(edges))
    grid = np.linspace(lo, hi, cfg.n_points)
    mc_p = np.searchsorted(np.sort(thresholds), u_in, side="right") / cfg.n_samples

    return EscapeView(
        config=cfg,
        resolved_scale=cfg.resolved_scale,
        u=u,
        firing_probability=p,
        step=curves.step,
        d_expected_output=dp,
        surrogate_derivative=sd,
        max_abs_diff=max_abs,
        rel_l2_diff=rel,
        matched=rel < MATCH_TOL,
        mismatch=tuple(mismatch),
        sd_gamma=gamma,
        sd_s=s,
        u_inputs=u_in,
        raster_det=raster_det,
        raster_stoch=raster_stoch,
        p_inputs=p_in,
        stochad_right=curves.stochad_right,
        stochad_left=curves.stochad_left,
        realisation=realisation,
        realised_right=noise.stochad_right(u_in),
        realised_left=noise.stochad_left(u_in),
        stochad_affine=noise.stochad_affine(u_in, realisation),
        thresholds=thresholds,
        hist_edges=edges,
        hist_density=hist_density,
        threshold_grid=grid,
        threshold_pdf=noise.threshold_density(grid),
        threshold_mc_p=mc_p,
        threshold_mean=float(np.mean(thresholds)),
        points=points,
        notes=notes,
    )


def _overflow_notes(curves: EscapePoints, points: EscapePoints | None) -> tuple[str, ...]:
    """One note per smoothed stochastic derivative that is infinite somewhere (on the grid or at ``points``)."""
    notes = []
    for name, side in (("stochad_right", "1 - p"), ("stochad_left", "p")):
        at = [float(x) for part in (curves, points) if part is not None
              for x in part.u[np.isposinf(getattr(part, name))]]
        if at:
            notes.append(f"{name} is null at {len(at)} potential(s) in u = {min(at):.6g} .. {max(at):.6g}: dp/du / "
                         f"({side}) exceeds the largest float ({np.finfo(np.float64).max:.4g}) there")
    return tuple(notes)
