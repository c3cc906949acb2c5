"""The shape record: :class:`SurrogateShape`, one frozen record per surrogate shape.

A record holds a shape's *standard form* ``f`` (maximum 1 at ``v = 0``, unit area;
Herranz-Celotti & Rouat, Table S1), its antiderivative ``F`` (a CDF: the escape-noise function
of the stochastic neuron whose derivative the SD matches), survival function, analytic inverse
CDF, derivative ``f'`` and facts (closed forms, tails, LocalZO Theorem 3 pieces, fast kernels).
The public methods validate parameters and work in float64 (or the input's float dtype).

Also here: the tiny array namespace (:data:`NUMPY_OPS`, ``_torch_ops``) that lets each formula be
written once for NumPy and torch, :class:`ClosedForm`, the q-PseudoSpike parameter
:data:`Q_SPEC` and the small array helpers the shape modules share. The shapes themselves are
in :mod:`.catalog`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from ..params import ParamSpec, count, positive


class _Ops:
    """Minimal array namespace so each formula is written once for NumPy and torch."""

    def __init__(self, **fns: Callable[..., Any]) -> None:
        self.__dict__.update(fns)


#: The NumPy array namespace every shape's formulas are written against once (``_torch_ops`` is torch's).
NUMPY_OPS = _Ops(
    exp=np.exp,
    expm1=np.expm1,
    abs=np.abs,
    sigmoid=special.expit,
    ndtr=special.ndtr,
    arctan=np.arctan,
    where=np.where,
    clip=np.clip,
    sqrt=np.sqrt,
)


def _torch_ops() -> _Ops:
    import torch

    return _Ops(
        exp=torch.exp,
        expm1=torch.expm1,
        abs=torch.abs,
        sigmoid=torch.sigmoid,
        ndtr=torch.special.ndtr,
        arctan=torch.arctan,
        where=torch.where,
        clip=torch.clamp,
        sqrt=torch.sqrt,
    )


@dataclass(frozen=True)
class ClosedForm:
    """A quantity of a standard form known in closed form: its LaTeX derivation and its value.

    ``value`` takes the shape's parameters (e.g. ``q``) as keywords and returns a float
    (``inf`` where the quantity diverges)."""

    latex: str
    value: Callable[..., float] = field(repr=False)


def _const(latex: str, x: float) -> ClosedForm:
    return ClosedForm(latex, lambda **_: x)


#: The tail-fatness parameter q of the q-PseudoSpike shape (Herranz-Celotti & Rouat Sec. 2.2, 3.2; q -> inf is the
#: exponential tail, q = 2 the fast sigmoid), shared by every page and command that offers the shape.
Q_SPEC = ParamSpec(
    name="q",
    label="Tail fatness",
    default=1.5,
    symbol="q",
    domain=(1.0, 100.0),
    open_low=True,
    slider=(1.01, 10.0),
    step=0.01,
    help="q-PseudoSpike tail exponent: f ~ |v|^-q; q = 2 is the fast sigmoid (SuperSpike).",
)


@dataclass(frozen=True)
class SurrogateShape:
    """A registered surrogate shape: standard form ``f``, CDF ``F`` and inverse CDF.

    Public methods validate their parameters and work in float64 (or the input's float
    dtype); formulas are private.
    """

    name: str
    label: str
    f_latex: str
    beta_to_s: float
    beta_to_s_latex: str
    default_scale: str
    reference: str
    symmetric: bool
    support: float  # half-width of the support of f (inf for unbounded)
    _f: Callable[..., Any] = field(repr=False)
    _F: Callable[..., Any] = field(repr=False)
    _ppf: Callable[..., Any] = field(repr=False)
    _sf: Callable[..., Any] | None = field(default=None, repr=False)
    _hazard: Callable[..., Any] | None = field(default=None, repr=False)
    _rhazard: Callable[..., Any] | None = field(default=None, repr=False)
    _df: Callable[..., Any] | None = field(default=None, repr=False)
    params: tuple[ParamSpec, ...] = ()
    #: Closed forms of the gallery quantities ``int_f_sq`` (int f^2) and ``tail_moment`` (int v^2 f).
    closed_forms: Mapping[str, ClosedForm] = field(default_factory=dict, repr=False)
    #: p with f(v) ~ |v|^-p far out (inf: faster than any power); a function of the shape's parameters.
    tail_index: Callable[..., float] = field(default=lambda **_: math.inf, repr=False)
    #: f'(0) = 0 (no corner at the peak): LocalZO's Theorem 3 with alpha = 1 then has a finite c.
    smooth_peak: bool = False
    #: M_1 = int_0^inf y^-1 (-f'(y)) dy in closed form (None: by quadrature when ``smooth_peak``).
    m1: float | None = None
    #: Theorem 3's standard variable Y: inverse CDFs and CDFs in closed form, keyed by alpha.
    theorem3_ppf: Mapping[int, Callable[..., Any]] = field(default_factory=dict, repr=False)
    theorem3_cdf: Mapping[int, Callable[..., Any]] = field(default_factory=dict, repr=False)
    #: f is flat with jumps at |v| = this: Theorem 3 puts all mass of Y there (None otherwise).
    jump_at: float | None = None
    #: How LocalZO names the target g(u) = gamma f(s u) at steepness k (default: the label).
    target_label: str = ""
    #: Optional fast in-place kernel ``kernel(v, s, gamma)``: v <- gamma f(s v) (the trainer's hot loop).
    kernel: Callable[[np.ndarray, float, float], None] | None = field(default=None, repr=False)
    #: Optional exact log F(v) (default: log of :meth:`cdf`); the sigmoid's is log_expit, exact in the tails.
    _logcdf: Callable[..., Any] | None = field(default=None, repr=False)
    #: Optional fast in-place inverse CDF ``ppf_kernel(p, tmp)``: p <- F^{-1}(p) in p's dtype (escape noise).
    ppf_kernel: Callable[[np.ndarray, np.ndarray], None] | None = field(default=None, repr=False)
    #: Optional exact log of the hazard (default: log of :meth:`hazard`): finite where an unbounded hazard is not a
    #: float (the escape-noise Gumbel's e exp(e v)), so a scaled s * hazard below the float maximum is still exact.
    _loghazard: Callable[..., Any] | None = field(default=None, repr=False)

    # -- parameters -------------------------------------------------------------------------
    def shape_params(self, **given: Any) -> dict[str, Any]:
        """Validated shape parameters (defaults filled in); unknown names raise."""
        known = {p.name: p for p in self.params}
        unknown = set(given) - set(known)
        if unknown:
            raise ValueError(
                f"shape {self.name!r} takes no parameter(s) {sorted(unknown)}; "
                f"its parameters are {sorted(known) or 'none'}"
            )
        return {n: spec.validate(given.get(n, spec.default)) for n, spec in known.items()}

    def pick_params(self, **candidates: Any) -> dict[str, Any]:
        """The shape's own parameters out of ``candidates`` (others ignored), validated, defaults filled in.

        Lets a caller hold every parameter any shape might take (e.g. ``q``) and pass on what applies."""
        return self.shape_params(**{p.name: candidates[p.name] for p in self.params if p.name in candidates})

    def closed_form(self, quantity: str, **params: Any) -> float:
        """Closed form of ``peak``, ``area`` (both 1 for a standard form), ``int_f_sq`` or ``tail_moment``.

        ``nan`` where the shape declares none (the gallery then shows quadrature alone)."""
        p = self.shape_params(**params)
        if quantity in ("peak", "area"):
            return 1.0
        if quantity not in ("int_f_sq", "tail_moment"):
            raise ValueError(f"quantity must be one of peak, area, int_f_sq, tail_moment; got {quantity!r}")
        known = self.closed_forms.get(quantity)
        return float(known.value(**p)) if known is not None else math.nan

    def tail_exponent(self, **params: Any) -> float:
        """p with f(v) ~ |v|^-p as |v| -> inf (inf for tails lighter than any power)."""
        return float(self.tail_index(**self.shape_params(**params)))

    def finite_abs_moment(self, order: float, **params: Any) -> bool:
        """Is int |v|^order f(v) dv finite? (f is bounded, so only the tails decide: order < p - 1.)"""
        return order < self.tail_exponent(**params) - 1.0

    def sd_inplace(self, v: np.ndarray, s: float, gamma: float, **params: Any) -> None:
        """Overwrite ``v`` with gamma f(s v) in place (fast kernel if declared, else the formula via torch)."""
        if self.kernel is not None:
            self.kernel(v, s, gamma)
            return
        import torch

        t = torch.from_numpy(v)
        t.copy_(gamma * self.f_torch(s * t, **params))

    # -- standard form ----------------------------------------------------------------------
    def f(self, v: Any, **params: Any) -> np.ndarray:
        """Standard form f(v): maximum 1 at v = 0, unit area."""
        v, dtype = _as_float(v)
        return _cast(self._f(v, NUMPY_OPS, **self.shape_params(**params)), dtype)

    def cdf(self, v: Any, **params: Any) -> np.ndarray:
        """F(v) = int_{-inf}^v f: the escape-noise function that f matches."""
        v, dtype = _as_float(v)
        return _cast(self._F(v, NUMPY_OPS, **self.shape_params(**params)), dtype)

    def logcdf(self, v: Any, **params: Any) -> np.ndarray:
        """log F(v), exact where the shape declares it (no underflow of F in the left tail)."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        if self._logcdf:
            return _cast(self._logcdf(v, **p), dtype)
        with np.errstate(divide="ignore"):
            return _cast(np.log(self._F(v, NUMPY_OPS, **p)), dtype)

    def logsf(self, v: Any, **params: Any) -> np.ndarray:
        """log (1 - F(v)): ``logcdf(-v)`` for an even shape, else the log of :meth:`sf`."""
        if self.symmetric:
            return self.logcdf(-np.asarray(v), **params)
        v, dtype = _as_float(v)
        with np.errstate(divide="ignore"):
            return _cast(np.log(self.sf(v, **params)), dtype)

    def ppf_inplace(self, prob: np.ndarray, tmp: np.ndarray, **params: Any) -> None:
        """Overwrite ``prob`` (float array, values in [0, 1)) with F^{-1}(prob) in place (``tmp``: scratch).

        The declared fast kernel where there is one (no validation: the trainer's hot path), else :meth:`ppf`.
        """
        if self.ppf_kernel is not None and not params:
            self.ppf_kernel(prob, tmp)
            return
        np.copyto(prob, self.ppf(prob, **params))

    def df(self, v: Any, **params: Any) -> np.ndarray:
        """Derivative f'(v) of the standard form (almost everywhere; 0 at a cusp's tip)."""
        v, dtype = _as_float(v)
        return _cast(self._df(v, **self.shape_params(**params)), dtype)

    def sf(self, v: Any, **params: Any) -> np.ndarray:
        """Survival function 1 - F(v), computed without cancellation."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        out = self._sf(v, **p) if self._sf else self._F(-v, NUMPY_OPS, **p)
        return _cast(out, dtype)

    def ppf(self, prob: Any, **params: Any) -> np.ndarray:
        """Inverse CDF (analytic), for inverse-transform sampling. ``prob`` in [0, 1]."""
        prob, dtype = _as_float(prob)
        if np.any(~np.isfinite(prob)) or np.any((prob < 0) | (prob > 1)):
            raise ValueError("ppf: probabilities must be finite numbers in [0, 1]")
        with np.errstate(divide="ignore"):
            out = self._ppf(prob, **self.shape_params(**params))
        return _cast(out, dtype)

    def sample(self, n: int, rng: np.random.Generator, **params: Any) -> np.ndarray:
        """Draw ``n`` samples with density f by inverse transform (explicit ``rng``)."""
        n = count("n", n, 0)
        prob = rng.uniform(np.nextafter(0.0, 1.0), 1.0, size=n)
        return self.ppf(prob, **params)

    def hazard(self, v: Any, **params: Any) -> np.ndarray:
        """f(v) / (1 - F(v)); NaN where 1 - F(v) = 0 (the conditioning event is impossible)."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        if self._hazard:
            return _cast(self._hazard(v, **p), dtype)
        return _cast(_ratio(self._f(v, NUMPY_OPS, **p), self.sf(v, **p)), dtype)

    def log_hazard(self, v: Any, **params: Any) -> np.ndarray:
        """log of :meth:`hazard`, exact where the shape declares it (no overflow of an unbounded hazard)."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        if self._loghazard:
            return _cast(self._loghazard(v, **p), dtype)
        with np.errstate(divide="ignore"):
            return _cast(np.log(self.hazard(v, **p)), dtype)

    def reverse_hazard(self, v: Any, **params: Any) -> np.ndarray:
        """f(v) / F(v); NaN where F(v) = 0 (the conditioning event is impossible)."""
        v, dtype = _as_float(v)
        p = self.shape_params(**params)
        if self._rhazard:
            return _cast(self._rhazard(v, **p), dtype)
        if self.symmetric:
            return _cast(self.hazard(-v, **p), dtype)
        return _cast(_ratio(self._f(v, NUMPY_OPS, **p), self._F(v, NUMPY_OPS, **p)), dtype)

    # -- torch ------------------------------------------------------------------------------
    def f_torch(self, v: Any, **params: Any) -> Any:
        """Standard form f on a torch tensor (same formula as :meth:`f`)."""
        return self._f(v, _torch_ops(), **self.shape_params(**params))

    def cdf_torch(self, v: Any, **params: Any) -> Any:
        """CDF F on a torch tensor, differentiable by autograd."""
        return self._F(v, _torch_ops(), **self.shape_params(**params))

    # -- scaling ----------------------------------------------------------------------------
    def sharpness(self, beta: float) -> float:
        """s = beta * beta_to_s (the shape's declared convention)."""
        return _check_beta(beta) * self.beta_to_s


def _as_float(v: Any) -> tuple[np.ndarray, np.dtype]:
    arr = np.asarray(v)
    dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return arr.astype(np.float64), dtype


def _cast(out: Any, dtype: np.dtype) -> np.ndarray:
    return np.asarray(out, dtype=np.float64).astype(dtype)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    den = np.asarray(den, dtype=np.float64)
    ok = den > 0
    return np.where(ok, np.asarray(num) / np.where(ok, den, 1.0), np.nan)


def _check_beta(beta: float) -> float:
    return positive("beta", beta)
