"""Closed paths and line integrals (sgcore.paths), the square path of the loop and sign-flip pages, and the planes
they lie in (issue 16, item 10)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sgcore.loop import (
    LoopConfig,
    curl_at,
    gradient_field,
    loop_integrals,
    output_fn,
    plane_vectors,
    preactivations,
    stokes_integral,
)
from sgcore.paths import ClosedPath, find_breaks, line_integral, midpoint_line_integral
from sgcore.shapes import Surrogate

C0 = np.zeros(5)
PLANES = {"fig5": plane_vectors("fig5"), "random3": plane_vectors("random", 3),
          "axes": plane_vectors("axes", axes=("v1", "v2"))}


# --- geometry ----------------------------------------------------------------------------------------------------
def test_square_runs_clockwise_through_its_corners_at_constant_speed():
    path = ClosedPath.square(C0, PLANES["axes"], 0.7)
    t = 2 * np.pi * np.array([0, 1, 3, 5, 7, 8]) / 8
    a, b, _, _ = path.plane(t)
    np.testing.assert_allclose(a, 0.7 * np.array([0, 1, 1, -1, -1, 0]), atol=1e-15)
    np.testing.assert_allclose(b, 0.7 * np.array([1, 1, -1, -1, 1, 1]), atol=1e-15)
    tt = np.linspace(0.01, 2 * np.pi - 0.01, 2001)
    tt = tt[np.min(np.abs(tt[:, None] - path.corners[None, :]), axis=1) > 1e-4]
    _, tangent = path(tt)
    speed = np.linalg.norm(tangent, axis=1)
    np.testing.assert_allclose(speed, path.length / (2 * np.pi), rtol=1e-14)  # 8 r over 2 pi
    h = 1e-7  # the tangent is the derivative of the points
    np.testing.assert_allclose((path(tt + h)[0] - path(tt - h)[0]) / (2 * h), tangent, atol=1e-6)
    assert path.length == pytest.approx(8 * 0.7)
    np.testing.assert_allclose(path.corners, 2 * np.pi * np.array([1, 3, 5, 7]) / 8)
    a, b = path.outline()
    assert np.max(np.abs(a)) == pytest.approx(0.7) and np.max(np.abs(b)) == pytest.approx(0.7)
    assert {(round(x, 12), round(y, 12)) for x, y in zip(a, b, strict=True)} >= {(0.7, 0.7), (0.7, -0.7),
                                                                                 (-0.7, -0.7), (-0.7, 0.7)}


def test_circle_path_is_the_papers_parametrisation():
    d = PLANES["fig5"]
    path = ClosedPath.circle(C0 + 0.2, d, 1.8)
    alpha = np.linspace(0, 2 * np.pi, 37)
    points, tangent = path(alpha)
    np.testing.assert_allclose(points, 0.2 + 1.8 * (np.sin(alpha)[:, None] * d[0] + np.cos(alpha)[:, None] * d[1]))
    np.testing.assert_allclose(tangent, 1.8 * (np.cos(alpha)[:, None] * d[0] - np.sin(alpha)[:, None] * d[1]))
    assert path.corners.size == 0 and path.length == pytest.approx(2 * np.pi * 1.8)


@pytest.mark.parametrize("kwargs,msg", [(dict(kind="triangle", r=1.0), "path must be one of circle, square"),
                                        (dict(kind="square", r=0.0), "size r must be a finite number > 0"),
                                        (dict(kind="circle", r=float("nan")), "size r must be")])
def test_bad_paths_are_refused_naming_the_parameter(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        ClosedPath(centre=C0, basis=PLANES["axes"], **kwargs)


# --- line integrals against independent facts ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["circle", "square"])
def test_linear_field_circulation_is_minus_curl_times_area(kind):
    rng = np.random.default_rng(11)
    A = rng.standard_normal((5, 5))
    c = rng.standard_normal(5)
    d, r = PLANES["random3"], 0.9
    path = ClosedPath(kind, c, d, r)
    curl = d[1] @ A @ d[0] - d[0] @ A @ d[1]  # constant curl of F(p) = A p in the plane
    area = np.pi * r**2 if kind == "circle" else 4 * r**2
    _, cum, _, err = line_integral({0: lambda p: p @ A.T}, None, path)
    assert cum[0][-1] == pytest.approx(-curl * area, rel=1e-12)  # clockwise: minus the enclosed curl
    assert err[0] < 1e-12
    assert stokes_integral(lambda p: p @ A.T, path) == pytest.approx(-curl * area, rel=1e-9)
    np.testing.assert_allclose(curl_at(lambda p: p @ A.T, c, d, np.array([0.3]), np.array([-0.2])), curl, rtol=1e-6)


@pytest.mark.parametrize("kind", ["circle", "square"])
def test_gradient_of_a_known_function_integrates_to_zero_and_accumulates_to_its_values(kind):
    def f(p):
        return p[:, 0] ** 2 * p[:, 1] + np.sin(p[:, 2]) * p[:, 3] - p[:, 4] ** 3

    def grad(p):
        t0, t1, t2, t3, t4 = p.T
        return np.stack([2 * t0 * t1, t0**2, np.cos(t2) * t3, np.sin(t2), -3 * t4**2], axis=1)

    path = ClosedPath(kind, C0 + 0.3, PLANES["fig5"], 1.4)
    t, cum, _, _ = line_integral({0: grad}, None, path)
    np.testing.assert_allclose(cum[0], f(path(t)[0]) - f(path(t[:1])[0]), atol=1e-12)  # fundamental theorem
    assert abs(cum[0][-1]) < 1e-13


@pytest.mark.parametrize("name", list(PLANES))
@pytest.mark.parametrize("beta", [1.0, 20.0, 200.0])
def test_exact_network_gradient_around_the_square_is_zero(name, beta):
    path = ClosedPath.square(C0 + 0.1, PLANES[name], 1.8)
    _, cum, _, err = line_integral({0: gradient_field(1.0, beta, None)}, preactivations(1.0, beta), path)
    assert abs(cum[0][-1]) < 1e-10 and err[0] < 1e-9


def test_square_sg_integral_with_a_step_forward_matches_a_fine_midpoint_rule():
    field = gradient_field(1.0, None, Surrogate("sigmoid", 20.0).sd)
    path = ClosedPath.square(C0, PLANES["fig5"], 1.8)
    _, cum, breaks, err = line_integral({0: field}, preactivations(1.0, None), path)
    fine = midpoint_line_integral(field, path, 3_000_000)
    assert breaks.size >= 2 and abs(cum[0][-1]) > 0.01
    assert cum[0][-1] == pytest.approx(fine, abs=1e-4)  # midpoint error O(jump * h), h = 2e-6
    assert err[0] < 1e-9
    for t in breaks:  # each break is a sign change of a pre-activation
        s = np.sign(preactivations(1.0, None)(path(np.array([t - 1e-9, t + 1e-9]))[0]))
        assert np.any(s[0] != s[1])
    assert np.all(np.isin(find_breaks(preactivations(1.0, None), path), breaks))


# --- the loop page's square ---------------------------------------------------------------------------------------
def test_loop_page_square_path_circulates_while_exact_gradients_do_not():
    cfg = LoopConfig(path="square", max_steps=100)
    li = loop_integrals(cfg)
    assert li.path == "square" and li.circulates
    assert all(abs(v) > 0.01 for v in li.loop_sg.values())
    assert all(abs(v) < 1e-10 for v in li.loop_exact.values())
    for beta, cum in li.cumulative_exact.items():  # the exact gradient's accumulation is its output along the square
        np.testing.assert_allclose(cum, output_fn(cfg.x, beta)(cfg.closed_path(li.alpha)[0]), atol=1e-9)
    circle = loop_integrals(LoopConfig(max_steps=100))
    assert li.loop_sg != circle.loop_sg  # a different path, a different circulation


# --- planes -------------------------------------------------------------------------------------------------------
def _gram_schmidt(raw):
    d1 = raw[0] / np.linalg.norm(raw[0])
    d2 = raw[1] - (raw[1] @ d1) * d1
    return np.array([d1, d2 / np.linalg.norm(d2)])


@pytest.mark.parametrize("seed", [0, 3, 4_294_967_295])
def test_random_plane_is_gram_schmidt_of_the_seeded_normal_draws(seed):
    """What the page and the CLI print about a random plane is enough to rebuild it elsewhere."""
    raw = np.random.default_rng(seed).standard_normal((2, 5))
    np.testing.assert_allclose(plane_vectors("random", seed), _gram_schmidt(raw), atol=1e-15)


def test_custom_plane_from_another_tool_is_orthonormalised():
    raw = np.array([[1.0, 2.0, 0.0, -1.0, 0.5], [0.0, 1.0, 1.0, 1.0, 0.0]])
    np.testing.assert_allclose(plane_vectors("custom", vectors=raw), _gram_schmidt(raw), atol=1e-15)
    with pytest.raises(ValueError, match="parallel"):
        plane_vectors("custom", vectors=[raw[0], 2 * raw[0]])
    with pytest.raises(ValueError, match="zero"):
        plane_vectors("custom", vectors=[np.zeros(5), raw[1]])
    with pytest.raises(ValueError, match="two finite vectors of 5 numbers"):
        plane_vectors("custom", vectors=[raw[0][:4], raw[1][:4]])


def test_cli_prints_the_plane_in_full_precision():
    out = subprocess.run([sys.executable, "-m", "sgcore", "loop", "--plane", "random", "--seed", "3", "--steps", "10",
                          "--path", "square"], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)["integrals"]
    assert data["path"] == "square"
    np.testing.assert_array_equal(np.array(data["basis"]), plane_vectors("random", 3))  # bit for bit


# --- the integrand's own round-off stops the refinement (issue 16: beta_SG = 1e4 took 1.8 s) ----------------------
def test_steep_sg_stops_refining_at_the_integrands_noise(monkeypatch):
    """With a step forward and beta_SG = 1e4 the integrand (~1e7 near the transitions) is computed to ~5e-14 relative:
    halving pieces there once ran into the piece bound (56,000 pieces, 1.8 s) without getting better. Halves that
    differ as much as their parent are now accepted, with their differences in the error estimate."""
    import sgcore.paths as paths

    evaluated = []
    original = paths._gk_sums

    def counting(fields, path, s, e):
        evaluated.append(s.size)
        return original(fields, path, s, e)

    monkeypatch.setattr(paths, "_gk_sums", counting)
    cfg = LoopConfig(betas_sg=(1e4,), max_steps=10)
    li = loop_integrals(cfg)
    assert max(evaluated) < paths.MAX_PIECES // 10 and sum(evaluated) < 20_000
    monkeypatch.setattr(paths, "_gk_sums", original)
    field = gradient_field(cfg.x, None, cfg.surrogate(1e4).sd)
    _, fine, _, _ = line_integral({0: field}, preactivations(cfg.x, None), cfg.closed_path, display=2881, levels=30)
    assert li.loop_sg[1e4] == pytest.approx(fine[0][-1], rel=1e-11)
    assert abs(li.loop_sg[1e4] - fine[0][-1]) <= 10 * li.loop_sg_error[1e4]  # the estimate covers the difference


def test_two_breaks_in_one_scan_step_are_both_found():
    """A linear field whose two pre-activations change sign 1e-4 apart (closer than a scan step, 1.5e-3)."""
    path = ClosedPath.circle(C0, PLANES["axes"], 1.0)
    t1, t2 = 1.0, 1.0 + 1e-4

    def pre(points):
        t = np.arctan2(points[:, 1], points[:, 2]) % (2 * np.pi)  # (a, b) = (v1, v2) = (sin t, cos t)
        return np.stack([t - t1, t - t2], axis=1)

    np.testing.assert_allclose(find_breaks(pre, path), [t1, t2], atol=1e-14)
