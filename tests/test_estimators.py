"""Gradient estimators in a tiny stochastic binary network, checked against independent facts: finite
differences and torch autograd of the enumerated E[y], Monte Carlo with tolerances from standard errors,
a layer-by-layer Markov-chain tree against the joint enumeration, hand-computed cases, and full
roll-outs of perturbed networks against the library's sparse finite differences."""

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest
from scipy import special, stats

from sgcore.estimators import (
    BIAS_ALPHA,
    ESTIMATOR_PARAMS,
    ESTIMATORS,
    MAX_HIDDEN_UNITS,
    SG_EXACT_TOLERANCE,
    BiasTest,
    BinaryNet,
    EstimatorConfig,
    EstimatorView,
    all_patterns,
    bias_sweep,
    bias_test,
    convergence,
    deterministic_sg,
    estimator_samples,
    estimator_stats,
    estimator_view,
    exact_expected_output,
    exact_gradient,
    finite_difference,
    finite_difference_crn,
    flatten_params,
    param_names,
    random_net,
    reinforce,
    sample_outputs,
    sample_path,
    spike_patterns,
    spike_tree,
    stochastic_sg,
    stochastic_sg_expectation,
    surrogate,
    unflatten_params,
)
from sgcore.export import view_to_dict

# (n_in, hidden, seed, beta_n, theta, weight_scale): no hidden layer up to three hidden layers
NETS = [
    (3, (), 1, 2.0, 0.0, 1.0),
    (4, (3,), 2, 3.0, 0.2, 1.0),
    (3, (2, 3), 3, 4.0, -0.1, 1.2),
    (2, (2, 2, 2), 4, 5.0, 0.0, 0.8),
    (3, (4, 4, 4), 5, 2.5, 0.3, 1.5),
]
NET_IDS = [f"hidden{h or '()'}" for _, h, *_ in NETS]


def _net(n_in, hidden, seed, beta_n, theta, scale):
    return random_net(n_in, hidden, seed=seed, weight_scale=scale, beta_n=beta_n, theta=theta)


def _flat(net):
    return flatten_params(net.weights, net.biases)


def _central_differences(net, h=1e-5):
    flat = _flat(net)
    out = np.empty(flat.size)
    for i in range(flat.size):
        step = np.zeros(flat.size)
        step[i] = h
        out[i] = (exact_expected_output(net.with_params(flat + step))
                  - exact_expected_output(net.with_params(flat - step))) / (2 * h)
    return out


# --- the exact gradient ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec", NETS, ids=NET_IDS)
def test_exact_gradient_matches_central_differences_of_exact_expectation(spec):
    net = _net(*spec)
    ex = exact_gradient(net)
    assert ex.expected_output == pytest.approx(exact_expected_output(net), rel=1e-14)
    np.testing.assert_allclose(ex.gradient, _central_differences(net), rtol=1e-6, atol=1e-8)
    assert np.linalg.norm(ex.gradient) > 1e-3  # not a vacuous comparison


def _torch_expected_output(torch, x, weights, biases, beta_n, theta):
    """E[y] by explicit enumeration with itertools, written independently of the library."""
    hidden = [w.shape[0] for w in weights[:-1]]
    total = torch.zeros((), dtype=torch.float64)
    for bits in itertools.product((0.0, 1.0), repeat=sum(hidden)):
        prev = x
        log_p = torch.zeros((), dtype=torch.float64)
        col = 0
        for w, b in zip(weights[:-1], biases[:-1], strict=True):
            h = torch.tensor(bits[col:col + w.shape[0]], dtype=torch.float64)
            col += w.shape[0]
            z = beta_n * (w @ prev + b - theta)
            log_p = log_p + torch.sum(h * torch.nn.functional.logsigmoid(z)
                                      + (1 - h) * torch.nn.functional.logsigmoid(-z))
            prev = h
        p_out = torch.sigmoid(beta_n * (weights[-1] @ prev + biases[-1] - theta))[0]
        total = total + torch.exp(log_p) * p_out
    return total


@pytest.mark.parametrize("spec", NETS[:4], ids=NET_IDS[:4])
def test_exact_gradient_matches_torch_autograd(spec):
    torch = pytest.importorskip("torch")
    net = _net(*spec)
    x = torch.tensor(net.x, dtype=torch.float64)
    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in net.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in net.biases]
    e = _torch_expected_output(torch, x, ws, bs, net.beta_n, net.theta)
    e.backward()
    ref = flatten_params([w.grad.numpy() for w in ws], [b.grad.numpy() for b in bs])
    ex = exact_gradient(net)
    assert ex.expected_output == pytest.approx(float(e.detach()), rel=1e-12)
    np.testing.assert_allclose(ex.gradient, ref, rtol=1e-10, atol=1e-14)
    for w, g in zip(ws, ex.weights, strict=True):
        np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("spec", NETS[1:4], ids=NET_IDS[1:4])
def test_expected_output_matches_monte_carlo(spec):
    net = _net(*spec)
    y = sample_outputs(net, 200_000, np.random.default_rng(7))
    se = y.std(ddof=1) / math.sqrt(y.size)
    assert abs(y.mean() - exact_expected_output(net)) < 5 * se


