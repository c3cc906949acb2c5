"""Every number printed in the LocalZO paper that this library can recompute, with the verdict on each.

Mukhoty et al. (2023): Table 1 (B_th / delta), the sigmoid constant (Sec. 4.6.1, A.3.1), the sigmoid
and fast-sigmoid settings of Sec. 5.2 and the fast sigmoid's truncated threshold (App. A.3.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .common import SIGMOID_CONSTANT
from .distributions import DISTRIBUTIONS
from .theorem3 import Theorem3Target

__all__ = ["PaperCheck", "fast_sigmoid_truncated_bth", "paper_checks"]


@dataclass(frozen=True)
class PaperCheck:
    """One printed number: where, what, the printed text, our value and whether it agrees."""

    where: str
    quantity: str
    printed: str
    computed: float
    holds: bool
    comment: str = ""


def fast_sigmoid_truncated_bth(k: float, delta: float, zmax: float) -> tuple[float, float]:
    """delta E|z| for the fast sigmoid's Theorem 3 density on |z| <= zmax (paper Sec. 5.2, App. A.3.2).

    Returns (the paper's formula (2/k) int_0^{k delta zmax} x^2/(1+x)^3 dx, i.e. the truncated
    density left unnormalised; and the same divided by the kept probability mass).
    """
    top = k * delta * zmax
    raw = (2.0 / k) * (math.log1p(top) + 2.0 / (1.0 + top) - 0.5 / (1.0 + top) ** 2 - 1.5)
    mass = float(Theorem3Target("superspike", k, delta, -1).abs_cdf(np.array([zmax]))[0])
    return raw, raw / mass


def _agrees(x: float, printed: str) -> tuple[bool, str]:
    """Does ``x`` agree with a printed decimal to within one unit of its last digit? Say how."""
    value = float(printed)
    digits = len(printed.split(".")[1]) if "." in printed else 0
    unit = 10.0**-digits
    if round(x, digits) == value:
        return True, ""
    if value <= x < value + unit:
        return True, f"{x:.{digits + 2}f}: the paper truncates instead of rounding"
    if abs(x - value) < unit:
        return True, f"{x:.{digits + 2}f}: agrees within one unit of the last printed digit"
    return False, f"{x:.{digits + 2}f}: not reproduced"


def paper_checks() -> tuple[PaperCheck, ...]:
    """Every number printed in the LocalZO paper that this library can recompute."""
    out: list[PaperCheck] = []

    def add(where: str, quantity: str, printed: str, x: float, extra: str = "") -> None:
        holds, note = _agrees(x, printed)
        out.append(PaperCheck(where, quantity, printed, x, holds, "; ".join(t for t in (note, extra) if t)))

    for name, printed in (("normal", ("0.798", "1.569")), ("uniform", ("0.866", "1.443")),
                          ("laplace", ("0.707", "1.615"))):
        d = DISTRIBUTIONS[name]
        for m, value in zip((1, 5), printed, strict=True):
            add("Table 1", f"B_th/δ, {d.label}, m = {m}", value, d.emax(m))
    add("Sec. 4.6.1, A.3.1", "sigmoid constant 1/a² = 2∫₀^∞ e⁻ˣ(1−e⁻ˣ)/(x(1+e⁻ˣ)³) dx", "0.4262", SIGMOID_CONSTANT,
        "closed form 7ζ(3)/(2π²)")
    a = 1.0 / math.sqrt(SIGMOID_CONSTANT)
    add("Sec. 5.2", "k = a/δ at δ = 0.05", "30.63", a / 0.05)
    t = Theorem3Target("sigmoid", a / 0.05, 0.05, 1)
    add("Sec. 5.2", "Theorem 3's c for that sigmoid", "1", t.c)
    add("A.3.1, Table 3", "sigmoid B_th/δ (m = 1) = a/2", "0.7659", t.emax(1),
        "the paper's a uses the truncated constant 0.4262")
    fs = Theorem3Target("superspike", 100.0, 0.05, -1)
    add("Sec. 4.6.2, A.3.2", "fast sigmoid c (k = 100)", "0.02", fs.c)
    raw, renorm = fast_sigmoid_truncated_bth(100.0, 0.05, 10.0)
    add("Sec. 5.2", "fast sigmoid B_th (k = 100, δ = 0.05, z in [−10, 10])", "0.0461", raw,
        f"the paper's own formula (2/k)∫₀^{{kδ·10}} x²/(1+x)³ dx gives {raw:.4f}, {renorm:.4f} with the truncated "
        "density renormalised")
    return tuple(out)
