"""What every LocalZO module shares: the exponents alpha offered, the sigmoid constant, the checks of alpha and m."""

from __future__ import annotations

from typing import Any

from ..params import count
from ..shapes import SIGMOID_CONSTANT  # a fact of the sigmoid shape (Sec. 4.6.1: 1/a^2 = 7 zeta(3) / (2 pi^2))

__all__ = ["ALPHAS", "SIGMOID_CONSTANT"]

#: Exponents alpha offered (Eq. 8: a non-zero integer). The paper uses alpha = 1 and -1.
ALPHAS: tuple[int, ...] = (1, -1, 2, 3)



def _check_alpha(alpha: Any) -> int:
    """alpha as one of :data:`ALPHAS` (an integer, not a boolean), or ``ValueError`` listing them."""
    try:
        a = count("alpha", alpha, min(ALPHAS), max(ALPHAS))
    except ValueError:
        a = None
    if a not in ALPHAS:
        raise ValueError(f"alpha must be one of {', '.join(map(str, ALPHAS))}; got {alpha!r}")
    return a


def _check_m(m: Any) -> int:
    """m, the number of samples per estimate (Eq. 7), as an integer in [1, 10000]."""
    return count("m", m, 1, 10_000)
