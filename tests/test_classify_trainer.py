"""The classifier (sgcore.classify.trainer), its configuration, CLI and the reuse of the training controller
(issue 17)."""

import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from sgapp.admission import TrainingSlots
from sgapp.training_session import TrainingSession
from sgcore.classify.config import CLASSIFY_PRESETS, ClassifyConfig, DataConfig, classify_preset
from sgcore.classify.data import randman
from sgcore.classify.trainer import HISTORY_KEYS, Classifier, train_classifier
from sgcore.classify_page import MID_RUN, NETWORKS, REBUILD

TINY = DataConfig(classes=3, units=20, steps=30, samples_per_class=60, dim=1)


@pytest.fixture(scope="module")
def data():
    return randman(TINY.randman())


def cfg(**kw):
    return ClassifyConfig(**{"n_hidden": 32, "batch": 16, **kw})


@pytest.mark.parametrize("network", ["deterministic", "stochastic"])
def test_both_networks_learn_well_above_chance(data, network):
    clf = Classifier(cfg(network=network), data)
    clf.step(25)
    h = clf.history
    assert list(h.epoch) == list(range(25)) and tuple(h.keys) == HISTORY_KEYS
    assert h.val_accuracy[-1] > 0.65 > 1 / 3 + 0.3  # chance is 1/3
    assert h.train_loss[-1] < h.train_loss[0]
    fano = np.array(h.fano_1)
    if network == "stochastic":
        assert np.all(np.isfinite(fano)) and fano.min() > 0.005  # variability stays (Fig. 7C)
    else:
        assert np.all(np.isnan(fano))
    assert np.all(np.isnan(h.fano_2)) and np.all(np.isnan(h.fano_3))  # one hidden layer


def test_evaluation_confusion_and_cross_evaluation(data):
    clf = Classifier(cfg(), data)
    clf.step(3)
    ev = clf.evaluate("test")
    n = data.split["test"].size
    assert ev["confusion"].sum() == n and ev["predictions"].shape == (n,)
    assert ev["accuracy"] == pytest.approx(np.trace(ev["confusion"]) / n)
    assert np.array_equal(ev["confusion"].sum(axis=1), data.class_counts("test"))
    assert clf.cross_evaluate("test") == clf.evaluate("test", stochastic=True)["accuracy"]
    again = clf.evaluate("test", stochastic=True)
    assert again["accuracy"] == clf.cross_evaluate("test")  # the same noise for the same weights


def test_gradient_trials_are_cosines_and_collapse_on_the_deterministic_gradient_without_noise(data):
    clf = Classifier(cfg(network="stochastic"), data)
    g = clf.gradient_trials(12)
    assert g.cos_trials.shape == (12,) and np.all(np.abs(g.cos_trials) <= 1 + 1e-12)
    assert g.pcs.shape == (12, 2) and 0 < g.explained.sum() <= 1 + 1e-12
    assert g.cos_trials.mean() > g.cos_trials.min()
    # with escape noise this steep every trial spikes as the step would: all gradients are the deterministic one
    steep = Classifier(cfg(network="stochastic", beta_noise=1e4), data).gradient_trials(4)
    assert steep.cos_deterministic == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(steep.cos_trials, 1.0, atol=1e-6)
    before = clf.gradient_trials(4, initial=True)
    clf.step(2)
    assert not np.allclose(clf.gradient_trials(4).pc_mean, clf.gradient_trials(4, initial=True).pc_mean)
    assert before.cos_deterministic == pytest.approx(clf.gradient_trials(4, initial=True).cos_deterministic)


def test_mid_run_settings_and_fixed_ones(data):
    clf = Classifier(cfg(optimizer="adam", lr=1e-3), data)
    clf.step(1)
    clf.set(lr=5e-3, beta_sg=5.0, loss="sum")
    assert clf.optimizer.lr == 5e-3 and clf.spec.loss == "sum" and clf.cfg.beta_sg == 5.0
    state = clf.optimizer.state_dict()
    clf.set(optimizer="smorms3")
    assert type(clf.optimizer).__name__ == "SMORMS3" and clf.optimizer.state_dict() != state
    with pytest.raises(ValueError, match="cannot change n_hidden"):
        clf.set(n_hidden=64)
    with pytest.raises(ValueError, match="unknown setting"):
        clf.set(colour="red")
    with pytest.raises(ValueError, match="beta_sg must be"):
        clf.set(beta_sg=-1.0)


