"""Live training: a stochastic and a deterministic SNN learn the same spike pattern side by side (Fig. 6)."""

import hashlib
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
from sgcore.figures.training import fig_activity, fig_fano, fig_lif, fig_losses, fig_rasters, fig_trials
from sgcore.initschemes import INIT_SCHEMES
from sgcore.pages import PAGES
from sgcore.params import ParamSpec
from sgcore.shapes import SHAPES
from sgcore.snn import BACKWARDS, TRAIN_PARAMS, TrainConfig, fluctuation_config, init_fluctuation, lif_trace
from sgcore.targets import TARGETS, target_raster, upload_raster
from sgcore.training_page import (  # the page's link parameters and presets, built in the library
    FIXED,
    LIF,
    LR_OPTIONS,
    NET_SPECS,
    NETWORKS,
    PER_NET,
    SPECS,
    fluctuation_rows,
)

PAGE = PAGES["training"]
T = {p.name: p for p in TRAIN_PARAMS}
UPLOAD_MAX_BYTES = 2_000_000


@shared(max_entries=32)
def init_table(det: TrainConfig, sto: TrainConfig):
    """The realised membrane fluctuation at initialisation (keys: fluctuation_config, so once per network)."""
    return arrow(fluctuation_rows({"deterministic": init_fluctuation(det), "stochastic": init_fluctuation(sto)}))


def _lr(spec: ParamSpec) -> float:
    """Learning rates span decades: a log-spaced select slider bound to the URL."""
    return st.select_slider(f"{spec.label} $\\eta$", LR_OPTIONS, value=spec.default if spec.default in LR_OPTIONS
                            else 1e-3, key=spec.name, bind="query-params", format_func=lambda v: f"{v:g}",
                            help=spec.help or None)


open_page(PAGE, "Live training: stochastic vs deterministic SNNs",
          "Gygax & Zenke (2024), Sec. 5–6, Fig. 6, Methods 8.1, 8.2, 8.4.1. A feed-forward LIF network learns to "
          "turn frozen Poisson input into a target spike pattern. The deterministic network spikes when its membrane "
          "crosses threshold and learns with a surrogate gradient; the stochastic one spikes with escape noise and "
          "learns with the derivative of that noise, averaged over trials — the same SG rule on sampled paths.")

# --- controls ---------------------------------------------------------------------------------------
with st.sidebar:
    st.markdown("**Target**")
    # options are plain names: a bound selectbox matches the link's value against the displayed option text
    target_name = st.selectbox("Target picture", [*TARGETS, "upload"], key="target", bind="query-params")
    st.caption(TARGETS[target_name].description if target_name in TARGETS else "Your own image, dithered to "
               "about 25 % spikes (dark = spike).")
    upload = None
    if target_name == "upload":
        upload = st.file_uploader("Image (PNG, JPEG, GIF, BMP or WebP, at most 2 MB)",
                                  type=["png", "jpg", "jpeg", "gif", "bmp", "webp"], key="upload")
    st.markdown("**Network** (changing these restarts training)")
    values = {name: widget(SPECS[name]) for name in FIXED}
    st.markdown("**Both networks** (apply mid-run)")
    for name in ("optimizer", "backward", "reset", "backprop_reset"):
        values[name] = widget(SPECS[name])
    method = BACKWARDS[values["backward"]]
    for name in method.params:
        values[name] = widget(SPECS[name])
    per_net: dict[str, dict] = {}
    for net in NETWORKS:
        st.markdown(f"**{net.capitalize()} network**")
        sp = NET_SPECS[net]
        vals = {}
        for name in PER_NET[net]:
            if name == "lr":
                vals[name] = _lr(sp[name])
            elif name in ("shape", "q", "beta_sg") and not method.uses_shape:
                continue  # e.g. LocalZO replaces the SD
            elif name == "q" and not any(own.name == "q" for own in SHAPES[vals["shape"]].params):
                continue  # only shapes that declare q (q-PseudoSpike) take it
            elif name == "beta_sg" and vals.get("match_escape"):
                continue
            else:
                vals[name] = widget(sp[name])
        per_net[net] = vals
    st.caption(f"Caps on this server: at most {T['n_hidden'].domain[1]:g} neurons per layer, "
               f"{T['n_steps'].domain[1]:g} time steps, {T['trials'].domain[1]:g} trials and {MAX_EPOCHS:,} epochs "
               "per network and session.")


