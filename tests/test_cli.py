"""The headless twin agrees with the library and rejects bad input with status 2.

Called in-process (``sgcore.cli.main`` with captured output); a few tests run ``python -m sgcore`` for real.
"""

import json
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from sgcore.cli import main
from sgcore.escape import EscapeConfig, escape_view
from sgcore.pages import PAGES

KEYS = ("u", "firing_probability", "d_expected_output", "surrogate_derivative", "stochad_right",
        "stochad_left", "stochad_affine_y0", "stochad_affine_y1")


def run(*args):
    """``python -m sgcore ARGS`` in a subprocess."""
    return subprocess.run([sys.executable, "-m", "sgcore", *args], capture_output=True, text=True, timeout=120)


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def call(capsys, *args: str) -> Ran:
    """``sgcore.cli.main(ARGS)`` in this process: its exit status and what it printed."""
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse's errors (status 2) and --help (status 0)
        code = exit_.code
    out = capsys.readouterr()
    return Ran(code, out.out, out.err)


@pytest.fixture
def cli(capsys):
    return lambda *args: call(capsys, *args)


def test_escape_example_from_the_issue(cli):
    r = cli("escape", "--escape", "sigmoid", "--beta-n", "5", "--shape", "sigmoid", "--beta-sg", "5",
            "--scale", "density", "--theta", "0", "--u", "-1", "0", "0.5")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    ref = escape_view(EscapeConfig(beta_n=5, beta_sg=5, scale="density"), u=[-1.0, 0.0, 0.5]).points
    for key in KEYS:
        assert len(out["points"][key]) == 3
        np.testing.assert_allclose(out["points"][key], getattr(ref, key), rtol=1e-15)
    np.testing.assert_allclose(out["points"]["stochad_affine_y0"], out["points"]["surrogate_derivative"], rtol=1e-12)
    assert out["resolved_scale"] == "density" and out["config"]["scale"] == "density"


