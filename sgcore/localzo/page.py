"""The LocalZO page: its declared parameters, validated config, and the view and CLI numbers computed from it.

Everything the page draws and the CLI prints is one :class:`LocalZOView` (:func:`localzo_view`), computed from
one :class:`LocalZOConfig` (and, for the CLI, optional extra potentials: its ``points``); a config names a z-source
(a distribution, Theorem 2, or a registry target, Theorem 3) and the law of the membrane potentials u.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from ..params import DeclaredConfig, ParamSpec, declared, lookup, work
from ..shapes import Q_SPEC
from .common import ALPHAS
from .distributions import DISTRIBUTIONS, ZDistribution
from .estimator import (
    ZSource,
    bth_over_delta,
    expected_surrogate,
    monte_carlo,
    pooled_mean,
    sample_g2,
    single_sample_variance,
)
from .sparsity import _u_dist, active_fraction, active_fractions, sparsegrad_active_fraction
from .theorem3 import TARGETS, Theorem3Target

__all__ = ["LOCALZO_PARAMS", "LocalZOConfig", "LocalZOPoints", "LocalZOView", "localzo_view", "make_source",
           "points_work"]

#: Largest prefix of the one z-stream behind the Monte Carlo convergence plot.
CONV_N = (10, 30, 100, 300, 1000, 3000, 10_000, 30_000)
#: Bound on the z draws of one view, m x (n_samples + n_points + 30000): the default view draws 3.2e4, m = 20
#: with 20000 estimates 1.0e6; 2e6 runs in well under a second, while m = 10000 alone would ask for 3e8 (2.4 GB).
VIEW_WORK = 2e6
#: Bound on the z draws of the CLI's ``--samples`` at ``--u``, samples x m x (len(u) + 1) (the Monte Carlo at each
#: u plus the sampled neurons of the active fraction): a few seconds at most.
POINTS_WORK = 2e7

#: The page's declared parameters: they build its widgets, URL parsing, CLI options and checks.
LOCALZO_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("source", "Sample z from", "distribution", kind="choice", choices=("distribution", "surrogate"),
              help="distribution: pick lambda, see the surrogate it gives (Theorem 2). surrogate: pick a registry "
                   "surrogate g, sample from the density that reproduces it (Theorem 3)."),
    ParamSpec("dist", "Distribution λ of z", "normal", kind="choice", choices=tuple(DISTRIBUTIONS),
              help="All have unit variance. normal, uniform, laplace: closed forms (Eqs. 10-12); others: quadrature."),
    ParamSpec("target", "Target surrogate g", "sigmoid", kind="choice", choices=TARGETS,
              help="Registry shape at steepness k; superspike is the paper's fast sigmoid 1/(1+k|u|)^2."),
    ParamSpec("k", "Target steepness", 10.0, symbol="k", domain=(0.0, 1e5), open_low=True, slider=(0.5, 200.0),
              step=0.01, help="sigmoid: k sigma'(k u); superspike (fast sigmoid): 1/(1+k|u|)^2; others: the "
                             "registry convention with beta = k."),
    Q_SPEC,
    ParamSpec("delta", "LocalZO step", 0.5, symbol=r"\delta", domain=(0.0, 1e3), open_low=True,
              slider=(0.01, 2.0), step=0.01, help="Width of the 2-point difference; narrows the surrogate."),
    ParamSpec("m", "Samples per estimate", 1, kind="int", symbol="m", domain=(1, 10_000), slider=(1, 20), step=1,
              help="Eq. 7 averages G2 over m samples z_k."),
    ParamSpec("alpha", "Exponent", "1", kind="choice", symbol=r"\alpha", choices=tuple(str(a) for a in ALPHAS),
              help="|z|^alpha in Eq. 8 (a non-zero integer; the paper uses 1, and -1 for the fast sigmoid)."),
    ParamSpec("n_samples", "Monte Carlo estimates per u", 2000, kind="int", domain=(10, 1_000_000),
              slider=(10, 20_000), step=10, help="Independent LocalZO estimates averaged at each u."),
    ParamSpec("u_span", "Plotted range of u", 2.0, symbol=r"\Delta u", domain=(0.0, 1e3), open_low=True,
              slider=(0.05, 5.0), step=0.05, help="Curves cover -span .. span."),
    ParamSpec("n_points", "Curve resolution", 401, kind="int", domain=(11, 5001), slider=(51, 1001), step=50,
              help="Points per curve."),
    ParamSpec("u_dist", "Membrane potentials u", "uniform", kind="choice", choices=("uniform", "normal"),
              help="Distribution of u - theta over neurons, for the fraction active in the backward pass."),
    ParamSpec("u_lo", "u from", -1.0, domain=(-1e3, 1e3), slider=(-5.0, 5.0), step=0.05,
              help="Uniform potentials: lower end."),
    ParamSpec("u_hi", "u to", 1.0, domain=(-1e3, 1e3), slider=(-5.0, 5.0), step=0.05,
              help="Uniform potentials: upper end."),
    ParamSpec("u_mean", "u mean", -0.5, domain=(-1e3, 1e3), slider=(-5.0, 5.0), step=0.05,
              help="Normal potentials: mean."),
    ParamSpec("u_std", "u s.d.", 0.5, domain=(0.0, 1e3), open_low=True, slider=(0.01, 5.0), step=0.01,
              help="Normal potentials: standard deviation."),
    ParamSpec("seed", "Seed", 0, kind="int", domain=(0, 2**32 - 1), slider=(0, 9999), step=1, widget="number",
              help="Seed of all random draws on this page."),
)


def make_source(source: str, dist: str = "normal", target: str = "sigmoid", k: float = 10.0, delta: float = 0.5,
                alpha: int = 1, q: float = 1.5) -> ZSource:
    """The z-source of a page state: a distribution (Theorem 2) or a Theorem 3 target."""
    if source == "distribution":
        return lookup(DISTRIBUTIONS, dist, "dist")
    if source == "surrogate":
        return Theorem3Target(target, k, delta, int(alpha), q)
    raise ValueError(f"source must be 'distribution' or 'surrogate'; got {source!r}")


@declared
class LocalZOConfig(DeclaredConfig):
    """A validated LocalZO page state."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = LOCALZO_PARAMS

    def __post_init__(self) -> None:
        if isinstance(self.alpha, int | float) and not isinstance(self.alpha, bool):
            object.__setattr__(self, "alpha", str(int(self.alpha)) if float(self.alpha).is_integer() else
                               str(self.alpha))
        super().__post_init__()
        if self.u_dist == "uniform" and not self.u_lo < self.u_hi:
            raise ValueError(f"u range must have u_lo < u_hi; got {self.u_lo:g} and {self.u_hi:g}")
        self.z_source()  # validates the Theorem 3 combination
        work({"m": self.m, "(n_samples + n_points + 30000)": self.n_samples + self.n_points + CONV_N[-1]},
             VIEW_WORK, "lower m or n_samples")

    @property
    def a(self) -> int:
        return int(self.alpha)

    def z_source(self) -> ZSource:
        return make_source(self.source, self.dist, self.target, self.k, self.delta, self.a, self.q)

    def u_distribution(self) -> Any:
        return _u_dist(self.u_dist, self.u_lo, self.u_hi, self.u_mean, self.u_std)


