"""Torch spike function: Heaviside forward, registry SD backward, parameters per call."""

import numpy as np
import pytest
import torch

from sgcore import SHAPES, spike_fn, surrogate_derivative
from sgcore.shapes import H0


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("scale", ["density", "peak"])
def test_backward_is_registry_sd(name, scale):
    u = torch.linspace(-2, 2, 41, dtype=torch.float64, requires_grad=True)
    s = spike_fn(u, name, 6.0, scale=scale)
    (grad,) = torch.autograd.grad(s.sum(), u)
    np.testing.assert_allclose(grad.numpy(), surrogate_derivative(u.detach().numpy(), name, 6.0, scale=scale),
                               rtol=1e-12, atol=1e-15)


def test_forward_is_heaviside_with_half_at_zero():
    u = torch.tensor([-1.0, 0.0, 2.0])
    assert spike_fn(u).tolist() == [0.0, H0, 1.0]


def test_chain_rule_with_upstream_gradient_and_float32():
    u = torch.linspace(-1, 1, 11, requires_grad=True)
    w = torch.arange(11, dtype=torch.float32)
    (grad,) = torch.autograd.grad((w * spike_fn(u, "sigmoid", 4.0)).sum(), u)
    assert grad.dtype == torch.float32
    ref = w.numpy() * surrogate_derivative(u.detach().numpy(), "sigmoid", 4.0)
    np.testing.assert_allclose(grad.numpy(), ref, rtol=1e-5)


def test_parameters_are_per_call_not_shared():
    u = torch.tensor([0.3], requires_grad=True)
    g1 = torch.autograd.grad(spike_fn(u, "superspike", 1.0).sum(), u)[0].item()
    g2 = torch.autograd.grad(spike_fn(u, "superspike", 10.0).sum(), u)[0].item()
    assert g1 == pytest.approx(1 / (1 + 0.3) ** 2) and g2 == pytest.approx(1 / (1 + 3.0) ** 2)


def test_shape_parameters_reach_backward():
    u = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    g = torch.autograd.grad(spike_fn(u, "q_pseudospike", 2.0, scale="peak", q=3.0).sum(), u)[0].item()
    assert g == pytest.approx((1 + (2 / 2) * 0.5) ** -3.0)


def test_bad_parameters_raise_before_graph():
    u = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="shape must be one of"):
        spike_fn(u, "nope", 1.0)
    with pytest.raises(ValueError, match="beta must be"):
        spike_fn(u, "sigmoid", -1.0)
    with pytest.raises(ValueError, match="q must be"):
        spike_fn(u, "q_pseudospike", 1.0, q=0.5)
