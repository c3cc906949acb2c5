"""AppTest tests of the classification page (issue 17)."""

import io

import apphelpers
import numpy as np
import pytest
from apphelpers import banner, charts
from streamlit.testing.v1 import AppTest

from sgcore.classify.trainer import Classifier
from sgcore.classify_page import NETWORKS

PAGE = "pages/8_Classification.py"
pytestmark = pytest.mark.apptest

SMALL = {"classes": "3", "units": "20", "steps": "30", "samples_per_class": "30", "n_hidden": "32"}


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def session(at: AppTest) -> dict:
    return at.session_state["classify"]


def test_opens_paused_with_both_networks_built():
    at = app()
    assert not at.exception and not at.error
    assert "Press <b>Play</b>" in banner(at) and "10 classes" in banner(at)
    trainers = session(at)["trainers"]
    assert {t.cfg.network for t in trainers.values()} == set(NETWORKS)
    assert all(t.epoch == 0 for t in trainers.values())
    assert len(charts(at)) == 3  # accuracy and loss, Fano factor, backward activity (the open tab draws none yet)


def test_step_trains_one_epoch_of_each_and_the_metrics_follow():
    at = app(**SMALL)
    at.button(key="step").click().run()
    assert not at.exception
    trainers = session(at)["trainers"]
    assert [trainers[n].epoch for n in NETWORKS] == [1, 1]
    sto = trainers["stochastic"]
    shown = next(m.value for m in at.metric if m.label.startswith("Stochastic: Fano"))
    assert shown == f"{sto.history.fano_1[-1]:.3f}" and float(shown) > 0
    assert "Epoch <b>1</b>" in banner(at)


def test_data_settings_rebuild_and_training_settings_apply_mid_run():
    at = app(**SMALL)
    at.button(key="step").click().run()
    first = session(at)["trainers"]["stochastic"]
    at.select_slider(key="lr").set_value(0.002).run()
    assert session(at)["trainers"]["stochastic"] is first and first.optimizer.lr == 0.002 and first.epoch == 1
    at.slider(key="classes").set_value(4).run()
    rebuilt = session(at)["trainers"]["stochastic"]
    assert rebuilt is not first and rebuilt.epoch == 0 and rebuilt.data.n_classes == 4
    assert "4 classes" in banner(at)


def test_bad_link_values_get_a_notice_and_the_page_still_trains():
    at = app(classes="1", n_hidden="-3", lr="0.3")
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "classes" in text and "n_hidden" in text and "lr" in text
    assert session(at)["trainers"]["deterministic"].data.n_classes == 10  # the default


def test_evaluation_tab_shows_accuracy_cross_evaluation_and_confusion():
    at = app(**SMALL)
    at.button(key="step").click().run()
    at.button(key="evaluate").click().run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "with the other's spike rule" in d.value.columns)
    trainers = session(at)["trainers"]
    split = at.session_state["eval_split"]
    for row, net in zip(table.itertuples(index=False), NETWORKS, strict=True):
        assert row.network == net
        assert row[2] == f"{trainers[net].evaluate(split)['accuracy']:.1%}"
        assert row[4] == f"{trainers[net].cross_evaluate(split):.1%}"
    assert len(charts(at)) == 3 + 2  # the two confusion matrices


def test_one_sample_tab_draws_the_sample_and_the_trial_rasters():
    at = app(**SMALL, tab="One sample")
    assert not at.exception
    specs = charts(at)
    assert len(specs) == 3 + 2
    sto = session(at)["trainers"]["stochastic"]
    act = sto.activity("val", 0)
    assert f"true class {act['label']}" in specs[3] and "unit" in specs[4]


def test_gradient_study_on_demand():
    at = app(**SMALL, tab="Gradients (Fig. S1)")
    at.button(key="gradients").click().run()
    assert not at.exception
    ver, before, after = at.session_state["classify_grad"]
    assert before.trials == after.trials == 100
    assert any("deterministic gradient" in c.value for c in at.caption)


