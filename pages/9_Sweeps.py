"""Sweeps: Herranz-Celotti & Rouat's sensitivity studies (Figs. 3-5) from a sweep's results store."""

import hashlib
import html
import os
import re
import shlex
from pathlib import Path

import streamlit as st

from sgapp.charts import chart
from sgapp.classroom import hidden, hidden_value
from sgapp.controls import escape_markdown, open_page, widget
from sgapp.layout import banner
from sgapp.tables import arrow
from sgcore.figures.sweep import fig_ablation, fig_curves, fig_ranking, fig_sensitivity
from sgcore.pages import PAGES
from sgcore.sweep import TASKS
from sgcore.sweep import analysis as sa
from sgcore.sweep.background import BackgroundSweep
from sgcore.sweeps_page import AXIS, SOURCES, SPREAD, STORE, TABS

PAGE = PAGES["sweeps"]
HOSTED = os.environ.get("SGE_HOSTED") == "1"  # a hosted replica reads no files of its own server, starts no sweeps
UPLOAD_MAX_BYTES = 50_000_000
MAX_CURVES = 10  # learning curves drawn at once
EMPTY = sa.SweepResults.from_runs([])  # what the figures show before a store is open
#: Session-only choices that depend on the store (forgotten when another store is opened).
NOT_RECORDED = "(not recorded)"  # a held axis's "no value" in a select box (which cannot show None)
CHOICE_KEYS = ("sens_line", "rank_", "abl_", "hold_", "runs_", "sweep_metric", "sweep_task")
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = sa.EXAMPLE_STORE.relative_to(ROOT).as_posix() if sa.EXAMPLE_STORE.is_relative_to(ROOT) else \
    sa.EXAMPLE_STORE.name


@st.cache_resource(max_entries=4, show_spinner="Reading the results store…")
def stored(path: str, stamp: tuple) -> sa.SweepResults:
    """A store file's results, read again when the file changes (``stamp``: its mtime and size)."""
    return sa.load(path)


@st.cache_resource(max_entries=4, show_spinner="Reading the uploaded store…")
def uploaded(digest: str, name: str, _data: bytes) -> sa.SweepResults:
    return sa.load_bytes(_data, name, UPLOAD_MAX_BYTES)


@st.cache_resource(max_entries=64, show_spinner=False)
def view(token: str, kind: str, args: tuple, spread: str, _res: sa.SweepResults):
    """One tab's analysis and figure (or the store's summary and best setting), per loaded store (``token``) and
    choice."""
    if kind == "summary":
        return sa.summary(_res), sa.best_setting(_res)
    if kind == "sensitivity":
        x, metric, line, at = args
        result = sa.sensitivity(_res, x, metric, line, dict(at))
        return result, fig_sensitivity(result, spread)
    if kind == "ranking":
        rows, cols, metric, at = args
        result = sa.ranking(_res, rows, cols, metric, dict(at))
        return result, fig_ranking(result, spread)
    by, metrics, at = args
    result = sa.ablation(_res, by, metrics, at=dict(at))
    return result, fig_ablation(result, spread)


def _example_command(store: str = EXAMPLE) -> str:
    """The command that makes the example sweep (its TOML file once there is one) into ``store``."""
    config = sa.EXAMPLE_STORE.with_suffix(".toml")
    if config.is_file() and config.is_relative_to(ROOT):
        return f"python -m sgcore sweep --config {config.relative_to(ROOT).as_posix()} --store {store}"
    return ("python -m sgcore sweep --grid shape=sigmoid,exponential,superspike,triangular \\\n"
            "    --grid gamma=0.1,0.3,1,3,10 --set sharpness=1 --seeds 3 --epochs 10 \\\n"
            f"    --store {store}")


open_page(PAGE, "Sweeps: how training depends on the surrogate",
          "Herranz-Celotti & Rouat, Sec. 3, Figs. 3–5. Training with surrogate gradients is sensitive to the "
          "surrogate's shape, dampening γ, sharpness s and tail fatness q, and to the initialisation; their conditions "
          "I–IV choose these instead of a grid search. Here: the grid searches themselves, run on our tasks with "
          "`python -m sgcore sweep` and read from its results store — means and spreads over seeds, never one run.")