def test_single_unit_expected_output_and_gradient_are_the_sigmoid():
    """Paper Eq. 7-8: E[y] = sigma(beta_N (u - theta)), dE[y]/dw = beta_N sigma' x."""
    net = BinaryNet.from_lists([0.5, 2.0], [[[1.0, -0.25]]], [[0.1]], beta_n=3.0, theta=0.2)
    z = 3.0 * (0.5 - 0.5 + 0.1 - 0.2)
    s = special.expit(z)
    ex = exact_gradient(net)
    assert ex.expected_output == pytest.approx(s, rel=1e-14)
    np.testing.assert_allclose(ex.gradient, 3.0 * s * (1 - s) * np.array([0.5, 2.0, 1.0]), rtol=1e-13)


def test_scaling_weights_and_dividing_beta_leaves_relative_bias_unchanged():
    """With theta = 0, (c W, c b, beta / c) is the same stochastic network: E[y] unchanged, every
    gradient divided by c -- so bias relative to |g| depends only on beta_N * weight scale."""
    net = _net(3, (3, 3), 6, 4.0, 0.0, 1.0)
    c = 2.5
    big = BinaryNet(net.x, tuple(c * w for w in net.weights), tuple(c * b for b in net.biases), net.beta_n / c, 0.0)
    assert exact_expected_output(big) == pytest.approx(exact_expected_output(net), rel=1e-12)
    np.testing.assert_allclose(exact_gradient(big).gradient, exact_gradient(net).gradient / c, rtol=1e-10)
    np.testing.assert_allclose(stochastic_sg_expectation(big, net.beta_n / c),
                               stochastic_sg_expectation(net, net.beta_n) / c, rtol=1e-10)


# --- the tree of spike patterns -------------------------------------------------------------------
def test_all_patterns_are_binary_counting_with_unit_zero_most_significant():
    p = all_patterns(3)
    assert p.shape == (8, 3)
    np.testing.assert_array_equal(p[5], [1, 0, 1])
    assert len({tuple(r) for r in p}) == 8
    assert all_patterns(0).shape == (1, 0)


@pytest.mark.parametrize("spec", NETS[:4], ids=NET_IDS[:4])
def test_tree_probabilities_sum_to_one_and_agree_with_enumeration(spec):
    net = _net(*spec)
    tree = spike_tree(net)
    assert tree.path_probability.sum() == pytest.approx(1.0, abs=1e-13)
    assert tree.paths.shape == (2**net.n_hidden, len(net.hidden))
    # the Markov chain over layers gives the same E[y] as the joint enumeration
    assert tree.expected_output == pytest.approx(exact_expected_output(net), rel=1e-12)
    parent_rows = [net.x[None, :], *tree.patterns[:-1]]
    for depth, (t, m, rate) in enumerate(zip(tree.transition, tree.marginal, tree.cond_rate, strict=True)):
        np.testing.assert_allclose(t.sum(axis=1), 1.0, rtol=1e-13)
        assert m.sum() == pytest.approx(1.0, abs=1e-13)
        w, b = net.weights[depth], net.biases[depth]
        np.testing.assert_allclose(rate, special.expit(net.beta_n * (parent_rows[depth] @ w.T + b - net.theta)),
                                   rtol=1e-13)
        assert tree.node_probability[depth].sum() == pytest.approx(1.0, abs=1e-13)
        if depth:  # children of a node share its probability
            parent = tree.node_probability[depth - 1]
            np.testing.assert_allclose(tree.node_probability[depth].reshape(parent.size, -1).sum(axis=1), parent,
                                       rtol=1e-12, atol=1e-300)
    if net.hidden:
        np.testing.assert_allclose(tree.node_probability[-1], tree.path_probability)
        np.testing.assert_array_equal(tree.nodes[-1], tree.paths)


def test_sampled_paths_follow_the_tree():
    net = _net(2, (2, 1), 11, 2.0, 0.0, 1.5)
    tree = spike_tree(net)
    assert sample_path(net, 5).path_index == sample_path(net, 5).path_index
    one = sample_path(net, 5)
    assert one.path_probability == pytest.approx(tree.path_probability[one.path_index], rel=1e-12)
    np.testing.assert_array_equal(tree.paths[one.path_index], one.pattern_index)
    for layer, idx in enumerate(one.pattern_index):
        np.testing.assert_array_equal(tree.patterns[layer][idx], one.h[layer])
    rng = np.random.default_rng(3)
    counts = np.bincount([sample_path(net, rng).path_index for _ in range(4000)], minlength=tree.paths.shape[0])
    expected = 4000 * tree.path_probability
    assert stats.chisquare(counts, expected).pvalue > 1e-3


# --- estimators -----------------------------------------------------------------------------------
def test_stochastic_sg_without_hidden_layer_is_exact_when_matched():
    """Paper Sec. 3.1: Eq. 6 = Eq. 8 when beta_SG = beta_N, whatever the sampled output."""
    net = _net(4, (), 3, 3.0, 0.1, 1.0)
    g = exact_gradient(net).gradient
    samples = stochastic_sg(net, net.beta_n, 500, 1)
    np.testing.assert_allclose(samples, np.broadcast_to(g, samples.shape), rtol=1e-12)
    st = estimator_stats(samples, g, net)
    assert st.bias_norm < 1e-14 and st.variance < 1e-28 and st.p_value == 1.0
    np.testing.assert_allclose(stochastic_sg_expectation(net, net.beta_n), g, rtol=1e-12)
    # mismatched steepness: a deterministic, hence certainly detected, error
    assert estimator_stats(stochastic_sg(net, 2 * net.beta_n, 100, 1), g).p_value == 0.0


