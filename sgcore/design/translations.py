"""Library translation: snnTorch, SpikingJelly and Norse surrogate presets in our (shape, gamma, s) terms.

Each :data:`TRANSLATIONS` entry is derived from what the library's code back-propagates (its ``backward``), which
is what a user copying the preset gets; where the docs say something else, ``docs_vs_code`` says so.
:data:`UNMAPPABLE` lists the presets no registry shape fits and :data:`NAME_COLLISIONS` the parameter names that
mean different things.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..shapes import Q_SPEC
from .gallery import sd_curve

_SNNTORCH = ("backward() and docstrings of snntorch/surrogate.py (github.com/jeshraghian/snntorch), rendered at "
             "https://snntorch.readthedocs.io/en/latest/snntorch.surrogate.html")
_SPIKINGJELLY = ("the *_backward functions and docstrings of spikingjelly/activation_based/surrogate.py "
                 "(github.com/fangwei123456/spikingjelly), rendered as spikingjelly.activation_based.surrogate on "
                 "spikingjelly.readthedocs.io")
_NORSE = ("backward() and docstrings of norse/torch/functional/{superspike,threshold}.py (github.com/norse/norse), "
          "rendered as the API pages of norse.github.io/norse")


@dataclass(frozen=True)
class Translation:
    """One library preset in our terms: the SD its code back-propagates equals ``gamma f(s (u - offset))``.

    ``u`` is the library's argument (membrane potential minus threshold). ``params`` are the
    library's parameters with their defaults; ``mapping`` turns them into (gamma, s, q, offset).
    ``code`` is the SD the library's ``backward`` computes (what we translate), ``documented`` the one
    its docs give; ``docs_vs_code`` is empty when they agree and says how they differ otherwise.
    """

    library: str
    call: str
    params: Mapping[str, float]
    documented: str  # the documented SD in the library's own symbols
    shape: str
    gamma_rule: str
    s_rule: str
    source: str
    mapping: Callable[..., tuple[float, float, float | None, float]] = field(repr=False)
    notes: str = ""
    code: str = ""
    docs_vs_code: str = ""

    def ours(self, **values: float) -> dict[str, Any]:
        """(shape, gamma, sharpness, q, offset) at the defaults, overridden by ``values``."""
        unknown = set(values) - set(self.params)
        if unknown:
            raise ValueError(f"{self.call} takes {', '.join(self.params)}; got {', '.join(sorted(unknown))}")
        p = {**self.params, **{k: float(v) for k, v in values.items()}}
        gamma, s, q, offset = self.mapping(**p)
        return {"shape": self.shape, "gamma": gamma, "sharpness": s, "q": q, "offset": offset}

    def sd(self, u: Any, **values: float) -> np.ndarray:
        """Our SD gamma f(s (u - offset)) for this preset."""
        o = self.ours(**values)
        u = np.asarray(u, dtype=float)
        q = o["q"] if o["q"] is not None else Q_SPEC.default
        return sd_curve(self.shape, u - o["offset"], o["gamma"], o["sharpness"], q)


def _tr(library, call, params, documented, shape, gamma_rule, s_rule, mapping, notes="", source=None, code=None,
        docs_vs_code=""):
    src = source or {"snnTorch": _SNNTORCH, "SpikingJelly": _SPIKINGJELLY, "Norse": _NORSE}[library]
    return Translation(library, call, MappingProxyType(dict(params)), documented, shape, gamma_rule, s_rule, src,
                       mapping, notes, code or documented, docs_vs_code)


def _c_zero_only(w, c):
    if c != 0:
        raise ValueError(f"PiecewiseLeakyReLU is gamma f(s u) for a registry shape only with c = 0; got c = {c:g} "
                         "(see the presets that are not gamma f(s v))")
    return 1.0 / (2.0 * w), 1.0 / (2.0 * w), None, 0.0


_SQRT_PI = math.sqrt(math.pi)

#: Popular presets of snnTorch, SpikingJelly and Norse in our (shape, gamma, s) terms.
TRANSLATIONS: tuple[Translation, ...] = (
    _tr("snnTorch", "surrogate.fast_sigmoid(slope=25)", {"slope": 25.0},
        "dS/dU = 1/(1 + k|U|)^2, k = slope", "superspike", "1", "slope/2",
        lambda slope: (1.0, slope / 2.0, None, 0.0)),
    _tr("snnTorch", "surrogate.atan(alpha=2.0)", {"alpha": 2.0},
        "S = (1/pi) arctan(pi U alpha/2)  =>  dS/dU = (alpha/2) / (1 + (pi U alpha/2)^2)", "atan", "alpha/2",
        "alpha/2", lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0),
        notes="snnTorch's default surrogate.",
        docs_vs_code="snnTorch's docstring says dS/dU = (1/pi) / (1 + (pi U alpha/2)^2), not the derivative of its own "
                     "S (off by pi alpha/2); its code computes (alpha/2) / (1 + (pi U alpha/2)^2); we translate the "
                     "code."),
    _tr("snnTorch", "surrogate.sigmoid(slope=25)", {"slope": 25.0},
        "dS/dU = k exp(-kU) / (exp(-kU) + 1)^2, k = slope", "sigmoid", "slope/4", "slope/4",
        lambda slope: (slope / 4.0, slope / 4.0, None, 0.0)),
    _tr("snnTorch", "surrogate.spike_rate_escape(beta=1, slope=25)", {"beta": 1.0, "slope": 25.0},
        "dS/dU = k exp(-beta |U - 1|), k = slope", "exponential", "slope", "beta/2",
        lambda beta, slope: (slope, beta / 2.0, None, 1.0),
        notes="Centred at U = 1 (one unit above threshold), not at the threshold: offset 1. Here 'slope' is the "
              "HEIGHT (gamma = 25 by default) and 'beta' the steepness."),
    _tr("SpikingJelly", "surrogate.Sigmoid(alpha=4.0)", {"alpha": 4.0},
        "g'(x) = alpha sigmoid(alpha x) (1 - sigmoid(alpha x))", "sigmoid", "alpha/4", "alpha/4",
        lambda alpha: (alpha / 4.0, alpha / 4.0, None, 0.0),
        notes="The default alpha = 4 is exactly the paper's d-sigmoid standard form (gamma = s = 1)."),
    _tr("SpikingJelly", "surrogate.ATan(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = alpha / (2 (1 + (pi alpha x / 2)^2))", "atan", "alpha/2", "alpha/2",
        lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0),
        notes="The default alpha = 2 is our atan standard form (gamma = s = 1); same formula as snnTorch's atan."),
    _tr("SpikingJelly", "surrogate.PiecewiseQuadratic(alpha=1.0)", {"alpha": 1.0},
        "g'(x) = -alpha^2 |x| + alpha for |x| <= 1/alpha, else 0", "triangular", "alpha", "alpha",
        lambda alpha: (alpha, alpha, None, 0.0)),
    _tr("SpikingJelly", "surrogate.PiecewiseExp(alpha=1.0)", {"alpha": 1.0},
        "g'(x) = (alpha/2) exp(-alpha |x|)", "exponential", "alpha/2", "alpha/2",
        lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0)),
    _tr("SpikingJelly", "surrogate.SoftSign(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = alpha / (2 (1 + |alpha x|)^2)", "superspike", "alpha/2", "alpha/2",
        lambda alpha: (alpha / 2.0, alpha / 2.0, None, 0.0),
        notes="The fast-sigmoid (SuperSpike) shape in unit-area scaling; default = our standard form."),
    _tr("SpikingJelly", "surrogate.Erf(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = (alpha / sqrt(pi)) exp(-alpha^2 x^2)", "gaussian", "alpha/sqrt(pi)", "alpha/sqrt(pi)",
        lambda alpha: (alpha / _SQRT_PI, alpha / _SQRT_PI, None, 0.0)),
    _tr("SpikingJelly", "surrogate.QPseudoSpike(alpha=2.0)", {"alpha": 2.0},
        "g'(x) = (1 + 2|x| / (alpha - 1))^(-alpha)", "q_pseudospike", "1", "1",
        lambda alpha: (1.0, 1.0, alpha, 0.0),
        notes="Here alpha is the TAIL exponent q of the paper (not a steepness)."),
    _tr("Norse", "LIFParameters(method='super', alpha=100)", {"alpha": 100.0},
        "grad = 1 / (alpha |x| + 1)^2  (SuperSpike, Zenke & Ganguli Sec. 3.3.2 with beta -> alpha)", "superspike",
        "1", "alpha/2", lambda alpha: (1.0, alpha / 2.0, None, 0.0),
        notes="Norse's default LIF surrogate: alpha = 100 gives s = 50, a very narrow SD of peak 1."),
    _tr("Norse", "LIFParameters(method='tent', alpha=...)", {"alpha": 100.0},
        "grad = alpha * relu(1 - |x|)  (HeaviTent)", "triangular", "alpha", "1",
        lambda alpha: (alpha, 1.0, None, 0.0),
        notes="Here alpha is the HEIGHT, not a steepness: with the LIFParameters default alpha = 100 the tent has "
              "peak 100 and unit width."),
    _tr("Norse", "threshold(x, 'tanh', k)", {"k": 100.0},
        "h(x, k) = 1/2 + 1/2 tanh(k x)  =>  h' = (k/2) (1 - tanh(k x)^2)", "sigmoid", "1", "k/2",
        lambda k: (1.0, k / 2.0, None, 0.0), code="grad = 1 - tanh(k x)^2  (HeaviTanh.backward)",
        notes="LIFParameters(method='tanh', alpha) passes alpha as k (default 100): peak 1, area 2/k = 0.02.",
        docs_vs_code="Norse's docs say h = 1/2 + 1/2 tanh(k x), whose derivative is (k/2)(1 - tanh(k x)^2) "
                     "(peak k/2 = 50 at k = 100, unit area); its code computes 1 - tanh(k x)^2 (peak 1, area 2/k); "
                     "we translate the code."),
    _tr("Norse", "heavi_erfc_fn(x, k)", {"k": 1.0},
        "h(x, k) = 1/2 + 1/2 erfc(k x)  =>  h' = -(k/sqrt(pi)) exp(-k^2 x^2)", "gaussian", "2/sqrt(pi)",
        "k/sqrt(pi)", lambda k: (2.0 / _SQRT_PI, k / _SQRT_PI, None, 0.0),
        code="grad = 2 exp(-k^2 x^2) / sqrt(pi)  (HeaviErfc.backward)",
        notes="Not reachable through threshold(method=...); call heavi_erfc_fn directly. Peak 2/sqrt(pi) whatever k: "
              "k sets only the width (area 2/k).",
        docs_vs_code="Norse's docs say h = 1/2 + 1/2 erfc(k x), which decreases in x (derivative -(k/sqrt(pi)) "
                     "exp(-k^2 x^2)); its code computes +2 exp(-k^2 x^2)/sqrt(pi), without the factor k; we "
                     "translate the code."),
    _tr("SpikingJelly", "surrogate.SuperSpike(alpha=1.0)", {"alpha": 1.0},
        "g'(x) = alpha / (1 + |x|)^2", "superspike", "alpha", "1/2",
        lambda alpha: (alpha, 0.5, None, 0.0),
        notes="Here alpha is the HEIGHT: the width is fixed (s = 1/2), unlike snnTorch's fast_sigmoid and Norse's "
              "'super', where the parameter is the steepness."),
    _tr("SpikingJelly", "surrogate.Rect(alpha=1.0)", {"alpha": 1.0},
        "g'(x) = alpha for |x| < 1/(2 alpha), else 0", "rectangular", "alpha", "alpha",
        lambda alpha: (alpha, alpha, None, 0.0),
        notes="Unit area for every alpha; the default alpha = 1 is our rectangular standard form."),
    _tr("SpikingJelly", "surrogate.PiecewiseLeakyReLU(w=1.0, c=0.0)", {"w": 1.0, "c": 0.0},
        "g'(x) = 1/(2w) for |x| <= w, c otherwise", "rectangular", "1/(2w)", "1/(2w)", _c_zero_only,
        code="g'(x) = 1/(2w) for |x| < w, c otherwise  (piecewise_leaky_relu_backward)",
        notes="Only c = 0 is a registry shape (the default c = 0.01 is listed as not translatable). Unit area.",
        docs_vs_code="The docs and the PyTorch backward agree on 1/(2w) inside |x| < w (older docstrings said 1/w); "
                     "SpikingJelly's generated CUDA kernel (auto_cuda/cfunction.py) uses 1/w, twice as high; we "
                     "translate the PyTorch code."),
)

#: Presets whose back-propagated SD is not of the form gamma f(s (u - offset)) for a registry shape.
UNMAPPABLE: tuple[dict[str, str], ...] = (
    {"library": "snnTorch", "call": "surrogate.triangular(threshold=1)",
     "documented": "dS/dU = U_thr if U < U_thr, -U_thr if U >= U_thr",
     "why": "a sign-changing step, not a triangle: no registry shape (and 'threshold' is the gradient's size)",
     "source": _SNNTORCH},
    {"library": "snnTorch", "call": "surrogate.SFS(slope=25, B=1)",
     "documented": "dS/dU = 1/(1 + k|U|)^2 if U > B, else 0",
     "why": "a fast sigmoid cut below U = B: gamma f(s U) only on U > B", "source": _SNNTORCH},
    {"library": "snnTorch", "call": "surrogate.LSO(slope=0.1) / SSO(mean, variance)",
     "documented": "dS/dU = 1 above threshold, k (or uniform noise) below", "why": "not a bump around threshold",
     "source": _SNNTORCH},
    {"library": "SpikingJelly", "call": "surrogate.PiecewiseLeakyReLU(w=1, c=0.01)",
     "documented": "g'(x) = 1/(2w) for |x| <= w, c otherwise",
     "code": "1/(2w) for |x| < w, c otherwise (the CUDA kernel: 1/w)",
     "why": "rectangular (gamma = s = 1/(2w)) only when c = 0, which is translated; the default c = 0.01 adds a "
            "constant floor that no registry shape has", "source": _SPIKINGJELLY},
    {"library": "SpikingJelly", "call": "surrogate.S2NN(alpha=4, beta=1)",
     "documented": "sigmoid' below 0, beta (x + 1) above (the code uses beta / (x + 1))",
     "why": "asymmetric two-piece shape", "source": _SPIKINGJELLY},
    {"library": "Norse", "call": "threshold(x, 'circ', alpha)  (HeaviCirc)",
     "documented": "h(x, alpha) = 1/2 + 1/2 x / sqrt(x^2 + alpha^2)  =>  h' = alpha^2 / (2 (x^2 + alpha^2)^(3/2))",
     "code": "grad = alpha^3 / (x^2 + alpha^2)^(3/2) = (1 + (x/alpha)^2)^(-3/2)  (peak 1, area 2 alpha)",
     "why": "(1 + v^2)^(-3/2) (a Student-t with 2 degrees of freedom) is no registry shape; note also that the "
            "code is 2 alpha times the documented derivative, and alpha is a WIDTH: the LIF default alpha = 100 "
            "makes the SD 200 wide", "source": _NORSE},
)


@dataclass(frozen=True)
class NameCollision:
    """A parameter name that means different things in different places."""

    name: str
    meanings: tuple[tuple[str, str], ...]  # (where, meaning)
    warning: str


#: Names that collide between libraries (and with this project / the paper).
NAME_COLLISIONS: tuple[NameCollision, ...] = (
    NameCollision("beta", (
        ("snnTorch snn.Leaky(beta=...)", "membrane decay rate per step (our alpha_decay)"),
        ("snnTorch surrogate.spike_rate_escape(beta=...)", "steepness of the exponential SD (s = beta/2)"),
        ("sgcore (other pages)", "SD steepness beta_SG, s = beta * beta_to_s"),
    ), "snnTorch's beta in a neuron is a leak, not an SD steepness."),
    NameCollision("alpha", (
        ("snnTorch snn.Synaptic(alpha=...)", "synaptic current decay rate"),
        ("snnTorch surrogate.atan(alpha=...)", "steepness and height (gamma = s = alpha/2)"),
        ("SpikingJelly surrogate.*(alpha=...)", "steepness (scales both gamma and s)"),
        ("SpikingJelly surrogate.QPseudoSpike(alpha=...)", "tail exponent q"),
        ("SpikingJelly surrogate.SuperSpike(alpha=...) / Rect(alpha=...)",
         "height (SuperSpike: gamma = alpha, s = 1/2 fixed; Rect: gamma = s = alpha)"),
        ("Norse method='super'", "steepness (s = alpha/2, gamma = 1)"),
        ("Norse method='tent'", "height (gamma = alpha, s = 1)"),
        ("Norse method='tanh'", "k: steepness only (gamma = 1, s = alpha/2)"),
        ("Norse method='circ'", "width (the SD (1 + (x/alpha)^2)^(-3/2) widens with alpha)"),
        ("this paper (alpha_decay)", "membrane decay per step"),
    ), "One word, five roles: check whether alpha sets the width, the height, the tail or a leak."),
    NameCollision("slope", (
        ("snnTorch fast_sigmoid / sigmoid", "steepness k (s = k/2 resp. k/4)"),
        ("snnTorch spike_rate_escape", "height (gamma = slope)"),
        ("snnTorch LSO(slope=...)", "constant sub-threshold gradient"),
    ), "In snnTorch's spike_rate_escape the 'slope' is the peak value, not the steepness."),
    NameCollision("k", (
        ("snnTorch docstrings", "symbol of slope (steepness)"),
        ("SpikingJelly LeakyKReLU(k=...)", "gradient value above threshold"),
        ("Norse threshold(x, 'tanh', k)", "steepness of tanh"),
    ), "k is a steepness in snnTorch/Norse but a gradient value in SpikingJelly's LeakyKReLU."),
    NameCollision("scale", (
        ("sgcore", "SD scaling: density (gamma = s), peak (gamma = 1) or a given gamma"),
        ("this paper", "not used: gamma is 'dampening' (height), s 'sharpness' (called width, but it is 1/width)"),
    ), "Scaling and sharpness are different knobs: gamma sets the height, s the inverse width."),
    NameCollision("threshold", (
        ("snnTorch neurons", "firing threshold U_thr"),
        ("snnTorch surrogate.triangular(threshold=...)", "size of the gradient (not the firing threshold)"),
    ), "snnTorch's triangular(threshold=...) does not move the firing threshold."),
)


def translate(library: str, call: str, **values: float) -> dict[str, Any]:
    """Our (shape, gamma, sharpness, q, offset) of a library preset.

    ``call`` is the table's call string or its name before the bracket when that is unambiguous
    (``"surrogate.atan"``; Norse's ``LIFParameters(...)`` needs the full string).
    """
    lib = [t for t in TRANSLATIONS if t.library.lower() == library.lower()]
    hits = [t for t in lib if t.call == call] or [t for t in lib if t.call.split("(")[0] == call.split("(")[0]]
    if len(hits) != 1:
        names = "; ".join(f"{t.library}: {t.call}" for t in TRANSLATIONS)
        what = "ambiguous" if hits else "no"
        raise ValueError(f"{what} translation for {library} {call!r}; known: {names}")
    t = hits[0]
    return {**t.ours(**values), "source": t.source, "documented": t.documented, "notes": t.notes}
