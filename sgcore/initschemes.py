"""Weight initialisation schemes of both trainers, and Herranz-Celotti & Rouat's Conditions I-IV applied to the
classification network (HC Sec. 2.3, 2.6, 3.3-3.4, Figs. 1, 4-5, Appendix B).

Schemes (:data:`INIT_SCHEMES`, the ``init`` setting of :class:`sgcore.classify.ClassifyConfig` and
:class:`sgcore.snn.TrainConfig`):

* ``fluctuation`` (the default): each trainer's own fluctuation-driven initialisation (Rossbroich et al. 2022,
  :func:`sgcore.classify.engine.init_params`, the spike-train trainer's ``fluctuation_sigma``), unchanged;
* ``glorot_*``: zero mean, ``Var = 2 / (fan_in + fan_out)`` (Glorot & Bengio 2010);
* ``he_*``: zero mean, ``Var = 2 / fan_in`` (He et al. 2015);
* ``orthogonal_*``: a (semi-)orthogonal matrix (Saxe et al. 2014; gain 1, all singular values 1).

each drawn from one of three families (HC Fig. 1, right): ``uniform`` U(-sqrt(3 Var), sqrt(3 Var)), ``normal``
N(0, Var) and ``bigamma``, ``w = +-Gamma(alpha, theta)`` with a fair random sign. HC give the BiGamma's shape
nowhere in the text (Sec. 2.3 names it ``Gamma(w; alpha, beta)``). Public code that draws Fig. 1's right panel
(a (200, 300) weight, He and Glorot variances, the three families; apparently the authors', found in a code index)
uses ``alpha = 3``, as do BiGamma initialisers in the same code, so :data:`BIGAMMA_SHAPE` = 3. It also fits
the text: the density ``w^2 e^{-|w|/theta}`` vanishes at 0 and is bimodal (modes at ``+-2 theta``), the property
HC introduce it for ("a distribution that never samples a zero"), where alpha <= 1 would put the mode at 0. The
scale follows from the variance: ``E[w^2] = alpha (alpha + 1) theta^2 = Var``.

Orthogonal schemes draw a matrix from the named family and make it (semi-)orthogonal by QR with the sign fix
``Q * sign(diag R)`` (Mezzadri 2007), so the family matters only through the draw: for the normal family Q is
exactly Haar-distributed, for the others it is close to it but not exactly. A (rows, cols) matrix gets
orthonormal columns when tall and orthonormal rows when wide; the mean square of its entries is then
``1 / max(rows, cols)``, the variance :func:`scheme_variance` reports.

Fans (:func:`fans`) as in common deep-learning practice: a dense (n_out, n_in) weight has ``fan_in = n_in``,
``fan_out = n_out``; a convolution kernel (C_out, C_in, K...) has ``fan_in = C_in K``, ``fan_out = C_out K``, and
an orthogonal kernel is orthogonal as the flattened (C_out, C_in K) matrix.

Conditions (:data:`CONDITIONS`, the ``conditions`` setting of the classifier, Fig. 5's ablation): the "naive"
network is the chosen ``init`` for every weight (HC used ``glorot_uniform``); then

* CI sets Mean[w_rec] and CII sets Var[w_rec] of the recurrent matrix V1: V1 is redrawn from the scheme's family
  with that mean and variance (the scheme's own mean 0 or variance where only one of them is applied; for an
  orthogonal scheme ``V = mean + sqrt(max(rows, cols) Var) Q``);
* CIII sets the SD's dampening gamma and CIV its sharpness s, so the backward becomes ``scale="gamma"`` with that
  gamma and ``beta_sg = s / beta_to_s`` of the shape (CIV alone keeps the dampening the SD has, CIII alone its
  sharpness).

The numbers are :func:`sgcore.design.init_conditions` (the tested calculator, not re-derived here) for the
network at hand: ``n_rec`` = hidden size, ``n_in`` = input units, ``alpha_decay`` = exp(-dt / tau_mem) (the
engine's membrane decay per step), ``thr`` = the engine's threshold (1), Mean[z] and Var[z] over every entry of the
training split's input counts, Var[w_in] = the scheme's variance of W1, ``xi = 0`` (the input is data); for CIII
and CIV Min[w_rec], Max[w_rec] are the extremes of the drawn V1 (for a normal or BiGamma V1 the distribution has
none), E[w_rec^2] = Var + Mean^2 of its draw and Max[w_in] = max |W1| (voltage range, Appendix B.6). HC's Eq. 1
has neither a synaptic current nor a reset to zero: our LIF filters its input through ``tau_syn``, scales it by
``1 - lambda_mem`` and resets to zero (HC's Appendix B.7 gives other formulas for such a reset; the calculator has
Eq. 1's subtractive one), and V1 keeps its diagonal (HC's W_rec has none: they count ``n_rec - 1`` inputs). So the
conditions here are HC's formulas applied to our network, not re-derived for it.
The calculator's own findings apply too (:data:`sgcore.design.PAPER_DISCREPANCIES`): with the CIII dampening no
sharpness meets CIV, so every combination holding both III and IV raises ``ValueError`` with the calculator's note.
Conditions need a single dense recurrent hidden layer (``recurrent=True``, ``layers="dense"``, ``n_layers=1``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import combinations
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from .params import lookup

if TYPE_CHECKING:
    from .classify.engine import NetSpec
    from .design import InitConfig, InitResult

__all__ = ["BIGAMMA_SHAPE", "CONDITIONS", "CONDITION_NAMES", "DISTRIBUTIONS", "INIT_SCHEMES", "Conditions",
           "InitScheme", "apply_conditions", "check_conditions", "draw", "fans", "init_network", "input_moments",
           "network_variances", "orthogonalize", "parse_conditions", "resolve_backward", "sample_weights",
           "sample_with_moments", "scheme_variance"]

#: Shape alpha of the BiGamma's Gamma(alpha, theta) (HC Fig. 1; see the module docstring).
BIGAMMA_SHAPE = 3.0
#: The sampling families (HC Fig. 1, right).
DISTRIBUTIONS = ("uniform", "normal", "bigamma")


@dataclass(frozen=True)
class InitScheme:
    """An initialisation scheme: its variance rule (``fluctuation``, ``glorot``, ``he``, ``orthogonal``) and the
    family its weights are drawn from (``fluctuation`` draws normal weights)."""

    name: str
    label: str
    rule: str
    distribution: str

    @property
    def orthogonal(self) -> bool:
        return self.rule == "orthogonal"


_RULE_LABELS = {"glorot": "Glorot", "he": "He", "orthogonal": "Orthogonal"}
_DIST_LABELS = {"uniform": "uniform", "normal": "normal", "bigamma": "BiGamma"}

#: The schemes by name: "fluctuation" (the default), then HC's nine (Fig. 4).
INIT_SCHEMES: Mapping[str, InitScheme] = MappingProxyType({
    "fluctuation": InitScheme("fluctuation", "Fluctuation-driven (normal)", "fluctuation", "normal"),
    **{f"{rule}_{dist}": InitScheme(f"{rule}_{dist}", f"{_RULE_LABELS[rule]} {_DIST_LABELS[dist]}", rule, dist)
       for rule in _RULE_LABELS for dist in DISTRIBUTIONS},
})


def _scheme(scheme: Any) -> InitScheme:
    return lookup(INIT_SCHEMES, scheme, "init")


def fans(shape: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: dense (n_out, n_in) -> (n_in, n_out); a kernel (C_out, C_in, K...) ->
    (C_in prod K, C_out prod K)."""
    dims = tuple(int(d) for d in shape)
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"shape must be (n_out, n_in) or (C_out, C_in, kernel...) with sizes >= 1; got {shape}")
    k = math.prod(dims[2:])
    return dims[1] * k, dims[0] * k


