"""Scaling and the surrogate derivative: SD(u) = gamma * f(s * u) over a registered shape.

With sharpness ``s = beta * beta_to_s`` (each shape's declared convention) and dampening
``gamma`` fixed by the *scaling* (Herranz-Celotti & Rouat, Table S1: ``dH(v) = gamma f(s v)``):

* ``density``: gamma = s, unit area; SD is the derivative of the escape function F(s u);
* ``peak``: gamma = 1, unit peak (SuperSpike, Gygax & Zenke Table 2);
* ``gamma``: a user-given dampening.

E.g. ``sigmoid`` in density scaling is ``beta * sigma(beta u) * (1 - sigma(beta u))`` (Gygax &
Zenke Eq. 1, 6-8) and ``superspike`` in peak scaling is ``1 / (beta |u| + 1)^2`` (Gygax & Zenke
Table 2). Also here: the Heaviside step with H(0) = :data:`H0` and the declared parameters of an
SD choice (:func:`sd_param_specs`, :class:`Surrogate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import numpy as np

from ..params import DeclaredConfig, ParamSpec, declared, positive
from .record import Q_SPEC, _as_float, _cast, _check_beta
from .registry import SHAPES, get_shape

#: Value of the Heaviside step at 0: the limit of sigma_beta(0) as beta -> inf.
H0 = 0.5


#: The scalings of ``SD(u) = gamma f(s u)`` and what they mean.
SCALINGS: Mapping[str, str] = MappingProxyType(
    {
        "density": "unit area (gamma = s): the derivative of the matched escape-noise CDF F(s u)",
        "peak": "unit peak (gamma = 1): SD(0) = 1, i.e. the density scaled by 1/s",
        "gamma": "user-given dampening gamma",
    }
)


def sharpness(shape: str, beta: float) -> float:
    """Sharpness s of ``shape`` at steepness ``beta`` (the shape's declared convention): the s of Herranz-Celotti
    & Rouat's SD = gamma f(s v) (Sec. 2.2)."""
    return get_shape(shape).sharpness(beta)


def dampening(shape: str, beta: float, scale: str | None = None, gamma: float | None = None) -> float:
    """Dampening gamma for a scaling: ``density`` -> s, ``peak`` -> 1, ``gamma`` -> given (the gamma of
    Herranz-Celotti & Rouat's SD = gamma f(s v), Sec. 2.2)."""
    shp = get_shape(shape)
    scale = shp.default_scale if scale is None else scale
    if scale == "density":
        return shp.sharpness(beta)
    if scale == "peak":
        _check_beta(beta)
        return 1.0
    if scale == "gamma":
        if gamma is None:
            raise ValueError("gamma must be given (a finite number > 0) when scale='gamma'")
        return positive("gamma", gamma)
    raise ValueError(f"scale must be one of {', '.join(SCALINGS)}; got {scale!r}")


def surrogate_derivative(
    u: Any,
    shape: str,
    beta: float,
    *,
    scale: str | None = None,
    gamma: float | None = None,
    **shape_params: Any,
) -> np.ndarray:
    """SD(u) = gamma * f(s u) for a registered shape.

    Parameters
    ----------
    u : array_like
        Centred membrane potential u - theta.
    shape : str
        Key of :data:`SHAPES`.
    beta : float
        Steepness (> 0); ``s = beta * shape.beta_to_s``.
    scale : {"density", "peak", "gamma"}, optional
        Defaults to the shape's paper convention.
    gamma : float, optional
        Dampening when ``scale="gamma"``.

    Notes
    -----
    Herranz-Celotti & Rouat, Table S1: ``dH(v) = gamma f(s v)``.
    """
    shp = get_shape(shape)
    s = shp.sharpness(beta)
    g = dampening(shape, beta, scale, gamma)
    arr, dtype = _as_float(u)
    return _cast(g * shp.f(s * arr, **shape_params), dtype)


def heaviside(x: Any) -> np.ndarray:
    """Heaviside step with H(0) = 1/2 (:data:`H0`), the step limit of a sigmoid at 0: the deterministic
    Perceptron's output y = H(u - theta) (Gygax & Zenke Eq. 5)."""
    arr, dtype = _as_float(x)
    return _cast(np.heaviside(arr, H0), dtype)


def sd_param_specs(beta_default: float = 5.0, beta_slider: tuple[float, float] = (0.5, 50.0),
                   shape_default: str = "sigmoid") -> tuple[ParamSpec, ...]:
    """The declared parameters of a surrogate-derivative choice (shape, beta_sg, scale, gamma, q).

    One definition shared by every page; pages choose only the default and slider range of beta.
    """
    return (
        ParamSpec("shape", "SD shape", shape_default, kind="choice", choices=SHAPES,
                  help="Surrogate-derivative shape from the registry."),
        ParamSpec("beta_sg", "SD steepness", beta_default, symbol=r"\beta_{SG}", domain=(0.0, 1e4),
                  open_low=True, slider=beta_slider, step=0.5, help="Steepness of the surrogate derivative."),
        ParamSpec("scale", "SD scaling", "auto", kind="choice", choices=("auto", *SCALINGS),
                  help="auto = the shape's paper convention; density = unit area; peak = SD(0) = 1; "
                       "gamma = your dampening."),
        ParamSpec("gamma", "Dampening", 1.0, symbol=r"\gamma", domain=(0.0, 1e4), open_low=True,
                  slider=(0.05, 10.0), step=0.05, help="Used when scaling = gamma."),
        replace(Q_SPEC),
    )


@declared
class Surrogate(DeclaredConfig):
    """A validated surrogate-derivative choice: SD(a) = gamma f(s a), s = beta * beta_to_s.

    ``scale="auto"`` resolves to the shape's paper convention. :meth:`primitive` is the SD's
    antiderivative (gamma / s) F(s a): the activation of the "smoothed" network whose true
    derivative the SD is (for ``sigmoid`` in density scaling, sigma(beta a)). Its fields are the
    declared :func:`sd_param_specs` (``beta`` is the pages' ``beta_sg``); a page config carrying
    them flat builds it with :meth:`of`.
    """

    PARAMS = tuple(replace(p, name="beta") if p.name == "beta_sg" else p for p in sd_param_specs())

    @classmethod
    def of(cls, config: Any, beta: float | None = None) -> Surrogate:
        """The surrogate a config chooses with its flat fields ``shape, beta_sg, scale, gamma, q``.

        ``beta`` replaces ``beta_sg`` (a page that sweeps the steepness, or has several).
        """
        steep = config.beta_sg if beta is None else beta
        return cls(config.shape, steep, config.scale, config.gamma, config.q)

    @property
    def resolved_scale(self) -> str:
        return get_shape(self.shape).default_scale if self.scale == "auto" else self.scale

    @property
    def params(self) -> dict[str, Any]:
        return {p.name: getattr(self, p.name) for p in get_shape(self.shape).params}

    @property
    def s(self) -> float:
        return get_shape(self.shape).sharpness(self.beta)

    @property
    def dampening(self) -> float:
        return dampening(self.shape, self.beta, self.resolved_scale, self.gamma)

    def sd(self, a: Any) -> np.ndarray:
        """SD(a) = gamma f(s a)."""
        return surrogate_derivative(a, self.shape, self.beta, scale=self.resolved_scale, gamma=self.gamma,
                                    **self.params)

    def primitive(self, a: Any) -> np.ndarray:
        """(gamma / s) F(s a): the antiderivative of :meth:`sd` with limit 0 at -inf."""
        arr, dtype = _as_float(a)
        shp = get_shape(self.shape)
        return _cast(self.dampening / self.s * shp.cdf(self.s * arr, **self.params), dtype)
