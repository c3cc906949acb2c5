"""Run asyncio code from tests that may share a process with the browser tests.

The browser tests' sync Playwright keeps an event loop running in the main thread for the rest of the pytest
session, and asyncio starts no second loop in a thread that has one ("asyncio.run() cannot be called from a
running event loop"). These helpers run the asyncio part in a fresh thread and re-raise its failures.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

TIMEOUT_S = 300.0


def call_in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a new thread; its result, or its exception re-raised here."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            box["err"] = err

    t = threading.Thread(target=target, name=f"test-{getattr(fn, '__name__', 'call')}", daemon=True)
    t.start()
    t.join(TIMEOUT_S)
    assert not t.is_alive(), f"{getattr(fn, '__name__', fn)} did not finish within {TIMEOUT_S:g} s"
    if "err" in box:
        raise box["err"]
    return box["value"]


def in_thread(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator: the whole test body runs in a fresh thread (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return call_in_thread(fn, *args, **kwargs)

    return wrapper