def scheme_variance(scheme: str, shape: Any, fan_in: int | None = None, fan_out: int | None = None) -> float:
    """Variance (= mean square: zero mean) of one entry of ``scheme``'s draw for a weight of ``shape``:
    Glorot 2 / (fan_in + fan_out), He 2 / fan_in, orthogonal 1 / max(rows, cols) of the flattened matrix.
    ``fan_in`` / ``fan_out`` override :func:`fans`. "fluctuation" has no fan rule (its variance depends on the
    network's rates and time constants): ``ValueError``."""
    sch = _scheme(scheme)
    fi, fo = fans(shape)
    fi, fo = fi if fan_in is None else int(fan_in), fo if fan_out is None else int(fan_out)
    if fi < 1 or fo < 1:
        raise ValueError(f"fan_in and fan_out must be >= 1; got {fi} and {fo}")
    if sch.rule == "glorot":
        return 2.0 / (fi + fo)
    if sch.rule == "he":
        return 2.0 / fi
    if sch.orthogonal:
        rows = int(shape[0])
        return 1.0 / max(rows, math.prod(int(d) for d in shape) // rows)
    raise ValueError("init 'fluctuation' has no fan rule: its variance follows the network's rates and time "
                     "constants (sgcore.classify.engine.fluctuation_sds, sgcore.snn.inputs.fluctuation_sigma)")


def draw(distribution: str, shape: Any, rng: np.random.Generator, var: float, mean: float = 0.0) -> np.ndarray:
    """float64 draws of ``shape`` from ``distribution`` (:data:`DISTRIBUTIONS`) with the given mean and variance:
    uniform ``mean + U(-sqrt(3 var), sqrt(3 var))``, normal ``N(mean, var)``, bigamma ``mean + s G`` with
    ``G ~ Gamma(BIGAMMA_SHAPE, theta)``, ``theta = sqrt(var / (alpha (alpha + 1)))`` and a fair sign s."""
    var = float(var)
    if not (math.isfinite(var) and var >= 0.0):
        raise ValueError(f"var must be a finite number >= 0; got {var!r}")
    size = tuple(int(d) for d in shape)
    if distribution == "uniform":
        h = math.sqrt(3.0 * var)
        w = rng.uniform(-h, h, size)
    elif distribution == "normal":
        w = rng.standard_normal(size) * math.sqrt(var)
    elif distribution == "bigamma":
        a = BIGAMMA_SHAPE
        w = rng.gamma(a, math.sqrt(var / (a * (a + 1.0))), size)
        w *= np.where(rng.random(size) < 0.5, -1.0, 1.0)
    else:
        raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}; got {distribution!r}")
    if mean != 0.0:
        w += float(mean)
    return w


