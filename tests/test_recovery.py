"""sgapp.recovery: a session resumed by a browser after its server session was lost gets a notice, once.

A new server session's first run carries widget states only when a browser that already showed the page
reconnects (its server died, or dropped the session); a fresh load or a reload carries none. AppTest lets a
test hand widget states to a new session's first run, as the reconnecting frontend does (the browser itself is
checked in tests/browser/test_deploy.py::test_resumed_session_notice_after_server_restart).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sgapp import recovery

pytestmark = pytest.mark.apptest


def _page():
    import streamlit as st

    from sgapp.recovery import notice_if_resumed

    resumed = notice_if_resumed()
    st.markdown(f"resumed={resumed}")
    st.slider("Steepness", 0.0, 10.0, 2.0, step=0.5, key="beta")
    st.selectbox("Shape", ["sigmoid", "triangle"], key="shape")


def _new_session() -> AppTest:
    return AppTest.from_function(_page, default_timeout=30)


def _notices(at: AppTest) -> list[str]:
    return [t.value for t in at.toast]


def _resumed(at: AppTest) -> bool:
    (line,) = [m.value for m in at.markdown if m.value.startswith("resumed=")]
    return line == "resumed=True"


def test_fresh_load_shows_no_notice():
    at = _new_session().run()
    assert not at.exception
    assert _notices(at) == [] and not _resumed(at)
    assert at.session_state[recovery.MARKER] == "fresh"
    # later reruns of the same session carry widget states: still no notice
    at.slider(key="beta").set_value(6.5).run()
    at.selectbox(key="shape").set_value("triangle").run()
    assert _notices(at) == [] and not _resumed(at)


def test_resumed_session_shows_the_notice_once():
    old = _new_session().run()
    old.slider(key="beta").set_value(6.5).run()
    states = old._tree.get_widget_states()  # what the frontend holds and re-sends after reconnecting
    assert len(states.widgets) == 2

    new = _new_session()  # the server that takes the tab over: a new session, no marker, no widget metadata
    new._run(widget_state=states)
    assert not new.exception
    assert _notices(new) == [recovery.NOTICE] and _resumed(new)
    assert "training progress" in recovery.NOTICE and "link" in recovery.NOTICE
    assert new.session_state[recovery.MARKER] == "resumed"
    assert new.slider(key="beta").value == 6.5  # the settings came back from the browser
    # once: the next runs of the resumed session show nothing new
    new.slider(key="beta").set_value(7.0).run()
    assert _notices(new) == [] and not _resumed(new)
    new.run()
    assert _notices(new) == []


def test_reload_after_a_resume_is_fresh_again():
    old = _new_session().run()
    old.slider(key="beta").set_value(3.0).run()
    resumed = _new_session()
    resumed._run(widget_state=old._tree.get_widget_states())
    assert _resumed(resumed)
    reload = _new_session().run()  # a reload: new session, no widget states
    assert _notices(reload) == [] and not _resumed(reload)


def _probe_page():
    import streamlit as st

    from sgapp.recovery import _browser_widget_ids

    ids = _browser_widget_ids()
    st.markdown(f"keys={'beta' in st.session_state} ids={','.join(sorted(ids)) if ids else '-'}")
    st.slider("Steepness", 0.0, 10.0, 2.0, step=0.5, key="beta")


def _probe(at: AppTest) -> tuple[str, list[str]]:
    (line,) = [m.value for m in at.markdown if m.value.startswith("keys=")]
    keys, ids = line.split(" ")
    return keys, [i for i in ids.removeprefix("ids=").split(",") if i != "-"]


def test_widget_keys_are_hidden_from_session_state_in_a_resumed_first_run():
    """Why recovery reads the run's widget ids: st.session_state does not show the browser's values by key
    before the widgets exist (Streamlit 1.67: no key-to-id mapping and no deserializer in a new session)."""
    old = AppTest.from_function(_probe_page).run()
    assert _probe(old) == ("keys=False", [])  # a fresh load sends no widget states
    old.slider(key="beta").set_value(6.5).run()
    assert _probe(old)[0] == "keys=True"  # a later run of the same session knows the key
    new = AppTest.from_function(_probe_page)
    new._run(widget_state=old._tree.get_widget_states())
    keys, ids = _probe(new)
    assert keys == "keys=False"  # the public lookup misses the resumed value ...
    assert len(ids) == 1 and ids[0].endswith("-beta")  # ... the run's state has it
    assert new.slider(key="beta").value == 6.5


def test_streamlit_internals_used_are_there():
    """recovery degrades to "never a notice" if these move: fail here so that an upgrade notices."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
    from streamlit.runtime.scriptrunner_utils.shared_run_state import SharedRunState
    from streamlit.runtime.state.safe_session_state import SafeSessionState
    from streamlit.runtime.state.session_state import SessionState, WStates

    assert "shared" in ScriptRunContext.__dataclass_fields__
    assert hasattr(SharedRunState(), "widget_ids_this_run")
    safe = SafeSessionState(SessionState(), lambda: None)
    assert hasattr(safe, "_lock") and isinstance(safe._state._new_widget_state, WStates)
    assert isinstance(safe._state._new_widget_state.states, dict)


def test_without_a_script_run_nothing_is_detected():
    assert recovery._browser_widget_ids() is None
