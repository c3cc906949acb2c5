"""Backward methods of the trainer, one registry record each: what replaces dS/dU in the explicit backward pass
(surrogate derivative, Gygax & Zenke Eq. 1 / Table 2; LocalZO, Mukhoty et al. Eqs. 7-8; SparseGrad)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..localzo import DISTRIBUTIONS
from ..params import lookup
from ..registry import NamedRegistry
from ..shapes import Surrogate, get_shape

if TYPE_CHECKING:
    from .config import TrainConfig

__all__ = ["BACKWARDS", "BackwardMethod", "register_backward", "registered_backward", "unregister_backward"]


@dataclass(frozen=True)
class BackwardMethod:
    """A backward method of the trainer: what replaces dS/dU at v = U - theta in the explicit backward pass.

    ``estimate(v, cfg, *, beta, z, rng, scratch)`` overwrites ``v`` ((T, B, N), the engine's dtype) in place
    with the estimate, >= 0 with zeros +0.0 (the active fraction counts non-zero bit patterns). ``beta`` is the
    SD steepness of the layer, ``z`` fixed LocalZO samples (tests) or None, ``scratch`` two arrays like ``v``.
    ``params``: the TrainConfig fields it reads besides the SD (the training page shows them);
    ``uses_shape``: it uses the SD shape and steepness; ``temporaries``: (T, B, N) temporaries it allocates
    (for :meth:`Trainer.estimate_bytes`).
    """

    name: str
    label: str
    estimate: Callable[..., None] = field(repr=False)
    params: tuple[str, ...] = ()
    uses_shape: bool = True
    temporaries: int = 1
    reference: str = ""


def _sg_estimate(v: np.ndarray, cfg: TrainConfig, *, beta: float, z: Any, rng: np.random.Generator,
                 scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """v <- SD(v) = gamma f(s v) of the registry shape (Gygax & Zenke Eq. 1 and Table 2)."""
    _sd_inplace(v, cfg, beta)


def _sparsegrad_estimate(v: np.ndarray, cfg: TrainConfig, *, beta: float, z: Any, rng: np.random.Generator,
                         scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """v <- SD(v) 1[|v| < B_th] (SparseGrad)."""
    tmp = scratch[0]
    np.abs(v, out=tmp)
    mask = tmp < v.dtype.type(cfg.sparse_threshold)
    _sd_inplace(v, cfg, beta)
    v *= mask


def _localzo_estimate(v: np.ndarray, cfg: TrainConfig, *, beta: float, z: np.ndarray | None,
                      rng: np.random.Generator, scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """v <- mean_k |z_k|^alpha / (2 delta) 1[|v| <= delta |z_k|] (LocalZO, Mukhoty et al. Eqs. 7-8)."""
    f = v.dtype.type
    delta, m, alpha = cfg.localzo_delta, cfg.localzo_m, int(cfg.localzo_alpha)
    absv, tmp2 = scratch
    np.abs(v, out=absv)
    v.fill(0.0)
    mask = np.empty(absv.shape, dtype=bool)
    for k in range(m):
        zk = z[k] if z is not None else _sample_abs_z(cfg.localzo_dist, absv.shape, rng, v.dtype)
        np.multiply(zk, f(delta), out=tmp2)
        np.less_equal(absv, tmp2, out=mask)  # active: |U - theta| <= delta |z_k|
        if alpha == 1:
            np.multiply(zk, mask, out=tmp2)
        else:
            with np.errstate(divide="ignore", over="ignore"):
                np.power(zk, f(alpha), out=tmp2)
            np.putmask(tmp2, ~mask, 0.0)
        v += tmp2
    v *= f(1.0 / (2.0 * delta * m))


#: The trainer's backward methods by name (a live registry: :func:`register_backward` adds to it; TrainConfig,
#: the Trainer and the training page offer a new one at once).
BACKWARDS: NamedRegistry[BackwardMethod] = NamedRegistry("backward method", BackwardMethod, (
    BackwardMethod("sg", "Surrogate derivative", _sg_estimate,
                   reference="Gygax & Zenke Eq. 1, Table 2"),
    BackwardMethod("localzo", "LocalZO estimate", _localzo_estimate,
                   params=("localzo_dist", "localzo_delta", "localzo_m"), uses_shape=False, temporaries=5,
                   reference="Mukhoty et al. Eqs. 7-8"),
    BackwardMethod("sparsegrad", "SD truncated at B_th", _sparsegrad_estimate, params=("sparse_threshold",),
                   reference="SparseGrad: the SD kept where |U - theta| < B_th"),
), param="backward")
#: Add a backward method (a name already registered raises ``ValueError``); register at start-up.
register_backward = BACKWARDS.register
#: Remove a backward method added by :func:`register_backward` (the built-in ones stay).
unregister_backward = BACKWARDS.unregister
#: Register backward methods for the duration of a ``with`` block (tests, notebooks), then remove them.
registered_backward = BACKWARDS.registered


def _sd_inplace(v: np.ndarray, cfg: TrainConfig, beta: float) -> None:
    """Overwrite ``v`` (= U - theta) with SD(v) = gamma f(s v) of the configured registry shape at steepness
    ``beta`` (the layer's).

    s, gamma (the scaling, or the config's dampening) and the shape's own parameters (q) come from
    :meth:`sgcore.shapes.Surrogate.of`, the one definition every page uses. Built twice per epoch (~15 us); the
    shape's in-place kernel is the hot path.
    """
    sur = Surrogate.of(cfg, beta=beta)
    get_shape(sur.shape).sd_inplace(v, sur.s, sur.dampening, **sur.params)


def _sample_abs_z(dist: str, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """|z| for a unit-variance LocalZO distribution (fast NumPy samplers for the closed-form ones)."""
    if dist == "normal":
        return np.abs(rng.standard_normal(shape, dtype=np.float32)).astype(dtype, copy=False)
    if dist == "uniform":
        return (rng.random(shape, dtype=np.float32) * np.float32(math.sqrt(3.0))).astype(dtype, copy=False)
    if dist == "laplace":
        return (rng.standard_exponential(shape, dtype=np.float32) * np.float32(math.sqrt(0.5))).astype(
            dtype, copy=False)
    return np.asarray(lookup(DISTRIBUTIONS, dist, "localzo_dist").sample_abs(shape, rng), dtype=dtype)
