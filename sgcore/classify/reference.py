"""A straightforward PyTorch autograd time loop of the classification network (tests and benchmark).

The same equations as :mod:`sgcore.classify.engine` (see there), step by step; spikes go through a
``torch.autograd.Function`` whose backward multiplies by the same :data:`sgcore.snn.backward.BACKWARDS` estimate
at ``U - theta`` (one step at a time). Conv layers (``spec.layers == "conv"``): the input current of each step by
``torch.nn.functional.conv1d`` on the (B, C, L) views of the flattened spikes. float64 by default.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..lif import escape_threshold
from ..snn.backward import BACKWARDS
from .engine import NetSpec, Noise, param_names

__all__ = ["reference_forward_backward"]


class _Spike(torch.autograd.Function):
    """S = H(U - threshold); backward: grad * estimate(U - theta)."""

    @staticmethod
    def forward(ctx: Any, u: torch.Tensor, thr: Any, theta: float, est: Any) -> torch.Tensor:
        ctx.save_for_backward(u)
        ctx.theta, ctx.est = theta, est
        return (u > thr).to(u.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        (u,) = ctx.saved_tensors
        v = (u.detach() - ctx.theta).numpy().copy()
        ctx.est(v)
        return grad * torch.from_numpy(v), None, None, None


def reference_forward_backward(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, spec: NetSpec,
                               backward_cfg: Any, rng: np.random.Generator | None = None,
                               noise: Noise | None = None,
                               dtype: torch.dtype = torch.float64) -> tuple[float, dict[str, np.ndarray]]:
    """Loss (CE + regulariser) and gradients by autograd; the same arguments as
    :func:`sgcore.classify.engine.forward_backward`."""
    noise = noise or Noise()
    rng = rng if rng is not None else np.random.default_rng(0)
    P = {k: torch.tensor(np.asarray(params[k]), dtype=dtype, requires_grad=True) for k in param_names(spec)}
    xs = torch.tensor(np.asarray(x).transpose(1, 0, 2).copy(), dtype=dtype)
    T, B = spec.steps, xs.shape[1]
    lm, ls, lro = spec.lam_mem, spec.lam_syn, spec.lam_ro
    record = BACKWARDS[backward_cfg.backward]
    npdt = np.float64 if dtype == torch.float64 else np.float32

    def estimator(layer: int, n: int):
        def est(v: np.ndarray) -> None:
            z = None if noise.z is None else np.ascontiguousarray(noise.z[layer][:, n])
            record.estimate(v, backward_cfg, beta=backward_cfg.beta_sg, z=z, rng=rng,
                            scratch=(np.empty_like(v), np.empty_like(v)))
        return est

    inputs = [xs[n] for n in range(T)]
    layers_S = []
    for li, _n in enumerate(spec.hidden):
        W = P[f"W{li + 1}"]
        V = P.get(f"V{li + 1}") if spec.recurrent else None
        B_, n = B, spec.hidden[li]
        U = torch.zeros(B_, n, dtype=dtype)
        current = torch.zeros(B_, n, dtype=dtype)
        S_list = []
        if spec.stochastic:
            if noise.uniforms is not None:
                r = np.asarray(noise.uniforms[li], dtype=npdt)
            else:
                r = rng.random((T, B_, n)).astype(npdt)
            thr_all = torch.from_numpy(escape_threshold(r, spec.beta_noise, spec.theta, "sigmoid").astype(npdt))
        for m in range(T):
            thr = thr_all[m] if spec.stochastic else spec.theta
            S = _Spike.apply(U, thr, spec.theta, estimator(li, m))
            S_list.append(S)
            keep = 1.0 - (S if spec.bp_reset else S.detach())
            if spec.conv:
                c_in, l_in, st, _ = spec.conv_geometry(li)
                inp = F.conv1d(inputs[m].reshape(B, c_in, l_in), W, stride=st).reshape(B, n)
                if V is not None:
                    c, ln, _, pad = spec.conv_geometry(li, recurrent=True)
                    inp = inp + F.conv1d(S.reshape(B, c, ln), V, padding=pad).reshape(B, n)
            else:
                inp = inputs[m] @ W.T
                if V is not None:
                    inp = inp + S @ V.T
            if spec.reset == "next":
                U = (lm * U + (1.0 - lm) * current) * keep
            else:
                U = lm * U * keep + (1.0 - lm) * current
            current = ls * current + inp
        layers_S.append(torch.stack(S_list))
        inputs = S_list
    W_out = P["W_out"]
    U = torch.zeros(B, spec.n_classes, dtype=dtype)
    current = torch.zeros_like(U)
    Us = []
    for m in range(T):
        Us.append(U)
        U = lro * U + (1.0 - lro) * current
        current = ls * current + inputs[m] @ W_out.T
    Uo = torch.stack(Us)
    if spec.loss == "max":
        idx = torch.argmax(Uo.detach(), dim=0, keepdim=True)
        a = torch.gather(Uo, 0, idx)[0]
    elif spec.loss == "sum":
        a = Uo.sum(0)
    else:
        a = Uo.mean(0)
    loss = torch.nn.functional.cross_entropy(a, torch.as_tensor(np.asarray(y), dtype=torch.long))
    if spec.reg:
        for S in layers_S:
            e = torch.relu(S.sum(0).mean(1) - spec.theta_upper)
            loss = loss + spec.lambda_upper * (e * e).sum() / B
    loss.backward()
    return float(loss.detach()), {k: P[k].grad.numpy().copy() for k in param_names(spec)}
