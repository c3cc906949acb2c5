"""Server-time benchmarks of page reruns and of the computations behind them.

Run: python -m pytest bench --benchmark-only   (not part of the test suite: no timing asserts)
"""

import itertools
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from sgcore import EscapeConfig, escape_view
from sgcore.figures import escape_figures, localzo_figures
from sgcore.localzo import LocalZOConfig, localzo_view
from sgcore.pages import PAGES

ROOT = Path(__file__).resolve().parents[1]


PROBED = [page for page in PAGES.content() if page.probe]


def _probe_values(page) -> list:
    """More values than a page's caches hold, spread over the probe slider's range (the registry's spec)."""
    spec = next(s for s in page.specs if s.name == page.probe)
    lo, hi = spec.slider
    return [round(float(v), 2) for v in np.linspace(lo, hi, 97)]


def _page(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(path)
    return at.run()


@pytest.mark.parametrize("page", PROBED, ids=[page.key for page in PROBED])
def test_rerun_probe_move(benchmark, page):
    """One rerun of each page after a move of its probe slider (a new configuration: cache miss) at defaults."""
    app = _page(page.path)
    values = itertools.cycle(_probe_values(page))

    def move():
        app.slider(key=page.probe).set_value(next(values)).run()

    benchmark.pedantic(move, rounds=25, iterations=1, warmup_rounds=2)
    assert not app.exception


@pytest.mark.parametrize("page", PROBED, ids=[page.key for page in PROBED])
def test_compute_views_at_defaults(benchmark, page):
    """sgcore alone: every computation a page draws (the registry's computes) at default settings."""
    benchmark(lambda: [compute.run() for compute in page.computes])


@pytest.fixture
def escape_app():
    return _page(PAGES["escape"].path)


def test_escape_rerun_same_state(benchmark, escape_app):
    """A rerun that changes nothing (cache hit)."""
    benchmark.pedantic(escape_app.run, rounds=60, warmup_rounds=3)
    assert not escape_app.exception


def test_escape_compute_and_figures(benchmark):
    """sgcore alone: escape_view + escape_figures at defaults."""
    cfg = EscapeConfig()
    benchmark(lambda: escape_figures(escape_view(cfg)))


def test_escape_compute_max_samples(benchmark):
    """Upper bound of one request: the largest slider values."""
    cfg = EscapeConfig(n_samples=200_000, n_trials=200, n_inputs=200, n_points=2001)
    benchmark(lambda: escape_figures(escape_view(cfg)))


def test_signflip_compute_and_figures(benchmark):
    from sgcore.figures import signflip_figures
    from sgcore.signflip import SignflipConfig, signflip_view

    cfg = SignflipConfig()
    benchmark(lambda: signflip_figures(signflip_view(cfg)))


@pytest.fixture
def loop_app():
    return _page(PAGES["loop"].path)


def test_loop_rerun_curl_beta_move(benchmark, loop_app):
    """A curl-map slider recomputes only the curl part."""
    values = itertools.cycle([0.5 + 0.5 * i for i in range(60)])

    def move():
        loop_app.slider(key="curl_beta_sg").set_value(next(values)).run()

    benchmark.pedantic(move, rounds=30, warmup_rounds=2)
    assert not loop_app.exception


@pytest.mark.parametrize("source,target,dist", [("distribution", "sigmoid", "logistic"),
                                                ("surrogate", "sigmoid", "normal"),
                                                ("surrogate", "gaussian", "normal")])
def test_localzo_compute_and_figures(benchmark, source, target, dist):
    """sgcore alone for a delta move: quadrature distribution, tabulated and analytic Theorem 3 samplers."""
    alpha = "-1" if target == "gaussian" else "1"
    deltas = itertools.cycle(np.round(np.linspace(0.1, 1.9, 97), 2))

    def run():
        cfg = LocalZOConfig(source=source, target=target, dist=dist, alpha=alpha, delta=float(next(deltas)))
        localzo_figures(localzo_view(cfg))

    benchmark.pedantic(run, rounds=15, iterations=1, warmup_rounds=2)


@pytest.mark.parametrize("hidden,samples", [((3, 3), 2000), ((6, 6), 2000), ((4, 4, 4), 20000)])
def test_estimators_compute_and_figures(benchmark, hidden, samples):
    """sgcore alone per beta_SG move: enumeration, five estimators, statistics, sweep and figures."""
    from sgcore.estimators import EstimatorConfig, bias_sweep, estimator_view
    from sgcore.figures import estimator_figures

    betas = itertools.cycle(np.round(np.linspace(0.5, 12.0, 116), 1))

    def run():
        cfg = EstimatorConfig.with_hidden(hidden, samples=samples, beta_sg=float(next(betas)))
        view = estimator_view(cfg)
        estimator_figures(view, bias_sweep(view.net, cfg.beta_sg))

    benchmark.pedantic(run, rounds=8, iterations=1, warmup_rounds=1)


@pytest.fixture
def design_app():
    return _page(PAGES["design"].path)


def test_design_rerun_calculator_move(benchmark, design_app):
    """Surrogate-design page: an n_rec move reruns the calculator and its two simulated layers."""
    values = itertools.cycle(range(50, 300, 7))

    def move():
        design_app.slider(key="i_n_rec").set_value(int(next(values))).run()

    benchmark.pedantic(move, rounds=20, iterations=1, warmup_rounds=2)
    assert not design_app.exception
