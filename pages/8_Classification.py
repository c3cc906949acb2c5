"""Classification: a stochastic and a deterministic SNN learn to classify spike patterns side by side (Fig. 7, S1)."""

import hashlib
import json
import os
import uuid

import numpy as np
import streamlit as st

from sgapp.admission import PAUSED, QUEUED, TRAINING, process_slots, redraw
from sgapp.caching import shared
from sgapp.charts import chart
from sgapp.controls import open_page, widget
from sgapp.layout import banner
from sgapp.media import media_player
from sgapp.tables import arrow
from sgapp.training_session import MAX_EPOCHS, TrainingSession
from sgcore.classify.commands import data_for
from sgcore.classify.config import HOSTED_MINIBATCH_CELLS, MINIBATCH_CELLS, ClassifyConfig, DataConfig
from sgcore.classify.data import load_shd, load_shd_pair
from sgcore.classify.trainer import FANO_WINDOW, Classifier
from sgcore.classify_page import DATA, MID_RUN, NET, NETWORKS, REBUILD, conditions_text
from sgcore.export import to_jsonable
from sgcore.figures.classify import (
    fig_accuracy,
    fig_active,
    fig_confusion,
    fig_fano_layers,
    fig_gradients,
    fig_sample,
    fig_trial_units,
)
from sgcore.pages import PAGES
from sgcore.shapes import SHAPES
from sgcore.snn import BACKWARDS
from sgcore.training_page import LR_OPTIONS

PAGE = PAGES["classify"]
HOSTED = os.environ.get("SGE_HOSTED") == "1"  # a hosted replica reads no files of its own server (SHD)
CHECKPOINT_MAX_BYTES = 50_000_000
MAX_CELLS = HOSTED_MINIBATCH_CELLS if HOSTED else MINIBATCH_CELLS  # a minibatch's state, per training
RANDMAN_KEYS = tuple(k for k in DATA if k != "dataset")


@shared(max_entries=8)
def randman_data(cfg: DataConfig):
    """The Randman data and its identity (shared by every session: read-only)."""
    data = data_for(cfg.as_dict())
    return data, data.checksum()


@st.cache_resource(max_entries=2, show_spinner="Reading the SHD files…")
def shd_data(path: str, test_path: str, stamp: tuple):
    data = load_shd_pair(path, test_path) if test_path else load_shd(path)
    return data, data.checksum()


def work(cfg: ClassifyConfig) -> float:
    """Proportional to one epoch's cost for the admission's speed book: batch-independent synapse count."""
    return float(cfg.n_layers * cfg.n_hidden * (cfg.n_hidden + 64))


open_page(PAGE, "Classification: stochastic vs deterministic SNNs",
          "Gygax & Zenke (2024), Sec. 6, Fig. 7, S1, S2, Methods 8.4.2, Tables 2–3. Spike-train matching punishes "
          "stochasticity; classification does not. Both networks learn the same task with the same surrogate "
          "gradient (SuperSpike, β = 10) and a max-over-time readout: the deterministic one spikes at threshold, "
          "the stochastic one with sigmoid escape noise (one trial per update).")

# --- controls ---------------------------------------------------------------------------------------
with st.sidebar:
    st.markdown("**Data** (changing these restarts training)")
    values = {"dataset": widget(DATA["dataset"])}
    shd_paths = ("", "")
    if values["dataset"] == "shd":
        if HOSTED:
            st.info("SHD is read from files on the server, so it is offered only when the app runs on your own "
                    "machine. Randman is used here.", icon=":material/lock:")
        else:
            shd_paths = (st.text_input("SHD training file (HDF5)", key="shd_path").strip(),
                         st.text_input("SHD test file (HDF5, optional)", key="shd_test_path").strip())
    with st.expander("Randman", expanded=values["dataset"] == "randman"):
        for name in RANDMAN_KEYS:
            values[name] = widget(DATA[name])
    st.markdown("**Network** (changing these restarts training)")
    for name in REBUILD:  # conv layers have Table 3's sizes: the dense size does not apply
        values[name] = widget(NET[name], disabled=name == "n_hidden" and values.get("layers") == "conv")
    st.markdown("**Training** (applies mid-run)")
    for name in ("optimizer", "batch", "loss", "beta_noise"):
        values[name] = widget(NET[name])
    values["lr"] = st.select_slider(f"{NET['lr'].label} $\\eta$", LR_OPTIONS, value=NET["lr"].default, key="lr",
                                    bind="query-params", format_func=lambda v: f"{v:g}", help=NET["lr"].help)
    values["reg"] = widget(NET["reg"])
    if values["reg"]:
        values["theta_upper"], values["lambda_upper"] = widget(NET["theta_upper"]), widget(NET["lambda_upper"])
    st.markdown("**Backward pass**")
    values["backward"] = widget(NET["backward"])
    method = BACKWARDS[values["backward"]]
    for name in method.params:
        values[name] = widget(NET[name])
    if method.uses_shape:
        values["shape"] = widget(NET["shape"])
        values["beta_sg"], values["scale"] = widget(NET["beta_sg"]), widget(NET["scale"])
        if values["scale"] == "gamma":
            values["gamma"] = widget(NET["gamma"])
        if any(own.name == "q" for own in SHAPES[values["shape"]].params):
            values["q"] = widget(NET["q"])
    with st.expander("Neurons and reset"):
        for name in ("reset", "bp_reset", "tau_mem", "tau_syn"):
            values[name] = widget(NET[name])
    st.caption(f"Caps on this server: {MAX_EPOCHS:,} epochs per network and session; a minibatch's work is bounded "
               "(a message names the sizes to lower).")


