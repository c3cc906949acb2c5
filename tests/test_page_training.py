"""AppTest tests of the live-training page, and its figures."""

import io

import apphelpers
import numpy as np
import plotly.graph_objects as go
import pytest
from apphelpers import banner, charts
from PIL import Image
from streamlit.testing.v1 import AppTest

from sgcore.figures.training import fig_activity, fig_fano, fig_lif, fig_losses, fig_rasters, fig_trials
from sgcore.snn import PRESETS, TrainConfig, Trainer, lif_trace
from sgcore.targets import target_raster

PAGE = "pages/6_Training.py"
pytestmark = pytest.mark.apptest
SMALL = {"n_in": "40", "n_hidden": "30", "n_out": "30", "n_steps": "40"}


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def state(at: AppTest) -> dict:
    return at.session_state["training"]


def test_opens_paused_on_the_quick_preset_with_the_target():
    at = app()
    assert not at.exception and not at.error
    assert "Press <b>Play</b>" in banner(at)
    tr = state(at)["trainers"]
    assert set(tr) == {"deterministic", "stochastic"} and all(t.epoch == 0 for t in tr.values())
    for net in ("deterministic", "stochastic"):
        quick = PRESETS["quick"][net]
        assert tr[net].cfg.optimizer == quick["optimizer"] and tr[net].cfg.shape == quick["shape"]
    np.testing.assert_array_equal(state(at)["target"], target_raster("sg", 200, 189))
    assert len(charts(at)) == 7  # output and hidden rasters, losses, fano, active, trials, the LIF neuron


def test_step_trains_both_networks_one_epoch():
    at = app(**SMALL)
    at.button(key="step").click().run()
    assert not at.exception and not at.error
    tr = state(at)["trainers"]
    assert tr["deterministic"].epoch == tr["stochastic"].epoch == 1
    assert "Epoch <b>1</b>" in banner(at) and "paused" in banner(at)
    assert metric(at, "Active in backward (det.)").endswith("%")


def test_play_runs_bounded_chunks_and_pause_stops():
    at = app(**SMALL)
    at.button(key="play").click().run()
    assert state(at)["running"] is True
    first = state(at)["trainers"]["deterministic"].epoch
    assert first > 1  # one bounded chunk ran in the fragment
    at.button(key="pause").click().run()
    assert state(at)["running"] is False
    assert "paused" in banner(at)


def test_learning_settings_apply_mid_run_without_reset():
    at = app(**SMALL)
    at.button(key="step").click().run()
    before = state(at)["trainers"]["stochastic"]
    w = before.weights[0].copy()
    at.slider(key="sto_beta_hid").set_value(20.0).run()
    after = state(at)["trainers"]["stochastic"]
    assert after is before and after.epoch == 1 and after.cfg.beta_hid == 20.0
    np.testing.assert_array_equal(after.weights[0], w)


def test_structural_change_rebuilds_with_a_notice():
    at = app(**SMALL)
    at.button(key="step").click().run()
    at.slider(key="n_hidden").set_value(20).run()
    assert not at.exception
    tr = state(at)["trainers"]
    assert tr["deterministic"].epoch == 0 and tr["deterministic"].cfg.n_hidden == 20
    assert "training starts again" in state(at)["note"]


def test_paper_preset_sets_both_networks():
    at = app()
    at.button_group(key="preset").set_value("Paper Fig. 6").run()
    assert not at.exception
    tr = state(at)["trainers"]
    assert tr["deterministic"].cfg.optimizer == "gd" and tr["deterministic"].cfg.lr == pytest.approx(1e-4)
    assert tr["stochastic"].cfg.lr == pytest.approx(1e-5) and tr["stochastic"].cfg.trials == 10
    assert tr["stochastic"].cfg.beta_out == 100.0


def test_crafted_link_cannot_exceed_the_caps():
    at = app(n_hidden="100000", sto_trials="999", n_steps="-5")
    assert not at.exception and not at.error
    assert sum("Link parameter ignored" in w.value for w in at.warning) == 3
    cfg = state(at)["trainers"]["stochastic"].cfg
    assert cfg.n_hidden <= 400 and cfg.trials <= 32 and cfg.n_steps <= 400


def _png(size=(60, 40)) -> bytes:
    img = Image.new("L", size, 255)
    img.paste(0, (10, 10, 40, 30))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_upload_target_prompts_for_an_image():
    from sgcore.targets import upload_raster

    at = app(target="upload", **SMALL)
    assert not at.exception
    assert any("Choose an image to upload" in i.value for i in at.info)
    raster = upload_raster(_png(), 30, 40)
    assert raster.shape == (30, 40) and 0.15 < raster.mean() < 0.35


def test_lif_tab_matches_the_library():
    at = app()
    at.slider(key="lif_weight").set_value(1.0).run()
    assert not at.exception
    ref = lif_trace(1.0, 1, 40, reset="same")
    assert any(str(ref["spike_steps"][:10]) in c.value for c in at.caption)