@dataclass(frozen=True)
class LocalZOPoints:
    """The view's numbers at chosen potentials ``u`` (the CLI's ``--u``); Monte Carlo parts only when asked for.

    ``active_fraction`` is the sampled fraction of neurons (u from the config's law) with a non-zero estimate, to
    compare with the view's exact ``active_localzo``. Infinite values (printed as null) are explained in the view's
    ``notes``; ``monte_carlo_stderr`` is NaN where the variance is infinite (it estimates nothing there).
    """

    u: np.ndarray
    expected_surrogate: np.ndarray
    target_surrogate: np.ndarray | None
    single_sample_variance: np.ndarray
    samples: int | None = None
    monte_carlo_mean: np.ndarray | None = None
    monte_carlo_stderr: np.ndarray | None = None
    active_fraction: float | None = None
    active_fraction_stderr: float | None = None


@dataclass(frozen=True)
class LocalZOView:
    """Everything the LocalZO page shows and ``python -m sgcore localzo`` prints (its ``CLI_FIELDS``: the scalar
    results, the threshold by m, the notes and the ``points``), computed from one configuration."""

    CLI_FIELDS: ClassVar[tuple[str, ...]] = (
        "config", "source_label", "method", "weight", "area", "bth_over_delta", "bth", "active_localzo",
        "active_sparse", "m_values", "bth_by_m", "active_localzo_by_m", "active_sparse_by_m", "sampler", "table_error",
        "bth_over_delta_error", "notes", "infinite_variance_at", "points")

    config: LocalZOConfig
    source_label: str
    method: str
    weight: float
    u: np.ndarray
    expected: np.ndarray  # c * E[G2] (closed form or quadrature)
    target: np.ndarray | None  # g(u) for a Theorem 3 target
    one_draw: np.ndarray  # one estimate per u (independent z per neuron)
    mc_mean: np.ndarray
    mc_stderr: np.ndarray  # standard error of mc_mean from the exact variance (inf where it diverges)
    variance_1: np.ndarray  # single-sample variance; / m for the Eq. 7 average
    area: float  # int of the expected surrogate
    bth_over_delta: float
    bth: float
    sparse_sd: np.ndarray  # expected surrogate truncated at |u| < B_th (SparseGrad)
    active_localzo: float
    active_sparse: float
    m_values: np.ndarray
    bth_by_m: np.ndarray
    active_localzo_by_m: np.ndarray
    active_sparse_by_m: np.ndarray
    z: np.ndarray  # grid for the density
    density: np.ndarray
    samples: np.ndarray  # signed samples from the inverse-transform sampler
    sampler: str
    table_error: float | None
    conv_n: np.ndarray
    conv_err: np.ndarray  # sup-norm error of the MC estimate vs the expected surrogate
    conv_stderr: np.ndarray  # typical standard error at that n (mean over u)
    u_samples: np.ndarray
    notes: tuple[str, ...] = ()
    infinite_variance_at: tuple[float, ...] = ()
    points: LocalZOPoints | None = None
    bth_over_delta_error: float | None = None  # estimated quadrature error of E[max|z_k|] (Theorem 3 targets)

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """The CSV downloads: the curves over u and the threshold / active fractions by m."""
        curves = {"u": self.u, "expected": self.expected, "one_draw": self.one_draw, "mc_mean": self.mc_mean,
                  "mc_stderr": self.mc_stderr, "variance_one_sample": self.variance_1,
                  "sparsegrad_sd": self.sparse_sd}
        if self.target is not None:
            curves["target_g"] = self.target
        return {"curves": curves,
                "threshold_by_m": {"m": self.m_values, "bth_over_delta": self.bth_by_m,
                                   "active_localzo": self.active_localzo_by_m,
                                   "active_sparsegrad": self.active_sparse_by_m}}