# --- where the results come from --------------------------------------------------------------------------------
with st.sidebar:
    source = widget(STORE)
    st.caption(f"Showing {SOURCES[source]}.")
    path_text, upload = "", None
    if source == "file":
        if HOSTED:
            st.info("Files on the server are offered only when the app runs on your own machine. Upload a store file "
                    "instead; the bundled example is shown.", icon=":material/lock:")
        else:
            path_text = st.text_input("Store file (.sqlite)", key="store_path",
                                      help="A results store on this computer (`--store FILE` of the sweep "
                                           "command). Not put in the link.").strip()
    elif source == "upload":
        upload = st.file_uploader("Store file (.sqlite)", type=["sqlite", "sqlite3", "db"], key="store_upload",
                                  max_upload_size=None if HOSTED else UPLOAD_MAX_BYTES // 1_000_000,
                                  help=f"At most {UPLOAD_MAX_BYTES // 1_000_000} MB (and this server's upload "
                                       "limit). Read once, not kept.")


def _open() -> tuple[sa.SweepResults | None, str, str]:
    """(results or None, a token naming them and their version, the problem in words)."""
    try:
        if source == "upload":
            if upload is None:
                return None, "", "Upload a results store (the .sqlite file of `python -m sgcore sweep --store FILE`)."
            blob = upload.getvalue()
            if len(blob) > UPLOAD_MAX_BYTES:
                raise ValueError(f"the file has {len(blob):,} bytes; at most {UPLOAD_MAX_BYTES:,}")
            digest = hashlib.sha1(blob).hexdigest()
            return uploaded(digest, upload.name, blob), f"upload:{digest}", ""
        if source == "file" and not HOSTED:
            if not path_text:
                return None, "", "Enter the path of a results store on this computer (the file given to `--store`)."
            path = Path(path_text).expanduser()
            if not path.is_file():
                job = st.session_state.get("sweeps_job")
                if job is not None and job.running and job.store == path.resolve():
                    return None, "", "The sweep started on this page is starting: its results appear here as runs "\
                                     "finish."
                return None, "", f"No file at {path_text}."
            stat = path.stat()
            return (stored(str(path.resolve()), (stat.st_mtime_ns, stat.st_size)),
                    f"file:{path.resolve()}@{stat.st_mtime_ns}:{stat.st_size}", "")
        if not sa.EXAMPLE_STORE.is_file():
            return None, "", f"The bundled example store ({EXAMPLE}) is not there yet."
        stat = sa.EXAMPLE_STORE.stat()
        return (stored(str(sa.EXAMPLE_STORE), (stat.st_mtime_ns, stat.st_size)),
                f"example:{sa.EXAMPLE_STORE}@{stat.st_mtime_ns}:{stat.st_size}", "")
    except ValueError as err:
        refused = "Upload refused" if source == "upload" else "Store refused"
        return None, "", f"{refused}: {err}."


res, token, problem = _open()
store_id = token.rsplit("@", 1)[0]  # the store, whatever its version: a sweep writing to it keeps the choices
if st.session_state.get("sweeps_store_id") != store_id:  # another store: its own axes, groups and runs
    for key in [k for k in st.session_state if str(k).startswith(CHOICE_KEYS)]:
        del st.session_state[key]
    st.session_state["sweeps_store_id"] = store_id
if res is not None and len(res.tasks) > 1:
    with st.sidebar:
        task = st.selectbox("Task", res.tasks, key="sweep_task", help="This store holds sweeps of several tasks.")
    res, token = res.subset(task=task), f"{token}|{task}"
task = res.task if res is not None else None

