"""A protocol-level Streamlit client: speaks the app's websocket protocol as a browser tab does, at a tiny cost.

It opens ``/_stcore/stream`` with the same subprotocol header as Streamlit's frontend, sends ``BackMsg``
``rerun_script`` requests (query string, page, widget states) and reads ``ForwardMsg`` deltas until the run's
``script_finished``. It keeps every widget's value the way the frontend does (from the deltas it received), so a
"slider move" is the same request a browser sends: all widget states, one of them changed. It tells the server
which large messages it already holds (``cached_message_hashes``) and ages them out after the same number of
runs as the frontend, and resolves ``ref_hash`` references from its own cache.

Also as the frontend does:

* a button press (:meth:`Tab.click`) sends the button's ``trigger_value`` once, with every other widget state;
* ``auto_rerun`` messages (``st.fragment(run_every=...)``) start a timer per fragment that sends a fragment
  rerun (``is_auto_rerun``) every interval until a full run starts or ``stop_auto_rerun`` arrives; the runs
  that come back are recorded in :attr:`Tab.finished` (see :meth:`Tab.fragment_runs`);
* the query string follows ``page_info_changed`` (widgets bound to the URL), so a reconnect or a reload
  (:meth:`Tab.reconnect`) keeps the page and its widget values; a reconnect probes ``/_stcore/health`` with the
  frontend's backoff (100 ms doubling to 4 s, jittered), reopens the websocket with the old session id (the
  server resumes it if it still has it) and reruns with every widget state.

Used by ``bench/loadtest.py`` (many students), ``bench/move_cost.py`` and ``tests/browser/test_stclient.py``
(which checks that it sends and receives what Chromium does); loopback only.

    async with Tab("http://127.0.0.1:8501", "/Escape_noise") as tab:
        run = await tab.load()                   # first screen
        run = await tab.move("beta_sg", +1)      # one slider step right, like ArrowRight
        run.seconds, run.elements
"""

from __future__ import annotations

import asyncio
import collections
import decimal
import hashlib
import http.cookiejar
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

__all__ = ["Run", "Tab", "TabError", "TabTimeout", "page_query"]

XSRF_COOKIE = "_streamlit_xsrf"
EARLY = "FINISHED_EARLY_FOR_RERUN"
#: the status recorded for a run that a newer one replaced before it sent its script_finished
INTERRUPTED = "INTERRUPTED"
SUPERSEDED = (EARLY, INTERRUPTED)
#: the frontend's reconnect backoff (its health-ping retry): first delay, cap (milliseconds)
BACKOFF_FIRST_MS, BACKOFF_MAX_MS = 100, 4000
#: element kinds that carry an id but no widget state the frontend reports
_STATELESS = ("plotly_chart", "page_link", "download_button", "arrow_data_frame", "deck_gl_json_chart",
              "vega_lite_chart", "file_uploader", "camera_input", "audio_input", "chat_input", "data_frame")


class TabError(RuntimeError):
    """The server closed the connection, answered with an exception element, or did not finish in time."""


class TabTimeout(TabError):
    """No ``script_finished`` for the request within the timeout (the connection is still open)."""


@dataclass
class Run:
    """What one rerun brought back (every run the request caused, superseded ones included)."""

    seconds: float  # request sent -> script_finished received
    first_delta: float | None  # request sent -> first delta (the browser starts drawing)
    elements: dict[str, int] = field(default_factory=dict)  # element type -> count
    bytes: int = 0
    refs: int = 0  # messages sent as a reference to one the client already has
    status: str = ""  # how the run finished (FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY, ...)
    errors: list[str] = field(default_factory=list)  # exception elements (and cache misses)
    messages: int = 0
    runs: int = 0  # script runs it took (> 1 when a run was superseded, e.g. in a burst)
    fragment_ids: list[str] = field(default_factory=list)  # of the finishing run (empty: a full run)
    #: (delta path, delta type, element type, sha1 of the resolved delta) per delta, with ``Tab(record=True)``
    fingerprint: list[tuple[str, str, str, str]] = field(default_factory=list, repr=False)


