"""Classification with stochastic and deterministic SNNs (Gygax & Zenke 2024, Sec. 5-6, Fig. 7, S1, Methods 8.4.2).

* :mod:`.data` -- the datasets: Randman (seeded random manifolds) and the Spiking Heidelberg Digits (HDF5) as
  spike-count rasters with a seeded split;
* :mod:`.engine` -- a dense (optionally recurrent) LIF network with a non-spiking leaky readout, max-over-time
  cross-entropy and the activity regulariser, forward and explicit backward;
* :mod:`.optim` -- SMORMS3, Adam and gradient descent;
* :mod:`.reference` -- a float64 autograd time loop of the same network (imported on demand: it loads torch).
"""

from .data import (
    RANDMAN_DT_MS,
    RANDMAN_PARAMS,
    SHD_UNITS,
    Dataset,
    RandmanConfig,
    RandmanManifolds,
    load_shd,
    load_shd_pair,
    randman,
    randman_manifold,
)
from .engine import (
    LOSSES,
    BackwardConfig,
    NetSpec,
    Noise,
    Workspace,
    forward_backward,
    init_params,
    param_names,
    predict,
)
from .optim import OPTIMIZERS, SMORMS3, Adam, GradientDescent, make_optimizer

__all__ = ["LOSSES", "OPTIMIZERS", "RANDMAN_DT_MS", "RANDMAN_PARAMS", "SHD_UNITS", "SMORMS3", "Adam",
           "BackwardConfig", "Dataset", "GradientDescent", "NetSpec", "Noise", "RandmanConfig", "RandmanManifolds",
           "Workspace", "forward_backward", "init_params", "load_shd", "load_shd_pair", "make_optimizer",
           "param_names", "predict", "randman", "randman_manifold"]