def test_stochastic_sg_matches_torch_straight_through_backprop():
    """Per-sample SG against autograd: h = h_sampled + s(v) - s(v).detach() with s = sigma(beta_SG v)."""
    torch = pytest.importorskip("torch")
    net = _net(3, (3, 2), 12, 3.0, 0.1, 1.3)
    beta_sg, k, seed = 5.0, 12, 21
    got = stochastic_sg(net, beta_sg, k, seed)
    uni = np.random.default_rng(seed).random((k, net.n_hidden + 1))  # the documented draw
    for row in range(k):
        ws = [torch.tensor(w, requires_grad=True) for w in net.weights]
        bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
        prev, col = torch.tensor(net.x), 0
        for w, b in zip(ws, bs, strict=True):
            v = w @ prev + b - net.theta
            n = w.shape[0]
            u = torch.tensor(uni[row, col:col + n] if w is not ws[-1] else uni[row, -1:])
            col += n
            hard = (u < torch.sigmoid(net.beta_n * v)).double()
            soft = torch.sigmoid(beta_sg * v)
            prev = hard + soft - soft.detach()
        prev.sum().backward()
        ref = flatten_params([w.grad.numpy() for w in ws], [b.grad.numpy() for b in bs])
        np.testing.assert_allclose(got[row], ref, rtol=1e-12, atol=1e-15)


def test_reinforce_matches_torch_score_function():
    torch = pytest.importorskip("torch")
    net = _net(2, (2, 2), 13, 2.0, 0.0, 1.0)
    k, seed = 10, 4
    got = reinforce(net, k, seed, baseline="none")
    uni = np.random.default_rng(seed).random((k, net.n_hidden + 1))
    for row in range(k):
        ws = [torch.tensor(w, requires_grad=True) for w in net.weights]
        bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
        prev, col = torch.tensor(net.x), 0
        log_p = torch.zeros((), dtype=torch.float64)
        for w, b in zip(ws, bs, strict=True):
            z = net.beta_n * (w @ prev + b - net.theta)
            n = w.shape[0]
            u = torch.tensor(uni[row, col:col + n] if w is not ws[-1] else uni[row, -1:])
            col += n
            h = (u < torch.sigmoid(z)).double()
            log_p = log_p + torch.sum(h * torch.nn.functional.logsigmoid(z)
                                      + (1 - h) * torch.nn.functional.logsigmoid(-z))
            prev = h
        log_p.backward()
        y = float(prev[0])
        ref = y * flatten_params([w.grad.numpy() for w in ws], [b.grad.numpy() for b in bs])
        np.testing.assert_allclose(got[row], ref, rtol=1e-12, atol=1e-15)


def test_deterministic_sg_by_hand():
    """x = 0.5, W1 = 2, b1 = 0 -> u1 = 1 > 0, h1 = 1; u_out = 1.5 - 1 = 0.5."""
    net = BinaryNet.from_lists([0.5], [[[2.0]], [[1.5]]], [[0.0], [-1.0]], beta_n=7.0, theta=0.0)
    beta = 3.0
    sd = lambda v: beta * special.expit(beta * v) * special.expit(-beta * v)  # noqa: E731
    expected = [sd(0.5) * 1.5 * sd(1.0) * 0.5, sd(0.5) * 1.5 * sd(1.0), sd(0.5) * 1.0, sd(0.5)]
    got = deterministic_sg(net, beta, 50)
    assert got.shape == (50, 4)
    np.testing.assert_allclose(got, np.broadcast_to(expected, (50, 4)), rtol=1e-13)
    st = estimator_stats(got, exact_gradient(net).gradient, net)
    assert st.variance == 0.0 and st.test.deterministic and st.p_value == 0.0
    # the SD is the registry's sigmoid in density scaling (paper Eq. 1)
    v = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(surrogate(v, beta), sd(v), rtol=1e-13)


def test_deterministic_sg_has_zero_variance_on_a_random_net():
    net = _net(4, (3, 3), 0, 4.0, 0.0, 1.0)
    g = deterministic_sg(net, 4.0, 300)
    assert np.ptp(g, axis=0).max() == 0.0
    assert estimator_stats(g, exact_gradient(net).gradient).variance == 0.0


@pytest.mark.parametrize("target", ["output", "rate"])
def test_sparse_finite_differences_equal_full_rollouts_of_perturbed_nets(target):
    """The library moves one parameter at a time without re-running unchanged layers; a full roll-out
    of every perturbed network with the same uniforms must give the same numbers."""
    net = _net(2, (2, 3, 2), 14, 3.0, 0.1, 1.5)
    eps, k, seed = 0.3, 400, 8
    flat = _flat(net)
    crn = finite_difference_crn(net, eps, k, seed, target=target)
    ind = finite_difference(net, eps, k, seed, target=target)
    key = "y" if target == "output" else "p_out"

    def rollout(moved, uni):  # independent re-implementation of the forward pass
        w, b = unflatten_params(moved, net)
        prev, col = np.broadcast_to(net.x, (k, net.n_in)), 0
        for wl, bl in zip(w[:-1], b[:-1], strict=True):
            p = special.expit(net.beta_n * (prev @ wl.T + bl - net.theta))
            prev = (uni[:, col:col + wl.shape[0]] < p).astype(float)
            col += wl.shape[0]
        p_out = special.expit(net.beta_n * (prev @ w[-1][0] + b[-1][0] - net.theta))
        return {"y": (uni[:, -1] < p_out).astype(float), "p_out": p_out}[key]

    for i in range(flat.size):
        e = np.zeros(flat.size)
        e[i] = eps
        gen = np.random.default_rng(seed)
        u1 = gen.random((k, net.n_hidden + 1))
        u2 = gen.random((k, net.n_hidden + 1))
        np.testing.assert_allclose(crn[:, i], (rollout(flat + e, u1) - rollout(flat - e, u1)) / (2 * eps),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ind[:, i], (rollout(flat + e, u1) - rollout(flat - e, u2)) / (2 * eps),
                                   rtol=1e-12, atol=1e-12)
    if target == "output":  # and the documented equivalence with sample_outputs
        i = flat.size // 2
        e = np.zeros(flat.size)
        e[i] = eps
        ref = (sample_outputs(net.with_params(flat + e), k, seed) - sample_outputs(net.with_params(flat - e), k, seed))
        np.testing.assert_array_equal(crn[:, i], ref / (2 * eps))


