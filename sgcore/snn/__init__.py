"""Fast feed-forward LIF network trainer: spike-train matching (Gygax & Zenke 2024, Fig. 6).

A network ``n_in -> n_hidden -> n_out`` of current-based LIF neurons (Gygax & Zenke Methods 8.1,
Eqs. 21-22) learns to turn frozen Poisson input into a target raster. Discrete time, ``n = 0..T-1``::

    I[n+1] = lambda_s I[n] + W S_in[n]
    U[n+1] = lambda_m U[n] (1 - S[n]) + (1 - lambda_m) I[n]          reset "same" (Methods 8.4.1)
    U[n+1] = (lambda_m U[n] + (1 - lambda_m) I[n]) (1 - S[n])        reset "next" (Eq. 21)
    S[n]   = H(U[n] - theta)                                          deterministic (Eq. 15)
    S[n]   ~ Ber(sigma(beta (U[n] - theta)))                          stochastic (Eqs. 16-17)

with ``lambda = exp(-dt / tau)``, ``U[0] = I[0] = 0`` and ``H(0) = 0`` (a spike needs ``U > theta``). The
stochastic neuron is simulated as a noisy threshold (Methods Eq. 25): ``S = H(U - theta - logit(r) / beta)``
with ``r ~ U(0, 1)``, which is exactly ``Ber(sigma(beta (U - theta)))``.

Surrogate derivatives (Table 2 and Section 5): the deterministic network uses SuperSpike
``h(x) = 1 / (beta |x| + 1)^2`` (registry ``superspike``, peak scaling, i.e. the fast-sigmoid derivative scaled
by 1/beta), beta = 10. The stochastic network uses the derivative of its escape noise, ``sigma'_beta(x) =
beta sigma(beta x) (1 - sigma(beta x))`` (registry ``sigmoid``, density scaling, peak beta/4), with beta_SG = 10
in both layers as Table 2 lists it; ``match_escape=True`` uses each layer's own escape steepness instead
(hidden beta_hid, output beta_out).

Losses (Methods 8.4.1; see :func:`l2_distance` and :func:`van_rossum_distance` for the normalisation):
training minimises the L2 loss ``(1/N) sum_i sum_n (S_i[n] - S^_i[n])^2``, whose ``N`` the paper does not
define. We take ``N`` = the number of trials (the paper's mini-batch size is 1 and the stochastic update is
the average over 10 trials), i.e. the number of wrong bins per trial. With the per-bin mean instead, the
paper's plain gradient descent at eta = 1e-5..1e-4 (Table 2) would barely move the weights in 5000 epochs.

Backward methods: ``sg`` (any registry shape and scaling), ``localzo`` (the LocalZO estimate
``mean_k |z_k|^alpha / (2 delta) 1[|U - theta| <= delta |z_k|]``, Mukhoty et al. Eqs. 7-8, in place of the SD)
and ``sparsegrad`` (the SD kept only where ``|U - theta| < B_th``). The same derivative is used in the reset
term when the reset is back-propagated.

Modules, one job each (every public name is re-exported here, import from :mod:`sgcore.snn`):

* :mod:`.trace` -- the single-neuron view (:func:`lif_trace`, a loop over :func:`sgcore.lif.lif_step`);
* :mod:`.inputs` -- frozen Poisson input, the fluctuation-driven weight scale, the default target raster;
* :mod:`.fluctuation` -- the realised membrane fluctuation at initialisation against its target sigma_U and the
  discrete-time prediction (:func:`init_fluctuation`, :func:`discrete_fluctuation`);
* :mod:`.metrics` -- L2 and van Rossum distances, the alpha kernel, Fano factors;
* :mod:`.backward` -- the registry of backward methods (:data:`BACKWARDS`: sg, localzo, sparsegrad);
* :mod:`.config` -- declared parameters, :class:`TrainConfig` and the presets;
* :mod:`.engine` -- the fast in-place forward / explicit backward on (T, B, N) buffers, :func:`forward_backward`;
* :mod:`.trainer` -- :class:`Trainer`, its :class:`History` and :func:`train`.

The neuron itself (parameters, spike rule, escape noise, one step) is :mod:`sgcore.lif`.
"""

from __future__ import annotations

from ..lif import LIF_PARAMS, LIFParams
from .backward import (
    BACKWARDS,
    BackwardMethod,
    register_backward,
    registered_backward,
    unregister_backward,
)
from .backward import (
    _sd_inplace as _sd_inplace,  # tests check the SD kernels
)
from .config import PRESET_EPOCHS, PRESETS, TRAIN_PARAMS, TrainConfig, preset
from .engine import forward_backward
from .fluctuation import (
    FLUCTUATION_FIELDS,
    TARGET_SIGMA_U,
    InitFluctuation,
    LayerFluctuation,
    discrete_fluctuation,
    fluctuation_config,
    init_fluctuation,
    psp_kernel,
    psp_kernel_sums,
)
from .inputs import default_target, fluctuation_sigma, poisson_input
from .metrics import alpha_kernel, fano_factor, l2_distance, van_rossum_distance
from .trace import LIF_TRACE_PARAMS, lif_trace
from .trainer import HISTORY_CAP, History, LastPass, Trainer, train

__all__ = [
    "BACKWARDS",
    "BackwardMethod",
    "FLUCTUATION_FIELDS",
    "HISTORY_CAP",
    "LIF_PARAMS",
    "LIF_TRACE_PARAMS",
    "LIFParams",
    "PRESETS",
    "PRESET_EPOCHS",
    "TARGET_SIGMA_U",
    "TRAIN_PARAMS",
    "History",
    "InitFluctuation",
    "LastPass",
    "LayerFluctuation",
    "TrainConfig",
    "Trainer",
    "alpha_kernel",
    "default_target",
    "discrete_fluctuation",
    "fano_factor",
    "fluctuation_config",
    "fluctuation_sigma",
    "forward_backward",
    "init_fluctuation",
    "l2_distance",
    "lif_trace",
    "poisson_input",
    "preset",
    "psp_kernel",
    "psp_kernel_sums",
    "register_backward",
    "registered_backward",
    "train",
    "unregister_backward",
    "van_rossum_distance",
]