with st.sidebar:
    score_name = sa.score_metric(task)
    metrics = ["score", *(m for m in (res.metrics if res is not None else ()) if m != score_name
                          and res.runs[m].notna().any())]
    metric_key = f"sweep_metric_{task}"  # per task: the options' names depend on it
    if st.session_state.get(metric_key, "score") not in metrics:
        st.session_state[metric_key] = "score"  # a metric of the store shown before
    metric = st.selectbox("Plotted metric", metrics, key=metric_key,
                          format_func=lambda m: sa.metric_label(m, task) + (" (score)" if m == "score" and task
                                                                             else ""),
                          help="What the plots average over seeds. The score is the task's: the final validation "
                               "accuracy (classification) or van Rossum distance (spike trains).")
    spread = widget(SPREAD)
    st.caption(f"Bars: {sa.SPREADS[spread]} over seeds.")

# --- summary ------------------------------------------------------------------------------------------------------
info, best = view(token, "summary", (), "", res) if res is not None else (None, None)
if res is None:
    banner(re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(problem)), ok=False)
    if source == "example" or (source == "file" and HOSTED):
        st.info("Make the example with the sweep command from the app's folder (a few minutes on a laptop), or "
                "choose another store in the sidebar:", icon=":material/terminal:")
        st.code(_example_command(), language="bash")
elif not info.runs:
    banner(f"This store ({html.escape(', '.join(info.sweeps) or 'no sweep')}) holds no runs yet.", ok=False)
else:
    fraction = sa.is_fraction("score", task)
    shown = (f"{best['mean']:.1%}" if fraction else f"{best['mean']:.4g}") if best else "–"
    axes = sa.varying(res)
    setting = sa.describe_setting(best, axes, task) if best else ""
    best_text = (f" Best mean {sa.metric_label('score', task)}: <b>{shown}</b> over {int(best['n'])} seed(s), at "
                 f"{html.escape(setting or 'the one setting')}.") if best else " No run finished."
    sweeps = ", ".join(info.sweeps)
    banner(f"<b>{info.done:,}</b> runs done, <b>{info.failed:,}</b> failed ({html.escape(', '.join(info.tasks))}; "
           f"sweep{'s' if len(info.sweeps) > 1 else ''} {html.escape(sweeps)}).{best_text}", ok=not info.failed)
    m = st.columns(5)
    m[0].metric("Runs done", f"{info.done:,}")
    m[1].metric("Failed", f"{info.failed:,}", help="See the runs table for their error messages.")
    m[2].metric("Seeds", f"{len(info.seeds)}", help="Seeds: " + ", ".join(map(str, info.seeds)))
    m[3].metric("Epochs per run", " / ".join(map(str, info.epochs)) or "–")
    m[4].metric("Code versions", f"{len(info.code_versions)}", help="\n".join(info.code_versions))
    if len(info.code_versions) > 1:
        st.warning(f"These runs come from {len(info.code_versions)} versions of the code: compare them with care "
                   "(the runs table has each run's version).", icon=":material/difference:")


# --- a sweep started from this page -------------------------------------------------------------------------------
def _job_status(job: BackgroundSweep) -> None:
    p = job.progress()
    st.progress(min(p.fraction, 1.0), text=f"Sweep “{escape_markdown(job.name)}” into `{job.store.name}`: "
                                           f"{p.describe()}")


@st.fragment(run_every=2.0)
def live_job() -> None:
    """While a sweep started here runs: its progress from the store every 2 s, the page redrawn when runs arrive
    (at most every 10 s) and when it ends."""
    job = st.session_state.get("sweeps_job")
    if job is None or not job.running:
        st.rerun()
    _job_status(job)
    if st.button("Stop the sweep", icon=":material/stop:", key="sweep_stop",
                 help="Ends the sweep and its workers. Finished runs stay in the store; the same settings resume."):
        job.stop()
        st.rerun()
    p = job.progress()
    last = st.session_state.setdefault("sweeps_shown", (p.finished, p.elapsed))
    if p.finished != last[0] and p.elapsed - last[1] >= 10:
        st.session_state["sweeps_shown"] = (p.finished, p.elapsed)
        st.rerun()