def test_rate_finite_differences_without_hidden_layer_are_deterministic_and_second_order():
    net = _net(3, (), 15, 2.0, 0.0, 1.0)
    g = exact_gradient(net).gradient
    for eps, tol in ((0.1, 5e-3), (0.01, 5e-5)):
        fd = finite_difference(net, eps, 20, 0, target="rate")
        assert np.ptp(fd, axis=0).max() < 1e-15
        np.testing.assert_allclose(fd[0], g, rtol=tol, atol=tol * np.abs(g).max())


# A setting with a clearly biased stochastic SG: hidden (3, 3), beta_N = 8 (beta_N * weight scale = 8).
BIASED = (3, (3, 3), 8, 8.0, 0.0, 1.0)


@pytest.fixture(scope="module")
def biased_setting():
    net = _net(*BIASED)
    g = exact_gradient(net).gradient
    k, eps = 20_000, 0.02
    drawn = {name: estimator_samples(name, net, k, np.random.default_rng([31, i]), eps=eps)
             for i, name in enumerate(ESTIMATORS)}
    return net, g, drawn, {name: estimator_stats(s, g, net, name) for name, s in drawn.items()}


def test_stochastic_sg_is_biased_with_hidden_layers(biased_setting):
    net, g, drawn, st = biased_setting
    ssg = st["stochastic_sg"]
    assert ssg.p_value < 1e-12
    assert ssg.bias_norm > 20 * ssg.noise_floor
    exact_mean = stochastic_sg_expectation(net, net.beta_n)
    assert np.linalg.norm(exact_mean - g) > 0.5 * np.linalg.norm(g)  # a large, not a marginal, bias
    # the sampler agrees with the enumerated expectation of the same estimator
    assert bias_test(drawn["stochastic_sg"], exact_mean).p_value > 1e-3
    assert np.linalg.norm(ssg.mean - exact_mean) < 5 * ssg.noise_floor


@pytest.mark.parametrize("name", ["reinforce", "finite_difference", "finite_difference_crn"])
def test_reinforce_and_finite_differences_are_unbiased(biased_setting, name):
    _, g, _, st = biased_setting
    s = st[name]
    assert s.p_value > 1e-3
    # E||mean - g||^2 = ||bias||^2 + tr(Sigma) / K: the distance is at the noise floor
    assert s.bias_norm < 2.0 * s.noise_floor
    assert s.cosine > (0.99 if name != "finite_difference" else 0.5)


def test_crn_finite_differences_have_much_smaller_variance(biased_setting):
    _, _, _, st = biased_setting
    assert st["finite_difference_crn"].variance < 0.05 * st["finite_difference"].variance
    assert st["finite_difference_crn"].variance > 0
    # the paper's ordering (Fig. 3): path-wise SG < REINFORCE < finite differences in variance
    assert st["stochastic_sg"].variance < st["reinforce"].variance < st["finite_difference"].variance


def test_independent_fd_variance_scales_like_one_over_eps_squared_and_crn_like_one_over_eps():
    net = _net(3, (2,), 16, 3.0, 0.0, 1.0)
    g = exact_gradient(net).gradient
    var = {(eps, crn): estimator_stats((finite_difference_crn if crn else finite_difference)(net, eps, 20_000, 2),
                                       g).variance
           for eps in (0.1, 0.025) for crn in (False, True)}
    assert var[(0.025, False)] / var[(0.1, False)] == pytest.approx(16.0, rel=0.15)
    assert var[(0.025, True)] / var[(0.1, True)] == pytest.approx(4.0, rel=0.25)


def test_reinforce_without_baseline_is_unbiased_but_noisier():
    net = _net(3, (2, 2), 17, 3.0, 0.0, 1.0)
    g = exact_gradient(net).gradient
    none = estimator_stats(reinforce(net, 20_000, 5, baseline="none"), g)
    batch = estimator_stats(reinforce(net, 20_000, 5, baseline="batch"), g)
    assert none.p_value > 1e-3 and batch.p_value > 1e-3
    assert batch.variance < none.variance