def _area(src: ZSource, alpha: int) -> float:
    """int c E[G2] du = c E[|z|^(alpha+1)] (Lemma 1); exact via the tail at a = 0."""
    return float(src.weight * src.tail(np.array([0.0]), alpha + 1)[0]) if alpha + 1 > 0 else float(src.weight)


def _points(cfg: LocalZOConfig, src: ZSource, u: Any, samples: int | None, rng: np.random.Generator) -> LocalZOPoints:
    u = np.atleast_1d(np.asarray(u, dtype=float))
    if not np.all(np.isfinite(u)):
        raise ValueError("u must be finite numbers")
    alpha, delta, m = cfg.a, cfg.delta, cfg.m
    var = single_sample_variance(src, u, delta, alpha)
    pts = LocalZOPoints(u=u, expected_surrogate=expected_surrogate(src, u, delta, alpha),
                        target_surrogate=src.g(u) if isinstance(src, Theorem3Target) else None,
                        single_sample_variance=var)
    if samples is None:
        return pts
    mc = monte_carlo(src, u, delta, alpha, m, samples, rng)
    us = cfg.u_distribution().rvs(size=samples, random_state=rng)
    nz = sample_g2(src, us, delta, alpha, m, 1, rng)[0] != 0
    return replace(pts, samples=samples, monte_carlo_mean=mc.mean,
                   monte_carlo_stderr=np.where(np.isinf(var), np.nan, mc.stderr),
                   active_fraction=float(nz.mean()), active_fraction_stderr=float(nz.std() / math.sqrt(samples)))


def points_work(cfg: LocalZOConfig, u_points: Any, samples: int | None) -> int:
    """The z draws of ``samples`` Monte Carlo estimates at ``u_points``, or ``ValueError`` above ``POINTS_WORK``."""
    if samples is None:
        return 0
    return work({"samples": samples, "m": cfg.m, "(len(u) + 1)": int(np.size(u_points)) + 1}, POINTS_WORK,
                "lower samples or m, or give fewer u")


