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


class _FakeMsg:
    def __init__(self, kind: str, n: int):
        self.kind, self.n = kind, n

    def WhichOneof(self, _field: str) -> str:  # noqa: N802 - protobuf's name
        return self.kind


@in_thread
def test_a_burst_of_reruns_reaches_streamlit_in_one_flush_in_order():
    from sgapp import runtime

    calls: list[tuple[str, int, int]] = []

    class Session:
        ticks = 0

        def handle_backmsg(self, msg):
            calls.append((msg.kind, msg.n, Session.ticks))

    runtime._patch_handle_backmsg(Session)
    s = Session()

    async def main():
        for i in range(50):
            s.handle_backmsg(_FakeMsg("rerun_script", i))
        s.handle_backmsg(_FakeMsg("app_heartbeat", -1))  # other messages are not delayed
        assert [c[:2] for c in calls] == [("app_heartbeat", -1)]
        Session.ticks = 1
        await asyncio.sleep(0)  # the reader yields: the burst is flushed
        s.handle_backmsg(_FakeMsg("rerun_script", 99))  # a later request: its own flush
        Session.ticks = 2
        await asyncio.sleep(0)

    asyncio.run(main())
    reruns = [c for c in calls if c[0] == "rerun_script"]
    assert [n for _, n, _ in reruns] == [*range(50), 99]  # every request, in order: Streamlit merges them
    assert {t for _, n, t in reruns if n < 50} == {1} and reruns[-1][2] == 2


@in_thread
def test_without_an_event_loop_reruns_are_handled_at_once():
    from sgapp import runtime

    calls = []

    class Session:
        def handle_backmsg(self, msg):
            calls.append(msg.n)

    runtime._patch_handle_backmsg(Session)
    Session().handle_backmsg(_FakeMsg("rerun_script", 7))
    assert calls == [7]