def _data():
    """(identity, dataset) or None with the reason shown."""
    try:
        if values["dataset"] == "shd" and not HOSTED:
            path, test_path = shd_paths
            if not path:
                st.info("Enter the path of the SHD training file (`shd_train.h5`) to train on SHD; until then the "
                        "Randman data are used.", icon=":material/folder_open:")
            else:
                stamp = tuple(os.stat(p).st_mtime_ns if os.path.exists(p) else 0 for p in (path, test_path) if p)
                data, checksum = shd_data(path, test_path, stamp)
                return checksum, data
        data, checksum = randman_data(DataConfig.from_mapping({**values, "dataset": "randman"}))
        return checksum, data
    except ValueError as err:
        st.error(f"{err}. Training keeps its current data.", icon=":material/error:")
        return None


def _configs():
    try:
        return {net: ClassifyConfig.from_mapping({**values, "network": net}) for net in NETWORKS}
    except ValueError as err:
        st.error(f"{err}. Training keeps its current settings.", icon=":material/error:")
        return None


session = TrainingSession(st.session_state.setdefault("classify", {}), process_slots(),
                          st.session_state.setdefault("classify_session", uuid.uuid4().hex), networks=NETWORKS,
                          fixed=REBUILD, make_trainer=lambda cfg, data: Classifier(cfg, data, max_cells=MAX_CELLS),
                          mid_run=MID_RUN, work_fn=work,
                          speed_kind="classify:")
try:
    session.apply(_configs(), _data())
except ValueError as err:  # e.g. an epoch too large for this server
    st.error(f"{err}. Training keeps its current settings.", icon=":material/error:")
    if not session.ready:  # nothing to keep yet: start from the defaults
        default = DataConfig.from_mapping({k: s.default for k, s in DATA.items()})
        session.apply({net: ClassifyConfig.from_mapping({**{k: s.default for k, s in NET.items()}, "network": net})
                       for net in NETWORKS}, randman_data(default)[::-1])
if not session.ready:
    st.stop()
trainers = session.trainers
data = session.target
chance = 1.0 / data.n_classes

media_player(session)
if trainers["deterministic"].conditions is not None:  # both networks share the settings and the seed
    st.caption(conditions_text(trainers["deterministic"].conditions))

TICK0 = session.poll()
STATUS_EVERY, CHARTS_EVERY = TICK0.intervals
pending = [TICK0]


@st.fragment(run_every=STATUS_EVERY)
def status() -> None:
    """Banner and metrics; while playing, each tick trains one budgeted chunk (see the training page)."""
    tick = pending.pop() if pending else session.poll()
    if tick.mode != TICK0.mode or (tick.train_seconds > 0 and session.tick(tick.train_seconds).capped):
        st.rerun()
    det, sto = trainers["deterministic"], trainers["stochastic"]
    session.record(tick)
    shown = session.rates(tick)
    rates, share, adm = shown.shown, shown.share, tick.admission
    if tick.mode == QUEUED and det.epoch == 0:
        banner(f"Play pressed — <b>waiting for a slot</b> (number {adm.position} in the queue): training starts by "
               "itself when one frees.", ok=False)
    elif det.epoch == 0 and tick.mode == PAUSED:
        banner(f"Press <b>Play</b> to train both networks side by side on {data.name or 'the data'} "
               f"({data.n_classes} classes, chance {chance:.0%}); <b>Step</b> trains one epoch.", ok=True)
    else:
        doing = {TRAINING: f"training on {share:.0%} of a core…", PAUSED: "paused",
                 QUEUED: f"waiting for a slot (number {adm.position if adm else '–'})"}[tick.mode]
        acc = [session.latest(net, "val_accuracy", ".1%") for net in NETWORKS]
        banner(f"Epoch <b>{det.epoch:,}</b> (deterministic) · <b>{sto.epoch:,}</b> (stochastic), {doing} — "
               f"validation accuracy {acc[0]} vs {acc[1]} (chance {chance:.0%}).", ok=True)
    if tick.mode == QUEUED:
        st.info(f"Waiting for a training slot: you are number {adm.position} in the queue. This server trains "
                f"{adm.capacity} session(s) at once ({adm.active} busy).", icon=":material/hourglass_top:")
    how = "Measured over the last few seconds; “≈” is an estimate from this server's training budget."
    m = st.columns(4)
    m[0].metric("Deterministic: epochs/s", rates[0], help=how)
    m[1].metric("Stochastic: epochs/s", rates[1], help=how)
    m[2].metric("Stochastic: Fano factor, layer 1", session.latest("stochastic", "fano_1", ".3f"),
                help=f"Trial-to-trial variability after a {FANO_WINDOW}-step moving average (Methods 8.4.2).")
    m[3].metric("Active in backward (stoch.)", session.latest("stochastic", "active_fraction", ".1%"))


