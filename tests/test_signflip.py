"""The Eq. 10 network: analytic gradients vs torch autograd, SG vs an independent autograd SG,
Eq. 12, Table 1's sign flip, the sweep and the plane."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from sgcore.shapes import Surrogate
from sgcore.signflip import (
    WEIGHT_NAMES,
    SignflipConfig,
    SignflipWeights,
    network,
    signflip_plane,
    signflip_point,
    signflip_sweep,
)

RNG = np.random.default_rng(0)
POINTS = [dict(zip(WEIGHT_NAMES, RNG.uniform(-1.5, 1.5, 5), strict=True)) for _ in range(6)]
TABLE1 = dict(w=0.0, v1=0.05, v2=0.1, u1=1.0, u2=-1.0)


def _torch_net(p, x, act):
    t = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    g = act(t["w"] * x)
    y = act(t["u1"] * act(t["v1"] * g) + t["u2"] * act(t["v2"] * g))
    grads = torch.autograd.grad(y, [t[k] for k in WEIGHT_NAMES])
    return float(y.detach()), {k: float(gr) for k, gr in zip(WEIGHT_NAMES, grads, strict=True)}


def _sg_act(beta_f, beta_sg):
    """Independent SG: sigma_{beta_f} forward, sigmoid SD of steepness beta_sg backward (Eq. 11)."""

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return torch.sigmoid(beta_f * a)

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            s = torch.sigmoid(beta_sg * a)
            return grad * beta_sg * s * (1 - s)

    return F.apply


@pytest.mark.parametrize("p", POINTS)
@pytest.mark.parametrize("beta_f", [1.0, 5.0, 20.0])
def test_true_gradient_matches_autograd(p, beta_f):
    x = 0.7
    net = network(SignflipWeights(**p), x, beta_f, Surrogate("sigmoid", 3.0))
    y, grads = _torch_net(p, x, lambda a: torch.sigmoid(beta_f * a))
    assert float(net["forward"]["y"]) == pytest.approx(y, rel=1e-12)
    for k in WEIGHT_NAMES:
        assert float(net["true"]["grad"][k]) == pytest.approx(grads[k], rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("p", POINTS + [TABLE1])
@pytest.mark.parametrize("beta_f,beta_sg", [(100.0, 25.0), (20.0, 2.0), (5.0, 15.0)])
def test_surrogate_gradient_matches_independent_autograd_sg(p, beta_f, beta_sg):
    x = 1.0
    net = network(SignflipWeights(**p), x, beta_f, Surrogate("sigmoid", beta_sg, "density"))
    _, grads = _torch_net(p, x, _sg_act(beta_f, beta_sg))
    for k in WEIGHT_NAMES:
        assert float(net["sg"]["grad"][k]) == pytest.approx(grads[k], rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("p", POINTS)
def test_sg_with_beta_sg_equal_beta_f_is_the_exact_gradient(p):
    net = network(SignflipWeights(**p), 1.3, 7.0, Surrogate("sigmoid", 7.0, "density"))
    for k in WEIGHT_NAMES:
        np.testing.assert_allclose(net["sg"]["grad"][k], net["true"]["grad"][k], rtol=1e-12)
    # and the smoothed network is then the network itself
    np.testing.assert_allclose(net["smoothed_forward"]["y"], net["forward"]["y"], rtol=1e-12)


@pytest.mark.parametrize("shape", ["sigmoid", "superspike", "gaussian", "triangular", "atan"])
def test_smoothed_gradient_matches_finite_differences(shape):
    sur = Surrogate(shape, 4.0)
    p = POINTS[1]
    net = network(SignflipWeights(**p), 0.9, 50.0, sur)
    h = 1e-6
    for k in WEIGHT_NAMES:
        up, dn = dict(p), dict(p)
        up[k] += h
        dn[k] -= h
        fd = (network(SignflipWeights(**up), 0.9, 50.0, sur)["smoothed_forward"]["y"]
              - network(SignflipWeights(**dn), 0.9, 50.0, sur)["smoothed_forward"]["y"]) / (2 * h)
        assert float(net["smoothed"]["grad"][k]) == pytest.approx(float(fd), rel=1e-5, abs=1e-8)


def test_eq12_decomposition():
    for p in POINTS:
        net = network(SignflipWeights(**p), 1.0, 30.0, Surrogate("sigmoid", 10.0))
        for kind in ("true", "sg"):
            part = net[kind]
            np.testing.assert_allclose(part["two_path"] * part["positive"], part["grad"]["w"], rtol=1e-12)
            assert part["positive"] >= 0  # x > 0


@pytest.mark.parametrize("beta_sg", [15.0, 25.0, 30.0])
def test_table1_sign_flip(beta_sg):
    """Table 1 with the Fig. 4B steepnesses: the SG dy/dw points against the true dy/dw at w = 0."""
    pt = signflip_point(SignflipConfig(beta_sg=beta_sg))
    assert pt.grad_true["w"] > 0 > pt.grad_surrogate["w"]
    assert pt.sign_flip and pt.two_path_true > 0 > pt.two_path_sg
    assert not any(pt.flips[k] for k in ("v1", "v2", "u1", "u2"))


def test_no_flip_when_matched():
    assert not signflip_point(SignflipConfig(beta_sg=100.0)).sign_flip


def test_sweep_integrated_sg_starts_at_output_and_integrates_sg():
    sw = signflip_sweep(SignflipConfig(n_sweep=2001))
    assert sw.integrated_sg[0] == sw.output[0]
    np.testing.assert_allclose(np.gradient(sw.integrated_sg, sw.w)[5:-5], sw.grad_sg_w[5:-5], rtol=2e-3,
                               atol=2e-3)
    np.testing.assert_array_equal(sw.flip, np.sign(sw.grad_true_w) * np.sign(sw.grad_sg_w) < 0)
    assert sw.flip[np.searchsorted(sw.w, 0.0)]
    assert sw.argmin["output"] == int(np.argmin(sw.output))


def test_matched_sweep_integrates_back_to_the_output():
    sw = signflip_sweep(SignflipConfig(beta_f=20.0, beta_sg=20.0, n_sweep=4001))
    np.testing.assert_allclose(sw.integrated_sg, sw.output, atol=1e-5)


def test_step_forward_is_the_limit_with_half_at_zero():
    cfg = SignflipConfig(step=True)
    pt = signflip_point(cfg)
    assert pt.forward["g"] == 0.5  # H(0) = 1/2 at w = 0
    assert all(v == 0 for v in pt.grad_true.values()) and not pt.sign_flip
    for p in POINTS:
        step = network(SignflipWeights(**p), 1.0, None, Surrogate())["forward"]["y"]
        steep = network(SignflipWeights(**p), 1.0, 1e6, Surrogate())["forward"]["y"]
        assert float(step) == pytest.approx(float(steep), abs=1e-9)


def test_plane_counts_and_other_components_never_flip():
    cfg = SignflipConfig(beta_f=20.0, w=1.0, n_grid=41)
    pl = signflip_plane(cfg)
    assert pl.output.shape == (41, 41)
    assert pl.count == int(pl.disagree.sum()) and pl.fraction == pytest.approx(pl.count / 41**2)
    assert pl.fractions["w"] == pl.fraction
    assert all(pl.fractions[k] == 0.0 for k in ("v1", "v2", "u1", "u2"))
    assert set(pl.grad_sg) == {2.0, 4.0, 20.0}
    # the plane really varies the chosen axes: the centre column of the grid is the point itself
    c = SignflipConfig(beta_f=20.0, w=1.0, v1=float(pl.a[7]), v2=float(pl.b[30]))
    assert float(pl.output[30, 7]) == pytest.approx(signflip_point(c).forward["y"], rel=1e-12)


def test_table1_plane_contains_flips_at_fine_resolution():
    pl = signflip_plane(SignflipConfig(n_grid=81))
    assert pl.count >= 1 and 0 < pl.fraction < 0.5


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        (dict(w_min=0.1, w_max=0.0), "w_min must be below w_max"),
        (dict(plane_x="v1", plane_y="v1"), "plane_x and plane_y must be different"),
        (dict(betas_landscape=(0.0,)), "betas_landscape must be 1 to 4 finite numbers"),
        (dict(beta_f=0.0), "beta_f must be"),
        (dict(component="z"), "component must be one of w, v1, v2, u1, u2"),
        (dict(x=float("nan")), "x must be"),
    ],
)
def test_config_rejects_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        SignflipConfig(**kwargs)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sgcore", "signflip", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_example_from_the_issue():
    r = _cli("--w", "0", "--v1", "0.05", "--v2", "0.1", "--u1", "1", "--u2", "-1", "--x", "1", "--beta-f", "100",
             "--beta-sg", "25", "--sweep", "11", "--grid", "21")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"config", "point", "sweep", "plane"}
    for key in ("g", "h1", "h2", "y"):
        assert isinstance(out["point"]["forward"][key], float)
    assert set(out["point"]["grad_true"]) == set(WEIGHT_NAMES) == set(out["point"]["grad_surrogate"])
    assert out["point"]["sign_flip"] is True
    pt = signflip_point(SignflipConfig())
    assert out["point"]["grad_surrogate"]["w"] == pytest.approx(pt.grad_surrogate["w"], rel=1e-15)
    assert len(out["sweep"]["w"]) == 11 and out["sweep"]["w"][0] == -0.2
    pl = signflip_plane(SignflipConfig(), n=21)
    assert out["plane"]["count"] == pl.count
    assert out["plane"]["fraction"] == pytest.approx(pl.fraction)
    assert np.shape(out["plane"]["output"]) == (21, 21) and out["config"]["n_grid"] == 21


def test_cli_prints_only_the_point_unless_asked():
    out = json.loads(_cli("--w-range", "-1", "1").stdout)
    assert set(out) == {"config", "point"} and out["config"]["w_min"] == -1.0 and out["config"]["w_max"] == 1.0


def test_cli_step_flag():
    out = json.loads(_cli("--step").stdout)["point"]
    assert out["forward"]["g"] == 0.5 and out["grad_true"]["w"] == 0.0 and out["sign_flip"] is False


@pytest.mark.parametrize("args,needle", [
    (["--beta-f", "-1"], "beta_f must be"),
    (["--sweep", "2"], "sweep must be an integer in [3, 20001]"),
    (["--w-range", "1", "0", "--sweep", "5"], "w-range must be two finite numbers A < B"),
    (["--grid", "x"], "grid must be an integer"),
    (["--betas-landscape", "2", "nan"], "betas_landscape must be"),
])
def test_cli_bad_input(args, needle):
    r = _cli(*args)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


# --- bounded work (issue 16, item 4) ------------------------------------------------------------------------------
def test_config_refuses_a_landscape_beyond_the_work_bound_naming_the_product():
    # each value inside its domain, together 1001^2 x 5 = 5.0e6 network evaluations (and a 25 s CSV download)
    with pytest.raises(ValueError, match=r"n_grid\^2 x \(1 \+ len\(betas_landscape\)\) = 5\.0e\+06 exceeds 1e\+06; "
                                         r"lower n_grid or give fewer betas_landscape"):
        SignflipConfig(n_grid=1001, betas_landscape=(1.0, 2.0, 4.0, 20.0))
    with pytest.raises(ValueError, match=r"= 2\.0e\+06 exceeds 1e\+06"):  # one panel is not enough at the top
        SignflipConfig(n_grid=1001, betas_landscape=(4.0,))
    SignflipConfig(n_grid=447, betas_landscape=(1.0, 2.0, 4.0, 20.0))  # 999045, just inside
    SignflipConfig(n_grid=301, n_sweep=20001, betas_landscape=(1.0, 2.0, 4.0, 20.0))  # the grid slider's top


def test_page_defaults_and_presets_stay_inside_the_work_bound():
    from sgcore.pages import PAGES

    SignflipConfig()
    presets = PAGES["signflip"].presets
    assert presets
    for values in presets.values():
        SignflipConfig.from_mapping(values)
