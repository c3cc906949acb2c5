"""The feed-forward LIF trainer (Gygax & Zenke 2024, Fig. 6); see :mod:`.engine` (split by concept next)."""

from .engine import *  # noqa: F403
from .engine import __all__ as __all__
from .engine import _sd_inplace as _sd_inplace
