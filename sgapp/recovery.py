"""Tell a student whose server session was lost (a replica crashed or restarted) what came back and what did not.

When the server holding a tab's session dies, the Streamlit frontend reconnects (behind nginx or the Ingress,
to another replica, or to the restarted one), the server creates a *new* session, and the frontend re-sends
every widget's state with its first rerun. The page then looks as before (the widgets' values, and the link's
query parameters, come back), but everything the old session kept only on the server is gone: a running
training, its epochs, hand-edited weights, uploads. A reload instead starts a new session whose first rerun
carries no widget states.

So: in the first script run of a session (no marker in ``st.session_state`` yet), widget states sent by the
browser mean "resumed after the server session was lost". :func:`notice_if_resumed` then shows a notice once
and sets the marker; a fresh load only sets the marker.

How the states are seen (checked against the installed Streamlit 1.67.0, ``runtime/state/session_state.py``):
``AppSession.request_rerun`` hands the rerun's ``client_state.widget_states`` to ``SessionState.
on_script_will_rerun``, which stores them serialized in ``_new_widget_state`` keyed by widget id. A new session
has no widget metadata and no key-to-id mapping yet, so ``st.session_state`` deliberately hides these values
(``WStates.__getitem__``: "No deserializer, which should only happen if state is gotten from a reconnecting
browser ... Pretend it doesn't exist"; ``filtered_state`` skips ids it cannot map to a key): looking up a widget
key in ``st.session_state`` at the top of the run finds nothing, resumed or not. This module therefore reads the
widget ids of the run's state directly, through :func:`_browser_widget_ids`, and counts only those no widget of
this run has registered yet. If a Streamlit upgrade moves those internals, it returns ``None``, no notice is
ever shown (never a false one), and ``tests/test_recovery.py`` fails so that the upgrade is noticed.
"""

from __future__ import annotations

import streamlit as st

#: Set in ``st.session_state`` by the first run of every session (any page); its value says how it started.
MARKER = "_sge_session_start"
#: What a student reads after the reconnect.
NOTICE = ("The server restarted a moment ago (or this tab was offline for too long): your settings came back "
          "from your link, but training progress and hand-edited weights were lost.")


def _browser_widget_ids() -> set[str] | None:
    """Widget ids whose state the browser sent with this run and no widget of this run has claimed yet.

    ``None`` when there is no script run (bare execution) or this Streamlit keeps its state elsewhere.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None:
            return None
        safe = ctx.session_state  # SafeSessionState: its lock guards the SessionState against the runner
        with safe._lock:
            ids = list(safe._state._new_widget_state.states)
        registered = ctx.shared.widget_ids_this_run  # a ThreadSafeSet: membership only
        return {wid for wid in ids if wid not in registered}
    except (AttributeError, ImportError, TypeError):
        return None


def notice_if_resumed() -> bool:
    """Call at the top of every page. True (and the notice shown) in the first run of a resumed session.

    Cheap after the first run of a session: one ``st.session_state`` lookup.
    """
    if MARKER in st.session_state:
        return False
    ids = _browser_widget_ids()
    resumed = bool(ids)
    st.session_state[MARKER] = "resumed" if resumed else "fresh"
    if resumed:
        st.toast(NOTICE, icon=":material/restart_alt:", duration="long")
    return resumed
