"""The media player of the pages that train live (the training and classification pages): Play, Pause, Step
(one epoch of each network) and Reset (new weights from the seed), over a :class:`~sgapp.training_session.
TrainingSession`, with its last note beside them."""

from __future__ import annotations

import streamlit as st

from .training_session import TrainingSession

__all__ = ["media_player"]


def media_player(session: TrainingSession) -> None:
    """Draw the four buttons and act on a press: Play and Pause set the session's state, Reset rebuilds the
    networks from the seed (the page is run again), Step trains one epoch of each network."""
    b1, b2, b3, b4, b5 = st.columns([1, 1, 1, 1, 3])
    if b1.button("Play", icon=":material/play_arrow:", type="primary", width="stretch", key="play"):
        session.play()
    if b2.button("Pause", icon=":material/pause:", width="stretch", key="pause"):
        session.pause()
    step_now = b3.button("Step", icon=":material/skip_next:", width="stretch", key="step",
                         help="Train both networks for one epoch")
    if b4.button("Reset", icon=":material/restart_alt:", width="stretch", key="reset_training",
                 help="New initial weights from the seed; keeps every setting"):
        session.reset()
        st.rerun()
    if session.note:
        b5.caption(session.note)
    if step_now:
        session.step()
