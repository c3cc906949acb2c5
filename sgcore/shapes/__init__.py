"""The one registry of surrogate shapes.

Every shape is a *standard form* ``f`` with maximum 1 at ``v = 0`` and unit area
(Herranz-Celotti & Rouat, Table S1), together with its antiderivative ``F`` (a CDF: the
escape-noise function of the stochastic neuron whose derivative the SD matches), its
survival function and an analytic inverse CDF. A surrogate derivative is

    SD(u) = gamma * f(s * u),   s = beta * beta_to_s,

with sharpness ``s`` and dampening ``gamma`` fixed by a scaling (Gygax & Zenke Eq. 1, 6-8 and
Table 2 hold exactly). One module per concept:

* :mod:`.record`: the :class:`SurrogateShape` record (+ :class:`ClosedForm`, the NumPy/torch array
  namespace, :data:`Q_SPEC`);
* :mod:`.catalog`: the built-in shapes, one block per shape (formulas, derivative, facts, record);
* :mod:`.registry`: :data:`SHAPES`, :data:`EVEN_SHAPES`, :func:`register`, :func:`unregister`,
  :func:`registered`, :func:`get_shape`;
* :mod:`.scaling`: :data:`SCALINGS`, :func:`sharpness`, :func:`dampening`,
  :func:`surrogate_derivative`, :func:`heaviside`, :data:`H0`, :func:`sd_param_specs`, :class:`Surrogate`.

Every name is importable from ``sgcore.shapes``.
"""

from . import catalog as _catalog
from .catalog import _SHAPE_LIST as _SHAPE_LIST
from .catalog import SIGMOID_CONSTANT as SIGMOID_CONSTANT  # LocalZO Sec. 4.6.1 uses this fact of the sigmoid
from .record import (
    NUMPY_OPS,
    SurrogateShape,
)
from .record import Q_SPEC as Q_SPEC
from .record import ClosedForm as ClosedForm
from .record import _as_float as _as_float
from .record import _cast as _cast
from .record import _check_beta as _check_beta
from .record import _const as _const
from .record import _Ops as _Ops
from .record import _ratio as _ratio
from .record import _torch_ops as _torch_ops
from .registry import (
    EVEN_SHAPES,
    SHAPES,
    get_shape,
    register,
    registered,
    unregister,
)
from .scaling import (
    H0,
    SCALINGS,
    Surrogate,
    dampening,
    heaviside,
    sd_param_specs,
    sharpness,
    surrogate_derivative,
)

__all__ = [
    "H0",
    "SCALINGS",
    "EVEN_SHAPES",
    "SHAPES",
    "register",
    "registered",
    "unregister",
    "SurrogateShape",
    "ClosedForm",
    "get_shape",
    "heaviside",
    "sharpness",
    "dampening",
    "surrogate_derivative",
    "NUMPY_OPS",
    "Q_SPEC",
    "Surrogate",
    "sd_param_specs",
]


def __getattr__(name: str) -> object:
    """The per-shape private helpers (e.g. ``_sig_f``, ``_EXP_CAP``) stay reachable here, as before the split."""
    if name.startswith("_") and not name.startswith("__") and hasattr(_catalog, name):
        return getattr(_catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
