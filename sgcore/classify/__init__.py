"""Classification with stochastic and deterministic SNNs (Gygax & Zenke 2024, Sec. 5-6, Fig. 7, S1, Methods 8.4.2).

* :mod:`.data` -- the datasets: Randman (seeded random manifolds) and the Spiking Heidelberg Digits (HDF5) as
  spike-count rasters with a seeded split;
* :mod:`.engine` -- a dense (optionally recurrent) LIF network with a non-spiking leaky readout, max-over-time
  cross-entropy and the activity regulariser, forward and explicit backward;
* :mod:`.optim` -- SMORMS3, Adam and gradient descent;
* :mod:`.config` -- the settings of one training (:class:`ClassifyConfig`, :func:`classify_preset`);
* :mod:`.trainer` -- :class:`Classifier`, one network trained and probed step by step, with npz checkpoints;
* :mod:`.reference` -- a float64 autograd time loop of the same network (imported on demand: it loads torch).
"""

from .config import CLASSIFY_PARAMS, CLASSIFY_PRESETS, EPOCH_WORK, ClassifyConfig, classify_preset
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
    LAYER_KINDS,
    LOSSES,
    BackwardConfig,
    NetSpec,
    Noise,
    Workspace,
    fluctuation_sds,
    forward_backward,
    init_params,
    param_names,
    param_shapes,
    predict,
)
from .optim import OPTIMIZERS, SMORMS3, Adam, GradientDescent, make_optimizer
from .trainer import Classifier, GradientTrials, train_classifier

__all__ = ["CLASSIFY_PARAMS", "CLASSIFY_PRESETS", "EPOCH_WORK", "LAYER_KINDS", "LOSSES", "OPTIMIZERS", "RANDMAN_DT_MS",
           "RANDMAN_PARAMS", "SHD_UNITS", "SMORMS3", "Adam", "BackwardConfig", "Classifier", "ClassifyConfig",
           "Dataset", "GradientDescent", "GradientTrials", "NetSpec", "Noise", "RandmanConfig", "RandmanManifolds",
           "Workspace", "classify_preset", "fluctuation_sds", "forward_backward", "init_params", "load_shd",
           "load_shd_pair", "make_optimizer", "param_names", "param_shapes", "predict", "randman",
           "randman_manifold", "train_classifier"]