def test_escape_grid_matches_page_computation(cli):
    r = cli("escape", "--escape", "erf", "--shape", "gaussian", "--n-points", "51", "--seed", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    view = escape_view(EscapeConfig(escape="erf", shape="gaussian", n_points=51, seed=3))
    np.testing.assert_allclose(out["u"], view.u)
    np.testing.assert_allclose(out["surrogate_derivative"], view.surrogate_derivative)
    assert out["matched"] is True and out["threshold_mean"] == pytest.approx(view.threshold_mean)


def test_undefined_conditionals_are_null_not_nan(cli):
    r = cli("escape", "--escape", "erf", "--shape", "triangular", "--u", "-100", "0")
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
        (["--u", "abc"], "argument --u: u must be a finite number; got 'abc'"),
        (["--u", "inf"], "argument --u: u must be a finite number; got 'inf'"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, args, needle):
    r = cli("escape", *args)
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == ""


def test_unknown_page_exits_2():
    r = run("nosuchpage")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_module_entry_point_rejects_bad_input_with_status_2():
    r = run("escape", "--beta-n", "nan")
    assert r.returncode == 2 and r.stdout == ""
    assert "beta_n must be a finite number in (0, 10000]" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run("localzo", "--u-range", "1", "-1")  # rejected by the runner, not by argparse
    assert r.returncode == 2 and "u-range must be two finite numbers A < B" in r.stderr and r.stdout == ""


def test_module_entry_point_help_lists_every_registered_command():
    r = run("--help")
    assert r.returncode == 0, r.stderr
    for name, command in PAGES.commands().items():
        assert name in r.stdout and command.help.split()[0] in r.stdout
    assert set(PAGES.commands()) == {"escape", "signflip", "loop", "localzo", "estimators", "train", "lif", "design",
                                     "init", "classify", "randman", "sweep"}


def test_in_process_call_prints_what_the_subprocess_prints(cli):
    args = ("escape", "--n-points", "21", "--seed", "2")
    inside, outside = cli(*args), run(*args)
    assert inside.returncode == outside.returncode == 0
    assert inside.stdout == outside.stdout


def test_localzo_example_from_the_issue(cli):
    from sgcore.localzo import LocalZOConfig, localzo_view

    r = cli("localzo", "--dist", "normal", "--delta", "0.05", "--m", "1", "--alpha", "1", "--u", "0", "0.03", "0.1",
            "--samples", "4000", "--seed", "3", "--u-dist", "uniform", "--u-range", "-0.2", "0.2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    pts = out["points"]
    u = np.array([0.0, 0.03, 0.1])
    ref = np.exp(-((u / 0.05) ** 2) / 2) / (0.05 * np.sqrt(2 * np.pi))  # paper Eq. 10
    np.testing.assert_allclose(pts["expected_surrogate"], ref, rtol=1e-12)
    assert out["bth_over_delta"] == pytest.approx(np.sqrt(2 / np.pi))
    assert out["bth"] == pytest.approx(0.05 * np.sqrt(2 / np.pi))
    for key in ("monte_carlo_mean", "monte_carlo_stderr"):
        assert len(pts[key]) == 3
    assert np.all(np.abs(np.array(pts["monte_carlo_mean"]) - ref) < 5 * np.array(pts["monte_carlo_stderr"]))
    lib = localzo_view(LocalZOConfig(delta=0.05, u_lo=-0.2, u_hi=0.2, seed=3), u_points=u, samples=4000).points
    assert pts["active_fraction"] == pytest.approx(lib.active_fraction, rel=1e-12)
    assert abs(pts["active_fraction"] - out["active_localzo"]) < 5 * pts["active_fraction_stderr"]
    assert pts["target_surrogate"] is None and out["weight"] == 1.0


def test_localzo_fast_sigmoid_divergences_are_null_with_notes(cli):
    r = cli("localzo", "--target", "fast_sigmoid", "--k", "100", "--delta", "0.05", "--alpha", "-1",
            "--u", "0", "0.01", "--samples", "500")
    assert r.returncode == 0, r.stderr
    assert "Infinity" not in r.stdout and "NaN" not in r.stdout
    out = json.loads(r.stdout)
    pts = out["points"]
    assert out["weight"] == pytest.approx(0.02)  # Theorem 3's c
    np.testing.assert_allclose(pts["target_surrogate"], [1.0, 0.25])
    np.testing.assert_allclose(pts["expected_surrogate"], [1.0, 0.25], rtol=1e-9)
    assert out["bth"] is None and out["bth_over_delta"] is None
    assert pts["single_sample_variance"][0] is None and pts["single_sample_variance"][1] > 0
    assert pts["monte_carlo_stderr"][0] is None
    assert any("back-propagation threshold is infinite" in n for n in out["notes"])
    assert any("single-sample variance is infinite" in n for n in out["notes"])


def test_localzo_sigmoid_target(cli):
    r = cli("localzo", "--target", "sigmoid", "--k", "30.63", "--delta", "0.05", "--u", "0", "0.02")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["weight"] == pytest.approx(1.0, abs=1e-3)  # Theorem 3's c, paper Sec. 5.2
    np.testing.assert_allclose(out["points"]["expected_surrogate"], out["points"]["target_surrogate"], rtol=1e-6)
    assert out["sampler"] == "inverse-CDF table" and out["table_error"] < 1e-5


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--delta", "-1"], "delta must be a finite number in (0"),
        (["--dist", "cauchy"], "dist must be one of"),
        (["--target", "box"], "target must be one of"),
        (["--target", "superspike", "--alpha", "1"], "corner"),
        (["--target", "sigmoid", "--alpha", "2"], "alpha = 2"),
        (["--u-range", "1", "-1"], "u-range must be two finite numbers A < B"),
        (["--samples", "0"], "samples must be an integer in [1, 10000000]"),
        (["--m", "0"], "m must be"),
    ],
)
def test_localzo_bad_input_exits_2(cli, args, needle):
    r = cli("localzo", *args)
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("m,needle", [
    ("10000", "m x (n_samples + n_points + 30000) = 3.2e+08 exceeds 2e+06; lower m or n_samples"),
    ("2", "samples x m x (len(u) + 1) = 4.0e+07 exceeds 2e+07; lower samples or m, or give fewer u"),
])
def test_localzo_unbounded_work_from_the_issue_exits_2_at_once(cli, m, needle):
    # the issue's command ran for hours; now it is refused before anything is computed
    r = cli("localzo", "--dist", "normal", "--delta", "0.05", "--m", m, "--alpha", "1", "--u", "0",
            "--samples", "10000000")
    assert r.returncode == 2 and not r.stdout
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_estimators_example_from_the_issue(cli):
    from sgcore.estimators import BinaryNet, exact_gradient

    r = cli("estimators", "--hidden", "3", "3", "--n-in", "4", "--beta-n", "5", "--beta-sg", "5", "--theta", "0",
            "--seed", "0", "--samples", "2000")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("net", "exact", "exact_expected_output", "stats"):
        assert key in out
    for key in ("input", "weights", "biases", "beta_n", "theta"):
        assert key in out["net"]
    netd = out["net"]
    assert [np.shape(w) for w in netd["weights"]] == [(3, 4), (3, 3), (1, 3)]
    # anyone can recompute the network from the printed numbers
    net = BinaryNet.from_lists(netd["input"], netd["weights"], netd["biases"], beta_n=netd["beta_n"],
                               theta=netd["theta"])
    ex = exact_gradient(net)
    assert out["exact_expected_output"] == pytest.approx(ex.expected_output, rel=1e-14)
    for got, ref in zip(out["exact"]["weights"], ex.weights, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert set(out["stats"]) == {"stochastic_sg", "deterministic_sg", "finite_difference",
                                 "finite_difference_crn", "reinforce"}
    for est in out["stats"].values():
        assert [np.shape(w) for w in est["mean_weights"]] == [(3, 4), (3, 3), (1, 3)]
        for key in ("bias_norm", "bias_norm_stderr", "variance", "cosine"):
            assert isinstance(est[key], float)
    assert out["stats"]["deterministic_sg"]["variance"] == 0.0


def test_estimators_without_hidden_layer_sg_is_exact(cli):
    r = cli("estimators", "--hidden", "--samples", "100", "--beta-n", "3", "--beta-sg", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["config"]["hidden1"] == 0 and len(out["net"]["weights"]) == 1 and out["n_paths"] == 1
    sg = out["stats"]["stochastic_sg"]
    np.testing.assert_allclose(sg["mean_weights"][0], out["exact"]["weights"][0], rtol=1e-10)
    assert sg["bias_norm"] < 1e-12 and sg["variance"] < 1e-20


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--hidden", "6", "6", "1"], "hidden1 + hidden2 + hidden3 must be at most 12"),
        (["--hidden", "7"], "hidden must be an integer in [0, 6]"),
        (["--hidden", "1", "1", "1", "1"], "hidden must list at most 3 layer sizes"),
        (["--beta-n", "nan"], "beta_n must be a finite number in (0"),
        (["--samples", "5"], "samples must be"),
        (["--fd-target", "loss"], "fd_target must be one of"),
    ],
)
def test_estimators_bad_input_exits_2(cli, args, needle):
    r = cli("estimators", *args)
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_design_example_from_the_issue(cli):
    from sgcore.design import sd_second_moment

    r = cli("design", "--shape", "exponential", "--gamma", "0.7", "--sharpness", "1.3", "--thr", "1", "--y-min",
            "-0.5", "--y-max", "2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    mom = out["moments"]
    assert mom["peak"] == pytest.approx(1.0) and mom["area"] == pytest.approx(1.0)
    assert mom["int_f_sq"] == pytest.approx(0.5) and mom["tail_moment"] == pytest.approx(0.5)  # exp: 1/2, 2/(2^2)...
    # Eq. 2 by an independent quadrature: (1/L) int gamma^2 exp(-2 s |y - thr|)^2 ... f(v) = exp(-2|v|)
    from scipy import integrate

    ref = integrate.quad(lambda y: (0.7 * np.exp(-2 * abs(1.3 * (y - 1.0)))) ** 2, -0.5, 2.0, points=[1.0])[0] / 2.5
    assert out["sd_second_moment"] == pytest.approx(ref, rel=1e-9)
    assert out["sd_second_moment"] == pytest.approx(sd_second_moment("exponential", 0.7, 1.3, 1.0, -0.5, 2.0))


def test_design_infinite_tail_is_null_with_a_note(cli):
    r = cli("design", "--shape", "q_pseudospike", "--q", "2")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["moments"]["tail_moment"] is None and out["config"]["q"] == 2.0
    assert out["moments"]["tail_finite"] is False
    assert any("int v^2 f is infinite" in n for n in out["notes"])


def test_init_example_from_the_issue(cli):
    r = cli("init", "--alpha-decay", "0.9", "--thr", "1", "--n-rec", "101", "--n-in", "200", "--mean-z", "0.5",
            "--var-z", "0.25", "--var-w-in", "0.01", "--xi", "0", "--min-w-rec", "-0.1", "--max-w-rec", "0.1",
            "--e-w-rec-sq", "0.02")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # CI (Eq. 20): (3 - 2 alpha) thr / (n_rec - 1) = 1.2 / 100
    assert out["mean_w_rec"] == pytest.approx(0.012)
    # CII (Eq. 28): 2 (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] - m^2/2 = 2 * 0.5 * 2 * 0.01 - 0.000072
    assert out["var_w_rec"] == pytest.approx(0.02 - 0.012**2 / 2)
    for key in ("dampening", "sd_second_moment"):
        assert isinstance(out[key], float)
    assert out["derived"]["min_w_rec"] == "given" and "CI mean" in out["derived"]["mean_w_rec"]
    assert out["notes"]


def test_init_layer_below_adds_its_terms(cli):
    base = json.loads(cli("init", "--xi", "0").stdout)
    below = json.loads(cli("init", "--xi", "1").stdout)
    assert below["gamma_in"] is not None and base["gamma_in"] is None
    assert below["dampening"] != base["dampening"]


@pytest.mark.parametrize(
    "cmd,args,needle",
    [
        ("design", ["--y-min", "3", "--y-max", "1"], "y_min must be below y_max"),
        ("design", ["--gamma", "-1"], "gamma must be"),
        ("design", ["--shape", "box"], "shape must be one of"),
        ("init", ["--alpha-decay", "1.5"], "alpha_decay must be"),
        ("init", ["--n-rec", "1"], "n_rec must be"),
        ("init", ["--min-w-rec", "0.2", "--max-w-rec", "0.1"], "min_w_rec must be below max_w_rec"),
    ],
)
def test_design_and_init_bad_input_exits_2(cli, cmd, args, needle):
    r = cli(cmd, *args)
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_train_example_from_the_issue(cli):
    r = cli("train", "--network", "deterministic", "--preset", "quick", "--epochs", "50", "--seed", "0")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("l2", "van_rossum", "active_fraction"):
        assert len(out[key]) == 50
    assert "fano_hidden" not in out and out["epochs_per_second"] > 0
    assert out["l2"][-1] < out["l2"][0]  # Adam at the quick preset learns within 50 epochs
    assert out["config"]["optimizer"] == "adam" and out["config"]["seed"] == 0
    init = out["init_fluctuation"]  # the realised membrane fluctuation of the initialisation, as the page shows it
    assert init["target"] == 1.0 and init["transient_steps"] == 50 and init["window_steps"] == 139
    assert init["hidden"]["presynaptic_rate_hz"] == pytest.approx(50.3, abs=0.05)
    assert 0.75 < init["hidden"]["free_temporal_std"] < 1.25
    assert init["output"]["free_std"] > 0 and init["output"]["predicted_std"] > 0


def test_train_stochastic_with_options_overriding_the_preset(cli):
    r = cli("train", "--network", "stochastic", "--preset", "quick", "--epochs", "5", "--trials", "3",
            "--n-hidden", "50", "--n-out", "40", "--n-steps", "60", "--backward", "sparsegrad", "--target", "rings")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["fano_hidden"]) == len(out["fano_output"]) == 5
    assert all(0 <= f <= 1 for f in out["fano_hidden"])  # binary bins: Fano = 1 - p <= 1
    assert all(0 < a < 1 for a in out["active_fraction"])  # SparseGrad zeroes part of the backward pass
    assert out["config"]["trials"] == 3 and out["config"]["optimizer"] == "adam" and out["target"] == "rings"


def test_lif_example_from_the_issue(cli):
    from sgcore.snn import lif_trace

    r = cli("lif", "--weight", "0.5", "--input-period", "1", "--steps", "40", "--reset", "same")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    ref = lif_trace(0.5, 1, 40, reset="same")
    assert out["spike_steps"] == ref["spike_steps"] and len(out["membrane"]) == len(out["current"]) == 40
    nxt = json.loads(cli("lif", "--weight", "0.5", "--reset", "next").stdout)
    assert nxt["spike_steps"] != out["spike_steps"]  # Eq. 21 resets one step later


@pytest.mark.parametrize(
    "cmd,args,needle",
    [
        ("train", ["--n-hidden", "9999"], "n_hidden must be an integer in [1, 400]"),
        ("train", ["--trials", "0"], "trials must be"),
        ("train", ["--target", "nope"], "unknown target 'nope'"),
        ("train", ["--epochs", "0"], "epochs must be an integer in [1, 100000]"),
        ("train", ["--preset", "fast"], "invalid choice"),
        ("lif", ["--reset", "later"], "reset must be one of"),
        ("lif", ["--input-period", "0"], "input_period must be"),
    ],
)
def test_train_and_lif_bad_input_exits_2(cli, cmd, args, needle):
    r = cli(cmd, *args)
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_escape_overflowed_derivative_is_null_with_a_note(cli):
    """Issue 16 item 6: stochad_right beyond float64's maximum printed as ~1.0142e308; it is null with a note."""
    r = cli("escape", "--escape", "exponential", "--beta-n", "10000", "--rho0-dt", "1000000", "--shape", "escape_exp",
            "--beta-sg", "10000", "--u", "-1", "0", "1")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["points"]["stochad_right"][0] == 0.0 and out["points"]["stochad_right"][2] is None
    np.testing.assert_allclose(out["points"]["stochad_right"][1], 1e10, rtol=1e-12)  # beta_N rho0 dt at u = theta
    assert not any(x is not None and x > 1e307 for x in out["stochad_right"])
    assert any("stochad_right is null" in note for note in out["notes"])


@pytest.mark.parametrize(("args", "check"), [
    (("escape", "--u", "-1e-3", "-1E+2", "-.5", "-2"), lambda o: o["points"]["u"] == [-1e-3, -100.0, -0.5, -2.0]),
    (("escape", "--theta", "-1e-1"), lambda o: o["config"]["theta"] == -0.1),
    (("escape", "--u", "-1e-3", "--theta", "-2.5E-1"),  # the option after the numbers is still an option
     lambda o: o["points"]["u"] == [-1e-3] and o["config"]["theta"] == -0.25),
    (("signflip", "--w-range", "-1e-9", "1e-9"),
     lambda o: (o["config"]["w_min"], o["config"]["w_max"]) == (-1e-9, 1e-9)),
    (("localzo", "--u-range", "-1E+0", "2e0"), lambda o: (o["config"]["u_lo"], o["config"]["u_hi"]) == (-1.0, 2.0)),
])
def test_negative_numbers_in_scientific_notation_are_values(cli, args, check):
    """Issue 16 item 8: argparse took -1e-3 for an option ("expected N arguments")."""
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    assert check(json.loads(r.stdout))


@pytest.mark.parametrize(("args", "needle"), [
    (("escape", "--theta", "-inf"), "theta must be a finite number in [-1000, 1000]; got -inf"),
    (("escape", "--theta", "-1e9"), "theta must be a finite number in [-1000, 1000]"),
    (("escape", "--u", "0", "-inf"), "u must be a finite number; got '-inf'"),
    (("loop", "--betas-sg", "1", "-1e-3"), "betas_sg must be 1 to 4 finite numbers in (0, 10000]"),
])
def test_negative_out_of_range_numbers_get_the_parameters_own_message(cli, args, needle):
    r = cli(*args)
    assert r.returncode == 2 and needle in r.stderr and "expected" not in r.stderr, r.stderr


def test_loop_prints_the_exact_reference_and_its_error_estimate(cli):
    # issue 16: this command printed loop_exact 0.2065 (the reference missed the beta_SG sigmoid's transitions)
    r = cli("loop", "--plane", "fig5", "--radius", "1.8", "--beta-sg", "2000", "--forward", "step", "--steps", "10")
    assert r.returncode == 0, r.stderr
    li = json.loads(r.stdout)["integrals"]
    assert abs(li["loop_exact"]["2000"]) < 1e-9 and li["loop_exact_error"]["2000"] < 1e-9
    assert 0 <= li["loop_sg_error"]["2000"] < 1e-8


def test_signflip_landscape_beyond_the_work_bound_exits_2_at_once(cli):
    r = cli("signflip", "--grid", "1001", "--betas-landscape", "1", "2", "4", "20")
    assert r.returncode == 2 and not r.stdout
    assert ("n_grid^2 x (1 + len(betas_landscape)) = 5.0e+06 exceeds 1e+06; lower n_grid or give fewer "
            "betas_landscape") in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_estimators_samples_beyond_the_work_bound_exit_2_at_once(cli):
    r = cli("estimators", "--n-in", "8", "--hidden", "6", "6", "--samples", "100000")
    assert r.returncode == 2 and not r.stdout
    assert "samples x n_params = 1.0e+07 exceeds 4e+06; lower samples, or use fewer inputs or hidden units" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_escape_rasters_beyond_the_work_bound_exit_2_at_once(cli):
    r = cli("escape", "--n-trials", "2000", "--n-inputs", "400")
    assert r.returncode == 2 and not r.stdout
    assert "n_trials x n_inputs = 8.0e+05 exceeds 2e+05; lower n_trials or n_inputs" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_output_cut_short_by_the_reader_is_not_an_error():
    """`python -m sgcore loop | head -c 50` printed a BrokenPipeError traceback."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "sgcore", "signflip", "--grid", "41"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(20).startswith(b'{"config"')
    proc.stdout.close()  # the reader goes away before the 300 kB are written
    assert proc.wait(timeout=120) == 0
    assert b"Traceback" not in proc.stderr.read()


def test_version_is_the_package_version():
    import tomllib
    from pathlib import Path

    import sgcore

    version = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["version"]
    assert sgcore.__version__ == version
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"sgcore {version}"


def test_a_missing_optional_dependency_says_which_extra_to_install(capsys, monkeypatch):
    import importlib

    from sgcore.pages import Command, Page

    def needs_dask(args):
        importlib.import_module("distributed")
        return {}

    registry = PAGES.add(Page("scratch", "Scratch", "pages/99_Scratch.py", "Scratch", ":material/star:", "",
                              commands=(Command("needsdask", "needs Dask", needs_dask),)))
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    code = main(["needsdask"], registry=registry)
    out = capsys.readouterr()
    assert code == 1 and out.out == ""
    assert out.err.count("\n") == 1 and "'distributed'" in out.err
    assert 'pip install "surrogate-gradient-explorer[sweep]"' in out.err


def test_another_missing_module_is_not_hidden(monkeypatch):
    from sgcore.pages import Command, Page

    def broken(args):
        import no_such_module_anywhere  # noqa: F401

        return {}

    registry = PAGES.add(Page("scratch", "Scratch", "pages/99_Scratch.py", "Scratch", ":material/star:", "",
                              commands=(Command("broken", "imports nothing that exists", broken),)))
    with pytest.raises(ModuleNotFoundError):
        main(["broken"], registry=registry)