@st.fragment(run_every=CHARTS_EVERY)
def charts() -> None:
    """The learning curves; rebuilt only when an epoch or the networks changed."""
    figs, version = session.figs, session.version
    hist: dict[str, dict] = {}

    def history() -> dict:
        if not hist:
            hist.update({net: trainers[net].history.as_dict() for net in NETWORKS})
        return hist

    chart(redraw(figs, "fig_accuracy", version, lambda: fig_accuracy(history(), chance=chance)), key="fig_accuracy")
    c1, c2 = st.columns(2)
    chart(redraw(figs, "fig_fano", version, lambda: fig_fano_layers(history()["stochastic"])), key="fig_fano",
          container=c1)
    chart(redraw(figs, "fig_active", version, lambda: fig_active(history())), key="fig_active", container=c2)


status()
charts()

# --- on demand: evaluation, one sample, gradients, checkpoints --------------------------------------------------
splits = [s for s in ("val", "test", "train") if s in data.split and data.split[s].size]
# the open tab is in the link; each tab's content is computed only while it is open
tab_eval, tab_sample, tab_grad, tab_files = st.tabs(["Test and cross-evaluation", "One sample", "Gradients (Fig. S1)",
                                                     "Checkpoints and downloads"], key="tab", bind="query-params")


def _eval_tab() -> None:
    split = st.segmented_control("Split", splits, default=splits[min(1, len(splits) - 1)], key="eval_split") \
        or splits[0]
    if st.button("Evaluate both networks", icon=":material/fact_check:", key="evaluate"):
        rows, confusions = [], {}
        for net in NETWORKS:
            t = trainers[net]
            own, other = t.evaluate(split), t.cross_evaluate(split)
            confusions[net] = own["confusion"]
            rows.append({"network": net, "epochs": t.epoch, f"{split} accuracy": f"{own['accuracy']:.1%}",
                         f"{split} loss": f"{own['loss']:.3f}",
                         "with the other's spike rule": f"{other:.1%}"})
        st.session_state["classify_eval"] = (session.version, split, rows, confusions)
    stored = st.session_state.get("classify_eval")
    if stored is not None:
        ver, ev_split, rows, confusions = stored
        if ver != session.version:
            st.caption("Evaluated at an earlier epoch: press the button again for the current networks.")
        st.dataframe(arrow(rows), hide_index=True, width="stretch")
        st.caption("'With the other's spike rule' (Fig. 7D, S2A 'other'): the stochastic network run without escape "
                   "noise, the deterministic one run with the stochastic network's escape noise (β_N). The paper "
                   "finds the stochastic network unharmed and the deterministic one much worse.")
        e1, e2 = st.columns(2)
        for col, net in zip((e1, e2), NETWORKS, strict=True):
            chart(fig_confusion(confusions[net], title=f"{net.capitalize()} ({ev_split})"), key=f"fig_conf_{net}",
                  container=col)
    else:
        st.caption("Evaluate the networks as they are now on the chosen split: accuracy, loss, each network with the "
                   "other's spike rule, and the confusion matrices.")


def _sample_tab() -> None:
    s1, s2, s3 = st.columns(3)
    sample_split = s1.selectbox("Split", splits, key="sample_split")
    top = int(data.split[sample_split].size) - 1
    index = int(s2.number_input(f"Sample (0–{top})", 0, top, 0, key="sample_index"))
    net = s3.selectbox("Network", NETWORKS, index=1, key="sample_net")
    act = trainers[net].activity(sample_split, index)
    classes = [str(c) for c in range(data.n_classes)]
    chart(fig_sample(act, classes), key="fig_sample")
    spec = trainers["stochastic"].spec
    u1, u2 = st.columns([1, 3])
    layer = int(u1.selectbox("Hidden layer", list(range(1, len(spec.hidden) + 1)), key="trial_layer"))
    n = spec.hidden[layer - 1]
    sto_act = act if net == "stochastic" else trainers["stochastic"].activity(sample_split, index)
    counts = sto_act["hidden"][layer - 1].sum(axis=1)
    units = tuple(sorted(np.argsort(-counts, kind="stable")[:min(3, n)].tolist()))  # the most active in one trial
    u1.caption(f"Units {', '.join(map(str, units))} of the stochastic network (its most active ones for this sample), "
               "20 trials of this sample (Fig. 7E).")
    with u2:
        chart(fig_trial_units(trainers["stochastic"].trial_raster(sample_split, index, layer, units, 20), units,
                              layer), key="fig_trial_units")


