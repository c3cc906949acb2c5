"""The protocol client of the load test (bench/stclient.py) speaks to the server as headless Chromium does.

One page, one slider step, done both ways on the session's server: Chromium presses ArrowRight on the
"SD steepness" slider of /Escape_noise, the client calls ``Tab.move("beta_sg", +1)``. Compared:

* the rerun request of the move (decoded from Chromium's websocket frames): every widget state, the query
  string (the bound slider's new value in the URL), the page hash, the fragment id, and which large messages
  it says it holds (``cached_message_hashes``): the same request means the same work for the server;
* the answer: the sequence of deltas (delta path, delta type, element type and a hash of the content with
  references resolved from the cache; a download button's per-session file id left out), how many came as
  references to cached messages, and the slider's new value.

Chromium's frames are decoded by the client's own message handling (an unconnected ``Tab``), so a
difference is a difference in what the server sent, not in how it is parsed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import StreamlitServer, wait_for_app

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import stclient  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

pytestmark = pytest.mark.browser

PAGE = "/Escape_noise"
SLIDER_LABEL, SLIDER_KEY = "SD steepness", "beta_sg"
TIMEOUT_S = 120  # generous: no timing is asserted, and a fresh server's first run imports a lot


def _request(cs) -> dict:
    states = {}
    for w in cs.widget_states.widgets:
        kind = w.WhichOneof("value")
        value = getattr(w, kind)
        states[w.id] = (kind, list(value.data) if hasattr(value, "data") else value)
    return {"widget_states": states, "query_string": cs.query_string, "page_script_hash": cs.page_script_hash,
            "page_name": cs.page_name, "fragment_id": cs.fragment_id,
            "cached_message_hashes": sorted(cs.cached_message_hashes)}


def _full_runs(tab: stclient.Tab) -> list:
    return [a for a in tab.finished if a.status not in stclient.SUPERSEDED and not a.fragment_ids]


def _browser_move(page, server: StreamlitServer):
    """Open the page in Chromium, press ArrowRight once on the slider; its rerun requests and decoded answers."""
    sent: list[bytes] = []
    received: list[bytes] = []

    def on_ws(ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framesent", lambda p: sent.append(p) if isinstance(p, bytes) else None)
            ws.on("framereceived", lambda p: received.append(p) if isinstance(p, bytes) else None)

    page.on("websocket", on_ws)
    page.goto(server.url(PAGE), wait_until="domcontentloaded")
    wait_for_app(page, timeout_ms=TIMEOUT_S * 1000)
    page.locator(".js-plotly-plot").first.wait_for(state="attached", timeout=TIMEOUT_S * 1000)
    decoder = stclient.Tab(server.base_url, PAGE, record=True, auto_rerun=False)

    def feed() -> None:
        for data in received[feed.done:]:
            decoder._handle(ForwardMsg.FromString(data), len(data))
        feed.done = len(received)

    feed.done = 0
    deadline = time.monotonic() + TIMEOUT_S
    while not _full_runs(decoder):
        assert time.monotonic() < deadline, "Chromium's first run did not finish"
        page.wait_for_timeout(50)
        feed()
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text=SLIDER_LABEL).get_by_role("slider")
    expect(thumb).to_have_count(1)
    thumb.focus()
    page.keyboard.press("ArrowRight")
    while len(_full_runs(decoder)) < 2:
        assert time.monotonic() < deadline, "Chromium's move did not finish"
        page.wait_for_timeout(50)
        feed()
    wait_for_app(page, timeout_ms=TIMEOUT_S * 1000)
    feed()
    reruns = [m.rerun_script for m in map(BackMsg.FromString, sent) if m.WhichOneof("type") == "rerun_script"]
    return reruns, decoder, float(thumb.get_attribute("aria-valuetext")), page.url


def _client_move(base: str):
    sent: list[bytes] = []

    async def go():
        tab = stclient.Tab(base, PAGE, record=True, timeout=TIMEOUT_S)
        build = tab._back_msg

        def recording(*args, **kwargs) -> bytes:
            data = build(*args, **kwargs)
            sent.append(data)
            return data

        tab._back_msg = recording
        async with tab:
            await tab.load()
            run = await tab.move(SLIDER_KEY, +1)
        return tab, run

    # Playwright's sync API runs an event loop in this thread: the client gets a thread of its own
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        tab, run = pool.submit(lambda: asyncio.run(go())).result(timeout=3 * TIMEOUT_S)
    reruns = [BackMsg.FromString(d).rerun_script for d in sent]
    return reruns, tab, run


def test_protocol_client_matches_chromium(page, streamlit_server):
    b_reruns, b_tab, b_value, b_url = _browser_move(page, streamlit_server)
    c_reruns, c_tab, c_run = _client_move(streamlit_server.base_url)

    # the requests: one to load, one for the move, and they are the same
    assert len(b_reruns) == 2, f"Chromium sent {len(b_reruns)} rerun requests"
    assert len(c_reruns) == 2
    b_req, c_req = _request(b_reruns[1]), _request(c_reruns[1])
    assert b_req["widget_states"], "Chromium sent no widget states with the move"
    for key in b_req:
        assert c_req[key] == b_req[key], f"the move's {key} differs:\nclient  {c_req[key]}\nbrowser {b_req[key]}"
    assert _request(c_reruns[0])["widget_states"] == _request(b_reruns[0])["widget_states"] == {}

    # the answers: the same deltas, the same references to cached messages, the same new value
    b_load, b_move = _full_runs(b_tab)[:2]
    c_load, c_move = _full_runs(c_tab)[:2]
    for name, b, c in (("load", b_load, c_load), ("move", b_move, c_move)):
        assert [f[:3] for f in c.fingerprint] == [f[:3] for f in b.fingerprint], f"{name}: other elements"
        diff = [(x, y) for x, y in zip(c.fingerprint, b.fingerprint, strict=True) if x != y]
        assert not diff, f"{name}: content differs (client, browser): {diff[:5]}"
        assert c.refs == b.refs, f"{name}: {c.refs} references for the client, {b.refs} for Chromium"
        assert c.elements == b.elements
    assert c_run.refs == b_move.refs and c_run.elements == b_move.elements
    assert b_move.elements.get("plotly_chart", 0) >= 1
    assert c_tab.value(SLIDER_KEY) == [pytest.approx(b_value)]
    assert b_url.split("?", 1)[1] == c_tab.query