def test_checkpoint_tab_offers_downloads_and_an_upload():
    at = app(**SMALL, tab="Checkpoints and downloads")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["history.csv", "run.json", "deterministic.npz", "stochastic.npz"]
    assert len(at.get("file_uploader")) == 1
    # what the stochastic download holds loads back into the same network
    data, sto = session(at)["target"], session(at)["trainers"]["stochastic"]
    buf = io.BytesIO()
    sto.save(buf)
    back = Classifier.load(buf.getvalue(), data)
    assert all(np.array_equal(back.params[k], sto.params[k]) for k in sto.params)


def test_shd_is_not_offered_on_a_hosted_replica(monkeypatch):
    monkeypatch.setenv("SGE_HOSTED", "1")
    at = app(dataset="shd")
    assert not at.exception
    assert any("offered only when the app runs on your own machine" in i.value for i in at.info)
    assert session(at)["trainers"]["deterministic"].data.name == "randman"


def test_shd_locally_asks_for_the_file_and_refuses_a_bad_one(monkeypatch, tmp_path):
    monkeypatch.delenv("SGE_HOSTED", raising=False)
    at = app(dataset="shd")
    assert any("path of the SHD training file" in i.value for i in at.info)
    bad = tmp_path / "not.h5"
    bad.write_text("hello")
    at.text_input(key="shd_path").set_value(str(bad)).run()
    assert not at.exception
    assert any("not" in e.value.lower() and "Training keeps its current data" in e.value for e in at.error)


def test_shd_locally_trains_on_a_tiny_file_in_the_official_layout(monkeypatch, tmp_path):
    import h5py

    monkeypatch.delenv("SGE_HOSTED", raising=False)
    rng = np.random.default_rng(0)
    path = tmp_path / "shd_train.h5"
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (40,), dtype=h5py.vlen_dtype(np.dtype(np.float32)))
        units = f.create_dataset("spikes/units", (40,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i in range(40):
            times[i] = np.sort(rng.random(30)).astype(np.float32) * 0.69
            units[i] = (rng.integers(0, 100, 30) + 300 * (i % 2)).astype(np.uint16)
        f.create_dataset("labels", data=(np.arange(40) % 2).astype(np.uint8))
    at = app(dataset="shd", n_hidden="16", batch="8")
    at.text_input(key="shd_path").set_value(str(path)).run()
    assert not at.exception and not at.error
    trainer = session(at)["trainers"]["deterministic"]
    assert trainer.data.x.shape == (40, 350, 700) and trainer.data.n_classes == 2
    at.button(key="step").click().run()
    assert not at.exception and session(at)["trainers"]["stochastic"].epoch == 1
    assert "2 classes" in banner(at) or "Epoch <b>1</b>" in banner(at)


def test_initialisation_scheme_and_conditions_are_network_settings_with_their_values_shown():
    at = app(**SMALL)
    assert at.selectbox(key="init").value == "fluctuation" and at.selectbox(key="conditions").value == "none"
    at.selectbox(key="init").set_value("glorot_uniform").run()
    at.toggle(key="recurrent").set_value(True).run()
    at.selectbox(key="conditions").set_value("I+II").run()
    assert not at.exception and not at.error
    trainers = session(at)["trainers"]
    for t in trainers.values():
        assert (t.cfg.init, t.cfg.conditions, t.cfg.recurrent) == ("glorot_uniform", "I+II", True)
        assert t.conditions is not None and t.conditions.var_w_rec > 0
    shown = [c.value for c in at.caption if c.value.startswith("Conditions I+II")]
    assert len(shown) == 1 and f"{trainers['deterministic'].conditions.mean_w_rec:.4g}" in shown[0]
    first = trainers["stochastic"]
    at.selectbox(key="conditions").set_value("I+II+III").run()  # rebuilds: the SD is set by the conditions
    rebuilt = session(at)["trainers"]["stochastic"]
    assert rebuilt is not first and rebuilt.backward_cfg.scale == "gamma"
    assert any("dampening γ" in c.value for c in at.caption)


def test_conditions_on_a_feed_forward_network_are_refused_with_the_reason():
    at = app(**SMALL, conditions="I")
    assert not at.exception
    assert any("recurrent=True" in e.value for e in at.error)
    at.toggle(key="recurrent").set_value(True).run()  # what the message asks for
    assert not at.exception and not at.error
    assert session(at)["trainers"]["deterministic"].cfg.conditions == "I"