@dataclass
class _Acc:
    """One script run as the reader sees it (from its new_session to its script_finished)."""

    seq: int
    run_id: str
    fragment_ids: list[str]
    t_start: float
    t_first_delta: float | None = None
    t_end: float | None = None
    status: str = ""
    elements: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    refs: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)
    fingerprint: list[tuple[str, str, str, str]] = field(default_factory=list)
    banner: str = ""  # the last ``sge-banner`` markdown the run drew (the app's status line)


@dataclass
class _Cached:
    msg: ForwardMsg
    run_count: int
    fragment_id: str


def _widget_value(kind: str, el: Any, *, default: bool = False) -> tuple[str, Any] | None:
    """The (WidgetState field, value) a frontend reports for a widget element it (re)mounts.

    ``set_value`` means the server sets the value (session state, a link); otherwise it is the default.
    ``default=True``: the widget's default (what the frontend compares with before writing the URL).
    """
    if default:
        fresh = type(el)()
        fresh.CopyFrom(el)
        el = fresh
        for name in ("set_value", "value", "raw_value", "raw_values"):
            if name in type(el).DESCRIPTOR.fields_by_name:
                el.ClearField(name)
    if kind == "slider":
        if len(el.options):  # st.select_slider: the formatted options
            if el.set_value or len(el.raw_value):
                return "string_array_value", list(el.raw_value)
            return "string_array_value", [el.options[int(i)] for i in el.default if 0 <= int(i) < len(el.options)]
        vals = list(el.value) if (el.set_value or len(el.value)) else list(el.default)
        return "double_array_value", vals
    if kind == "selectbox":
        if el.set_value or el.HasField("raw_value"):
            return ("string_value", el.raw_value) if el.HasField("raw_value") else None
        if el.HasField("default") and 0 <= el.default < len(el.options):
            return "string_value", el.options[el.default]
        return None
    if kind == "checkbox":  # st.checkbox and st.toggle
        return "bool_value", el.value if el.set_value else el.default
    if kind == "multiselect":
        if el.set_value or len(el.raw_values):
            return "string_array_value", list(el.raw_values)
        return "string_array_value", [el.options[i] for i in el.default if 0 <= i < len(el.options)]
    if kind == "button_group":  # st.segmented_control, st.pills, st.feedback
        if el.set_value or len(el.raw_values):
            return "string_array_value", list(el.raw_values)
        return "string_array_value", [el.options[i].content for i in el.default if 0 <= i < len(el.options)]
    if kind == "number_input":
        is_int = el.data_type == type(el).INT
        if el.set_value or el.HasField("value"):
            if not el.HasField("value"):
                return None
            v = el.value
        elif el.HasField("default"):
            v = el.default
        else:
            return None
        return ("int_value", int(v)) if is_int else ("double_value", float(v))
    if kind == "radio":
        if el.set_value or el.HasField("raw_value"):
            return ("string_value", el.raw_value) if el.HasField("raw_value") else None
        if el.HasField("default") and 0 <= el.default < len(el.options):
            return "string_value", el.options[el.default]
        return None
    if kind in ("text_input", "text_area"):
        if el.set_value or el.HasField("value"):
            return ("string_value", el.value) if el.HasField("value") else None
        return ("string_value", el.default) if el.HasField("default") else None
    if kind == "button":
        return "trigger_value", None  # sent only when clicked
    return None