def test_bias_sweep_is_the_exact_bias_and_vanishes_without_hidden_layers():
    net = _net(3, (3, 3), 8, 8.0, 0.0, 1.0)
    g = exact_gradient(net).gradient
    sweep = bias_sweep(net, grid=[2.0, 8.0, 32.0])
    assert sweep.current_beta_n == 8.0 and sweep.current_beta_sg == 8.0
    ref = np.linalg.norm(stochastic_sg_expectation(net, 32.0) - g) / np.linalg.norm(g)
    assert sweep.stochastic[2] == pytest.approx(ref, rel=1e-12)
    assert sweep.deterministic[0] == pytest.approx(
        np.linalg.norm(deterministic_sg(net, 2.0)[0] - g) / np.linalg.norm(g), rel=1e-12)
    assert sweep.matched[1] == pytest.approx(sweep.stochastic[1], rel=1e-12)  # beta_SG = beta_N = 8
    assert sweep.stochastic[1] > 0.5  # the setting of the tests above: a large bias
    shallow = bias_sweep(EstimatorConfig(hidden1=0, hidden2=0, beta_sg=2.0), grid=[0.5, 16.0])
    np.testing.assert_allclose(shallow.matched, 0.0, atol=1e-12)  # exact when matched (Eq. 6 = Eq. 8)
    assert np.all(shallow.stochastic > 0.1)  # beta_SG != beta_N = 4: wrong magnitude
    assert shallow.current_beta_sg == 2.0


# --- statistics -----------------------------------------------------------------------------------
def test_statistics_match_their_definitions_on_a_hand_made_array():
    samples = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0], [3.0, 2.0]])
    g = np.array([2.0, 1.0])
    st = estimator_stats(samples, g, name="hand")
    np.testing.assert_allclose(st.mean, [3.0, 2.0])
    d = np.array([1.0, 1.0])
    assert st.bias_norm == pytest.approx(math.sqrt(2.0))
    cov = np.array([[8.0 / 3.0, -4.0 / 3.0], [-4.0 / 3.0, 8.0 / 3.0]])  # ddof = 1, by hand
    np.testing.assert_allclose(np.cov(samples, rowvar=False), cov)
    assert st.variance == pytest.approx(16.0 / 3.0)
    assert st.noise_floor == pytest.approx(math.sqrt(16.0 / 3.0 / 4.0))
    assert st.bias_norm_stderr == pytest.approx(math.sqrt(d @ cov @ d / 4.0) / math.sqrt(2.0))
    assert st.bias_norm_debiased == pytest.approx(math.sqrt(2.0 - 16.0 / 12.0))
    assert st.cosine == pytest.approx(8.0 / (math.sqrt(13.0) * math.sqrt(5.0)))
    np.testing.assert_allclose(st.sample_cosines, samples @ g / (np.linalg.norm(samples, axis=1) * math.sqrt(5.0)))
    np.testing.assert_allclose(st.sample_cosines_to_mean,
                               samples @ st.mean / (np.linalg.norm(samples, axis=1) * np.linalg.norm(st.mean)))
    # split-sample test: direction from rows 0-1, t-test on rows 2-3
    v = (samples[:2].mean(axis=0) - g) / np.linalg.norm(samples[:2].mean(axis=0) - g)
    proj = (samples[2:] - g) @ v
    ref = stats.ttest_1samp(proj, 0.0)
    assert st.test.t == pytest.approx(ref.statistic) and st.p_value == pytest.approx(ref.pvalue)
    assert st.test.df == 1


def test_cosines_are_nan_for_zero_vectors():
    st = estimator_stats(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 0.0]))
    assert math.isnan(st.sample_cosines[0]) and st.sample_cosines[1] == pytest.approx(1.0)
    assert math.isnan(estimator_stats(np.ones((4, 2)), np.zeros(2)).cosine)


def test_bias_test_is_calibrated_under_the_null_and_powerful_otherwise():
    rng = np.random.default_rng(9)
    g = np.array([0.5, -1.0, 2.0, 0.0, 0.3])
    a = rng.normal(size=(5, 5))
    chol = a @ a.T / 5 + 0.1 * np.eye(5)
    null = [bias_test(g + rng.normal(size=(60, 5)) @ chol, g).p_value for _ in range(400)]
    assert stats.kstest(null, "uniform").pvalue > 1e-3
    shifted = g + rng.normal(size=(4000, 5)) @ chol + 0.5 * np.array([1, 0, 0, 0, 0])
    assert bias_test(shifted, g).p_value < 1e-6


def test_convergence_is_the_statistics_of_each_prefix():
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(700, 3)) + 0.2
    g = np.array([0.1, 0.3, -0.2])
    conv = convergence(samples, g)
    np.testing.assert_array_equal(conv.n, [10, 30, 100, 300, 700])
    for i, n in enumerate(conv.n):
        st = estimator_stats(samples[:n], g)
        assert conv.bias_norm[i] == pytest.approx(st.bias_norm, rel=1e-10)
        assert conv.noise_floor[i] == pytest.approx(st.noise_floor, rel=1e-8)
        assert conv.cosine[i] == pytest.approx(st.cosine, rel=1e-10)
    shuffled = convergence(samples, g, [300, 10, 10, 700, 37])  # any order, repeats allowed
    for i, n in enumerate(shuffled.n):
        assert shuffled.bias_norm[i] == pytest.approx(np.linalg.norm(samples[:n].mean(axis=0) - g), rel=1e-10)
    with pytest.raises(ValueError, match="prefix sizes"):
        convergence(samples, g, [1, 800])