def test_checkpoint_round_trip_and_refusals(data, tmp_path):
    clf = Classifier(cfg(network="stochastic", optimizer="smorms3"), data)
    clf.step(2)
    buf = io.BytesIO()
    clf.save(buf)
    back = Classifier.load(buf.getvalue(), data)
    assert back.epoch == 2 and back.cfg == clf.cfg
    assert all(np.array_equal(back.params[k], clf.params[k]) for k in clf.params)
    assert back.optimizer.state_dict().keys() == clf.optimizer.state_dict().keys()
    assert back.evaluate("val")["accuracy"] == clf.evaluate("val")["accuracy"]  # the same network
    fresh = io.BytesIO()  # before the first update the optimizer has no state yet
    Classifier(cfg(), data).save(fresh)
    assert Classifier.load(fresh.getvalue(), data).epoch == 0
    with pytest.raises(ValueError, match="not a checkpoint"):
        Classifier.load(b"this is not an npz archive", data)
    other = randman(DataConfig(classes=3, units=20, steps=30, samples_per_class=60, dim=1, data_seed=5).randman())
    with pytest.raises(ValueError, match="other data"):
        Classifier.load(buf.getvalue(), other)
    # an archive holding a pickled object is refused without unpickling it
    evil = tmp_path / "evil.npz"
    np.savez(evil, meta=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a checkpoint"):
        Classifier.load(evil.read_bytes(), data)
    # right archive, wrong weights
    z = dict(np.load(io.BytesIO(buf.getvalue())))
    z["param/W1"] = z["param/W1"][:, :3]
    bad = io.BytesIO()
    np.savez(bad, **z)
    with pytest.raises(ValueError, match="weight W1"):
        Classifier.load(bad.getvalue(), data)


def test_epoch_work_is_bounded_naming_the_factors(data):
    big = ClassifyConfig(n_hidden=512, n_layers=3)
    with pytest.raises(ValueError, match=r"training samples x steps x hidden units x \(inputs \+ hidden units\)"):
        big.epoch_work(10**6, 700, 1000)
    assert big.epoch_work(data.split["train"].size, data.units, data.steps) > 0


def test_presets_build_and_match_the_paper():
    for name in CLASSIFY_PRESETS:
        data_values, net_values = classify_preset(name)
        ClassifyConfig.from_mapping(net_values)
        DataConfig.from_mapping(data_values)
    _, paper = classify_preset("fig7_shd")
    assert paper["optimizer"] == "smorms3" and paper["lr"] == 0.01 and paper["batch"] == 400  # Tables 2-3
    assert paper["shape"] == "superspike" and paper["beta_sg"] == 10.0 and paper["beta_noise"] == 10.0
    with pytest.raises(ValueError, match="preset must be one of"):
        classify_preset("nope")


def test_train_classifier_reports_the_cli_keys(data):
    out = train_classifier(cfg(network="stochastic"), data, epochs=3, gradient_trials=3)
    for key in ("train_accuracy", "val_accuracy", "loss", "fano", "test_accuracy", "cross_eval_accuracy",
                "gradient_trials"):
        assert key in out
    assert len(out["val_accuracy"]) == 3 and set(out["fano"]) == {"hidden_1"}
    assert set(out["gradient_trials"]) == {"before", "after"}
    assert 0 <= out["test_accuracy"] <= 1 and 0 <= out["cross_eval_accuracy"] <= 1


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sgcore", *args], capture_output=True, text=True, timeout=600)


def test_cli_classify_prints_one_json_object():
    r = _cli("classify", "--network", "stochastic", "--epochs", "2", "--classes", "3", "--units", "10", "--steps",
             "20", "--samples-per-class", "20", "--n-hidden", "16", "--gradient-trials", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["config"]["network"] == "stochastic" and out["data"]["shape"] == [60, 20, 10]
    assert len(out["train_accuracy"]) == 2 and "hidden_1" in out["fano"]
    assert math.isfinite(out["test_accuracy"]) and "after" in out["gradient_trials"]


@pytest.mark.parametrize("args,needle", [
    (("--n-hidden", "0"), "n_hidden must be"),
    (("--dataset", "shd"), "dataset shd needs --path"),
    (("--dataset", "shd", "--path", "no/such/file.h5"), "no/such/file.h5"),
    (("--lr", "nan"), "lr must be"),
    (("--epochs", "0"), "epochs must be"),
])
def test_cli_classify_bad_values_exit_2_with_one_line(args, needle):
    r = _cli("classify", "--epochs", "1", *args)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cli_randman_prints_the_checksum():
    r = _cli("randman", "--classes", "3", "--units", "5", "--steps", "10", "--samples-per-class", "4")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    data = randman(DataConfig(classes=3, units=5, steps=10, samples_per_class=4).randman())
    assert out["checksum"] == data.checksum() and out["shape"] == [12, 10, 5]


# --- the training controller drives classifiers -----------------------------------------------------------------
def _session(state):
    return TrainingSession(state, TrainingSlots(capacity=1), "tab", networks=NETWORKS, fixed=REBUILD,
                           make_trainer=Classifier, mid_run=MID_RUN, work_fn=lambda c: 1.0, speed_kind="classify:")


def test_the_training_session_builds_applies_mid_run_and_rebuilds(data):
    state = {}
    s = _session(state)
    configs = {net: cfg(network=net) for net in NETWORKS}
    assert s.apply(configs, ("tiny", data)).built
    assert {t.cfg.network for t in s.trainers.values()} == set(NETWORKS)
    s.step()
    first = s.trainers["stochastic"]
    applied = s.apply({net: cfg(network=net, lr=0.02) for net in NETWORKS}, ("tiny", data))
    assert not applied.built and applied.changed["stochastic"] == ("lr",)
    assert s.trainers["stochastic"] is first and first.optimizer.lr == 0.02 and first.epoch == 1
    assert s.apply({net: cfg(network=net, n_hidden=16) for net in NETWORKS}, ("tiny", data)).restarted
    assert s.trainers["stochastic"].epoch == 0
    # a checkpoint goes in only with the same fixed settings
    other = Classifier(cfg(network="stochastic", n_hidden=32), data)
    with pytest.raises(ValueError, match="n_hidden = 32 differ"):
        s.replace("stochastic", other)
    same = Classifier(cfg(network="stochastic", n_hidden=16), data)
    s.replace("stochastic", same)
    assert s.trainers["stochastic"] is same and not s.running


def test_conv_layers_are_table_3s_and_refuse_inputs_too_short():
    conv = ClassifyConfig(layers="conv", n_layers=3, recurrent=True)
    spec = conv.spec(700, 20, 350, 2.0)
    assert spec.layers == "conv" and spec.channels == (16, 32, 64) and spec.kernels == (21, 7, 7)
    assert spec.strides == (10, 3, 3) and spec.hidden == (1088, 672, 320)  # lengths 68, 21, 5
    assert ClassifyConfig(layers="conv", n_layers=1).spec(700, 20, 350, 2.0).hidden == (1088,)
    with pytest.raises(ValueError, match="kernels\\[1\\] = 7 exceeds the length 2"):
        conv.spec(40, 10, 50, 1.0)  # Randman's 40 units are too few for Table 3's second layer


def test_a_conv_network_learns_on_700_input_channels():
    data = randman(DataConfig(classes=2, units=700, steps=20, samples_per_class=20, dim=1).randman())
    clf = Classifier(ClassifyConfig(layers="conv", n_layers=2, recurrent=True, batch=8, network="stochastic"), data)
    assert set(clf.params) == {"W1", "W2", "V1", "V2", "W_out"} and clf.params["W1"].shape == (16, 1, 21)
    clf.step(8)
    loss = np.array(clf.history.train_loss)
    assert np.all(np.isfinite(loss)) and loss[-2:].mean() < loss[:2].mean()
    assert np.isfinite(clf.history.fano_2[-1])


def test_a_minibatch_is_bounded_tighter_on_a_hosted_page(data):
    from sgcore.classify.config import HOSTED_MINIBATCH_CELLS

    big = dict(batch=1000, n_hidden=256, n_layers=3)  # 1000 x 30 steps x 768 neurons = 2.3e7 cells
    with pytest.raises(ValueError, match=r"batch x steps x hidden neurons = 2\.3e\+07 exceeds 2e\+07"):
        Classifier(cfg(**big), data, max_cells=HOSTED_MINIBATCH_CELLS)
    Classifier(cfg(**big), data)  # allowed locally (below 3.5e8)
    clf = Classifier(cfg(**{**big, "batch": 16}), data, max_cells=HOSTED_MINIBATCH_CELLS)
    with pytest.raises(ValueError, match="exceeds 2e\\+07"):
        clf.set(batch=1000)  # mid-run too
    assert clf.cfg.batch == 16
