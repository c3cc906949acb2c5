"""The headless twin agrees with the library and rejects bad input with status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sgcore.escape import EscapeConfig, escape_at, escape_view

KEYS = ("u", "firing_probability", "d_expected_output", "surrogate_derivative", "stochad_right",
        "stochad_left", "stochad_affine")


def run(*args):
    return subprocess.run([sys.executable, "-m", "sgcore", *args], capture_output=True, text=True, timeout=120)


def test_escape_example_from_the_issue():
    r = run("escape", "--escape", "sigmoid", "--beta-n", "5", "--shape", "sigmoid", "--beta-sg", "5",
            "--scale", "density", "--theta", "0", "--u", "-1", "0", "0.5")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    ref = escape_at(EscapeConfig(beta_n=5, beta_sg=5, scale="density"), [-1.0, 0.0, 0.5])
    for key in KEYS:
        assert len(out[key]) == 3
        np.testing.assert_allclose(out[key], ref[key], rtol=1e-15)
    np.testing.assert_allclose(out["stochad_affine"], out["surrogate_derivative"], rtol=1e-12)


def test_escape_grid_matches_page_computation():
    r = run("escape", "--escape", "erf", "--shape", "gaussian", "--n-points", "51", "--seed", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    view = escape_view(EscapeConfig(escape="erf", shape="gaussian", n_points=51, seed=3))
    np.testing.assert_allclose(out["u"], view.u)
    np.testing.assert_allclose(out["surrogate_derivative"], view.surrogate_derivative)
    assert out["matched"] is True and out["threshold_mean"] == pytest.approx(view.threshold_mean)


def test_undefined_conditionals_are_null_not_nan():
    r = run("escape", "--escape", "erf", "--shape", "triangular", "--u", "-100", "0")
    out = json.loads(r.stdout)  # strict JSON: no NaN tokens
    assert r.returncode == 0 and "NaN" not in r.stdout
    assert out["stochad_left"][1] is not None


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--beta-n", "nan"], "beta_n must be a finite number in (0, 10000]"),
        (["--beta-sg", "-3"], "beta_sg must be"),
        (["--shape", "box"], "shape must be one of"),
        (["--n-trials", "2.5"], "n_trials must be an integer"),
        (["--u", "abc"], "argument --u: must be finite numbers"),
        (["--u", "inf"], "argument --u: must be finite numbers"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    r = run("escape", *args)
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == ""


def test_unknown_page_exits_2():
    r = run("nosuchpage")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