def orthogonalize(a: np.ndarray) -> np.ndarray:
    """The (semi-)orthogonal factor Q of ``a`` flattened to (rows, prod(rest)): reduced QR of the tall matrix (of
    its transpose when wide) with the sign fix ``Q * sign(diag R)``, so Q does not depend on the QR routine's sign
    convention. Tall: ``Q^T Q = I``; wide: ``Q Q^T = I``. Returned in ``a``'s shape, float64."""
    a = np.asarray(a, dtype=np.float64)
    m = a.reshape(a.shape[0], -1)
    tall = m.shape[0] >= m.shape[1]
    q, r = np.linalg.qr(m if tall else m.T)
    q = q * np.where(np.diag(r) < 0.0, -1.0, 1.0)
    return (q if tall else q.T).reshape(a.shape)


def sample_weights(scheme: str, shape: Any, rng: np.random.Generator, fan_in: int | None = None,
                   fan_out: int | None = None) -> np.ndarray:
    """One weight of ``shape`` (float64) drawn with ``scheme`` (not "fluctuation", which needs the network:
    :func:`init_network`, or the spike-train trainer). ``fan_in`` / ``fan_out`` override :func:`fans`."""
    sch = _scheme(scheme)
    if sch.orthogonal:
        return orthogonalize(draw(sch.distribution, shape, rng, 1.0))
    return draw(sch.distribution, shape, rng, scheme_variance(scheme, shape, fan_in, fan_out))