job = st.session_state.get("sweeps_job")
if job is not None:
    if job.running:
        live_job()
    else:
        p = job.progress()
        ok = p.returncode == 0
        (st.success if ok else st.error)(
            f"Sweep {escape_markdown(job.name)} {'finished' if ok else f'ended (exit code {p.returncode})'}: "
            f"{p.describe()}.", icon=":material/check:" if ok else ":material/error:")
        if not ok and job.log_tail().strip():
            st.code(job.log_tail(), language=None)
        if st.button("Dismiss", key="sweep_dismiss"):
            st.session_state.pop("sweeps_job", None)
            st.rerun()

# --- the tabs: only the open one is computed ----------------------------------------------------------------------
raw_tab = st.query_params.get_all("tab")
if raw_tab and (len(raw_tab) != 1 or raw_tab[0] not in TABS):
    st.warning(f"Link parameter ignored: tab must be one of {', '.join(TABS)}; got "
               f"{escape_markdown(repr(raw_tab[-1])[:60])} (using {TABS[0]}).", icon=":material/link_off:")
tab_sens, tab_rank, tab_abl, tab_runs, tab_run = st.tabs(list(TABS), key="tab", bind="query-params")
VARYING = sa.varying(res) if res is not None and len(res.runs) else ()


def _choose(label: str, options: list, key: str, default=None, **kw):
    """A session-only selectbox whose options depend on the store: a kept value that is no option is replaced by
    ``default`` (set through the session state, so that the browser shows it too)."""
    if st.session_state.get(key, object()) not in options:
        st.session_state[key] = default if default in options else options[0]
    return st.selectbox(label, options, key=key, **kw)


def _held(choices, pinned, columns) -> None:
    """One selectbox per held axis: the value the plot holds it at (runs that did not record the axis are the
    value None, offered as its own choice)."""
    for i, (axis, values) in enumerate(choices.items()):
        options = [NOT_RECORDED if v is None else v for v in values]
        default = NOT_RECORDED if pinned.get(axis) is None else pinned.get(axis)
        with columns[i % len(columns)]:
            _choose(f"{sa.axis_label(axis, task)} held at", options, f"hold_{axis}", default=default,
                    format_func=lambda v, a=axis: sa.value_label(a, None if v == NOT_RECORDED else v))


def _at() -> tuple:
    """The held values chosen so far (read before the plot, drawn after it)."""
    return tuple(sorted((k[len("hold_"):], None if v == NOT_RECORDED else v) for k, v in st.session_state.items()
                        if str(k).startswith("hold_")))


def _axis(options: list[str]) -> str:
    """The sensitivity axis, bound to the link; a link's axis that this store does not vary falls back with a
    notice."""
    if AXIS.name in hidden(PAGE.specs):
        value = hidden_value(AXIS)
        return value if value in options else options[0]
    raw = st.query_params.get_all(AXIS.name)
    if len(raw) == 1 and raw[0] in AXIS.choice_list and raw[0] not in options:
        st.warning(f"Link parameter ignored: axis: this store does not vary {escape_markdown(raw[0])} (using "
                   f"{sa.axis_label(options[0], task)}).", icon=":material/link_off:")
    if AXIS.name in st.session_state and st.session_state[AXIS.name] not in options:
        st.session_state[AXIS.name] = AXIS.default if AXIS.default in options else options[0]
    return st.selectbox(AXIS.label, options, index=options.index(AXIS.default) if AXIS.default in options else 0,
                        key=AXIS.name, bind="query-params", help=AXIS.help)


