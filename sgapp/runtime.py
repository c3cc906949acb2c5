"""Server-side efficiency of Streamlit's runtime, measured on a running server (``bench/move_cost.py``).

Two patches, installed once per process by :func:`install` (called from ``sgapp.layout.page_setup``):

**Coalesced event-loop wake-ups.** A script thread hands every delta it produces (about 80 per page: elements
and blocks) to the server's event loop with ``loop.call_soon_threadsafe``, and every such call writes a byte to
the loop's self-pipe and wakes the loop thread, which then competes with the script thread for the GIL — about
a tenth of a slider move's server CPU in py-spy profiles. :class:`Coalescer` keeps Streamlit's order and
callbacks but wakes the loop once per batch: callbacks submitted while a drain is pending join that drain.
Nothing else changes (the same callbacks, in the same order, on the same loop).

**Coalesced bursts of reruns.** A tab that sends many rerun requests at once (a held arrow key, a script, a
flood) made the replica start, interrupt and restart the script once per request. Rerun requests of one session
that arrive back to back are collected until the websocket reader has taken every frame already received, then
merged by Streamlit's own rule (:func:`merge_reruns`: the latest widget values and every button trigger), so the
burst costs about one run. A request that arrives alone is handled in the same loop iteration
as before (no added latency).

The patches target the pinned Streamlit (requirements.txt); ``tests/test_runtime.py`` checks that the method it
wraps still exists with the expected shape, so an upgrade that moves it fails a test instead of silently
losing the gain.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Coalescer", "install", "installed"]

_LOCK = threading.Lock()
_INSTALLED = False


class Coalescer:
    """FIFO hand-off of callbacks from any thread to ``loop`` with one wake-up per batch."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._items: deque[Callable[[], None]] = deque()
        self._lock = threading.Lock()
        self._pending = False
        self.wakeups = 0  # how many times the loop was woken (for tests and benchmarks)

    def submit(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._items.append(callback)
            if self._pending:
                return
            self._pending = True
        try:
            self.loop.call_soon_threadsafe(self._drain)
            self.wakeups += 1
        except RuntimeError:
            with self._lock:
                self._pending = False
                self._items.clear()
            raise

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._items:
                    self._pending = False
                    return
                batch = list(self._items)
                self._items.clear()
            for callback in batch:
                try:
                    callback()
                except Exception:  # as asyncio does for a failing handle: log it, keep the loop going
                    self.loop.call_exception_handler({"message": "Exception in a Streamlit event callback",
                                                      "exception": _last_exception()})


def _last_exception() -> BaseException | None:
    import sys

    return sys.exc_info()[1]


_COALESCERS: dict[int, Coalescer] = {}


def _coalescer(loop: asyncio.AbstractEventLoop) -> Coalescer:
    key = id(loop)
    c = _COALESCERS.get(key)
    if c is None or c.loop is not loop:
        with _LOCK:
            c = _COALESCERS.get(key)
            if c is None or c.loop is not loop:
                c = _COALESCERS[key] = Coalescer(loop)
    return c


def install() -> bool:
    """Patch Streamlit's ``AppSession._call_soon_on_event_loop`` once per process; returns whether it is patched."""
    global _INSTALLED
    if _INSTALLED:
        return True
    with _LOCK:
        if _INSTALLED:
            return True
        from streamlit.runtime.app_session import AppSession

        original = getattr(AppSession, "_call_soon_on_event_loop", None)
        if original is None:  # a Streamlit that moved it: keep its own behaviour
            return False

        def _call_soon_on_event_loop(self: Any, callback: Callable[[], None]) -> None:
            loop = self._event_loop
            try:
                _coalescer(loop).submit(callback)
            except RuntimeError:
                if not loop.is_closed():
                    raise  # as the original: a closed loop drops the event, anything else is an error

        _call_soon_on_event_loop.__wrapped__ = original  # type: ignore[attr-defined]
        AppSession._call_soon_on_event_loop = _call_soon_on_event_loop
        _patch_handle_backmsg(AppSession)
        _INSTALLED = True
        return True


def _patch_handle_backmsg(cls: Any) -> None:
    original = cls.handle_backmsg

    def handle_backmsg(self: Any, msg: Any) -> None:
        if msg.WhichOneof("type") != "rerun_script":
            return original(self, msg)
        pending = self.__dict__.setdefault("_sge_pending_reruns", [])
        pending.append(msg)
        if len(pending) > 1:
            return None  # a flush is already scheduled for this burst
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop (AppTest, direct calls): handle now
            return _flush(self, original)
        loop.call_soon(_flush, self, original)
        return None

    handle_backmsg.__wrapped__ = original  # type: ignore[attr-defined]
    cls.handle_backmsg = handle_backmsg


def _flush(session: Any, original: Callable[[Any, Any], None]) -> None:
    """Hand a burst's rerun requests to Streamlit, consecutive ones for the same target merged into one."""
    batch = session.__dict__.get("_sge_pending_reruns") or []
    session.__dict__["_sge_pending_reruns"] = []
    for msg in merge_reruns(batch):
        original(session, msg)


def _target(msg: Any) -> tuple:
    cs = msg.rerun_script
    return (cs.page_script_hash, cs.page_name, cs.fragment_id, cs.is_auto_rerun, cs.is_history_navigation)


def merge_reruns(batch: list[Any]) -> list[Any]:
    """Collapse runs of consecutive rerun requests for the same page and fragment into their last one.

    The widget states are merged with Streamlit's own rule (``_coalesce_widget_states``, what its request queue
    does when a request arrives while another is pending): the newest value of every widget, and every button
    trigger that an older request carried. Everything else (query string, cached message hashes, context) is the
    newest request's, as in Streamlit. Requests for another page or fragment, and history navigations, stay
    separate and in order.
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.runtime.scriptrunner_utils.script_requests import _coalesce_widget_states

    out: list[Any] = []
    for msg in batch:
        if out and not msg.rerun_script.is_history_navigation and _target(out[-1]) == _target(msg):
            prev = out[-1]
            states = _coalesce_widget_states(prev.rerun_script.widget_states, msg.rerun_script.widget_states)
            merged = BackMsg()
            merged.CopyFrom(msg)
            if states is not None:
                merged.rerun_script.widget_states.CopyFrom(states)
            out[-1] = merged
        else:
            out.append(msg)
    return out


def installed() -> bool:
    return _INSTALLED