def _gradient_tab() -> None:
    st.markdown("Fig. S1B/C: on one minibatch, 100 single-trial gradients of the **stochastic** network, their mean, "
                "and the **deterministic** gradient at the same weights, before learning (the initial weights) and "
                "now. Costs about 200 forward and backward passes.")
    if st.button("Compute the gradient study", icon=":material/functions:", key="gradients"):
        sto = trainers["stochastic"]
        st.session_state["classify_grad"] = (session.version, sto.gradient_trials(100, initial=True),
                                             sto.gradient_trials(100))
    stored = st.session_state.get("classify_grad")
    if stored is not None:
        ver, before, after = stored
        if ver != session.version:
            st.caption("Computed at an earlier epoch: press the button again for the current weights.")
        chart(fig_gradients(before, after), key="fig_gradients")
        st.caption(f"Now: single trials agree with their mean to cosine {after.cos_trials.mean():.3f} on average; "
                   f"the deterministic gradient to {after.cos_deterministic:.3f} (before learning: "
                   f"{before.cos_trials.mean():.3f} and {before.cos_deterministic:.3f}). The deterministic SG points "
                   "close to, but not exactly along, the mean stochastic gradient.")


def _files_tab() -> None:
    d1, d2 = st.columns(2)
    with d1:
        st.markdown("**Learning curves**")

        def history_csv() -> bytes:
            lines = ["network," + ",".join(trainers[NETWORKS[0]].history.keys)]
            for net in NETWORKS:
                h = trainers[net].history.as_dict()
                for i in range(len(h["epoch"])):
                    lines.append(net + "," + ",".join(f"{h[k][i]:.9g}" for k in trainers[net].history.keys))
            return ("\n".join(lines) + "\n").encode()

        def run_json() -> bytes:
            return json.dumps(to_jsonable({
                "data": data.summary(), "networks": {net: {"config": trainers[net].cfg.as_dict(),
                                                           "epoch": trainers[net].epoch,
                                                           "history": trainers[net].history.as_dict()}
                                                     for net in NETWORKS}})).encode()

        c1, c2 = st.columns(2)
        c1.download_button("history.csv", data=history_csv, file_name="classification_history.csv", mime="text/csv",
                           icon=":material/download:", on_click="ignore", key="dl_history")
        c2.download_button("run.json", data=run_json, file_name="classification_run.json", mime="application/json",
                           icon=":material/download:", on_click="ignore", key="dl_json")
        st.markdown("**Trained networks** (npz: weights, settings, epoch, optimizer state; no pickle)")
        for net in NETWORKS:
            def checkpoint(net: str = net) -> bytes:
                import io

                buf = io.BytesIO()
                trainers[net].save(buf)
                return buf.getvalue()

            st.download_button(f"{net}.npz", data=checkpoint, file_name=f"classifier_{net}.npz",
                               mime="application/octet-stream", icon=":material/download:", on_click="ignore",
                               key=f"dl_ckpt_{net}")
    with d2:
        st.markdown("**Load a trained network** (for the same data and network settings)")
        upload = st.file_uploader("Checkpoint (.npz)", type=["npz"], key="checkpoint",
                                  help="It replaces the network it was saved from (deterministic or stochastic).")
        if upload is not None:
            blob = upload.getvalue()
            digest = hashlib.sha1(blob).hexdigest()
            if st.session_state.get("classify_loaded") != digest:
                try:
                    if len(blob) > CHECKPOINT_MAX_BYTES:
                        raise ValueError(f"the file has {len(blob):,} bytes; at most {CHECKPOINT_MAX_BYTES:,}")
                    loaded = Classifier.load(blob, data)
                    session.replace(loaded.cfg.network, loaded)
                    st.session_state["classify_loaded"] = digest
                    st.success(f"Loaded the {loaded.cfg.network} network at epoch {loaded.epoch:,}.",
                               icon=":material/check:")
                except ValueError as err:
                    st.error(f"Checkpoint refused: {err}.", icon=":material/error:")


for tab, draw in ((tab_eval, _eval_tab), (tab_sample, _sample_tab), (tab_grad, _gradient_tab),
                  (tab_files, _files_tab)):
    if tab.open:
        with tab:
            draw()