# --- figures --------------------------------------------------------------------------------------
def test_figures_are_valid_plotly():
    cfg = TrainConfig(network="stochastic", n_in=20, n_hidden=15, n_out=10, n_steps=30, trials=3)
    t = Trainer(cfg, target_raster("wave", 10, 30))
    t.step(3)
    hist = {"stochastic": t.history.as_dict(), "deterministic": t.history.as_dict()}
    figs = [fig_rasters([("Target", t.target, "#000"), ("Output", t.last.output, "#e0a100"), ("Empty", None, "#000")]),
            fig_losses(hist), fig_fano(hist["stochastic"]), fig_activity(hist), fig_trials(t.trial_raster("hidden", 2),
                                                                                          "trials"),
            fig_lif({"same": lif_trace(0.5, 1, 40), "next": lif_trace(0.5, 1, 40, reset="next")})]
    for fig in figs:
        go.Figure(fig.to_dict())
    assert figs[0].data[0].z.dtype == np.uint8  # rasters ship as compact integer heatmaps


def test_full_server_queues_play_until_a_slot_frees():
    from sgapp.admission import process_slots

    slots = process_slots()
    fillers = [f"other-{i}" for i in range(slots.capacity)]
    for sid in fillers:
        assert slots.request(sid).admitted
    try:
        at = app(**SMALL)
        at.button(key="play").click().run()
        assert not at.exception
        assert any("Waiting for a training slot: you are number 1" in i.value for i in at.info)
        assert state(at)["trainers"]["deterministic"].epoch == 0
        assert "waiting for a slot" in banner(at)
        for sid in fillers:
            slots.release(sid)
        at.run()
        assert state(at)["trainers"]["deterministic"].epoch > 0
        at.button(key="pause").click().run()
        assert slots.status() == (0, 0)  # pausing gave the slot back
    finally:
        for sid in fillers:
            slots.release(sid)


# --- ticks: what each mode's fragments run and draw -----------------------------------------------------------
@pytest.fixture
def fragments(monkeypatch):
    """Record each fragment call of the page: (function name, run_every, element types it sent)."""
    import functools

    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    real = st.fragment
    calls: list[tuple[str, float | None, list[str]]] = []

    def fragment(func=None, *, run_every=None, **kw):
        def deco(f):
            @functools.wraps(f)
            def body(*a, **k):
                ctx = get_script_run_ctx()
                sent: list[str] = []
                send = ctx.enqueue

                def spy(msg):
                    if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
                        sent.append(msg.delta.new_element.WhichOneof("type"))
                    send(msg)

                ctx.enqueue = spy
                try:
                    return f(*a, **k)
                finally:
                    del ctx.enqueue
                    calls.append((f.__name__, run_every, sent))

            return real(body, run_every=run_every, **kw)

        return deco if func is None else deco(func)

    monkeypatch.setattr(st, "fragment", fragment)
    return calls


@pytest.fixture
def builds(monkeypatch):
    """Count the figure builds of the training page (sgcore.figures.training, as the page imports it each run)."""
    import sgcore.figures.training as figs

    count = {"n": 0}
    for name in ("fig_rasters", "fig_losses", "fig_fano", "fig_activity", "fig_trials"):
        real = getattr(figs, name)

        def counted(*a, _real=real, **k):
            count["n"] += 1
            return _real(*a, **k)

        monkeypatch.setattr(figs, name, counted)
    return count


def _ticks(calls) -> dict[str, tuple[float | None, list[str]]]:
    """The last call of each fragment."""
    return {name: (every, sent) for name, every, sent in calls}


@pytest.fixture
def full_server():
    """Every slot of this process taken by other sessions (released afterwards)."""
    from sgapp.admission import process_slots

    slots = process_slots()
    fillers = [f"filler-{i}" for i in range(slots.capacity)]
    for sid in fillers:
        assert slots.request(sid).admitted
    yield slots, fillers
    for sid in fillers:
        slots.release(sid)