def test_bias_test_without_variation():
    g = np.array([1.0, -2.0])
    same = np.tile(g + [0.5, 0.0], (20, 1))
    assert bias_test(same, g).p_value == 0.0  # a deterministic estimator off the gradient is biased
    assert math.isnan(bias_test(same, g, random=True).p_value)  # a random one just showed no variation yet
    assert bias_test(np.tile(g, (20, 1)), g, random=True).p_value == 1.0
    # a saturated network: gradient and every sample (numerically) zero is no evidence of bias
    assert bias_test(np.zeros((20, 2)), np.array([1e-200, 0.0]), random=True).p_value == 1.0
    # rare events: finite differences that saw no flip are untestable, not biased
    net = _net(3, (4, 4, 4), 0, 4.0, 0.0, 1.0)
    st = estimator_stats(finite_difference_crn(net, 1e-4, 10, 0), exact_gradient(net).gradient,
                         name="finite_difference_crn")
    assert st.variance == 0.0 and math.isnan(st.p_value)


# --- parameters, network construction and config validation ----------------------------------------
def test_flatten_unflatten_round_trip_and_names():
    net = _net(3, (2, 4), 18, 2.0, 0.0, 1.0)
    flat = _flat(net)
    assert flat.size == net.n_params == 3 * 2 + 2 + 2 * 4 + 4 + 4 + 1
    w, b = unflatten_params(flat, net)
    for got, ref in zip(w + b, net.weights + net.biases, strict=True):
        np.testing.assert_array_equal(got, ref)
    names = param_names(net)
    assert names[:8] == ("W1[0,0]", "W1[0,1]", "W1[0,2]", "W1[1,0]", "W1[1,1]", "W1[1,2]", "b1[0]", "b1[1]")
    assert names[-1] == "bout[0]" and names[-2] == "Wout[0,3]"
    assert flat[names.index("W2[3,1]")] == net.weights[1][3, 1]
    batch = np.stack([flat, 2 * flat])
    wb, _ = unflatten_params(batch, (3, 2, 4))
    np.testing.assert_array_equal(wb[1][1], 2 * net.weights[1])
    with pytest.raises(ValueError, match="expected 25 parameters"):
        unflatten_params(flat[:-1], net)


def test_binary_net_validation_names_the_problem():
    with pytest.raises(ValueError, match=r"W1 must have shape \(units, 2\)"):
        BinaryNet.from_lists([0.1, 0.2], [[[1.0, 2.0, 3.0]], [[1.0]]])
    with pytest.raises(ValueError, match="exactly one unit"):
        BinaryNet.from_lists([0.1], [[[1.0], [2.0]]])
    with pytest.raises(ValueError, match="W1 must hold finite numbers"):
        BinaryNet.from_lists([0.1], [[[math.nan]], [[1.0]]])
    with pytest.raises(ValueError, match="beta_n must be a finite number > 0"):
        BinaryNet.from_lists([0.1], [[[1.0]]], beta_n=-1.0)
    with pytest.raises(ValueError, match=f"at most {MAX_HIDDEN_UNITS} units"):
        random_net(2, (7, 6), seed=0)
    with pytest.raises(ValueError, match=r"bout must have shape \(1,\)"):
        BinaryNet.from_lists([0.1], [[[1.0]], [[1.0]]], [[0.0], [0.0, 1.0]])
    net = BinaryNet.from_lists([0.1], [[[1.0]], [[1.0]]])
    assert net.hidden == (1,) and not net.weights[0].flags.writeable


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"beta_n": math.nan}, r"beta_n must be a finite number in \(0, 1000\]"),
        ({"beta_sg": -1.0}, r"beta_sg must be a finite number in \(0, 1000\]"),
        ({"weight_scale": 0.0}, r"weight_scale must be a finite number in \(0, 1000\]"),
        ({"fd_eps": -0.1}, r"fd_eps must be a finite number in \(0, 10\]"),
        ({"theta": math.inf}, r"theta must be a finite number in \[-1000, 1000\]"),
        ({"samples": 5}, r"samples must be an integer in \[10, 100000\]"),
        ({"n_in": 9}, r"n_in must be an integer in \[1, 8\]"),
        ({"hidden1": 7}, r"hidden1 must be an integer in \[0, 6\]"),
        ({"hidden2": -1}, r"hidden2 must be an integer in \[0, 6\]"),
        ({"hidden1": 6, "hidden2": 6, "hidden3": 1}, r"hidden1 \+ hidden2 \+ hidden3 must be at most 12"),
        ({"seed": -1}, r"seed must be an integer in \[0, "),
        ({"fd_target": "loss"}, "fd_target must be one of output, rate"),
        ({"baseline": "mean"}, "baseline must be one of batch, none"),
    ],
)
def test_config_rejects_invalid_values_naming_the_parameter(values, message):
    with pytest.raises(ValueError, match=message):
        EstimatorConfig(**values)


def test_config_defaults_hidden_layers_and_specs():
    cfg = EstimatorConfig()
    assert cfg.hidden == (3, 3) and cfg.n_in == 4 and cfg.samples == 2000
    assert EstimatorConfig(hidden1=0, hidden2=4).hidden == (4,)  # a 0-unit layer is left out
    assert EstimatorConfig.with_hidden(()).hidden == ()
    assert EstimatorConfig.with_hidden((6, 6)).hidden == (6, 6)
    with pytest.raises(ValueError, match="at most 3 layer sizes"):
        EstimatorConfig.with_hidden((1, 1, 1, 1))
    names = [p.name for p in ESTIMATOR_PARAMS]
    assert len(names) == len(set(names))
    assert {f.name for f in dataclasses.fields(EstimatorConfig)} == set(names)
    assert EstimatorConfig.from_mapping({"beta_n": 2, "other": 1}).beta_n == 2.0