def _sensitivity_tab() -> None:
    numeric = list(sa.numeric_axes(res)) if VARYING else []
    options = list(dict.fromkeys([*sa.HC_AXES, *numeric]))
    c1, c2 = st.columns(2)
    with c1:
        x = _axis(options)
    lines = [a for a in VARYING if a != x and a not in numeric] + ["(one line)"]
    with c2:
        line = _choose("One line per", lines, "sens_line", default="shape",
                       format_func=lambda a: a if a == "(one line)" else sa.axis_label(a, task))
    if res is None:
        result = sa.sensitivity(EMPTY, x)
        fig = fig_sensitivity(result, spread)
    else:
        result, fig = view(token, "sensitivity", (x, metric, None if line == "(one line)" else line, _at()), spread,
                           res)
    if result.choices:
        _held(result.choices, result.pinned, st.columns(min(4, len(result.choices))))
    chart(fig, key="fig_sensitivity")
    e1, e2 = st.columns([1, 1])
    with e1:
        st.latex(r"\sigma'(v) = \gamma\, f(s\,v)\qquad\text{(Sec. 2.2, Table S1)}")
        st.latex(r"\text{(2)}\quad \mathbb{E}[\sigma'^2] = \frac{\gamma^2}{s\,(y_{\max}-y_{\min})}"
                 r"\int_{s(y_{\min}-\vartheta)}^{s(y_{\max}-\vartheta)} f(v)^2\,dv")
    with e2:
        st.markdown("HC vary one of γ, s, q with the others at 1 (q at the shape's own tail) and find low dampening "
                    "(optimum near 0.8), high sharpness and a fat tail (q = 1.05) best on sl-MNIST. By Eq. 2 the "
                    "gradient's variance grows as γ² and falls as 1/s. Each point here is a mean over seeds; where "
                    "bars overlap, the sweep does not tell the settings apart.")
    if result.log_x:
        st.caption("The x axis is logarithmic: the swept values span a decade or more.")


def _ranking_tab() -> None:
    options = list(VARYING) or ["shape", "init"]
    c1, c2 = st.columns(2)
    with c1:
        rows = _choose("Rows", options, "rank_rows", default="shape", format_func=lambda a: sa.axis_label(a, task))
    cols_opts = [a for a in options if a != rows] or ["init"]
    default_col = next((a for a in ("init", "conditions") if a in cols_opts), cols_opts[0])
    with c2:
        cols = _choose("Columns", cols_opts, "rank_cols", default=default_col,
                       format_func=lambda a: sa.axis_label(a, task))
    if res is None:
        result = sa.ranking(EMPTY, rows, cols)
        fig = fig_ranking(result, spread)
    else:
        result, fig = view(token, "ranking", (rows, cols, metric, _at()), spread, res)
    if result.choices:
        _held(result.choices, result.pinned, st.columns(min(4, len(result.choices))))
    chart(fig, key="fig_ranking")
    e1, e2 = st.columns(2)
    with e1:
        st.latex(r"\text{Glorot: } \frac{2}{\mathrm{Var}[W_l]} = n_{l-1} + n_l\qquad\text{(Sec. 3.3)}")
        st.latex(r"\text{He: } \frac{2}{\mathrm{Var}[W_l]} = n_{l-1}")
    with e2:
        st.markdown("HC Fig. 4 (ALIF on SHD, 4 seeds): the best shape depends on the initialisation — Glorot uniform "
                    "prefers the sigmoid's derivative, He normal the fast sigmoid's, and the exponential fails with He "
                    "normal. ★ marks the best row of each column.")


def _ablation_tab() -> None:
    options = list(VARYING) or ["conditions"]
    default = next((a for a in ("conditions", "init", "shape") if a in options), options[0])
    by = _choose("Compare the values of", options, "abl_by", default=default,
                 format_func=lambda a: sa.axis_label(a, task))
    pair = tuple(dict.fromkeys([metric, "test_accuracy"])) if task == "classify" else (metric,)
    if res is None:
        result = sa.ablation(EMPTY, by, pair)
        fig = fig_ablation(result, spread)
    else:
        result, fig = view(token, "ablation", (by, pair, _at()), spread, res)
    if result.choices:
        _held(result.choices, result.pinned, st.columns(min(4, len(result.choices))))
    chart(fig, key="fig_ablation")
    e1, e2 = st.columns(2)
    with e1:
        st.latex(r"\text{I: } \mathrm{Median}[v_t] = 0\qquad"
                 r"\text{II: } \mathrm{Var}[W_{rec}x_{t-1}] = \mathrm{Var}[W_{in}z_t]")
        st.latex(r"\text{III: } \mathrm{Max}\Big[\tfrac{\partial y_t}{\partial a}\Big] = "
                 r"\mathrm{Max}\Big[\tfrac{\partial y_{t-1}}{\partial a}\Big]\qquad"
                 r"\text{IV: } \mathrm{Var}\Big[\tfrac{\partial y_t}{\partial a}\Big] = "
                 r"\mathrm{Var}\Big[\tfrac{\partial y_{t-1}}{\partial a}\Big]")
    with e2:
        st.markdown("HC Fig. 5 (LIF on SHD, exponential SG, 4 seeds): against the naive Glorot-uniform "
                    "initialisation with γ = s = 1, condition II helps most alone and all four together best "
                    "(validation 92.7 ± 1.5 % vs 87.3 ± 1.4 %). The naive bar is hatched and first; the dashed line "
                    "is its mean. The Surrogate design page computes what each condition sets.")


