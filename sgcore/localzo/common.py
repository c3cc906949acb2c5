"""What every LocalZO module shares: the exponents alpha offered, the sigmoid constant, the checks of alpha and m."""

from __future__ import annotations

from typing import Any

from ..shapes import SIGMOID_CONSTANT  # a fact of the sigmoid shape (Sec. 4.6.1: 1/a^2 = 7 zeta(3) / (2 pi^2))

__all__ = ["ALPHAS", "SIGMOID_CONSTANT"]

#: Exponents alpha offered (Eq. 8: a non-zero integer). The paper uses alpha = 1 and -1.
ALPHAS: tuple[int, ...] = (1, -1, 2, 3)



def _check_alpha(alpha: Any) -> int:
    try:
        a = int(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be one of {', '.join(map(str, ALPHAS))}; got {alpha!r}") from None
    if a not in ALPHAS or a != float(alpha):
        raise ValueError(f"alpha must be one of {', '.join(map(str, ALPHAS))}; got {alpha!r}")
    return a


def _check_m(m: Any) -> int:
    try:
        k = int(m)
    except (TypeError, ValueError):
        raise ValueError(f"m must be an integer in [1, 10000]; got {m!r}") from None
    if k != float(m) or not 1 <= k <= 10_000:
        raise ValueError(f"m must be an integer in [1, 10000]; got {m!r}")
    return k
