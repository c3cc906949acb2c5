"""Optimisers of the classification page: SMORMS3 (Methods 8.4.2, Table 3), Adam and plain gradient descent.

Each has ``step(params, grads)`` (dicts of NumPy arrays; params updated in place) and a serialisable state
(``state_dict()`` / ``load_state_dict()``: plain floats, ints and arrays, for checkpoints).

SMORMS3 follows Simon Funk's original ("RMSprop loses to SMORMS3 - Beware the Epsilon!", 2015), per parameter
element, with ``mem = 1``, ``g = g2 = 0`` initially and a trivial ``eps`` (1e-16)::

    r    = 1 / (mem + 1)
    g    = (1 - r) g  + r grad
    g2   = (1 - r) g2 + r grad^2
    x    = g^2 / (g2 + eps)
    p   -= grad * min(lr, x) / (sqrt(g2) + eps)
    mem  = 1 + mem (1 - x)

The paper (Methods 8.4.2) prints the memory update as ``m = 1 + m (1 - g^2) / (g2 + eps)`` (the parenthesis
closes after ``g^2``), which differs from the original ``1 + m (1 - g^2 / (g2 + eps))`` (e.g. m = 1, g^2 / g2 =
1/2 gives 8.5 instead of 1.5 at g2 = 1/8, and is not even dimensionless); it also divides by
``sqrt(g2 + eps)`` instead of ``sqrt(g2) + eps`` (the same for eps = 1e-16). We implement the original.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["OPTIMIZERS", "SMORMS3", "Adam", "GradientDescent", "make_optimizer"]


class _Optimizer:
    name = ""

    def __init__(self, lr: float) -> None:
        lr = float(lr)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a finite number > 0; got {lr}")
        self.lr = lr
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for k, g in grads.items():
            p = params[k]
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"gradient {k} has shape {g.shape}, parameter {p.shape}")
            self._update(k, p, g)

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr}

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the name, hyperparameters and per-parameter state arrays (copies)."""
        return {"name": self.name, "hyper": self.hyper(),
                "state": {k: {n: np.array(a, copy=True) for n, a in s.items()} for k, s in self.state.items()}}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        if d.get("name") != self.name:
            raise ValueError(f"state of optimizer {d.get('name')!r}, not {self.name!r}")
        for k, v in d.get("hyper", {}).items():
            setattr(self, k, v)
        self.state = {k: {n: np.array(a, copy=True) for n, a in s.items()} for k, s in d.get("state", {}).items()}


class GradientDescent(_Optimizer):
    """p -= lr * grad."""

    name = "gd"

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        p -= p.dtype.type(self.lr) * g


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, written as torch.optim.Adam computes it."""

    name = "adam"

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        s = self.state.get(key)
        if s is None:
            s = self.state[key] = {"m": np.zeros_like(p), "v": np.zeros_like(p), "t": np.zeros((), np.int64)}
        s["t"] += 1
        t = int(s["t"])
        b1, b2 = self.beta1, self.beta2
        m, v = s["m"], s["v"]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * g * g
        denom = np.sqrt(v) / math.sqrt(1.0 - b2 ** t) + self.eps
        p -= (self.lr / (1.0 - b1 ** t)) * m / denom


class SMORMS3(_Optimizer):
    """SMORMS3 after Funk (2015), see the module notes: the original memory update, not the paper's print."""

    name = "smorms3"

    def __init__(self, lr: float = 1e-3, eps: float = 1e-16) -> None:
        super().__init__(lr)
        self.eps = float(eps)

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "eps": self.eps}

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        s = self.state.get(key)
        if s is None:
            s = self.state[key] = {"mem": np.ones_like(p), "g": np.zeros_like(p), "g2": np.zeros_like(p)}
        mem, gm, g2 = s["mem"], s["g"], s["g2"]
        r = 1.0 / (mem + 1.0)
        gm *= 1.0 - r
        gm += r * g
        g2 *= 1.0 - r
        g2 += r * g * g
        x = gm * gm / (g2 + self.eps)
        p -= g * np.minimum(x, self.lr) / (np.sqrt(g2) + self.eps)
        mem *= 1.0 - x
        mem += 1.0


#: The optimisers by name.
OPTIMIZERS = {"smorms3": SMORMS3, "adam": Adam, "gd": GradientDescent}


def make_optimizer(name: str, lr: float, **kwargs: Any) -> _Optimizer:
    """An optimiser by name ("smorms3", "adam", "gd")."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    return OPTIMIZERS[name](lr, **kwargs)