def _target() -> tuple[str, np.ndarray] | None:
    """(identity, raster) of the chosen target at the network's size, or None after a bad upload."""
    n_out, n_steps = values["n_out"], values["n_steps"]
    if target_name != "upload":
        return target_name, target_raster(target_name, n_out, n_steps)
    if upload is None:
        first = next(iter(TARGETS))
        st.info(f"Choose an image to upload; until then the “{TARGETS[first].label}” target is used.",
                icon=":material/upload:")
        return first, target_raster(first, n_out, n_steps)
    data = upload.getvalue()
    try:
        raster = upload_raster(data, n_out, n_steps, max_bytes=UPLOAD_MAX_BYTES)
    except ValueError as err:
        st.error(f"Upload refused: {err}. The previous target is kept.", icon=":material/broken_image:")
        return None
    return "upload:" + hashlib.sha1(data).hexdigest()[:12], raster


def _configs() -> dict[str, TrainConfig] | None:
    try:
        return {net: TrainConfig.from_mapping({**values, **per_net[net], "network": net}) for net in NETWORKS}
    except ValueError as err:
        st.error(f"{err}. Training keeps its current settings.", icon=":material/error:")
        return None


session = TrainingSession(st.session_state.setdefault("training", {}), process_slots(),
                          st.session_state.setdefault("training_session", uuid.uuid4().hex))  # its place in the queue
session.apply(_configs(), _target())
if not session.ready:
    st.stop()
trainers = session.trainers

media_player(session)

TICK0 = session.poll()  # this full run's tick: it fixes both tick rates
STATUS_EVERY, CHARTS_EVERY = TICK0.intervals
pending = [TICK0]  # the status fragment's first call (inline, in this full run) uses it; its own ticks ask anew


@st.fragment(run_every=STATUS_EVERY)
def status() -> None:
    """Banner and metrics; while playing, each tick trains one budgeted chunk if admitted or renews the queue place
    if not. Cheap: no charts. A change of mode (admitted, queued, paused) reruns the whole page, which sets the new
    tick rates (a fragment's run_every is fixed by the full run that defines it)."""
    tick = pending.pop() if pending else session.poll()
    if tick.mode != TICK0.mode or (tick.train_seconds > 0 and session.tick(tick.train_seconds).capped):
        st.rerun()
    det, sto = trainers["deterministic"], trainers["stochastic"]
    session.record(tick)
    shown = session.rates(tick)
    rates, share = shown.shown, shown.share
    adm = tick.admission
    if tick.mode == QUEUED and det.epoch == 0:
        banner(f"Play pressed — <b>waiting for a slot</b> (number {adm.position} in the queue): training starts by "
               "itself when one frees.", ok=False)
    elif det.epoch == 0 and tick.mode == PAUSED:
        banner("Press <b>Play</b> to train both networks side by side (or <b>Step</b> for one epoch).", ok=True)
    else:
        doing = {TRAINING: f"training on {share:.0%} of a core…", PAUSED: "paused",
                 QUEUED: f"waiting for a slot (number {adm.position if adm else '–'})"}[tick.mode]
        l2, vr = ([session.latest(net, key, ".4g") for net in NETWORKS] for key in ("l2", "van_rossum"))
        banner(f"Epoch <b>{det.epoch:,}</b> (deterministic) · <b>{sto.epoch:,}</b> (stochastic), {doing} — L2 loss "
               f"{l2[0]} vs {l2[1]}; van Rossum {vr[0]} vs {vr[1]}.", ok=True)
    if tick.mode == QUEUED:
        expect = (f": about {rates[0].lstrip('≈ ')} deterministic and {rates[1].lstrip('≈ ')} stochastic epochs/s "
                  "at these settings" if "–" not in rates else "")
        st.info(f"Waiting for a training slot: you are number {adm.position} in the queue. This server trains "
                f"{adm.capacity} session(s) at once ({adm.active} busy); yours starts by itself when one frees, "
                f"with {share:.0%} of a core{expect}.", icon=":material/hourglass_top:")
    how = ("Measured over the last few seconds; “≈” is an estimate from this server's training budget and the "
           "engine's measured speed.")
    m = st.columns(4)
    m[0].metric("Deterministic: epochs/s", rates[0], help=how)
    m[1].metric("Stochastic: epochs/s", rates[1], help=f"{sto.cfg.trials} trials per epoch. {how}")
    m[2].metric("Active in backward (det.)", session.latest("deterministic", "active_fraction", ".1%"))
    m[3].metric("Active in backward (stoch.)", session.latest("stochastic", "active_fraction", ".1%"))


