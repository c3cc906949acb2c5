"""Loop integrals: exact gradients integrate to zero around loops, SGs do not; curl and Stokes."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from sgcore.loop import (
    CIRCULATION_TOLERANCE,
    FIG5_D1,
    FIG5_D2,
    LoopConfig,
    LoopCurl,
    curl_at,
    curl_map,
    gradient_field,
    loop_curl,
    loop_integrals,
    output_fn,
    plane_vectors,
    preactivations,
    stokes_integral,
)
from sgcore.pages import PAGES
from sgcore.paths import ClosedPath, find_breaks, line_integral, midpoint_ladder, midpoint_line_integral
from sgcore.shapes import Surrogate

C0 = np.zeros(5)
PLANES = {"fig5": plane_vectors("fig5"), "random3": plane_vectors("random", 3),
          "axes": plane_vectors("axes", axes=("w", "u2"))}


@pytest.mark.parametrize("name", list(PLANES))
def test_plane_vectors_are_orthonormal(name):
    d = PLANES[name]
    np.testing.assert_allclose(d @ d.T, np.eye(2), atol=1e-14)


def test_fig5_plane_is_the_printed_one():
    d = PLANES["fig5"]
    np.testing.assert_allclose(d[0], FIG5_D1, atol=2e-7)
    np.testing.assert_allclose(d[1], FIG5_D2, atol=2e-7)


@pytest.mark.parametrize("name", list(PLANES))
@pytest.mark.parametrize("beta", [1.0, 5.0, 20.0, 200.0])
def test_exact_gradient_loop_integral_is_zero(name, beta):
    field = gradient_field(1.0, beta, None)
    _, cum, _, _ = line_integral({0: field}, preactivations(1.0, beta), ClosedPath.circle(C0 + 0.1, PLANES[name], 1.8))
    assert abs(cum[0][-1]) < 1e-8
    assert abs(midpoint_line_integral(field, ClosedPath.circle(C0 + 0.1, PLANES[name], 1.8), 20000)) < 1e-8


def test_matched_sg_is_the_exact_gradient_and_integrates_to_zero():
    field = gradient_field(1.0, 7.0, Surrogate("sigmoid", 7.0, "density").sd)
    _, cum, _, _ = line_integral({0: field}, None, ClosedPath.circle(C0, PLANES["fig5"], 1.8))
    assert abs(cum[0][-1]) < 1e-10


def test_fig5_sg_loop_integrals_are_not_zero():
    li = loop_integrals(LoopConfig())
    assert all(abs(v) > 0.01 for v in li.loop_sg.values())
    assert all(abs(v) < 1e-10 for v in li.loop_exact.values())
    # the SG accumulation does not return to the start, the output does
    for b, cum in li.cumulative_sg.items():
        assert cum[0] == li.output_along[0]
        assert abs(cum[-1] - li.output_along[-1]) == pytest.approx(abs(li.loop_sg[b]))


def test_the_page_verdict_names_the_largest_circulation():
    li = loop_integrals(LoopConfig(max_steps=100))
    assert li.circulates and li.worst_beta in li.loop_sg
    assert abs(li.worst_loop_sg) == max(abs(v) for v in li.loop_sg.values()) > 0.01
    assert li.exact_loop_max == max(abs(v) for v in li.loop_exact.values()) < 1e-10
    quiet = dataclasses.replace(li, loop_sg={1.0: 1e-7, 2.0: -5e-7, 3.0: 5e-7})
    assert not quiet.circulates and quiet.worst_beta == 2.0 and quiet.worst_loop_sg == -5e-7  # the first of equals
    assert CIRCULATION_TOLERANCE == 1e-6
    assert not dataclasses.replace(li, loop_sg={1.0: CIRCULATION_TOLERANCE}).circulates  # strictly above
    assert dataclasses.replace(li, loop_sg={1.0: -2e-6}).circulates


def test_stokes_relative_difference():
    cu = loop_curl(LoopConfig(n_grid=41))
    rel = cu.stokes_relative_difference
    assert rel == abs(cu.stokes_loop - cu.stokes_curl) / abs(cu.stokes_loop) and rel < 1e-3
    empty = np.zeros(1)
    assert LoopCurl(empty, empty, 2.0, 1.9).stokes_relative_difference == pytest.approx(0.05)
    assert LoopCurl(empty, empty, 0.0, 0.0).stokes_relative_difference == 0.0  # no division by zero


@pytest.mark.parametrize("beta", [1.0, 20.0])
def test_integrated_exact_gradient_tracks_the_smooth_output(beta):
    cfg = LoopConfig(betas_sg=(beta,), max_steps=100)
    li = loop_integrals(cfg)
    d = cfg.basis
    points = C0 + 1.8 * (np.sin(li.alpha)[:, None] * d[0] + np.cos(li.alpha)[:, None] * d[1])
    np.testing.assert_allclose(li.cumulative_exact[beta], output_fn(1.0, beta)(points), atol=1e-9)


def test_step_forward_quadrature_agrees_with_a_very_fine_midpoint_rule():
    field = gradient_field(1.0, None, Surrogate("sigmoid", 20.0).sd)
    d = PLANES["fig5"]
    _, cum, breaks, _ = line_integral({0: field}, preactivations(1.0, None), ClosedPath.circle(C0, d, 1.8))
    fine = midpoint_line_integral(field, ClosedPath.circle(C0, d, 1.8), 3_000_000)
    assert breaks.size >= 2
    assert cum[0][-1] == pytest.approx(fine, abs=1e-4)  # midpoint error O(jump * h), h = 2e-6


@pytest.mark.parametrize("forward", [None, 10000.0])
def test_quadrature_is_converged(forward):
    field = gradient_field(1.0, forward, Surrogate("sigmoid", 5.0).sd)
    pre = preactivations(1.0, forward)
    d = PLANES["random3"]
    coarse = line_integral({0: field}, pre, ClosedPath.circle(C0, d, 1.5), display=181, levels=10)[1][0][-1]
    fine = line_integral({0: field}, pre, ClosedPath.circle(C0, d, 1.5), display=1441, levels=24)[1][0][-1]
    assert coarse == pytest.approx(fine, abs=1e-7)


def test_breaks_are_sign_changes_of_the_preactivations():
    pre = preactivations(1.0, None)
    d = PLANES["fig5"]
    breaks = find_breaks(pre, ClosedPath.circle(C0, d, 1.8))
    for a in breaks:
        pts = C0 + 1.8 * (np.sin([a - 1e-9, a + 1e-9])[:, None] * d[0] + np.cos([a - 1e-9, a + 1e-9])[:, None] * d[1])
        s = np.sign(pre(pts))
        assert np.any(s[0] != s[1])


def test_curl_of_gradient_fields_is_zero():
    d = PLANES["random3"]
    field = gradient_field(1.0, 5.0, None)  # the true gradient of a smooth network
    _, curl = curl_map(field, C0, d, 2.0, 41)
    assert np.max(np.abs(curl)) < 1e-5

    def grad_of_polynomial(p):  # grad of f = t0^2 t1 + sin(t2) t3 - t4^3
        t0, t1, t2, t3, t4 = p.T
        return np.stack([2 * t0 * t1, t0**2, np.cos(t2) * t3, np.sin(t2), -3 * t4**2], axis=1)

    _, curl = curl_map(grad_of_polynomial, C0 + 0.3, d, 2.0, 41)
    assert np.max(np.abs(curl)) < 1e-6


def test_stokes_on_a_known_non_conservative_field():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((5, 5))
    c = rng.standard_normal(5)
    d = PLANES["random3"]
    r = 1.3

    def field(p):
        return p @ A.T

    curl = d[1] @ A @ d[0] - d[0] @ A @ d[1]
    np.testing.assert_allclose(curl_at(field, c, d, np.array([0.1, -0.7]), np.array([0.4, 1.0])), curl, rtol=1e-6)
    expected = -np.pi * r**2 * curl  # the path is clockwise in (d1, d2)
    _, cum, _, _ = line_integral({0: field}, None, ClosedPath.circle(c, d, r))
    assert cum[0][-1] == pytest.approx(expected, rel=1e-12)
    assert stokes_integral(field, ClosedPath.circle(c, d, r)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", list(PLANES))
def test_stokes_on_the_sg_field_with_a_smooth_forward(name):
    field = gradient_field(1.0, 20.0, Surrogate("sigmoid", 5.0).sd)
    d = PLANES[name]
    c = C0 + np.array([0.2, -0.1, 0.3, 0.5, -0.4])
    _, cum, _, _ = line_integral({0: field}, preactivations(1.0, 20.0), ClosedPath.circle(c, d, 1.8))
    assert abs(cum[0][-1]) > 1e-3
    assert stokes_integral(field, ClosedPath.circle(c, d, 1.8)) == pytest.approx(cum[0][-1], rel=1e-3)


@pytest.mark.parametrize("kwargs,msg", [
    (dict(plane="axes", axis_a="v1", axis_b="v1"), "axis_a and axis_b must be different"),
    (dict(radius=0.0), "radius must be"),
    (dict(plane="sphere"), "plane must be one of fig5, random, axes"),
    (dict(betas_sg=()), "betas_sg must be 1 to 4"),
    (dict(forward="relu"), "forward must be one of step, sigmoid"),
])
def test_config_rejects_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        LoopConfig(**kwargs)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sgcore", "loop", *args], capture_output=True, text=True, timeout=300)


def test_cli_example_from_the_issue():
    r = _cli("--plane", "fig5", "--radius", "1.8", "--beta-sg", "20", "--forward", "step", "--steps", "100000",
             "--curl-grid", "101")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    li = out["integrals"]
    ref = loop_integrals(LoopConfig(betas_sg=(20.0,), max_steps=100))
    assert li["loop_sg"]["20"] == pytest.approx(ref.loop_sg[20.0], rel=1e-12)
    assert abs(li["loop_exact"]["20"]) < 1e-10 and out["config"]["max_steps"] == 100000
    assert li["ladder"][-1] == 65610  # 10 * 3^8, the largest rung <= --steps
    assert li["ladder_sg"]["20"][-1] == pytest.approx(li["loop_sg"]["20"], abs=5e-3)
    st = out["curl"]
    assert np.shape(st["curl"]) == (101, 101) and out["config"]["n_grid"] == 101
    assert st["stokes_curl"] == pytest.approx(st["stokes_loop"], rel=1e-3)


def test_cli_prints_the_curl_only_when_asked():
    out = json.loads(_cli("--steps", "100").stdout)
    assert set(out) == {"config", "integrals"} and out["integrals"]["ladder"][-1] == 90


@pytest.mark.parametrize("args", [["--plane", "random", "--seed", "5"], ["--plane", "axes", "--axes", "v1", "v2"],
                                  ["--forward", "sigmoid", "--beta-f", "10000"]])
def test_cli_planes_and_forwards(args):
    r = _cli(*args, "--steps", "1000")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out["integrals"]["loop_sg"]) == {"1", "5", "20"}
    assert all(abs(v) < 1e-10 for v in out["integrals"]["loop_exact"].values())


@pytest.mark.parametrize("args,needle", [(["--radius", "-1"], "radius must be"), (["--steps", "0"], "steps must be"),
                                         (["--axes", "v1", "q"], "invalid choice"),
                                         (["--plane", "axes", "--axes", "v1", "v1"], "axis_a and axis_b")])
def test_cli_bad_input(args, needle):
    r = _cli(*args)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_nested_midpoint_ladder_equals_independent_sums():
    field = gradient_field(1.0, None, Surrogate("sigmoid", 5.0).sd)
    d = PLANES["fig5"]
    ladder, values = midpoint_ladder(field, ClosedPath.circle(C0, d, 1.8), 3000)
    assert list(ladder) == [10, 30, 90, 270, 810, 2430]
    for n, v in zip(ladder, values, strict=True):
        single = midpoint_line_integral(field, ClosedPath.circle(C0, d, 1.8), int(n))
        assert v == pytest.approx(single, rel=1e-12, abs=1e-15)


def test_config_refuses_ladders_beyond_the_work_bound_naming_the_product():
    # issue 16, item 4: each value inside its domain, together 4e7 field evaluations (20 s)
    with pytest.raises(ValueError, match=r"max_steps x len\(betas_sg\) = 4\.0e\+07 exceeds 1e\+07; lower max_steps"):
        LoopConfig(max_steps=10_000_000, betas_sg=(1.0, 5.0, 20.0, 40.0))
    LoopConfig(max_steps=10_000_000, betas_sg=(20.0,))  # the domain's top with one beta_SG
    LoopConfig(max_steps=1_000_000, betas_sg=(1.0, 5.0, 20.0, 40.0))  # every slider at its top
    for values in PAGES["loop"].presets.values():
        LoopConfig.from_mapping(values)


# --- issue 16: exactness at the edges -------------------------------------------------------------------------
@pytest.mark.parametrize(("radius", "beta"), [(1.8, 2000.0), (1.8, 1e4), (100.0, 20.0), (40.0, 100.0)])
def test_exact_reference_loop_vanishes_for_steep_sigmoids_and_large_radii(radius, beta):
    li = loop_integrals(LoopConfig(radius=radius, betas_sg=(beta,), forward="step", max_steps=10))
    y_scale = max(1.0, float(np.max(np.abs(li.cumulative_exact[beta]))))
    assert abs(li.loop_exact[beta]) < 1e-9 * y_scale  # a true gradient's loop is y(end) - y(start) = 0
    assert li.loop_exact_error[beta] < 1e-9 * y_scale
    assert abs(li.loop_exact[beta]) <= 10 * li.loop_exact_error[beta] + 1e-13  # the estimate is honest


def test_steep_sigmoid_forward_sg_loop_is_accurate_with_its_error_estimate():
    cfg = LoopConfig(forward="sigmoid", beta_f=1e4, betas_sg=(5.0,), max_steps=10)
    li = loop_integrals(cfg)
    field = gradient_field(cfg.x, cfg.beta_f, cfg.surrogate(5.0).sd)
    # smooth and periodic: the midpoint rule converges geometrically once h is well below the transitions' width
    reference = midpoint_line_integral(field, ClosedPath.circle(cfg.centre, cfg.basis, cfg.radius), 3_000_000)
    assert abs(li.loop_sg[5.0] - reference) < 1e-8
    assert li.loop_sg_error[5.0] < 1e-8
