"""Classification with a dense (optionally recurrent) LIF network, max-over-time readout and SMORMS3
(Gygax & Zenke 2024, Sec. 5-6, Methods 8.4.2): the fast engine (:mod:`.engine`), the optimisers (:mod:`.optim`)
and a float64 autograd reference (:mod:`.reference`, imported on demand: it loads torch)."""

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

__all__ = ["LOSSES", "OPTIMIZERS", "SMORMS3", "Adam", "BackwardConfig", "GradientDescent", "NetSpec", "Noise",
           "Workspace", "forward_backward", "init_params", "make_optimizer", "param_names", "predict"]