def _runs_tab() -> None:
    if res is None or not len(res.runs):
        st.info("No runs to list: choose a store with runs in the sidebar.", icon=":material/table:")
        chart(fig_curves([]), key="fig_curves")
        return
    if info.failed:
        lines = "\n".join(f"- {n} × `{escape_markdown(msg[:300])}`" for msg, n in info.errors[:5])
        st.warning(f"{info.failed} run(s) failed:\n{lines}", icon=":material/error:")
    table = sa.runs_table(res)
    f1, f2, f3 = st.columns([1, 2, 2])
    with f1:
        status = st.segmented_control("Status", ["all", "done", "failed"], default="all", key="runs_status") or "all"
    with f2:
        groups = st.multiselect("Groups", list(info.groups), key="runs_groups", placeholder="all groups")
    with f3:
        text = st.text_input("Runs whose settings contain", key="runs_text", placeholder="e.g. sigmoid").strip()
    keep = table["status"].eq(status) if status != "all" else table["status"].notna()
    if groups:
        keep &= table["group"].isin(groups)
    axes = [a for a in res.axes if a != "epochs"]
    labels = {rid: sa.run_label(row, axes) for rid, row in zip(table["run_id"], table.to_dict("records"),
                                                               strict=True)}
    if text:
        keep &= table["run_id"].map(lambda rid: text.lower() in labels[rid].lower() or text in rid)
    shown = table[keep].reset_index(drop=True)
    pct = {c: st.column_config.NumberColumn(format="percent") for c in ("score", *res.metrics)
           if sa.is_fraction(c, task)}
    event = st.dataframe(arrow(shown), hide_index=True, width="stretch", height=360, key="runs_table",
                         on_select="rerun", selection_mode="multi-row",
                         column_config={**pct, "error": st.column_config.TextColumn(width="large")})
    st.caption(f"{len(shown):,} of {len(table):,} runs. Tick rows to draw their learning curves below.")
    st.download_button("runs.csv", data=lambda: shown.to_csv(index=False).encode(), file_name="sweep_runs.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key="dl_runs")
    picked_rows = [shown["run_id"].iat[i] for i in event.selection.rows if i < len(shown)] if event else []
    done_ids = [rid for rid in shown["run_id"] if res.curves.get(rid)]
    extra = st.multiselect("Or pick runs", done_ids, key="runs_pick", max_selections=MAX_CURVES,
                           format_func=lambda rid: labels.get(rid, rid), placeholder="choose runs by their settings")
    ids = list(dict.fromkeys([*picked_rows, *extra]))[:MAX_CURVES]
    left, right = ("val_accuracy", "val_loss") if task == "classify" else ("van_rossum", "l2")
    chart(fig_curves([(labels.get(rid, rid), res.curves.get(rid, {})) for rid in ids], left, right, task),
          key="fig_curves")
    if len(picked_rows) + len(extra) > MAX_CURVES:
        st.caption(f"The first {MAX_CURVES} picked runs are drawn.")
    st.latex(r"\bar x = \frac{1}{n}\sum_{i=1}^n x_i,\qquad \mathrm{std} = \sqrt{\frac{1}{n-1}\sum_{i=1}^n "
             r"(x_i - \bar x)^2},\qquad \mathrm{SE} = \frac{\mathrm{std}}{\sqrt{n}}\qquad(n\text{ seeds})")


def _start_job() -> None:
    """Form callback (before the page is drawn, so it may switch the store to the sweep's file)."""
    s = st.session_state
    options = ["--task", s["new_task"], "--seeds", str(int(s["new_seeds"])), "--epochs", str(int(s["new_epochs"])),
               "--workers", str(int(s["new_workers"])), "--name", s["new_name"].strip() or "sweep"]
    for line in s["new_grid"].splitlines():
        if line.strip():
            options += ["--grid", line.strip()]
    for line in s["new_fixed"].splitlines():
        if line.strip():
            options += ["--set", line.strip()]
    try:
        store = s["new_store"].strip()
        if not store:
            raise ValueError("give the store file to write")
        job = BackgroundSweep(options, store)
    except ValueError as err:
        s["sweeps_job_error"] = str(err)
        return
    s.pop("sweeps_job_error", None)
    s.pop("sweeps_shown", None)
    s["sweeps_job"] = job
    s["store"], s["store_path"] = "file", str(job.store)  # show its results as they arrive


def _run_tab() -> None:
    if HOSTED:
        st.info("Starting a sweep is not offered on this hosted app: a sweep trains tens to thousands of networks for "
                "minutes to hours, and this server's CPU belongs to the class's interactive pages. Run it on your own "
                "machine with the command line (below), then upload its store file here or open the app locally.",
                icon=":material/lock:")
        st.code(_example_command("my_sweep.sqlite"), language="bash")
        return
    running = st.session_state.get("sweeps_job")
    if running is not None and running.running:
        st.info("A sweep started from this page is running (progress above). Stop it to start another.",
                icon=":material/hourglass_top:")
        st.code(shlex.join(["python", *running.argv[1:]]), language="bash", wrap_lines=True)
        return
    cpu = os.cpu_count() or 1
    default_store = str(Path.home() / "sge-sweeps" / "sweep.sqlite")
    with st.form("new_sweep"):
        c1, c2 = st.columns([3, 2])
        with c1:
            st.selectbox("Task", list(TASKS), key="new_task", format_func=lambda t: f"{t}: {TASKS[t].help}")
            st.text_area("Grid: one parameter per line, NAME=V1,V2,…", key="new_grid", height=110,
                         value="shape=sigmoid,exponential,superspike\ngamma=0.3,1,3",
                         help="The runs are the product of these lists, each repeated for every seed.")
            st.text_area("Fixed values: NAME=VALUE per line", key="new_fixed", value="sharpness=1", height=70)
        with c2:
            st.number_input("Seeds", 1, 100, 2, key="new_seeds")
            st.number_input("Epochs per run", 1, 10_000, 5, key="new_epochs")
            st.number_input("Worker processes (0: one run after another here)", 0, cpu, max(1, cpu - 1),
                            key="new_workers", help="Each worker trains one run on one core.")
            st.text_input("Sweep name", value="sweep", key="new_name")
            st.text_input("Store file", value=default_store, key="new_store",
                          help="Created if missing; a store that has the same runs skips them (resume).")
        st.form_submit_button("Check and start", icon=":material/play_arrow:", on_click=_start_job,
                              key="new_start")
    if st.session_state.get("sweeps_job_error"):
        st.error(f"Not started: {st.session_state['sweeps_job_error']}.", icon=":material/error:")
    with st.expander("Parameters a grid can vary"):
        t = TASKS[st.session_state.get("new_task", "classify")]
        st.markdown(", ".join(f"`{name}`" for name in sorted(t.specs)))
    st.caption("The same as `python -m sgcore sweep --grid NAME=V1,V2 … --store FILE` in a terminal, which also takes "
               "a TOML file (`--config`) and an existing Dask cluster (`--scheduler`). The page polls the store for "
               "progress; closing the page does not stop the sweep.")


for tab, draw in ((tab_sens, _sensitivity_tab), (tab_rank, _ranking_tab), (tab_abl, _ablation_tab),
                  (tab_runs, _runs_tab), (tab_run, _run_tab)):
    if tab.open:
        with tab:
            draw()