class Tab:
    """One browser tab (one Streamlit session) on ``base`` showing ``page`` with ``query``.

    ``record=True`` keeps a fingerprint of every delta (for comparisons, costs a hash per message);
    ``auto_rerun=False`` ignores ``st.fragment(run_every=...)`` timers (a browser always runs them).
    """

    def __init__(self, base: str, page: str = "/", query: str = "", *, timeout: float = 30.0,
                 record: bool = False, auto_rerun: bool = True, max_finished: int = 2000):
        self.base = base.rstrip("/")
        self.page = page.strip("/")
        self.query = query.lstrip("?")
        self.timeout = timeout
        self.record = record
        self.auto_rerun = auto_rerun
        self.timezone, self.locale = "UTC", "en-US"
        self.ws: Any = None
        self.cookies = http.cookiejar.CookieJar()
        self.widgets: dict[str, dict[str, Any]] = {}  # widget id -> {"kind", "field", "value", "el", "fragment"}
        self.by_key: dict[str, str] = {}  # user key / query key -> widget id
        self.cache: dict[str, _Cached] = {}
        self.max_cached_message_age = 2  # from new_session.config, as the frontend reads it
        self._run_count = 0  # finished runs, for the cache's ages (the frontend's scriptRunCount)
        self.upstream = ""  # X-Upstream header of the page request (behind nginx)
        self.ws_upstream = ""  # X-Upstream header of the websocket handshake
        self.session_id = ""
        self.page_hash = ""
        self.banner = ""  # the last sge-banner markdown received
        self.closed_reason: str | None = None
        self.closed = asyncio.Event()  # set when the websocket closes
        self.connects = 0
        #: finished runs in order (bounded); a rerun's result and the fragment ticks are read from here
        self.finished: collections.deque[_Acc] = collections.deque(maxlen=max_finished)
        self.auto_sent = 0  # fragment reruns sent by auto-rerun timers
        self._seq = 0  # runs started (new_session messages)
        self._current: _Acc | None = None
        self._changed = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}

    # --- connection ---------------------------------------------------------------------------------
    def _opener(self) -> urllib.request.OpenerDirector:
        return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _http_get(self, path: str) -> None:
        with self._opener().open(self.base + path, timeout=self.timeout) as resp:
            resp.read()
            self.upstream = _last_upstream(resp.headers.get("X-Upstream", ""))

    def _health(self, timeout: float) -> bool:
        try:
            with self._opener().open(self.base + "/_stcore/health", timeout=timeout) as resp:
                return resp.status == 200 and resp.read().strip() == b"ok"
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def page_path(self) -> str:
        return "/" + self.page + ("?" + self.query if self.query else "")

    async def connect(self) -> None:
        """Open the page (sets the routing and XSRF cookies, as a browser's first request does), then the stream."""
        await asyncio.to_thread(self._http_get, self.page_path())
        await self._open_ws()

    async def _open_ws(self) -> None:
        cookies = {c.name: c.value for c in self.cookies}
        xsrf = cookies.get(XSRF_COOKIE, "")
        ws_url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Origin": self.base}
        protocols = ["streamlit", xsrf] if xsrf else ["streamlit"]
        if self.session_id:  # the frontend asks to resume its session
            protocols = ["streamlit", xsrf or "x", self.session_id]
        self._stop_timers()
        self.ws = await websockets.connect(ws_url, additional_headers=headers, subprotocols=protocols,
                                           max_size=2**27, open_timeout=self.timeout, ping_interval=None,
                                           close_timeout=2)
        response = getattr(self.ws, "response", None)
        self.ws_upstream = _last_upstream(response.headers.get("X-Upstream", "")) if response is not None else ""
        self.closed_reason = None
        self.closed = asyncio.Event()
        self.connects += 1
        self._reader = asyncio.create_task(self._read(self.ws, self.closed))

    async def reconnect(self, *, deadline_s: float = 60.0, reload: bool = False, rng: random.Random | None = None,
                        ) -> tuple[int, Run]:
        """Reconnect as the frontend does after the connection dropped: probe health with backoff, reopen, rerun.

        ``reload=True`` reloads the page instead (a new page request and a new session with the URL's state).
        Returns (attempts, the rerun). Raises TabError when it does not work within ``deadline_s``.
        """
        rng = rng or random.Random()
        await self.close()
        if reload:  # a fresh page: no session, no widget states, no cached messages, the page by its URL path
            self.session_id = self.page_hash = ""
            self.widgets.clear()
            self.by_key.clear()
            self.cache.clear()
        end = time.monotonic() + deadline_s
        last = "no attempt"
        for attempt in range(1, 1000):
            delay = min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1)) / 1000
            if attempt > 1:
                delay *= 0.7 + 0.3 * rng.random()
            if time.monotonic() + delay > end:
                break
            await asyncio.sleep(delay)
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                if reload:
                    await asyncio.to_thread(self._http_get, self.page_path())
                elif not await asyncio.to_thread(self._health, min(5.0, left)):
                    last = "health check failed"
                    continue
                await asyncio.wait_for(self._open_ws(), max(0.5, end - time.monotonic()))
                run = await self.rerun(widgets=not reload, timeout=max(0.5, end - time.monotonic()))
                return attempt, run
            except TabTimeout:
                raise
            except (OSError, TabError, TimeoutError, websockets.WebSocketException, urllib.error.URLError) as err:
                last = f"{type(err).__name__}: {err}"[:160]
                await self.close()
        raise TabError(f"could not reconnect within {deadline_s:g} s ({last})")

    async def _read(self, ws: Any, closed: asyncio.Event) -> None:
        reason = "connection closed"
        try:
            async for data in ws:
                if isinstance(data, str):
                    continue
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg, len(data))
        except websockets.ConnectionClosed as err:
            code = err.rcvd.code if err.rcvd is not None else None
            reason = f"connection closed ({code})"
        except Exception as err:  # noqa: BLE001 - a broken stream is reported, not raised in a background task
            reason = f"reader failed: {type(err).__name__}: {err}"[:200]
        finally:
            closed.set()
            if ws is self.ws:  # not a previous connection's reader finishing late
                if self.closed_reason is None:
                    self.closed_reason = reason
                self._stop_timers()
            self._changed.set()  # wake a waiting run

    async def close(self) -> None:
        self._stop_timers()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._reader = None
        self.closed.set()

    async def __aenter__(self) -> Tab:
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # --- what the server sends -----------------------------------------------------------------------
    def _handle(self, msg: ForwardMsg, nbytes: int) -> None:
        now = time.perf_counter()
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            if self._current is not None:  # superseded without a script_finished of its own (coalesced)
                self._current.status, self._current.t_end = INTERRUPTED, now
                self.finished.append(self._current)
            self._seq += 1
            run = msg.metadata.run
            self._current = _Acc(self._seq, run.script_run_id, list(run.fragment_ids), now)
            ns = msg.new_session
            if not run.fragment_ids:
                self._stop_timers()  # the frontend clears every auto-rerun timer when a full run starts
            if ns.HasField("config") and ns.config.max_cached_message_age:
                self.max_cached_message_age = ns.config.max_cached_message_age
            # Until the app's pages are known the listing holds one placeholder entry, so the page is
            # taken from the ``navigation`` message, or from a listing of more than one page.
            if len(ns.app_pages) > 1:
                self._page_from(ns.app_pages)
            if ns.HasField("initialize"):
                self.session_id = ns.initialize.session_id or self.session_id
        acc = self._current
        if acc is None:  # between runs (session status, page info): counted nowhere
            acc = _Acc(0, "", [], now)
        acc.bytes += nbytes
        acc.messages += 1
        if kind in ("delta", "ref_hash"):
            if acc.t_first_delta is None:
                acc.t_first_delta = now
            self._take(msg, acc)
        elif kind == "navigation":
            self._page_from(msg.navigation.app_pages)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self._stop_timers(fid)
        elif kind == "script_finished":
            status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
            acc.status, acc.t_end = status, now
            if msg.metadata.HasField("run") and msg.metadata.run.script_run_id:
                acc.fragment_ids = list(msg.metadata.run.fragment_ids)
            self.finished.append(acc)
            self._current = None
            if status != EARLY:
                self._age_cache(acc.fragment_ids)
            self._changed.set()

    def _age_cache(self, fragment_ids: list[str]) -> None:
        """The frontend's ForwardMsgCache.incrementRunCount: drop what was not used for a few runs."""
        self._run_count += 1
        for h, c in list(self.cache.items()):
            if fragment_ids and (not c.fragment_id or c.fragment_id not in fragment_ids):
                continue  # a fragment run ages only that fragment's messages
            if self._run_count - c.run_count > self.max_cached_message_age:
                del self.cache[h]

    def _take(self, msg: ForwardMsg, acc: _Acc) -> None:
        if msg.WhichOneof("type") == "ref_hash":
            acc.refs += 1
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                acc.errors.append(f"cache miss for {msg.ref_hash}")
                return
            cached.run_count = self._run_count
            meta = msg.metadata
            msg = ForwardMsg()
            msg.CopyFrom(cached.msg)
            msg.metadata.CopyFrom(meta)
        elif msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
            self.cache[msg.hash] = _Cached(msg, self._run_count, msg.delta.fragment_id)
        delta = msg.delta
        dtype = delta.WhichOneof("type") or ""
        el = delta.new_element
        kind = (el.WhichOneof("type") or "") if dtype == "new_element" else ""
        if self.record:
            digest = _digest(delta, kind)
            path = ".".join(map(str, msg.metadata.delta_path))
            acc.fingerprint.append((path, dtype, kind, digest))
        if not kind:
            return
        acc.elements[kind] = acc.elements.get(kind, 0) + 1
        if kind == "exception":
            acc.errors.append(el.exception.message or el.exception.type)
        inner = getattr(el, kind)
        if kind == "markdown" and 'class="sge-banner' in inner.body:
            acc.banner = self.banner = inner.body
        wid = getattr(inner, "id", "") if hasattr(inner, "id") else ""
        if not wid or kind in _STATELESS or not wid.startswith("$$ID"):
            return
        old = self.widgets.get(wid)
        got = _widget_value(kind, inner)
        entry = {"kind": kind, "el": inner, "field": got[0] if got else None, "value": got[1] if got else None,
                 "fragment": delta.fragment_id}
        keep = old is not None and old["field"] is not None and not getattr(inner, "set_value", False)
        if keep:
            entry["field"], entry["value"] = old["field"], old["value"]  # the frontend keeps what the user set
        self.widgets[wid] = entry
        for name in (getattr(inner, "query_param_key", ""), wid.split("-")[-1]):
            if name:
                self.by_key[name] = wid

    def _page_from(self, pages: Any) -> None:
        for p in pages:
            if p.url_pathname == self.page or (not self.page and p.is_default):
                self.page_hash = p.page_script_hash

    # --- auto reruns (st.fragment(run_every=...)) ----------------------------------------------------
    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not self.auto_rerun or not fragment_id or interval <= 0:
            return
        old = self._timers.get(fragment_id)
        if old is not None and old[0] == interval:
            return  # the frontend keeps a timer of the same interval running
        self._stop_timers(fragment_id)
        self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))

    async def _tick(self, fragment_id: str, interval: float) -> None:
        ws = self.ws
        for _ in range(10**6):  # ends with the connection, a full run or stop_auto_rerun
            await asyncio.sleep(interval)
            if ws is not self.ws or self.closed.is_set():
                return
            try:
                await ws.send(self._back_msg(True, fragment_id, auto=True))
            except (websockets.WebSocketException, OSError):
                return
            self.auto_sent += 1

    def _stop_timers(self, fragment_id: str | None = None) -> None:
        for fid in [fragment_id] if fragment_id else list(self._timers):
            entry = self._timers.pop(fid, None)
            if entry is not None:
                entry[1].cancel()

    @property
    def auto_rerun_fragments(self) -> list[str]:
        return list(self._timers)

    @property
    def running(self) -> bool:
        """A run has started (new_session) and not finished yet."""
        return self._current is not None

    @property
    def runs_started(self) -> int:
        return self._seq

    def fragment_runs(self, since: float = 0.0) -> list[_Acc]:
        """Finished fragment runs (auto-rerun ticks among them) that ended after ``since`` (perf_counter)."""
        return [a for a in self.finished if a.fragment_ids and a.t_end is not None and a.t_end >= since]

    # --- runs ---------------------------------------------------------------------------------------
    def _back_msg(self, widgets: bool = True, fragment: str = "", *, auto: bool = False,
                  trigger: str | None = None) -> bytes:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        if self.page_hash:  # as the frontend: the page by its hash once known, by its URL path before
            cs.page_script_hash = self.page_hash
        else:
            cs.page_name = self.page
        if fragment:
            cs.fragment_id = fragment
        if auto:
            cs.is_auto_rerun = True
        cs.cached_message_hashes.extend(self.cache)
        ci = cs.context_info  # what headless Chromium reports (st.context); the URL without its query
        ci.timezone, ci.timezone_offset, ci.locale = self.timezone, 0, self.locale
        ci.url, ci.is_embedded, ci.color_scheme = self.base + "/" + self.page, False, "light"
        if widgets:
            for wid, w in self.widgets.items():
                if w["field"] == "trigger_value":
                    if wid == trigger:
                        ws = cs.widget_states.widgets.add()
                        ws.id = wid
                        ws.trigger_value = True
                    continue
                if w["field"] is None or w["value"] is None:
                    continue
                ws = cs.widget_states.widgets.add()
                ws.id = wid
                value = w["value"]
                if w["field"] == "double_array_value":
                    ws.double_array_value.data.extend(value)
                elif w["field"] == "string_array_value":
                    ws.string_array_value.data.extend(value)
                elif w["field"] == "int_array_value":
                    ws.int_array_value.data.extend(value)
                else:
                    setattr(ws, w["field"], value)
        return msg.SerializeToString()

    async def send(self, *, widgets: bool = True, fragment: str = "", trigger: str | None = None) -> int:
        """Send one rerun request without waiting; returns the run counter to pass to :meth:`wait`."""
        if self.ws is None or self.closed.is_set():
            raise TabError(self.closed_reason or "not connected")
        seq = self._seq
        try:
            await self.ws.send(self._back_msg(widgets, fragment, trigger=trigger))
        except (websockets.WebSocketException, OSError) as err:
            raise TabError(f"send failed: {type(err).__name__}") from None
        return seq

    async def wait(self, seq: int, start: float, *, fragment: str = "", timeout: float | None = None) -> Run:
        """Wait for the first run started after run counter ``seq`` that covers the request and finished."""
        timeout = self.timeout if timeout is None else timeout
        deadline = start + timeout
        closed = self.closed
        for _ in range(10**7):  # bounded by the deadline; each pass waits for the reader
            self._changed.clear()
            mine = [a for a in self.finished if a.seq > seq]
            for i, acc in enumerate(mine):
                if acc.status in SUPERSEDED:
                    continue
                if fragment and acc.fragment_ids and fragment not in acc.fragment_ids:
                    continue
                if not fragment and acc.fragment_ids:
                    continue  # an auto-rerun tick finished meanwhile; not the full run asked for
                return self._result(mine[: i + 1], start)
            if closed.is_set():
                raise TabError(self.closed_reason or "connection closed")
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TabTimeout(f"no script_finished within {timeout:g} s")
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass
        raise TabTimeout("gave up waiting")

    def _result(self, accs: list[_Acc], start: float) -> Run:
        last = accs[-1]
        firsts = [a.t_first_delta for a in accs if a.t_first_delta is not None]
        run = Run(seconds=(last.t_end or time.perf_counter()) - start,
                  first_delta=(min(firsts) - start) if firsts else None, status=last.status, runs=len(accs),
                  fragment_ids=list(last.fragment_ids))
        for a in accs:
            for k, v in a.elements.items():
                run.elements[k] = run.elements.get(k, 0) + v
            run.bytes += a.bytes
            run.refs += a.refs
            run.messages += a.messages
            run.errors.extend(a.errors)
            run.fingerprint.extend(a.fingerprint)
        return run

    async def rerun(self, *, widgets: bool = True, fragment: str = "", trigger: str | None = None,
                    timeout: float | None = None) -> Run:
        """Send one rerun request and read until the run finishes."""
        start = time.perf_counter()
        seq = await self.send(widgets=widgets, fragment=fragment, trigger=trigger)
        return await self.wait(seq, start, fragment=fragment, timeout=timeout)

    async def load(self, *, timeout: float | None = None) -> Run:
        """The first screen: a rerun with no widget states (as a fresh tab sends)."""
        return await self.rerun(widgets=False, timeout=timeout)

    def widget_id(self, key: str) -> str:
        if key in self.by_key:
            return self.by_key[key]
        raise TabError(f"no widget {key!r} on {self.page or 'home'}; have {sorted(self.by_key)}")

    def value(self, key: str) -> Any:
        return self.widgets[self.widget_id(key)]["value"]

    def step_value(self, key: str, steps: int = 1) -> float:
        """The value ``steps`` slider steps from the current one, clamped to the slider's range."""
        w = self.widgets[self.widget_id(key)]
        el = w["el"]
        if w["kind"] != "slider" or len(el.options):
            raise TabError(f"{key!r} is a {w['kind']}, not a numeric slider")
        step = el.step or (el.max - el.min) / 100
        return min(el.max, max(el.min, w["value"][0] + steps * step))

    def user_set(self, key: str, value: Any) -> dict[str, Any]:
        """Change widget ``key`` as a user does (no rerun yet): its state, and the URL if it is bound to it."""
        w = self.widgets[self.widget_id(key)]
        w["value"] = value
        self._sync_url(w)
        return w

    def _sync_url(self, w: dict[str, Any]) -> None:
        """The frontend's maybeSyncValueToUrl: a bound widget's new value goes into the query string
        (sorted keys, ``+`` for spaces), or leaves it when it equals the widget's default."""
        param = getattr(w["el"], "query_param_key", "")
        if not param or w["field"] is None:
            return
        url = _url_value(w["field"], w["value"])
        dflt = _widget_value(w["kind"], w["el"], default=True)
        dflt_url = _url_value(dflt[0], dflt[1]) if dflt else None
        clear = url is None or url == [] or url == "" or url == dflt_url
        if isinstance(url, list) and isinstance(dflt_url, str):
            clear = clear or url == [dflt_url]
        pairs = [(k, v) for k, v in urllib.parse.parse_qsl(self.query, keep_blank_values=True) if k != param]
        if not clear:
            if isinstance(url, list):
                pairs.extend((param, v) for v in url)
            else:
                pairs.append((param, url))
        pairs.sort(key=lambda kv: kv[0])  # query-string's stringify sorts the keys (stably)
        self.query = urllib.parse.urlencode(pairs, quote_via=_quote).replace("%20", "+")

    async def move(self, key: str, steps: int = 1, *, timeout: float | None = None) -> Run:
        """Move slider ``key`` by ``steps`` of its step (clamped to its range), as arrow keys do; rerun."""
        w = self.user_set(key, [self.step_value(key, steps)])
        return await self.rerun(fragment=w["fragment"], timeout=timeout)

    async def set(self, key: str, value: Any, *, timeout: float | None = None) -> Run:
        w = self.user_set(key, value)
        return await self.rerun(fragment=w["fragment"], timeout=timeout)

    async def click(self, key: str, *, timeout: float | None = None) -> Run:
        """Press button ``key``: its trigger_value is sent once, with every other widget state."""
        wid = self.widget_id(key)
        w = self.widgets[wid]
        if w["kind"] != "button":
            raise TabError(f"{key!r} is a {w['kind']}, not a button")
        return await self.rerun(fragment=w["fragment"], trigger=wid, timeout=timeout)