def test_estimator_functions_validate_arguments():
    net = _net(2, (1,), 0, 2.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="beta_sg must be a finite number > 0"):
        stochastic_sg(net, 0.0, 10)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        finite_difference(net, math.nan, 10)
    with pytest.raises(ValueError, match="target must be one of output, rate"):
        finite_difference_crn(net, 0.1, 10, target="y")
    with pytest.raises(ValueError, match="baseline must be one of batch, none"):
        reinforce(net, 10, baseline="loo")
    with pytest.raises(ValueError, match="samples must be an integer"):
        stochastic_sg(net, 1.0, 2.5)
    with pytest.raises(ValueError, match="estimator must be one of"):
        estimator_samples("autograd", net, 10)


# --- the page view and the CLI dict ------------------------------------------------------------------
def test_view_at_defaults():
    view = estimator_view(EstimatorConfig())
    assert set(view.stats) == set(ESTIMATORS) == set(view.convergence)
    assert view.exact_expected_output == pytest.approx(exact_expected_output(view.net))
    assert abs(view.mc_expected_output - view.exact_expected_output) < 5 * view.mc_expected_output_stderr
    assert view.tree is not None and view.tree.expected_output == pytest.approx(view.exact_expected_output)
    assert view.stats["deterministic_sg"].variance == 0.0
    assert view.stats["stochastic_sg"].sample_cosines.shape == (2000,)
    assert view.convergence["reinforce"].n[-1] == 2000
    assert len(view.param_names) == view.exact_gradient.size == 31
    assert view.stochastic_sg_bias_norm == pytest.approx(
        np.linalg.norm(stochastic_sg_expectation(view.net, 4.0) - view.exact_gradient))
    again = estimator_view(EstimatorConfig())
    np.testing.assert_array_equal(again.stats["finite_difference"].mean, view.stats["finite_difference"].mean)


def test_view_accepts_a_hand_made_net_and_notes_exactness():
    net = BinaryNet.from_lists([0.3, 0.9], [[[0.5, -1.0]]], [[0.2]], beta_n=3.0)
    view = estimator_view(EstimatorConfig(beta_sg=3.0, samples=50), net)
    assert view.net is net and view.tree.paths.shape == (1, 0)
    assert view.stats["stochastic_sg"].bias_norm < 1e-14
    assert any("exact gradient" in n for n in view.notes)


def test_view_verdict_on_the_stochastic_sg():
    view = estimator_view(EstimatorConfig(samples=200))  # two layers of 3 units: biased
    assert view.exact_gradient_norm == pytest.approx(np.linalg.norm(view.exact_gradient), rel=1e-15)
    assert view.stochastic_sg_relative_bias == view.stochastic_sg_bias_norm / view.exact_gradient_norm
    assert view.stochastic_sg_relative_bias > SG_EXACT_TOLERANCE and not view.stochastic_sg_is_exact
    assert view.n_paths == 2**6 == spike_patterns(view.net.hidden) == spike_patterns([3, 3, 0])
    matched = estimator_view(EstimatorConfig.with_hidden((), beta_n=4.0, beta_sg=4.0, samples=50))
    assert matched.stochastic_sg_is_exact and matched.n_paths == 1  # Eq. 6 = Eq. 8
    assert matched.stochastic_sg_relative_bias < SG_EXACT_TOLERANCE
    scaled = estimator_view(EstimatorConfig.with_hidden((), beta_n=4.0, beta_sg=1.0, samples=50))
    assert not scaled.stochastic_sg_is_exact and scaled.stochastic_sg_relative_bias > 0.1  # a mismatched SD
    saturated = BinaryNet.from_lists([1.0], [[[1000.0]]], [[0.0]], beta_n=4.0)
    flat = estimator_view(EstimatorConfig(beta_sg=1.0, samples=50), saturated)
    assert flat.exact_gradient_norm == 0.0 and math.isnan(flat.stochastic_sg_relative_bias)
    assert not flat.stochastic_sg_is_exact


def test_estimator_verdicts_in_words():
    g = np.array([1.0, -2.0])
    rng = np.random.default_rng(5)
    assert estimator_stats(np.tile(g, (20, 1)), g).verdict == "exact"
    assert estimator_stats(np.tile(g + [0.5, 0.0], (20, 1)), g).verdict == "biased (exact)"
    assert estimator_stats(g + 1.0 + rng.standard_normal((400, 2)), g).verdict == "biased"
    unbiased = estimator_stats(g + rng.standard_normal((400, 2)), g)
    assert unbiased.p_value > BIAS_ALPHA and unbiased.verdict == "not detected"
    at = dataclasses.replace(unbiased, test=BiasTest(2.0, 199, BIAS_ALPHA, False))  # the level itself: not below
    assert BIAS_ALPHA == 0.01 and at.verdict == "not detected"
    assert dataclasses.replace(at, test=BiasTest(2.7, 199, 0.0099, False)).verdict == "biased"
    assert dataclasses.replace(at, test=BiasTest(math.nan, 9, math.nan, False)).verdict == "too few events"


