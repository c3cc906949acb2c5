"""Surrogate-gradient design: gallery, library translation, Eq. 2 and the LIF initialisation Conditions I-IV.

Herranz-Celotti & Rouat, "Surrogate Gradients Design". A surrogate derivative (SD) is
``sigma'(v) = gamma f(s v)`` with ``v = y - thr`` the centred voltage, ``f`` a registry standard form
(peak 1, unit area, Table S1), ``gamma`` the dampening and ``s`` the sharpness (an *inverse* width,
although Sec. 2.2 calls it the width). This package re-exports the public API of its modules:

* :mod:`.gallery` -- peak, area, ``int f^2`` and the tail moment ``int v^2 f`` of every registry shape
  (finite or infinite, decided from the measured power-law decay of ``v^2 f``), all by quadrature
  (:mod:`._numerics`), next to the closed forms derived in :mod:`.closed_forms` (:data:`CLOSED_FORMS`);
* :mod:`.translations` -- popular presets of snnTorch, SpikingJelly and Norse in our ``(shape, gamma, s)``
  terms, each derived from what the library's code back-propagates (:data:`TRANSLATIONS`, :data:`UNMAPPABLE`,
  :data:`NAME_COLLISIONS`);
* :mod:`.eq2` -- Eq. 2, ``E[sigma'^2]`` for ``y`` uniform on ``[y_min, y_max]`` (so ``v`` uniform on
  ``[y_min - thr, y_max - thr]``), by quadrature for any shape, with a Monte Carlo estimator and a
  check of Appendix B's closed form for the exponential (Eqs. 65-67, see :func:`eq2_check`);
* :mod:`.conditions` -- the four initialisation conditions for a recurrent LIF layer (paper Eq. 1,
  Appendix B), the voltage range of B.6 and the sharpness that meets Condition IV through Eq. 2
  (``brentq``); :mod:`.calculator` applies them to one :class:`InitConfig`;
* :mod:`.simulation` -- the layer (Eq. 1) initialised by the calculator and naively (Glorot uniform,
  ``gamma = s = 1``) to see whether the theory holds;
* :mod:`.config` -- the pages' declared parameters, configs and presets; :mod:`.views` -- what the pages
  show and the CLI prints.

Re-derivations and the discrepancies found in the paper are listed in :data:`PAPER_DISCREPANCIES`
(:mod:`.discrepancies`). The main ones: Eq. 28 (CII) as printed is right and the authors' code drops its
factor 2; Eqs. 66-67 hold only when ``y_min < thr < y_max``; the main-text CIV has ``E[sigma'_in]`` where
the derivation (Eq. 55-57) gives ``E[sigma'_in^2]``; and with the CIII dampening, Condition IV has no
solution (``E[sigma'^2] <= gamma^2`` is always below its target for symmetric recurrent weights).
"""

from .calculator import InitResult, init_conditions
from .closed_forms import CLOSED_FORMS, closed_form
from .conditions import (
    condition_i,
    condition_ii,
    condition_ii_authors_code,
    condition_iii,
    condition_iv,
    condition_iv_residual,
    current_variances,
    sharpness_for,
    voltage_range,
)
from .config import DESIGN_PARAMS, INIT_PARAMS, PRESETS, DesignConfig, InitConfig, OptionalSpec
from .discrepancies import PAPER_DISCREPANCIES, PaperDiscrepancy
from .eq2 import MC_BLOCK, Eq2Check, eq2_check, exponential_closed_form, sd_moment, sd_moment_mc, sd_second_moment
from .gallery import ShapeMoments, gallery, sd_curve, sd_curves, shape_moments
from .simulation import SimTrace, TheoryCheck, simulate_lif, theory_check
from .translations import NAME_COLLISIONS, TRANSLATIONS, UNMAPPABLE, NameCollision, Translation, translate
from .views import DesignView, design_view, init_view

__all__ = [
    "CLOSED_FORMS",
    "DESIGN_PARAMS",
    "DesignConfig",
    "DesignView",
    "Eq2Check",
    "INIT_PARAMS",
    "MC_BLOCK",
    "InitConfig",
    "InitResult",
    "NAME_COLLISIONS",
    "NameCollision",
    "OptionalSpec",
    "PAPER_DISCREPANCIES",
    "PRESETS",
    "PaperDiscrepancy",
    "ShapeMoments",
    "SimTrace",
    "TRANSLATIONS",
    "TheoryCheck",
    "Translation",
    "UNMAPPABLE",
    "closed_form",
    "condition_i",
    "condition_ii",
    "condition_ii_authors_code",
    "condition_iii",
    "condition_iv",
    "condition_iv_residual",
    "current_variances",
    "design_view",
    "eq2_check",
    "exponential_closed_form",
    "gallery",
    "init_conditions",
    "init_view",
    "sd_curve",
    "sd_curves",
    "sd_moment",
    "sd_moment_mc",
    "sd_second_moment",
    "shape_moments",
    "sharpness_for",
    "simulate_lif",
    "theory_check",
    "translate",
    "voltage_range",
]
