"""bench/loadtest.py and its protocol client bench/stclient.py against one plain ``streamlit run app.py``.

Small and fast (a few seconds of load by three students, after the load test's warm-up, which opens the pages
one after another: a fresh plain server's first concurrent page runs can race through the same first import);
no wall-clock performance assertions: the figures themselves are the benchmark's business (bench/README.md).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from threadloop import call_in_thread

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import loadtest  # noqa: E402
import move_cost  # noqa: E402
import stclient  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` headless on a free loopback port, started as bench/move_cost.py starts it."""
    port = move_cost.free_port()
    try:
        proc = move_cost.start_server(REPO, port, sys.executable)
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        move_cost.stop_server(proc)


def _states(data: bytes) -> dict[str, tuple[str, object]]:
    cs = BackMsg.FromString(data).rerun_script
    out = {}
    for w in cs.widget_states.widgets:
        kind = w.WhichOneof("value")
        value = getattr(w, kind)
        out[w.id] = (kind, list(value.data) if hasattr(value, "data") else value)
    return out


def test_stclient_parses_a_slider_move(server):
    base, _ = server

    async def go():
        async with stclient.Tab(base, "/Escape_noise", timeout=60) as tab:
            first = await tab.load()
            wid = tab.widget_id("beta_sg")
            el = tab.widgets[wid]["el"]
            v0 = tab.value("beta_sg")[0]
            moved = await tab.move("beta_sg", +1)
            sent = _states(tab._back_msg())  # what the next request would carry: the state after the move
            query = tab.query
            back = await tab.move("beta_sg", -1)
            return first, moved, back, el, v0, wid, sent, query, tab.query

    first, moved, back, el, v0, wid, sent, query, query_back = call_in_thread(asyncio.run, go())
    assert first.status == "FINISHED_SUCCESSFULLY" and not first.errors
    assert first.elements.get("plotly_chart", 0) >= 1 and first.elements.get("slider", 0) >= 1
    assert el.min <= v0 <= el.max and el.step > 0
    v1 = min(el.max, v0 + el.step)
    assert moved.status == "FINISHED_SUCCESSFULLY" and not moved.errors
    assert moved.seconds > 0 and moved.first_delta is not None and moved.first_delta <= moved.seconds
    assert moved.bytes > 0 and moved.elements.get("plotly_chart", 0) >= 1
    assert sent[wid] == ("double_array_value", [pytest.approx(v1)])
    # a bound widget writes its new value into the URL as the frontend does, and leaves it at its default
    assert f"beta_sg={stclient._js_str(v1)}" in query.split("&")
    assert "beta_sg=" not in query_back
    assert back.status == "FINISHED_SUCCESSFULLY"
    assert back.refs >= 1  # the charts of the default value come back as references to the client's cache


def test_js_number_strings():
    assert [stclient._js_str(x) for x in (5.0, 7.5, 1e-5, 1e-7, 2.5e-7, 0.1, -3.0)] == \
        ["5", "7.5", "0.00001", "1e-7", "2.5e-7", "0.1", "-3"]


def test_banner_parsing():
    text = ('<div class="sge-banner sge-ok">Epoch <b>1,234</b> (deterministic) · <b>56</b> (stochastic), '
            "training… — L2 loss 1 vs 2.</div>")
    assert loadtest.parse_banner(text) == (1234, 56, "training…")
    assert loadtest.parse_banner("Play pressed — <b>waiting for a slot</b>")[2] == "waiting"


def test_loadtest_small_run(server, tmp_path):
    base, proc = server
    out = tmp_path / "report.json"
    rc = call_in_thread(loadtest.main, ["--url", base, "--pid", str(proc.pid), "--students", "3", "--think", "0.5",
                        "--think-dist", "uniform", "--duration", "5", "--ramp", "1", "--idle", "0.5",
                        "--move-cap", "30", "--out", str(out)])
    assert rc == 0
    r = json.loads(out.read_text())
    m = r["moves"]
    assert m["moves"] > 0 and m["per_s"] > 0
    assert r["errors"]["count"] == 0, r["errors"]
    assert m["errors"] == 0 and m["abandoned"] == 0 and m["dropped"] == 0
    assert 0 < m["p50_s"] <= m["p95_s"] <= m["p99_s"] <= m["max_s"]
    assert r["students"]["loaded"] == 3
    assert sum(r["sessions_per_replica"].values()) == 3
    (name, rss), = r["rss_mib"].items()
    assert rss["start"] > 0 and rss["peak"] >= rss["start"] * 0.5 and rss["end"] > 0
    assert r["server_cpu"]["per_move_ms"] is not None and r["server_cpu"]["window_s"] >= 0
    assert r["client"]["cpu_s"] >= 0 and r["client"]["cpu_share_of_one_core"] is not None