def _digest(delta: Any, kind: str) -> str:
    """A content hash of a delta; a download button's file id is random per session, so it is left out."""
    if kind == "download_button":
        d = type(delta)()
        d.CopyFrom(delta)
        for name in ("url", "deferred_file_id"):
            if name in type(d.new_element.download_button).DESCRIPTOR.fields_by_name:
                d.new_element.download_button.ClearField(name)
        delta = d
    return hashlib.sha1(delta.SerializeToString(deterministic=True)).hexdigest()[:16]


def _js_str(x: float) -> str:
    """A number as JavaScript's String() writes it (the frontend writes slider values into the URL so)."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return {True: "NaN"}.get(x != x, "Infinity" if x > 0 else "-Infinity")
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    r = repr(x)
    if "e" not in r:
        return r
    mant, exp = r.split("e")
    e = int(exp)
    if -7 < e < 21:
        return format(decimal.Decimal(r), "f")
    return f"{mant}e{'+' if e > 0 else '-'}{abs(e)}"


def _url_value(field_name: str, value: Any) -> str | list[str] | None:
    """The frontend's convertToUrlValue for a widget state."""
    if value is None:
        return None
    if field_name in ("double_array_value", "int_array_value"):
        return [_js_str(v) for v in value]
    if field_name == "string_array_value":
        return [v for v in value if v != ""]
    if field_name == "bool_value":
        return "true" if value else "false"
    if field_name in ("double_value", "int_value"):
        return _js_str(value)
    return str(value)


def _quote(value: str, safe: str = "", encoding: str | None = None, errors: str | None = None) -> str:
    return urllib.parse.quote(value, safe="", encoding=encoding, errors=errors)  # as encodeURIComponent (strict)


def _last_upstream(header: str) -> str:
    """nginx's $upstream_addr lists every replica it tried ("a, b"); the last one answered."""
    return header.split(",")[-1].strip() if header else ""


def page_query(query: dict[str, Any]) -> str:
    return urllib.parse.urlencode(query)