def test_queued_tab_ticks_slowly_and_draws_no_charts(full_server, fragments, builds):
    from sgapp.admission import QUEUED_TICK

    slots, fillers = full_server
    at = app(**SMALL)
    at.button(key="step").click().run()  # its own speed is now known: the queue shows an estimate
    at.button(key="play").click().run()
    assert not at.exception
    ticks = _ticks(fragments)
    every, sent = ticks["status"]
    assert every == QUEUED_TICK  # a slow tick while queued...
    assert "plotly_chart" not in sent and set(sent) <= {"markdown", "alert", "metric"}  # ...that sends only its status
    assert ticks["charts"][0] is None  # the charts do not tick at all while queued
    info = next(i.value for i in at.info if "Waiting for a training slot" in i.value)
    assert "you are number 1 in the queue" in info and "deterministic and" in info and "epochs/s" in info
    assert metric(at, "Deterministic: epochs/s").startswith("≈ ")  # an estimate until it runs
    assert state(at)["trainers"]["deterministic"].epoch == 1  # the Step only: queued, it does not train
    before = builds["n"]
    fragments.clear()
    at.run()  # a full rerun while waiting (nothing changed): no figure is rebuilt
    assert builds["n"] == before and len(charts(at)) == 7
    assert _ticks(fragments)["status"][0] == QUEUED_TICK
    for sid in fillers:
        slots.release(sid)
    fragments.clear()
    at.run()  # admitted now: trains, and the status and charts tick fast
    ticks = _ticks(fragments)
    assert state(at)["trainers"]["deterministic"].epoch > 1
    assert builds["n"] > before
    from sgapp.admission import CHARTS_TICK, TRAINING_TICK

    assert ticks["status"][0] == TRAINING_TICK and ticks["charts"][0] == CHARTS_TICK
    assert "plotly_chart" not in ticks["status"][1] and ticks["charts"][1].count("plotly_chart") == 6
    at.button(key="pause").click().run()
    assert slots.status() == (0, 0)  # the fillers left; pausing gave this tab's slot back
    assert _ticks(fragments)["status"][0] is None and _ticks(fragments)["charts"][0] is None  # paused: no ticks


def test_training_shows_its_measured_epochs_per_second_and_is_charged(fragments):
    from sgapp.admission import process_slots

    at = app(**SMALL)
    assert metric(at, "Deterministic: epochs/s") == "–"  # never ran
    at.button(key="play").click().run()
    sid = at.session_state["training_session"]
    try:
        assert process_slots().budget.used(sid) > 0  # the tick's training CPU time was charged to the budget
        at.run()  # a second tick: a measured rate (no "≈")
        value = metric(at, "Deterministic: epochs/s")
        assert not value.startswith("≈") and float(value) > 0
        assert "training on" in banner(at) and "of a core" in banner(at)
    finally:
        at.button(key="pause").click().run()
    assert metric(at, "Deterministic: epochs/s") == value  # paused: the last measured rate stays
    assert process_slots().budget.used(sid) == 0  # released: the account is gone


def test_paused_widget_change_rebuilds_only_the_trial_figure(builds):
    at = app(**SMALL)
    at.button(key="step").click().run()
    before = builds["n"]
    at.number_input(key="trial_neuron").set_value(3).run()
    assert builds["n"] == before + 1  # fig_trials only: the other figures' inputs did not change
    at.run()
    assert builds["n"] == before + 1


def test_definitions_show_the_realised_fluctuation_of_the_initialisation():
    """The table next to the fluctuation-driven initialisation: the numbers of init_fluctuation for the trainers'
    own networks (quick preset: 200-200-200 at nu = 50 Hz), hidden and output of both networks."""
    from sgcore.snn import init_fluctuation

    at = app()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "target σ_U" in d.value.columns)
    assert list(zip(table["network"], table["layer"], strict=True)) == [
        ("deterministic", "hidden"), ("deterministic", "output"), ("stochastic", "hidden"), ("stochastic", "output")]
    assert (table["target σ_U"] == 1.0).all()
    trainers = state(at)["trainers"]
    for net in ("deterministic", "stochastic"):
        want = init_fluctuation(trainers[net].cfg)
        rows = table[table["network"] == net].set_index("layer")
        for lay in want.layers:
            assert rows.loc[lay.layer, "free U, pooled"] == pytest.approx(lay.free_std, abs=5e-4)
            assert rows.loc[lay.layer, "pooled, predicted"] == pytest.approx(lay.predicted_std, abs=5e-4)
            assert rows.loc[lay.layer, "input rate (Hz)"] == pytest.approx(lay.presynaptic_rate_hz, abs=0.05)
    hid = table.set_index(["network", "layer"]).loc[("deterministic", "hidden")]
    assert hid["input rate (Hz)"] == pytest.approx(50.3, abs=0.05)  # the frozen input at nu = 50 Hz
    assert 0.75 < hid["free U, per neuron"] < 1.25
    assert any("presynaptic rate is the hidden layer's" in c.value for c in at.caption)


def test_the_initialisation_scheme_rebuilds_both_networks():
    at = app(**SMALL)
    assert at.selectbox(key="init").value == "fluctuation"
    assert any(d.value is not None for d in at.dataframe)  # the fluctuation table (notes tab)
    at.selectbox(key="init").set_value("he_uniform").run()
    assert not at.exception and not at.error
    tr = state(at)["trainers"]
    for t in tr.values():
        assert t.cfg.init == "he_uniform" and t.epoch == 0
        assert np.abs(t.w1).max() <= np.sqrt(3 * 2 / 40) + 1e-6  # He uniform, fan_in = n_in = 40
    assert any("He uniform weights" in m.value for m in at.markdown)