def test_serialised_view_is_plain_json_with_the_weights_shapes():
    cfg = EstimatorConfig(hidden1=2, hidden2=0, hidden3=3, samples=200)
    out = view_to_dict(estimator_view(cfg), EstimatorView.CLI_FIELDS)
    json.dumps(out, allow_nan=False)
    assert {"input", "weights", "biases", "beta_n", "theta"} == set(out["net"])
    assert {"expected_output", "weights", "biases", "gradient"} <= set(out["exact"])
    assert out["exact_expected_output"] == out["exact"]["expected_output"]
    assert set(out["stats"]) == set(ESTIMATORS)
    shapes = [np.shape(w) for w in out["net"]["weights"]]
    assert shapes == [(2, 4), (3, 2), (1, 3)]
    assert [np.shape(w) for w in out["exact"]["weights"]] == shapes
    for est in out["stats"].values():
        assert [np.shape(w) for w in est["mean_weights"]] == shapes
        assert {"mean", "bias_norm", "bias_norm_stderr", "variance", "cosine"} <= set(est)
    assert out["stats"]["deterministic_sg"]["variance"] == 0.0
    assert len(out["net"]["input"]) == 4 and all(0.0 <= v <= 1.0 for v in out["net"]["input"])


# --- the network's escape noise is the registry family ------------------------------------------------
def test_firing_probability_is_the_sigmoid_escape_family_bit_for_bit():
    """p = ESCAPE_FAMILIES['sigmoid'] = F(s v) of the registry equals expit(beta_N v) exactly, and the
    enumerated E[y] equals a hand-written expit enumeration."""
    from sgcore.estimators import ESCAPE_FAMILY, _rate
    from sgcore.lif import escape_shape

    net = random_net(3, (2, 2), seed=6, beta_n=7.0)
    assert ESCAPE_FAMILY == "sigmoid" and escape_shape(ESCAPE_FAMILY).name == "sigmoid"
    v = np.linspace(-9.0, 9.0, 181)
    np.testing.assert_array_equal(_rate(net, v), special.expit(7.0 * v))
    total = 0.0
    for bits in itertools.product([0.0, 1.0], repeat=4):
        h1, h2 = np.array(bits[:2]), np.array(bits[2:])
        p1 = special.expit(7.0 * (net.weights[0] @ net.x + net.biases[0] - net.theta))
        p2 = special.expit(7.0 * (net.weights[1] @ h1 + net.biases[1] - net.theta))
        po = special.expit(7.0 * (net.weights[2][0] @ h2 + net.biases[2][0] - net.theta))
        total += np.prod(np.where(h1 > 0, p1, 1 - p1)) * np.prod(np.where(h2 > 0, p2, 1 - p2)) * po
    assert exact_expected_output(net) == pytest.approx(total, rel=1e-13)


def test_a_scratch_escape_family_drives_the_network(monkeypatch):
    """Switch the network to a registered scratch family (Gaussian threshold noise under a new name): the
    sampled outputs follow the enumerated E[y] of that family (5 standard errors), the tree and the joint
    enumeration agree, and E[y] differs from the sigmoid network's."""
    from sgcore.escape import EscapeFamily, registered_family
    from sgcore.estimators import network as estimators  # ESCAPE_FAMILY lives there

    net = random_net(3, (3,), seed=2, beta_n=3.0, weight_scale=1.5)
    sig = exact_expected_output(net)
    with registered_family(EscapeFamily("probit", "Probit", "gaussian", "normal", "p", "xi")):
        monkeypatch.setattr(estimators, "ESCAPE_FAMILY", "probit")
        ey = exact_expected_output(net)
        assert spike_tree(net).expected_output == pytest.approx(ey, rel=1e-12)
        assert abs(ey - sig) > 1e-3
        k = 40_000
        y = sample_outputs(net, k, 5)
        assert abs(y.mean() - ey) < 5 * math.sqrt(ey * (1 - ey) / k)


# --- bounded work (issue 16, item 4) ------------------------------------------------------------------------------
def test_config_refuses_samples_beyond_the_work_bound_naming_the_product():
    # each value inside its domain, together 100000 x 103 = 1.0e7 estimates per estimator (about 5 s)
    with pytest.raises(ValueError, match=r"samples x n_params = 1\.0e\+07 exceeds 4e\+06; lower samples, or use "
                                         r"fewer inputs or hidden units"):
        EstimatorConfig(n_in=8, hidden1=6, hidden2=6, samples=100_000)
    EstimatorConfig(n_in=8, hidden1=6, hidden2=6, samples=20_000)  # every slider at its top: 2.1e6
    EstimatorConfig(samples=100_000)  # the default network (31 parameters) at the domain's top: 3.1e6


@pytest.mark.parametrize("hidden", [(), (2,), (3, 3), (6, 6), (4, 4, 4), (6, 3, 3)])
@pytest.mark.parametrize("n_in", [1, 8])
def test_config_counts_the_parameters_of_the_network_it_draws(n_in, hidden):
    cfg = EstimatorConfig.with_hidden(hidden, n_in=n_in, samples=10)
    assert cfg.n_params == cfg.net().n_params


def test_page_defaults_and_presets_stay_inside_the_work_bound():
    from sgcore.pages import PAGES

    EstimatorConfig()
    presets = PAGES["estimators"].presets
    assert presets
    for values in presets.values():
        EstimatorConfig.from_mapping(values)
