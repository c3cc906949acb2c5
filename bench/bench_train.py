"""Training-speed benchmarks of sgcore.snn: one epoch = forward + explicit backward + update.

Run: python -m pytest bench/bench_train.py --benchmark-only   (not part of the test suite: no timing asserts)

Single-threaded (torch.set_num_threads(1); NumPy's elementwise loops are single-threaded and every matmul
goes through torch). Goals at the paper's size (200-200-200, 189 steps): >= 150 epochs/s deterministic,
>= 30 epochs/s stochastic with 10 trials batched. Times are per epoch (each round calls ``Trainer.step(1)``
``EPOCHS`` times), so epochs/s = 1 / mean (the OPS column; also in extra_info).
"""

import numpy as np
import pytest
import torch

from sgcore.snn import Trainer, default_target, preset

EPOCHS = 20


@pytest.fixture(autouse=True)
def single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _trainer(network: str, **overrides) -> Trainer:
    cfg = preset("paper", network, **overrides)
    tr = Trainer(cfg, default_target(cfg.n_out, cfg.n_steps))
    tr.step(3)  # warm-up
    return tr


def _run(benchmark, tr: Trainer, rounds: int = 15) -> None:
    benchmark.pedantic(tr.step, rounds=rounds, iterations=EPOCHS, warmup_rounds=1)
    benchmark.extra_info["epochs_per_second"] = 1.0 / benchmark.stats.stats.mean
    assert np.isfinite(tr.history.l2[-1])


@pytest.mark.parametrize("reset,backprop_reset", [("same", False), ("same", True), ("next", False)])
def test_epochs_deterministic_paper_size(benchmark, reset, backprop_reset):
    """Deterministic network, SuperSpike SD, plain gradient descent (paper Fig. 6 settings)."""
    _run(benchmark, _trainer("deterministic", reset=reset, backprop_reset=backprop_reset))


@pytest.mark.parametrize("trials", [10])
def test_epochs_stochastic_paper_size(benchmark, trials):
    """Stochastic network, 10 trials batched, sigma' SD, plain gradient descent (paper Fig. 6 settings)."""
    _run(benchmark, _trainer("stochastic", trials=trials))


@pytest.mark.parametrize("backward", ["localzo", "sparsegrad"])
@pytest.mark.parametrize("network", ["deterministic", "stochastic"])
def test_epochs_other_backward_methods(benchmark, network, backward):
    """LocalZO (normal z, m = 1) and SparseGrad at the paper's size."""
    _run(benchmark, _trainer(network, backward=backward))


def test_epochs_adam_generic_shape(benchmark):
    """Adam and a registry shape without a hand-written kernel (torch fallback for the SD)."""
    _run(benchmark, _trainer("deterministic", optimizer="adam", lr=1e-3, shape="atan"))


@pytest.mark.parametrize("network", ["deterministic", "stochastic"])
def test_epochs_server_caps(benchmark, network):
    """Largest accepted configuration (400-400-400, 400 steps, 32 trials): the cost of one request's epoch."""
    tr = _trainer(network, n_in=400, n_hidden=400, n_out=400, n_steps=400, trials=32)
    benchmark.pedantic(tr.step, rounds=5, iterations=2, warmup_rounds=1)
    benchmark.extra_info["state_megabytes"] = tr.state_bytes() / 1e6
