"""Minibatches/s of the classification engine (sgcore.classify) against the autograd reference loop.

Run: python bench/bench_classify.py            (a table: engine vs reference, float32 both, one thread,
                                                 alternating rounds, best round each)
     python -m pytest bench/bench_classify.py --benchmark-only   (pytest-benchmark; no timing asserts)

One minibatch = forward + backward (+ a SMORMS3 step for the engine). Quick-demo network: 40 inputs, one hidden
layer of 128 (feed-forward and recurrent), 10 classes, 50 steps, minibatch 64, SuperSpike SD, max-over-time
loss with the regulariser. Goal: the engine >= 5x the reference. ``--shd`` adds SHD-sized networks (Table 3's
sizes): dense recurrent layers and the paper's recurrent ConvSNN.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pytest
import torch

from sgcore.classify import SMORMS3, BackwardConfig, NetSpec, Workspace, forward_backward, init_params
from sgcore.classify.reference import reference_forward_backward

BATCH = 64
WS = Workspace()


def _problem(recurrent: bool, stochastic: bool = False, hidden: tuple[int, ...] = (128,), n_in: int = 40,
             n_classes: int = 10, steps: int = 50, batch: int = BATCH, p_spike: float = 0.1, **net):
    """``net``: further NetSpec fields (``layers="conv"`` with its geometry)."""
    spec = NetSpec(n_in=n_in, hidden=hidden, n_classes=n_classes, steps=steps, dt_ms=2.0, recurrent=recurrent,
                   stochastic=stochastic, **net)
    rng = np.random.default_rng(0)
    params = init_params(spec, rng, input_rate_hz=50.0)
    x = (rng.random((batch, spec.steps, spec.n_in)) < p_spike).astype(np.float32)
    y = rng.integers(0, spec.n_classes, batch)
    return spec, params, x, y


def _engine_step(spec, params, x, y, cfg, rng, opt):
    _, grads, _ = forward_backward(params, x, y, spec, cfg, rng, workspace=WS)
    opt.step(params, grads)


def _reference_step(spec, params, x, y, cfg, rng):
    reference_forward_backward(params, x, y, spec, cfg, rng, dtype=torch.float32)


def _interleaved(fa, fb, rounds: int, seconds: float) -> tuple[float, float]:
    """Calls/s of fa and fb, measured in alternating rounds of ~``seconds`` each (a shared, loaded machine
    slows both alike); the best round of each (the least disturbed) counts."""
    fa(), fb()  # warm-up
    best = [0.0, 0.0]
    for _ in range(rounds):
        for i, fn in enumerate((fa, fb)):
            n, t0 = 0, time.perf_counter()
            while True:
                fn()
                n += 1
                dt = time.perf_counter() - t0
                if dt >= seconds and n >= 2:
                    break
            best[i] = max(best[i], n / dt)
    return best[0], best[1]


NETWORKS = (
    # the page's quick demo: Randman 40 units x 50 steps (one spike per unit), 128 hidden, 10 classes, minibatch 32
    ("quick demo, deterministic", dict(recurrent=False, batch=32, p_spike=0.02)),
    ("quick demo, stochastic", dict(recurrent=False, stochastic=True, batch=32, p_spike=0.02)),
    ("feed-forward 40-128-10", dict(recurrent=False)),
    ("feed-forward 40-64-10", dict(recurrent=False, hidden=(64,))),
    ("stochastic ff 40-128-10", dict(recurrent=False, stochastic=True)),
    ("recurrent 40-128(rec)-10", dict(recurrent=True)),
    ("recurrent 40-64(rec)-10", dict(recurrent=True, hidden=(64,))),
    ("recurrent 40-128-64-32-10", dict(recurrent=True, hidden=(128, 64, 32))),
)


#: SHD-sized (Table 3: 700 inputs, 350 steps, minibatch 400, 20 classes), with dense recurrent layers instead of the
#: paper's convolutional ones; ~1 % input spikes per bin.
SHD_SIZED = ("SHD-sized recurrent 700-128x3-20, mb 400",
             dict(recurrent=True, hidden=(128, 128, 128), n_in=700, n_classes=20, steps=350, batch=400,
                  p_spike=0.01))
#: The paper's network (Methods 8.4.2, Table 3): the recurrent ConvSNN, 16-32-64 channels of 68-21-5 features
#: (1088-672-320 neurons; kernels 21-7-7, strides 10-3-3, recurrent kernel 5), same data sizes.
SHD_CONV = ("SHD ConvSNN 700-16x68-32x21-64x5(rec)-20, mb 400",
            dict(recurrent=True, layers="conv", n_in=700, n_classes=20, steps=350, batch=400, p_spike=0.01))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="time per round")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per network (best counts)")
    ap.add_argument("--shd", action="store_true",
                    help="add the SHD-sized dense and ConvSNN networks (slow: seconds per minibatch)")
    ap.add_argument("--only-shd", action="store_true", help="only the SHD-sized networks")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = BackwardConfig()
    print(f"minibatch {BATCH} unless named, 50 steps, float32, 1 thread; minibatches/s (forward + backward, engine + "
          "SMORMS3)")
    print(f"{'network':50s} {'engine':>9s} {'reference':>10s} {'speed-up':>9s}")
    shd = (SHD_SIZED, SHD_CONV) if args.shd or args.only_shd else ()
    for label, kw in (*(() if args.only_shd else NETWORKS), *shd):
        spec, params, x, y = _problem(**kw)
        rng = np.random.default_rng(1)
        opt = SMORMS3(lr=1e-3)
        e, r = _interleaved(lambda: _engine_step(spec, params, x, y, cfg, rng, opt),  # noqa: B023
                            lambda: _reference_step(spec, params, x, y, cfg, rng),  # noqa: B023
                            args.rounds, args.seconds)
        print(f"{label:50s} {e:9.{2 if e >= 1 else 3}f} {r:10.{2 if r >= 1 else 3}f} {e / r:8.1f}x", flush=True)


# ------------------------------------------------------------------------------------------------
# pytest-benchmark
# ------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("recurrent", [False, True])
def test_engine_minibatch(benchmark, recurrent):
    spec, params, x, y = _problem(recurrent)
    cfg, rng, opt = BackwardConfig(), np.random.default_rng(1), SMORMS3(lr=1e-3)
    benchmark.pedantic(_engine_step, args=(spec, params, x, y, cfg, rng, opt), rounds=20, warmup_rounds=2)
    benchmark.extra_info["minibatches_per_second"] = 1.0 / benchmark.stats.stats.mean


@pytest.mark.parametrize("recurrent", [False, True])
def test_reference_minibatch(benchmark, recurrent):
    spec, params, x, y = _problem(recurrent)
    cfg, rng = BackwardConfig(), np.random.default_rng(1)
    benchmark.pedantic(_reference_step, args=(spec, params, x, y, cfg, rng), rounds=5, warmup_rounds=1)
    benchmark.extra_info["minibatches_per_second"] = 1.0 / benchmark.stats.stats.mean


if __name__ == "__main__":
    main()
