"""sgapp.runtime: the coalesced event-loop hand-off keeps every callback, in order, with fewer wake-ups."""

import asyncio
import threading

from threadloop import in_thread

from sgapp.runtime import Coalescer, install


@in_thread
def test_callbacks_run_in_order_with_one_wakeup_per_batch():
    loop = asyncio.new_event_loop()
    try:
        c = Coalescer(loop)
        seen: list[int] = []
        for i in range(100):  # submitted before the loop runs: one batch
            c.submit(lambda i=i: seen.append(i))
        loop.run_until_complete(asyncio.sleep(0))
        loop.run_until_complete(asyncio.sleep(0))
        assert seen == list(range(100))
        assert c.wakeups == 1
        c.submit(lambda: seen.append(100))  # after a drain: a new wake-up
        loop.run_until_complete(asyncio.sleep(0))
        assert seen[-1] == 100 and c.wakeups == 2
    finally:
        loop.close()


@in_thread
def test_submissions_from_threads_while_the_loop_runs_are_all_delivered_in_per_thread_order():
    loop = asyncio.new_event_loop()
    c = Coalescer(loop)
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def producer(t: int) -> None:
        for i in range(2000):
            c.submit(lambda t=t, i=i: seen.append((t, i)))

    async def main() -> None:
        threads = [threading.Thread(target=producer, args=(t,)) for t in range(3)]
        for th in threads:
            th.start()
        while any(th.is_alive() for th in threads) or len(seen) < 6000:
            await asyncio.sleep(0.001)
        done.set()

    try:
        loop.run_until_complete(asyncio.wait_for(main(), 30))
    finally:
        loop.close()
    assert done.is_set() and len(seen) == 6000
    for t in range(3):
        assert [i for tt, i in seen if tt == t] == list(range(2000))
    assert c.wakeups < 6000  # batches formed


@in_thread
def test_a_failing_callback_does_not_stop_the_batch():
    loop = asyncio.new_event_loop()
    errors = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx["exception"]))
    try:
        c = Coalescer(loop)
        seen = []
        c.submit(lambda: seen.append(1))
        c.submit(lambda: 1 / 0)
        c.submit(lambda: seen.append(3))
        loop.run_until_complete(asyncio.sleep(0))
        assert seen == [1, 3] and isinstance(errors[0], ZeroDivisionError)
    finally:
        loop.close()


def test_install_patches_the_pinned_streamlit_method():
    from streamlit.runtime.app_session import AppSession

    assert install() and install()  # idempotent
    patched = AppSession._call_soon_on_event_loop
    assert hasattr(patched, "__wrapped__")  # the method still exists where the patch expects it
    assert patched.__wrapped__.__code__.co_varnames[:2] == ("self", "callback")


@in_thread
def test_a_burst_of_reruns_reaches_streamlit_as_one_request_after_the_reader_yields():
    from sgapp import runtime

    calls: list[tuple[str, object, int]] = []

    class Session:
        ticks = 0

        def handle_backmsg(self, msg):
            if msg.WhichOneof("type") == "rerun_script":
                ws = msg.rerun_script.widget_states.widgets
                calls.append(("rerun_script", [w.double_array_value.data[0] for w in ws], Session.ticks))
            else:
                calls.append((msg.WhichOneof("type"), None, Session.ticks))

    runtime._patch_handle_backmsg(Session)
    s = Session()

    async def main():
        from streamlit.proto.BackMsg_pb2 import BackMsg

        for i in range(50):
            s.handle_backmsg(_rerun([("slider", "double", float(i))]))
        beat = BackMsg()
        beat.app_heartbeat = True
        s.handle_backmsg(beat)  # other messages are not delayed
        assert [c[0] for c in calls] == ["app_heartbeat"]
        Session.ticks = 1
        await asyncio.sleep(0)  # the reader yields: the burst is flushed
        s.handle_backmsg(_rerun([("slider", "double", 99.0)]))  # a later request: its own flush
        Session.ticks = 2
        await asyncio.sleep(0)

    asyncio.run(main())
    reruns = [c for c in calls if c[0] == "rerun_script"]
    assert reruns == [("rerun_script", [49.0], 1), ("rerun_script", [99.0], 2)]


@in_thread
def test_without_an_event_loop_reruns_are_handled_at_once():
    from sgapp import runtime

    calls = []

    class Session:
        def handle_backmsg(self, msg):
            calls.append(msg)

    runtime._patch_handle_backmsg(Session)
    Session().handle_backmsg(_rerun([("slider", "double", 7.0)]))
    assert [m.rerun_script.widget_states.widgets[0].double_array_value.data[0] for m in calls] == [7.0]


def _rerun(states, *, fragment="", page="p1"):
    from streamlit.proto.BackMsg_pb2 import BackMsg

    m = BackMsg()
    m.rerun_script.page_script_hash = page
    m.rerun_script.fragment_id = fragment
    for wid, kind, value in states:
        w = m.rerun_script.widget_states.widgets.add()
        w.id = wid
        if kind == "double":
            w.double_array_value.data.append(value)
        else:
            w.trigger_value = value
    return m


def test_merged_reruns_keep_the_newest_values_and_every_button_press():
    from sgapp.runtime import merge_reruns

    batch = [_rerun([("slider", "double", 1.0), ("play", "trigger", True)]),
             _rerun([("slider", "double", 2.0)]),
             _rerun([("slider", "double", 3.0)]),
             _rerun([("slider", "double", 3.0)], fragment="frag"),  # another target: kept apart, in order
             _rerun([("slider", "double", 4.0)], page="p2")]
    out = merge_reruns(batch)
    assert [(m.rerun_script.fragment_id, m.rerun_script.page_script_hash) for m in out] == [
        ("", "p1"), ("frag", "p1"), ("", "p2")]
    states = {w.id: w for w in out[0].rerun_script.widget_states.widgets}
    assert list(states["slider"].double_array_value.data) == [3.0]  # the newest value
    assert states["play"].trigger_value is True  # the older request's button press survives
    assert list(out[2].rerun_script.widget_states.widgets[0].double_array_value.data) == [4.0]
    assert merge_reruns([]) == []