@st.fragment(run_every=CHARTS_EVERY)
def charts() -> None:
    """The figures; they tick (slower than the status) only while training, and each is rebuilt only when its
    inputs changed (a paused tab's widgets, a queued tab's full rerun and idle ticks reuse the last one)."""
    sto = trainers["stochastic"]
    figs, version = session.figs, session.version
    hist: dict[str, dict] = {}  # read from the trainers only for a figure that is rebuilt
    last: dict[str, object] = {}

    def history() -> dict:
        if not hist:
            hist.update({net: trainers[net].history.as_dict() for net in NETWORKS})
        return hist

    def layer(net: str, name: str):
        if net not in last:
            last[net] = trainers[net].last
        return getattr(last[net], name) if last[net] is not None else None

    chart(redraw(figs, "fig_out", version, lambda: fig_rasters(
        [("Target", session.target, "#1f2d3d"), ("Deterministic output", layer("deterministic", "output"), "#1f5fa8"),
         ("Stochastic output (trial 1)", layer("stochastic", "output"), "#e0a100")])), key="fig_out")
    chart(redraw(figs, "fig_hidden", version, lambda: fig_rasters(
        [("Deterministic hidden layer", layer("deterministic", "hidden"), "#1f5fa8"),
         ("Stochastic hidden layer (trial 1)", layer("stochastic", "hidden"), "#e0a100")], height=300)),
        key="fig_hidden")
    chart(redraw(figs, "fig_losses", version, lambda: fig_losses(history())), key="fig_losses")
    c1, c2 = st.columns(2)
    chart(redraw(figs, "fig_fano", version, lambda: fig_fano(history()["stochastic"])), key="fig_fano", container=c1)
    chart(redraw(figs, "fig_active", version, lambda: fig_activity(history())), key="fig_active", container=c2)
    st.markdown("**Trial-to-trial variability** of one neuron of the stochastic network (latest epoch)")
    t1, t2 = st.columns([1, 3])
    lay = t1.segmented_control("Layer", ["hidden", "output"], default="hidden", key="trial_layer") or "hidden"
    top = (sto.cfg.n_hidden if lay == "hidden" else sto.cfg.n_out) - 1
    neuron = int(t1.number_input(f"Neuron (0–{top})", 0, top, min(5, top), key="trial_neuron"))
    with t2:
        chart(redraw(figs, "fig_trials", (*version, lay, neuron), lambda: fig_trials(
            sto.trial_raster(lay, neuron) if sto.last is not None else None,
            f"{lay.capitalize()} neuron {neuron}: spikes in each of {sto.cfg.trials} trials")), key="fig_trials")


status()
charts()

tab_neuron, tab_notes = st.tabs(["Single LIF neuron", "Definitions"])
with tab_neuron:
    n1, n2, n3 = st.columns(3)
    with n1:
        weight = widget(LIF["weight"])
    with n2:
        period = widget(LIF["input_period"])
    with n3:
        steps = widget(LIF["steps"])
    traces = {r: lif_trace(weight, period, steps, reset=r) for r in ("same", "next")}
    chart(fig_lif(traces), key="fig_lif")
    st.latex(r"I[n+1] = \lambda_s I[n] + W S_{\mathrm{in}}[n],\qquad \lambda = e^{-\Delta t/\tau},\qquad "
             r"S[n] = H(U[n] - \theta)")
    st.latex(r"\text{same step: } U[n+1] = \lambda_m U[n]\,(1 - S[n]) + (1 - \lambda_m) I[n]")
    st.latex(r"\text{next step (Eq. 21): } U[n+1] = \big(\lambda_m U[n] + (1 - \lambda_m) I[n]\big)(1 - S[n])")
    st.caption("The LIF neuron is a recurrent cell: each step multiplies its state by the leak and adds the input. "
               f"Spikes at steps {traces['same']['spike_steps'][:10]} (same-step reset) and "
               f"{traces['next']['spike_steps'][:10]} (next-step reset); τ_mem = 10 ms, τ_syn = 5 ms, Δt = 1 ms.")