def localzo_view(cfg: LocalZOConfig, u_points: Any = None, samples: int | None = None) -> LocalZOView:
    """The page's computation (deterministic for a given seed; Mukhoty et al. Sec. 2-4, 5.2, App. A).

    ``u_points``: optional extra potentials whose numbers fill ``points`` (with ``samples`` Monte Carlo estimates at
    each, and as many sampled neurons for the active fraction); drawn after everything else, so the page's numbers
    do not depend on them. ``ValueError`` unless ``u`` are finite numbers, or if ``samples`` x m x (len(u) + 1)
    exceeds ``POINTS_WORK`` (checked before anything is computed).
    """
    if u_points is not None:
        points_work(cfg, u_points, samples)
    src = cfg.z_source()
    rng = np.random.default_rng(cfg.seed)
    alpha, delta, m = cfg.a, cfg.delta, cfg.m
    grid = np.linspace(-cfg.u_span, cfg.u_span, cfg.n_points)
    on_grid = _points(cfg, src, grid, None, rng)
    u, expected, target = grid, on_grid.expected_surrogate, on_grid.target_surrogate
    var1 = on_grid.single_sample_variance
    notes: list[str] = []
    one = sample_g2(src, u, delta, alpha, m, 1, rng)[0]
    pool = src.sample_abs((cfg.n_samples, m), rng)
    mc_mean = pooled_mean(u, pool, delta, alpha, src.weight)
    inf_at = tuple(float(x) for x in u[np.isinf(var1)])
    var_at_zero = single_sample_variance(src, np.zeros(1), delta, alpha)[0]
    if inf_at or np.isinf(var_at_zero):
        notes.append("the single-sample variance is infinite at u = 0 (E[|z|^(2 alpha)] diverges there); its Monte "
                     "Carlo standard error is null there: the sample standard deviation estimates nothing")
    if np.isinf(expected_surrogate(src, np.zeros(1), delta, alpha)[0]):
        notes.append("the expected surrogate is infinite at u = 0 (E[|z|^alpha] diverges for alpha < 0)")
    area = _area(src, alpha)
    bod = bth_over_delta(src, m)
    if math.isinf(bod):
        notes.append("E[max |z_k|] diverges (heavy tail of lambda): the expected back-propagation threshold is "
                     "infinite, so SparseGrad has no finite matching threshold (paper Sec. 4.6.2)")
    bth = bod * delta
    udist = cfg.u_distribution()
    act = active_fraction(src, udist, delta, m)
    act_sp = sparsegrad_active_fraction(udist, bth)
    sparse_sd = np.where(np.abs(u) < bth, expected, 0.0)
    m_values = np.unique(np.clip(np.array([1, 2, 3, 5, 10, 20, m]), 1, 10_000))
    bth_by_m = np.array([bth_over_delta(src, int(k)) for k in m_values])
    act_by_m = active_fractions(src, udist, delta, m_values)
    sp_by_m = np.array([sparsegrad_active_fraction(udist, b * delta) for b in bth_by_m])
    # density of z with samples from the inverse-transform sampler
    z_samples = src.sample(20_000, rng)
    q90, q99 = np.quantile(np.abs(z_samples), [0.9, 0.99])
    zmax = float(min(q99, 4.0 * q90)) * 1.15 or 1.0  # heavy tails: keep the bulk readable
    z = np.linspace(-zmax, zmax, 801)
    dens = src.density(z)
    # Monte Carlo convergence: nested prefixes of one sample stream, one z-set shared across u
    conv_n = np.array(CONV_N)
    zs = src.sample_abs((int(conv_n[-1]), m), rng)
    fin = np.isfinite(expected) & np.isfinite(var1)
    errs = [float(np.max(np.abs(pooled_mean(u[fin], zs[:n], delta, alpha, src.weight) - expected[fin])))
            for n in conv_n]
    ses = [float(np.mean(np.sqrt(var1[fin] / (m * n)))) for n in conv_n]
    u_samples = udist.rvs(size=4000, random_state=rng)
    label = src.label if isinstance(src, ZDistribution) else f"{src.label}, k = {src.k:g}"
    return LocalZOView(
        config=cfg, source_label=label, method=getattr(src, "method", "quadrature of λ (Theorem 3)"),
        weight=float(src.weight), u=u, expected=expected, target=target, one_draw=one, mc_mean=mc_mean,
        mc_stderr=np.sqrt(var1 / (m * cfg.n_samples)), variance_1=var1, area=area, bth_over_delta=bod, bth=bth,
        sparse_sd=sparse_sd,
        active_localzo=act, active_sparse=act_sp, m_values=m_values, bth_by_m=bth_by_m,
        active_localzo_by_m=act_by_m, active_sparse_by_m=sp_by_m, z=z, density=dens, samples=z_samples,
        sampler=getattr(src, "sampler", "inverse CDF (scipy.stats ppf)"), table_error=getattr(src, "table_error", None),
        conv_n=conv_n, conv_err=np.array(errs), conv_stderr=np.array(ses), u_samples=u_samples, notes=tuple(notes),
        infinite_variance_at=inf_at,
        bth_over_delta_error=src.emax_error(m) if hasattr(src, "emax_error") else None,
        points=None if u_points is None else _points(cfg, src, u_points, samples, rng),
    )
