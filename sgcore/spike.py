"""Torch spike function: Heaviside forward, any registered shape's SD backward.

The one combinator that joins a forward with a surrogate derivative, so the autograd wiring
exists once. Parameters are passed per call and never stored on a class, so concurrent
sessions cannot change each other's neurons.
"""

from __future__ import annotations

from typing import Any

import torch

from .shapes import H0, dampening, get_shape

__all__ = ["spike_fn", "surrogate_derivative_torch"]


def surrogate_derivative_torch(
    u: torch.Tensor,
    shape: str,
    beta: float,
    *,
    scale: str | None = None,
    gamma: float | None = None,
    **shape_params: Any,
) -> torch.Tensor:
    """SD(u) = gamma f(s u) on a tensor (Herranz-Celotti & Rouat Sec. 2.2; same registry formula as the NumPy
    version)."""
    shp = get_shape(shape)
    s = shp.sharpness(beta)
    g = dampening(shape, beta, scale, gamma)
    return g * shp.f_torch(s * u, **shape_params)


class _SpikeFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, shape, beta, scale, gamma, params):  # type: ignore[override]
        ctx.save_for_backward(u)
        ctx.cfg = (shape, beta, scale, gamma, params)
        return torch.heaviside(u, torch.tensor(H0, dtype=u.dtype, device=u.device))

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        (u,) = ctx.saved_tensors
        shape, beta, scale, gamma, params = ctx.cfg
        sd = surrogate_derivative_torch(u, shape, beta, scale=scale, gamma=gamma, **params)
        return grad_out * sd, None, None, None, None, None


def spike_fn(
    u: torch.Tensor,
    shape: str = "superspike",
    beta: float = 10.0,
    *,
    scale: str | None = None,
    gamma: float | None = None,
    **shape_params: Any,
) -> torch.Tensor:
    """Spikes H(u) (H(0) = 1/2) with the registered shape's SD as the backward pass.

    Parameters
    ----------
    u : torch.Tensor
        Centred membrane potential u - theta.
    shape : str
        Key of :data:`sgcore.SHAPES`.
    beta : float
        SD steepness (> 0).
    scale, gamma : see :func:`sgcore.surrogate_derivative`.

    Notes
    -----
    Gygax & Zenke Eq. 1/6: dS/du is replaced by the SD when applying the chain rule.
    """
    shp = get_shape(shape)
    params = shp.shape_params(**shape_params)
    dampening(shape, beta, scale, gamma)  # validate before building the graph
    return _SpikeFunction.apply(u, shape, float(beta), scale, gamma, params)