with tab_notes:
    st.markdown(
        "- **Networks**: 200 → 200 → 200 LIF neurons by default; weights N(0, σ_w²) with σ_w = σ_U / √(N_pre ν ε̂), "
        "ε̂ = τ_syn² / (2 (τ_syn + τ_mem)), σ_U = 1, ν = 50 Hz (fluctuation-driven initialisation; what it "
        "realises is in the table below).\n"
        "- **Stochastic network**: S ~ Ber(σ(β (U − θ))) with β_hid for the hidden and β_out for the output layer; "
        "each epoch simulates all trials at once and averages their gradients.\n"
        "- **L2 loss** (Methods 8.4.1): Σ over neurons and 1 ms steps of (S − Ŝ)², averaged over trials — the number "
        "of wrong bins per trial (the paper's 1/N is read as 1/trials; a per-bin mean would make the paper's "
        "learning rates about 38 000× too small).\n"
        "- **van Rossum distance**: ½ Σ over neurons and steps of (α ∗ (Ŝ − S))² Δt, with the LIF's own causal kernel "
        "α(t) = (e^{−t/τ_syn} − e^{−t/τ_mem}) / (1 − τ_mem/τ_syn), τ_mem = 10 ms, τ_syn = 5 ms, averaged over "
        "trials.\n"
        "- **Surrogate derivatives** (Table 2): deterministic SuperSpike 1/(β|x| + 1)² with β = 10; stochastic "
        "σ'_β = β σ(1 − σ) with β = 10 in both layers (or each layer's own escape steepness with “SD steepness = "
        "escape noise”).\n"
        "- **Fano factor**: per 1 ms bin, the variance over trials (ddof = 0) divided by the mean, averaged over "
        "bins where at least one trial spiked. For binary bins it is 1 − p ≤ 1: it measures how far spiking is "
        "from certain, not Poisson-like variability above 1.\n"
        "- **Active in the backward pass**: the fraction of neurons × steps whose surrogate (or LocalZO estimate) "
        "is non-zero: 100 % for smooth SDs, fewer for LocalZO and SparseGrad.\n"
        "- **The paper's \"198 time steps\"** is a typo for 189: the authors' target image is 189 steps wide.")
    init = trainers[NETWORKS[0]].cfg.init  # shared by both networks
    if init != "fluctuation":
        st.markdown(f"**Initialisation**: these networks start from {INIT_SCHEMES[init].label} weights "
                    "(Herranz-Celotti & Rouat's schemes), not the fluctuation-driven ones; the table of the membrane "
                    "fluctuation the fluctuation-driven weights realise is shown for init = fluctuation.")
    else:
        st.markdown("**Fluctuation-driven initialisation at work**: the membrane fluctuation these weights give, "
                    "measured on both networks as initialised (before the first epoch)")
        st.dataframe(init_table(*(fluctuation_config(trainers[net].cfg) for net in NETWORKS)), hide_index=True,
                     width="stretch", key="init_fluctuation")
        st.caption("Std of U after the first 5 τ_mem. Free U: no threshold or reset, driven by the layer's actual "
                   "presynaptic spikes; pooled over neurons and time it includes the spread of the neurons' mean drive "
                   "that fixed zero-mean weights give, per neuron it is the fluctuation about each neuron's own mean "
                   "(what σ_U targets). Predicted: the discrete-time (Δt) formula for Bernoulli input at the realised "
                   "rate. The output layer differs because its presynaptic rate is the hidden layer's, not ν, and "
                   "hidden neurons fire at unequal, non-Bernoulli rates.")