def sample_with_moments(scheme: str, shape: Any, rng: np.random.Generator, mean: float, var: float) -> np.ndarray:
    """A weight from ``scheme``'s family with the given entry mean and variance (Conditions I-II): the family's
    :func:`draw`; orthogonal schemes ``mean + sqrt(max(rows, cols) var) Q`` (Q from :func:`orthogonalize`, entry
    mean square 1 / max(rows, cols))."""
    sch = _scheme(scheme)
    if sch.orthogonal:
        q = orthogonalize(draw(sch.distribution, shape, rng, 1.0))
        rows = int(shape[0])
        q *= math.sqrt(float(var) * max(rows, q.size // rows))
        return q + float(mean) if mean != 0.0 else q
    return draw(sch.distribution, shape, rng, var, mean)


def init_network(scheme: str, spec: NetSpec, rng: np.random.Generator, input_rate_hz: float,
                 dtype: Any = np.float32) -> dict[str, np.ndarray]:
    """The classification network's weights (:func:`sgcore.classify.engine.param_names` order) drawn with
    ``scheme``: "fluctuation" is :func:`sgcore.classify.engine.init_params` itself (``input_rate_hz`` its input
    rate); the others draw each weight with :func:`sample_weights` from ``rng`` in that order."""
    from .classify.engine import init_params, param_shapes

    if _scheme(scheme).rule == "fluctuation":
        return init_params(spec, rng, input_rate_hz, dtype=dtype)
    return {name: sample_weights(scheme, shape, rng).astype(dtype) for name, shape in param_shapes(spec).items()}


def network_variances(scheme: str, spec: NetSpec, input_rate_hz: float) -> dict[str, float]:
    """The variance each weight of :func:`init_network` is drawn with (fluctuation: the squared
    :func:`sgcore.classify.engine.fluctuation_sds`)."""
    from .classify.engine import fluctuation_sds, param_shapes

    if _scheme(scheme).rule == "fluctuation":
        return {k: sd * sd for k, sd in fluctuation_sds(spec, input_rate_hz).items()}
    return {name: scheme_variance(scheme, shape) for name, shape in param_shapes(spec).items()}


def input_moments(x: np.ndarray, rows: np.ndarray | None = None, chunk: int = 256) -> tuple[float, float]:
    """Mean and (population) variance of every entry of ``x[rows]`` (all rows if None), accumulated in float64
    over chunks of rows (no float copy of the whole data)."""
    rows = np.arange(x.shape[0]) if rows is None else np.asarray(rows)
    s1 = s2 = 0.0
    n = 0
    for i in range(0, rows.size, chunk):
        b = x[rows[i:i + chunk]].astype(np.float64)
        s1 += float(b.sum())
        s2 += float(np.vdot(b, b))
        n += b.size
    if n == 0:
        raise ValueError("input_moments needs at least one entry")
    mean = s1 / n
    return mean, max(s2 / n - mean * mean, 0.0)


# --- Conditions I-IV ------------------------------------------------------------------------------------------------
#: The names of Herranz-Celotti & Rouat's Conditions I-IV (Sec. 3.3-3.4, Appendix B).
CONDITION_NAMES = ("I", "II", "III", "IV")
#: "none" and every combination of the conditions, written in order with "+" (Fig. 5's ablation: "I", "I+II",
#: "III+IV", "I+II+III+IV", ...).
CONDITIONS: tuple[str, ...] = ("none", *("+".join(c) for k in range(1, 5) for c in combinations(CONDITION_NAMES, k)))


def parse_conditions(conditions: Any) -> tuple[str, ...]:
    """The conditions a :data:`CONDITIONS` value applies, e.g. "I+II" -> ("I", "II"), "none" -> ()."""
    if not isinstance(conditions, str) or conditions not in CONDITIONS:
        raise ValueError(f"conditions must be one of {', '.join(CONDITIONS)}; got {conditions!r}")
    return () if conditions == "none" else tuple(conditions.split("+"))


def _sets_sd(applied: tuple[str, ...]) -> bool:
    return "III" in applied or "IV" in applied


def check_conditions(conditions: str, *, recurrent: bool, layers: str, n_layers: int,
                     backward: str | None = None) -> None:
    """``ValueError`` naming the setting when ``conditions`` cannot apply: they need ``recurrent=True`` (they set
    the recurrent weights), ``layers="dense"`` and ``n_layers=1`` (HC's formulas for one layer fed by data,
    xi = 0); III and IV also a ``backward`` that uses the SD shape (they set its dampening and sharpness)."""
    applied = parse_conditions(conditions)
    if not applied:
        return
    if not recurrent:
        raise ValueError(f"conditions {conditions} need recurrent=True (they set the recurrent weights V); "
                         f"got recurrent=False")
    if layers != "dense":
        raise ValueError(f"conditions {conditions} need layers='dense' (HC's formulas count dense inputs); "
                         f"got layers={layers!r}")
    if int(n_layers) != 1:
        raise ValueError(f"conditions {conditions} need n_layers=1 (one recurrent layer fed by the data, xi = 0); "
                         f"got n_layers={n_layers}")
    if backward is not None and _sets_sd(applied):
        from .snn.backward import BACKWARDS

        if not lookup(BACKWARDS, backward, "backward").uses_shape:
            raise ValueError(f"conditions {conditions} set the SD's dampening and sharpness: they need a backward "
                             f"that uses the SD shape (sg or sparsegrad); got backward={backward!r}")


@dataclass(frozen=True)
class Conditions:
    """Conditions I-IV resolved for one network: what they set and the calculator's record.

    ``mean_w_rec`` / ``var_w_rec``: the mean and variance V1 was drawn with (CI / CII, or the scheme's 0 and its
    variance); ``gamma``, ``sharpness``, ``beta_sg`` (= sharpness / beta_to_s of ``shape``): the SD the backward
    uses (``scale="gamma"``) when III or IV applies, else None. ``init_config`` / ``result``: the
    :func:`sgcore.design.init_conditions` inputs and output they came from."""

    applied: tuple[str, ...]
    init_config: InitConfig
    result: InitResult | None
    mean_w_rec: float
    var_w_rec: float
    gamma: float | None = None
    sharpness: float | None = None
    beta_sg: float | None = None
    shape: str | None = None

    @property
    def name(self) -> str:
        return "+".join(self.applied) or "none"

    def backward_overrides(self) -> dict[str, Any]:
        """The backward settings III / IV replace (empty without them)."""
        if not _sets_sd(self.applied):
            return {}
        return {"scale": "gamma", "gamma": self.gamma, "beta_sg": self.beta_sg}

    def summary(self) -> dict[str, Any]:
        """JSON-able: the conditions, what they set and the calculator's inputs and notes."""
        ic, r = self.init_config, self.result
        return {"conditions": self.name, "mean_w_rec": self.mean_w_rec, "var_w_rec": self.var_w_rec,
                "gamma": self.gamma, "sharpness": self.sharpness, "beta_sg": self.beta_sg, "shape": self.shape,
                "scale": "gamma" if _sets_sd(self.applied) else None,
                "inputs": {k: getattr(ic, k) for k in ("n_rec", "n_in", "alpha_decay", "thr", "mean_z", "var_z",
                                                        "var_w_in", "xi", "min_w_rec", "max_w_rec", "e_w_rec_sq",
                                                        "max_w_in")},
                "ci_mean_w_rec": r.mean_w_rec if r else None, "cii_var_w_rec": r.var_w_rec if r else None,
                "ciii_dampening": r.dampening if r else None, "civ_sd_second_moment": r.sd_second_moment if r else None,
                "notes": list(r.notes) if r else []}


def apply_conditions(conditions: str, scheme: str, spec: NetSpec, params: Mapping[str, np.ndarray],
                     rng: np.random.Generator, *, mean_z: float, var_z: float, var_w_in: float, var_w_rec: float,
                     backward: Any) -> tuple[dict[str, np.ndarray], Conditions | None]:
    """Apply ``conditions`` to a network initialised with ``scheme`` (``params`` from :func:`init_network`):
    CI / CII redraw V1 from ``rng``; III / IV resolve the SD for ``backward`` (any object with the SD fields
    ``backward, shape, beta_sg, scale, gamma, q``, e.g. the ClassifyConfig) with :func:`resolve_backward`.

    ``mean_z`` / ``var_z``: the training inputs' moments (:func:`input_moments`); ``var_w_in`` / ``var_w_rec``:
    the scheme's variances of W1 and V1 (:func:`network_variances`). Returns the new weights and the
    :class:`Conditions` (None for "none"). ``ValueError`` naming the setting for a network they do not fit, when
    CII has no positive variance, CIII no positive dampening or CIV no sharpness (with the calculator's note)."""
    applied = parse_conditions(conditions)
    if not applied:
        return dict(params), None
    check_conditions(conditions, recurrent=spec.recurrent, layers=spec.layers, n_layers=len(spec.hidden),
                     backward=getattr(backward, "backward", None))
    from .design import InitConfig, condition_i, condition_ii, init_conditions

    n, n_in, alpha, thr = spec.hidden[0], spec.n_in, spec.lam_mem, spec.theta
    mean = condition_i(n, alpha, thr) if "I" in applied else 0.0
    var = float(var_w_rec)
    if "II" in applied:
        var = condition_ii(n, n_in, float(mean_z), float(var_z), float(var_w_in), mean)
        if not var > 0.0:
            raise ValueError(f"conditions {conditions}: CII has no solution here: 2 (Var z + Mean z^2) n_in/(n_rec-1) "
                             f"Var[w_in] < Mean[w_rec]^2/2 gives Var[w_rec] = {var:.4g} <= 0")
    out = dict(params)
    if "I" in applied or "II" in applied:
        out["V1"] = sample_with_moments(scheme, (n, n), rng, mean, var).astype(params["V1"].dtype)
    v1, w1 = out["V1"], out["W1"]
    # n_steps / batch: the calculator page's simulation (bounded by its work limits) is not run here
    ic = InitConfig(alpha_decay=alpha, thr=thr, n_rec=n, n_in=n_in, mean_z=float(mean_z), var_z=float(var_z),
                    var_w_in=float(var_w_in), xi=0, mean_w_rec=None if "I" in applied else 0.0,
                    min_w_rec=float(v1.min()), max_w_rec=float(v1.max()), e_w_rec_sq=var + mean * mean,
                    max_w_in=float(np.abs(w1).max()), shape=backward.shape, q=backward.q, n_steps=2, batch=1)
    if not _sets_sd(applied):
        return out, Conditions(applied, ic, init_conditions(ic), mean, var)
    return out, resolve_backward(Conditions(applied, ic, None, mean, var), backward)


def resolve_backward(cond: Conditions, backward: Any) -> Conditions:
    """``cond`` with III / IV resolved for the SD choice of ``backward`` (its shape, q and, for IV alone, its
    dampening): CIII gives gamma (the calculator's ``dampening``), CIV the sharpness s with E[sigma'^2] at its
    target through Eq. 2 (the calculator's ``sharpness``, for CIII's gamma when both apply, else for the SD's own
    dampening); CIII alone keeps the SD's sharpness. ``cond`` unchanged without III and IV."""
    applied = cond.applied
    if not _sets_sd(applied):
        return cond
    from .design import init_conditions
    from .shapes import Surrogate, get_shape

    check_conditions(cond.name, recurrent=True, layers="dense", n_layers=1, backward=backward.backward)
    own = Surrogate.of(backward)
    ic = replace(cond.init_config, shape=backward.shape, q=backward.q,
                 gamma=None if "III" in applied else own.dampening)
    r = init_conditions(ic)
    gamma = r.dampening if "III" in applied else own.dampening
    if not gamma > 0.0:
        raise ValueError(f"conditions {cond.name}: CIII has no positive dampening here (gamma = {gamma:.4g}): "
                         + " ".join(r.notes))
    s = own.s
    if "IV" in applied:
        if r.sharpness is None:
            note = " ".join(t for t in r.notes if "CIV" in t or "sharpness" in t) or " ".join(r.notes)
            raise ValueError(f"conditions {cond.name}: CIV has no solution for shape {backward.shape} with dampening "
                             f"{gamma:.4g}: {note}")
        s = r.sharpness
    return replace(cond, init_config=ic, result=r, gamma=float(gamma), sharpness=float(s),
                   beta_sg=float(s / get_shape(backward.shape).beta_to_s), shape=backward.shape)
