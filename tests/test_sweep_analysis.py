"""sgcore.sweep.analysis: a store as one row per run, and the statistics behind HC Figs. 3-5, against numbers
computed by hand on small stores."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sweepstores import FAILED_ERROR, HC_SCORES, SEED_STEP, empty_store, hc_store

from sgcore.shapes import SHAPES
from sgcore.sweep import analysis as sa
from sgcore.sweep.spec import TASKS
from sgcore.sweep.store import Store


def run(rid: str, params: dict, score: float | None, *, config: dict | None = None, status: str = "done",
        group: str = "grid", task: str = "classify", epochs: int = 3, error: str | None = None,
        metrics: dict | None = None) -> dict:
    """One run as Store.runs() gives it."""
    shape = params.get("shape", (config or {}).get("shape", "superspike"))
    cfg = {"shape": shape, "beta_sg": 1.0 / SHAPES[shape].beta_to_s, "scale": "gamma", "gamma": 1.0,
           **(config or {}), **{k: v for k, v in params.items() if k != "sharpness"}}
    if "sharpness" in params:
        cfg["beta_sg"] = params["sharpness"] / SHAPES[shape].beta_to_s
    if metrics is None:
        metrics = {} if status != "done" else {"val_accuracy": score, "test_accuracy": score - 0.1,
                                                "val_loss": 1 - score}
    return {"run_id": rid, "sweep": "s", "group": group, "task": task, "params": params, "config": cfg,
            "seed": params.get("seed"), "epochs": epochs, "status": status, "error": error, "metrics": metrics,
            "score": score if status == "done" else None, "wall_time": 1.0, "worker": "w", "code_version": "v1",
            "started": 0.0, "finished": float(len(rid))}


# A small HC Fig. 3 study: two shapes x gamma (s = 1 given) and sharpness (gamma = 1 fixed), two seeds.
GAMMA = {("sigmoid", 0.5): (0.60, 0.70), ("sigmoid", 1.0): (0.80, 0.84), ("sigmoid", 5.0): (0.50, 0.40),
         ("exponential", 0.5): (0.62, 0.66), ("exponential", 1.0): (0.75, 0.81), ("exponential", 5.0): (0.55, 0.57)}
SHARP = {("sigmoid", 0.2): (0.30, 0.34), ("sigmoid", 4.0): (0.90, 0.86),
         ("exponential", 0.2): (0.35, 0.31), ("exponential", 4.0): (0.70, 0.74)}


def small() -> sa.SweepResults:
    runs = []
    for (shape, g), scores in GAMMA.items():
        for seed, score in enumerate(scores):
            runs.append(run(f"g-{shape}-{g}-{seed}", {"shape": shape, "gamma": g, "seed": seed}, score,
                            group="dampening"))
    for (shape, s), scores in SHARP.items():
        for seed, score in enumerate(scores):
            runs.append(run(f"s-{shape}-{s}-{seed}", {"shape": shape, "sharpness": s, "seed": seed}, score,
                            group="sharpness"))
    runs.append(run("fail", {"shape": "sigmoid", "gamma": 5.0, "seed": 2}, None, status="failed",
                    group="dampening", error="RuntimeError: boom"))
    return sa.SweepResults.from_runs(runs, curves={"g-sigmoid-1.0-0": {"val_accuracy": [0.5, None, 0.8]}})


# --- the frame ----------------------------------------------------------------------------------------------------
def test_one_row_per_run_with_params_and_metrics_as_columns():
    res = small()
    assert len(res.runs) == 2 * (len(GAMMA) + len(SHARP)) + 1
    assert res.axes == ("shape", "gamma", "sharpness")  # first seen first; the seed is not an axis
    assert set(res.metrics) == {"val_accuracy", "test_accuracy", "val_loss"}
    row = res.runs.set_index("run_id").loc["g-sigmoid-5.0-1"]
    assert (row["shape"], row["gamma"], row["seed"], row["score"], row["test_accuracy"]) == ("sigmoid", 5.0, 1,
                                                                                            0.40, 0.40 - 0.1)
    assert np.array_equal(res.curves["g-sigmoid-1.0-0"]["val_accuracy"], [0.5, np.nan, 0.8], equal_nan=True)


def test_an_axis_a_run_did_not_vary_is_the_value_it_trained_with():
    res = small()
    by = res.runs.set_index("run_id")
    # the dampening runs did not vary s: it is derived from beta_sg (s = beta * beta_to_s) = 1
    assert by.loc["g-exponential-0.5-0", "sharpness"] == 1.0
    # the sharpness runs did not vary gamma: the group's fixed gamma = 1 with scale = 'gamma'
    assert by.loc["s-sigmoid-4.0-1", "gamma"] == 1.0
    # density scaling: gamma = s; peak scaling: gamma = 1 (Herranz-Celotti's gamma f(s v) with f of peak 1)
    sig = SHAPES["sigmoid"]
    runs = [run("given", {"shape": "sigmoid", "gamma": 0.5, "seed": 0}, 0.5),
            run("density", {"shape": "sigmoid", "seed": 0}, 0.5, config={"scale": "density", "beta_sg": 2.0}),
            run("peak", {"shape": "sigmoid", "seed": 0}, 0.5, config={"scale": "peak", "beta_sg": 2.0})]
    gamma = dict(zip(sa.SweepResults.from_runs(runs).runs["run_id"], sa.SweepResults.from_runs(runs).runs["gamma"],
                     strict=True))
    assert gamma == {"given": 0.5, "density": pytest.approx(2.0 * sig.beta_to_s), "peak": 1.0}


def test_a_shape_parameter_is_missing_where_the_shape_has_none_and_defaults_fill_the_rest():
    runs = [run("a", {"shape": "q_pseudospike", "q": 1.05, "seed": 0}, 0.8),
            run("b", {"shape": "sigmoid", "seed": 0}, 0.7, config={"q": 3.0}),
            run("c", {"shape": "sigmoid", "lr": 0.02, "seed": 0}, 0.6)]
    res = sa.SweepResults.from_runs(runs)
    q = dict(zip(res.runs["run_id"], res.runs["q"], strict=True))
    assert q["a"] == 1.05 and math.isnan(q["b"]) and math.isnan(q["c"])  # sigmoid has no q
    lr = dict(zip(res.runs["run_id"], res.runs["lr"], strict=True))
    assert lr["c"] == 0.02 and lr["a"] == TASKS["classify"].specs["lr"].default  # not in its config: the default


def test_nested_metrics_are_flattened_and_clashing_names_kept_apart():
    runs = [run("a", {"init": "he_normal", "seed": 0}, 0.8,
                metrics={"val_accuracy": 0.8, "init": {"mean_w_rec": 0.01, "note": "text"}, "flag": True})]
    res = sa.SweepResults.from_runs(runs)
    assert "init" in res.axes and "init.mean_w_rec" in res.metrics and res.runs.loc[0, "init.mean_w_rec"] == 0.01
    assert "init.note" not in res.runs.columns and "flag" not in res.runs.columns  # numbers only


# --- statistics ---------------------------------------------------------------------------------------------------
def test_aggregate_over_seeds_by_hand():
    res = small()
    table = sa.aggregate(res.runs, ["shape", "gamma"], "score")
    row = table[(table["shape"] == "sigmoid") & (table["gamma"] == 5.0)].iloc[0]  # only the dampening grid has 5
    # seeds 0.50, 0.40 and a failed seed 2
    assert (row["runs"], row["n"], row["failed"]) == (3, 2, 1)
    assert row["mean"] == pytest.approx(0.45)
    assert row["std"] == pytest.approx(math.sqrt(2 * 0.05**2 / 1))  # ddof = 1
    assert row["sem"] == pytest.approx(row["std"] / math.sqrt(2))
    assert (row["min"], row["max"]) == (0.40, 0.50)
    assert list(table["shape"]) == sorted(table["shape"], key=str)  # ordered by setting
    one = sa.aggregate(res.runs[res.runs["run_id"] == "g-sigmoid-1.0-0"], ["shape"], "score").iloc[0]
    assert one["n"] == 1 and math.isnan(one["std"]) and math.isnan(one["sem"])
    with pytest.raises(ValueError, match="metric"):
        sa.aggregate(res.runs, ["shape"], "nope")


def test_error_bars_of_each_spread():
    table = sa.aggregate(small().runs, ["shape", "gamma", "sharpness"], "score")
    i = int(np.flatnonzero((table["shape"] == "exponential") & (table["gamma"] == 1.0) & (table["sharpness"] == 1))[0])
    std = math.sqrt(2 * 0.03**2)
    for spread, (lo, hi) in {"std": (std, std), "sem": (std / math.sqrt(2), std / math.sqrt(2)),
                             "range": (0.78 - 0.75, 0.81 - 0.78)}.items():
        below, above = sa.error_bars(table, spread)
        assert (below[i], above[i]) == (pytest.approx(lo), pytest.approx(hi)), spread
    with pytest.raises(ValueError, match="spread"):
        sa.error_bars(table, "iqr")


def test_varying_overall_and_within_a_group():
    res = small()
    assert sa.varying(res) == ("shape", "gamma", "sharpness")
    assert sa.varying(res, "dampening") == ("shape", "gamma")
    assert sa.numeric_axes(res) == ("gamma", "sharpness")


def test_best_setting_and_the_direction_of_a_metric():
    best = sa.best_setting(small())
    assert (best["shape"], best["sharpness"], best["mean"]) == ("sigmoid", 4.0, pytest.approx(0.88))
    worst_loss = sa.best_setting(small(), "val_loss")  # lower is better: the same run
    assert worst_loss["sharpness"] == 4.0 and worst_loss["shape"] == "sigmoid"
    assert sa.higher_is_better("score", "classify") and not sa.higher_is_better("score", "spiketrain")
    assert not sa.higher_is_better("van_rossum") and sa.higher_is_better("test_accuracy")
    vr = sa.SweepResults.from_runs([run("a", {"lr": 0.1, "seed": 0}, 0.3, task="spiketrain"),
                                    run("b", {"lr": 0.2, "seed": 0}, 0.2, task="spiketrain")])
    assert sa.best_setting(vr)["lr"] == 0.2  # the smaller van Rossum distance
    assert sa.best_setting(sa.SweepResults.from_runs([])) is None


# --- slices and the three studies ---------------------------------------------------------------------------------
def test_the_gamma_plot_holds_sharpness_at_one_as_hc_do():
    sens = sa.sensitivity(small(), "gamma")
    assert dict(sens.pinned) == {"sharpness": 1.0}
    assert sens.choices["sharpness"] == (0.2, 1.0, 4.0)
    assert sens.line == "shape" and sens.log_x is True  # 0.5 .. 5 spans a decade
    got = {(r.shape, r.gamma): r.mean for r in sens.table.itertuples()}
    assert got == {k: pytest.approx(np.mean(v)) for k, v in GAMMA.items()}
    sharp = sa.sensitivity(small(), "sharpness")
    assert dict(sharp.pinned) == {"gamma": 1.0} and sharp.log_x  # 0.2 .. 4 spans 20x
    assert {r.sharpness for r in sharp.table.itertuples()} == {0.2, 1.0, 4.0}  # s = 1 comes from the gamma grid


def test_a_held_value_can_be_chosen_and_an_unknown_one_falls_back():
    sens = sa.sensitivity(small(), "gamma", at={"sharpness": 4.0})
    assert dict(sens.pinned) == {"sharpness": 4.0}
    assert set(sens.table["gamma"]) == {1.0}  # only the sharpness grid's gamma
    assert dict(sa.sensitivity(small(), "gamma", at={"sharpness": 7.0}).pinned) == {"sharpness": 1.0}


def test_an_axis_the_store_does_not_vary_gives_an_empty_plot():
    for x in ("q", "lr"):
        sens = sa.sensitivity(small(), x)
        assert sens.empty and not len(sens.table)
    assert sa.sensitivity(small(), "gamma", line="lr").line is None  # a line axis that does not vary: one line


def test_miniature_hc_store_end_to_end(tmp_path):
    res = sa.load(hc_store(tmp_path / "hc.sqlite"))
    assert res.task == "classify" and set(res.axes) >= {"shape", "gamma", "q", "init", "conditions"}
    # Fig. 3, q: only q-PseudoSpike has q; the others do not apply and stay out of the q plot
    q = sa.sensitivity(res, "q")
    want = {params["q"]: score + SEED_STEP / 2 for params, _, score in HC_SCORES["tail"]}
    assert {r.q: r.mean for r in q.table.itertuples()} == {k: pytest.approx(v) for k, v in want.items()}
    assert set(q.table["shape"]) == {"q_pseudospike"} and q.log_x is False  # 1.05 .. 8: under a decade
    # Fig. 3, gamma: runs of the init and conditions groups are other settings (held at the defaults every run
    # records: fluctuation, none)
    g = sa.sensitivity(res, "gamma")
    assert g.pinned["init"] == "fluctuation" and g.pinned["conditions"] == "none"
    # the conditions group's naive runs (exponential, conditions none, fluctuation) are that setting at gamma = 1
    assert set(g.table[g.table["shape"] == "exponential"]["gamma"]) == {1.0}
    failed = g.table[(g.table["shape"] == "superspike") & (g.table["gamma"] == 10.0)].iloc[0]
    assert (failed["n"], failed["failed"], failed["mean"]) == (1, 1, pytest.approx(0.50))
    # Fig. 4: shape x init, the best shape of each initialisation
    rank = sa.ranking(res)
    # every run records its initialisation, so the other groups' runs are the default "fluctuation" column
    assert rank.row_values == ("exponential", "q_pseudospike", "sigmoid", "superspike")
    assert rank.col_values == ("fluctuation", "glorot_uniform", "he_normal")
    assert dict(rank.best) == {"fluctuation": "q_pseudospike", "glorot_uniform": "sigmoid", "he_normal": "sigmoid"}
    cell = rank.table[(rank.table["shape"] == "exponential") & (rank.table["init"] == "he_normal")].iloc[0]
    assert cell["mean"] == pytest.approx(0.40 + SEED_STEP / 2)
    # Fig. 5: the naive setting first, the rest best first, validation and test side by side
    abl = sa.ablation(res)
    assert abl.baseline == "none" and abl.order == ("none", "I+II+III+IV", "II", "I")
    assert list(abl.tables["test_accuracy"]["mean"]) == pytest.approx(
        [m - 0.05 for m in abl.tables["score"]["mean"]])
    assert sa.ablation(res, "conditions", baseline="II").order[0] == "II"
    assert sa.ablation(res, "lr").empty and sa.ranking(res, "shape", "shape").empty


def test_summary_counts_seeds_epochs_versions_and_errors(tmp_path):
    info = sa.summary(sa.load(hc_store(tmp_path / "hc.sqlite")))
    n = sum(len(rows) for rows in HC_SCORES.values()) * 2
    assert (info.runs, info.done, info.failed) == (n, n - 1, 1)
    assert info.tasks == ("classify",) and info.sweeps == ("hc_test",) and info.seeds == (0, 1)
    assert info.epochs == (3,) and info.code_versions == ("0+test",)
    assert info.groups == tuple(HC_SCORES) and info.errors == ((FAILED_ERROR, 1),)


def test_runs_table_lists_settings_first_and_failed_runs_with_their_error(tmp_path):
    res = sa.load(hc_store(tmp_path / "hc.sqlite"))
    table = sa.runs_table(res)
    assert list(table.columns[:5]) == [*(a for a in res.axes if a != "epochs")][:5]
    failed = table[table["status"] == "failed"].iloc[0]
    assert failed["error"] == FAILED_ERROR and math.isnan(failed["score"])
    assert table["init"].map(lambda v: pd.isna(v) or isinstance(v, str)).all()  # one type per column (Arrow)
    text = table.to_csv(index=False)
    assert FAILED_ERROR in text and text.count("\n") == len(table) + 1


def test_labels():
    row = {"shape": "sigmoid", "gamma": 0.5, "q": math.nan, "seed": 1}
    assert sa.run_label(row, ["shape", "gamma", "q"]) == "Sigmoid derivative · γ 0.5 · seed 1"
    assert sa.describe_setting(row, ["shape", "gamma", "q"], "classify") == \
        "SG shape = Sigmoid derivative, dampening γ = 0.5"
    assert sa.value_label("q", None) == "n/a" and sa.value_label("init", None) == "not recorded"
    assert sa.axis_label("lr", "classify") == TASKS["classify"].specs["lr"].label
    assert sa.metric_label("score", "classify") == "validation accuracy"
    assert sa.is_fraction("score", "classify") and not sa.is_fraction("score", "spiketrain")


# --- reading stores -----------------------------------------------------------------------------------------------
def test_load_refuses_what_is_not_a_store(tmp_path):
    with pytest.raises(ValueError, match="no results file"):
        sa.load(tmp_path / "missing.sqlite")
    text = tmp_path / "notes.sqlite"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a sweep results store"):
        sa.load(text)
    res = sa.load(empty_store(tmp_path / "empty.sqlite"))
    assert not len(res.runs) and res.axes == () and res.task is None
    assert sa.summary(res).runs == 0 and sa.sensitivity(res, "gamma").empty


def test_load_bytes_checks_size_and_header_and_keeps_no_file(tmp_path):
    blob = hc_store(tmp_path / "hc.sqlite").read_bytes()
    res = sa.load_bytes(blob, "mine.sqlite")
    assert res.source == "mine.sqlite" and len(res.runs) == len(sa.load(tmp_path / "hc.sqlite").runs)
    with pytest.raises(ValueError, match="at most 100"):
        sa.load_bytes(blob, max_bytes=100)
    with pytest.raises(ValueError, match="not an SQLite file"):
        sa.load_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ValueError, match="not a sweep results store|cannot be read"):
        sa.load_bytes(blob[:4096])  # the header survives, the tables do not


def test_a_damaged_row_is_a_clear_error(tmp_path):
    path = hc_store(tmp_path / "hc.sqlite")
    with Store(path) as st:
        st._db.execute("UPDATE runs SET params = 'not json' WHERE rowid = 1")
        st._db.commit()
    with pytest.raises(ValueError):
        sa.load(path)


def test_subset_by_task_recomputes_the_axes():
    runs = [run("a", {"lr": 0.1, "seed": 0}, 0.3, task="spiketrain"), run("b", {"lr": 0.2, "seed": 0}, 0.2,
                                                                         task="spiketrain"),
            run("c", {"shape": "sigmoid", "seed": 0}, 0.7), run("d", {"shape": "exponential", "seed": 0}, 0.6)]
    res = sa.SweepResults.from_runs(runs)
    assert res.task is None and set(res.tasks) == {"spiketrain", "classify"}
    spike = res.subset(task="spiketrain")
    assert spike.task == "spiketrain" and sa.varying(spike) == ("lr",)


def test_a_setting_fixed_per_group_keeps_the_groups_apart(tmp_path):
    """One layer in the conditions group, two elsewhere: n_layers becomes an axis, so the gamma plot (held at the
    common two layers) leaves the one-layer runs out, although no grid varied n_layers."""
    from sweepstores import record

    with Store(tmp_path / "s.sqlite") as st:
        st.add_sweep("x", "classify", {}, "0+test")
        for g, score in ((0.5, 0.7), (1.0, 0.6)):
            record(st, "dampening", {"shape": "sigmoid", "gamma": g}, {"shape": "sigmoid", "gamma": g,
                                                                          "n_layers": 2}, 0, score=score)
        record(st, "conditions", {"conditions": "none"}, {"shape": "sigmoid", "gamma": 1.0, "n_layers": 1}, 0,
               score=0.1)
    res = sa.load(tmp_path / "s.sqlite")
    assert "n_layers" in res.axes
    g = sa.sensitivity(res, "gamma")
    assert g.pinned["n_layers"] == 2 and list(g.table["mean"]) == pytest.approx([0.7, 0.6])


def test_a_column_of_ties_has_no_best_row(tmp_path):
    from sweepstores import record

    with Store(tmp_path / "s.sqlite") as st:
        st.add_sweep("x", "classify", {}, "0+test")
        for shape in ("sigmoid", "atan"):
            for init, score in (("glorot_uniform", 0.1), ("fluctuation", 0.5 if shape == "atan" else 0.4)):
                record(st, "init", {"shape": shape, "init": init}, {"shape": shape, "init": init}, 0, score=score)
    rank = sa.ranking(sa.load(tmp_path / "s.sqlite"))
    assert dict(rank.best) == {"fluctuation": "atan"}  # glorot_uniform: both at 10 %, neither is best
