"""One result path: the generic serialiser and CSV export, the CLI printing each page's serialised view, and each
page's CSV downloads coming from its view's ``tables()`` through :func:`sgcore.export.csv_tables`."""

import json
import math
from dataclasses import dataclass, field

import apphelpers
import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

import sgcore.export as export
from sgcore.classify.data import RandmanConfig, randman
from sgcore.cli import main
from sgcore.design import DesignConfig, DesignView, InitConfig, design_view, init_conditions, theory_check
from sgcore.escape import EscapeConfig, EscapeView, escape_view
from sgcore.estimators import EstimatorConfig, EstimatorView, estimator_view
from sgcore.export import columns_to_csv, csv_tables, to_jsonable, view_to_dict
from sgcore.localzo import LocalZOConfig, LocalZOView, localzo_view
from sgcore.loop import LoopConfig, loop_integrals, loop_view
from sgcore.pages import PAGES
from sgcore.signflip import SignflipConfig, signflip_view


# --- the serialiser -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cfg:
    a: float = 1.0

    def as_dict(self):
        return {"a": self.a, "from": "as_dict"}


@dataclass(frozen=True)
class _Inner:
    xs: np.ndarray
    by_beta: dict


@dataclass(frozen=True)
class _View:
    config: _Cfg
    curve: np.ndarray
    inner: _Inner
    flag: np.bool_
    count: np.int64
    bad: float = math.inf
    names: tuple = ("p", "q")
    maybe: object = None
    extra: list = field(default_factory=list)

    @property
    def twice(self) -> float:
        return 2 * float(self.curve[0])

    def tables(self):
        return {"curve": {"i": np.arange(self.curve.size), "curve": self.curve}}


def _view() -> _View:
    return _View(_Cfg(), np.array([1.5, np.nan, -np.inf]), _Inner(np.eye(2), {0.5: np.array([1.0]), 2.0: 3}),
                 np.bool_(True), np.int64(7))


def test_view_to_dict_turns_every_part_into_plain_json():
    out = view_to_dict(_view())
    assert out == {"config": {"a": 1.0, "from": "as_dict"}, "curve": [1.5, None, None],
                   "inner": {"xs": [[1.0, 0.0], [0.0, 1.0]], "by_beta": {"0.5": [1.0], "2": 3}},
                   "flag": True, "count": 7, "bad": None, "names": ["p", "q"], "maybe": None, "extra": []}
    text = json.dumps(out, allow_nan=False)  # strict JSON: no NaN / Infinity tokens
    assert type(json.loads(text)["count"]) is int and type(out["flag"]) is bool


def test_view_to_dict_selects_fields_and_properties_in_the_given_order():
    out = view_to_dict(_view(), ["twice", "count", "config"])
    assert list(out) == ["twice", "count", "config"] and out["twice"] == 3.0
    with pytest.raises(KeyError, match="no field 'nope'"):
        view_to_dict(_view(), ["count", "nope"])
    with pytest.raises(TypeError, match="dataclass"):
        view_to_dict({"a": 1})


def test_to_jsonable_is_the_cli_one():
    from sgcore import cli

    assert cli.to_jsonable is to_jsonable
    assert to_jsonable({"x": (np.float32(0.5), float("nan"))}) == {"x": [0.5, None]}


def test_columns_to_csv_and_csv_tables():
    assert csv_tables(_view()) == {"curve": "i,curve\n0,1.5\n1,\n2,-inf\n"}
    assert columns_to_csv({"name": np.array(["a", "b"]), "ok": np.array([True, False])}) == "name,ok\na,True\nb,False\n"
    with pytest.raises(ValueError, match="equal length"):
        columns_to_csv({"a": np.zeros(2), "b": np.zeros(3)})
    with pytest.raises(ValueError, match="1-D"):
        columns_to_csv({"a": np.zeros((2, 2))})
    with pytest.raises(TypeError, match="declares no tables"):
        csv_tables(_Inner(np.zeros(1), {}))


# --- the CLI prints the page's view ------------------------------------------------------------------------------
CLI_CASES = {
    "escape": (["--n-points", "21", "--seed", "2", "--u", "0", "0.5"],
               lambda: view_to_dict(escape_view(EscapeConfig(n_points=21, seed=2), u=[0.0, 0.5]),
                                    EscapeView.CLI_FIELDS)),
    "signflip": (["--beta-sg", "15", "--sweep", "11", "--grid", "21", "--grid-range", "-1", "1"],
                 lambda: view_to_dict(signflip_view(SignflipConfig(beta_sg=15.0, n_sweep=11, n_grid=21,
                                                                   plane_min=-1.0, plane_max=1.0)),
                                      ["config", "point", "sweep", "plane"])),
    "loop": (["--radius", "1.2", "--steps", "100", "--curl-grid", "21"],
             lambda: view_to_dict(loop_view(LoopConfig(radius=1.2, max_steps=100, n_grid=21)),
                                  ["config", "integrals", "curl"])),
    "localzo": (["--n-points", "51", "--u", "0", "0.1", "--samples", "300", "--seed", "4"],
                lambda: view_to_dict(localzo_view(LocalZOConfig(n_points=51, seed=4), u_points=[0.0, 0.1],
                                                  samples=300), LocalZOView.CLI_FIELDS)),
    "estimators": (["--hidden", "2", "--samples", "100", "--seed", "1"],
                   lambda: view_to_dict(estimator_view(EstimatorConfig.with_hidden((2,), samples=100, seed=1)),
                                        EstimatorView.CLI_FIELDS)),
    "design": (["--shape", "gaussian", "--gamma", "0.5"],
               lambda: view_to_dict(design_view(DesignConfig(shape="gaussian", gamma=0.5)), DesignView.CLI_FIELDS)),
    "init": (["--xi", "1", "--n-rec", "50"], lambda: view_to_dict(init_conditions(InitConfig(xi=1, n_rec=50)))),
    "randman": (["--classes", "3", "--units", "6", "--steps", "12", "--samples-per-class", "5"],
                lambda: _randman_summary(RandmanConfig(classes=3, units=6, steps=12, samples_per_class=5))),
}


def _randman_summary(cfg):
    return {"config": cfg.as_dict(), **randman(cfg).summary()}


def test_every_page_command_is_covered():
    # the trainers' output is their training run's (tested with sgcore.snn and sgcore.classify); a sweep's is its
    # store's (tested with sgcore.sweep)
    assert set(CLI_CASES) == set(PAGES.commands()) - {"train", "lif", "classify", "sweep"}


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_prints_the_serialised_view(name, capsys):
    args, expected = CLI_CASES[name]
    assert main([name, *args]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(expected(), allow_nan=False))
    assert printed["config"]  # every page's output carries its config


# --- the pages' CSV downloads come from the views' tables() -----------------------------------------------------
@pytest.fixture
def downloads(monkeypatch):
    """Deferred download callables by button label, and every object csv_tables was called with."""
    seen: dict[str, object] = {}
    exported: list[object] = []
    original_add, original_tables = MediaFileManager.add_deferred, export.csv_tables

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        seen[file_name] = data_callable
        return original_add(self, data_callable, mimetype, coordinates, file_name, **kw)

    def spy(view):
        exported.append(view)
        return original_tables(view)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    monkeypatch.setattr(export, "csv_tables", spy)
    return seen, exported


PAGE_CSVS = {
    "pages/1_Escape_noise.py": (lambda: escape_view(EscapeConfig()),
                                {"escape_curves.csv": "curves", "escape_rasters.csv": "rasters",
                                 "escape_thresholds.csv": "thresholds"}),
    "pages/2_Sign_flip.py": (lambda: signflip_view(SignflipConfig()),
                             {"signflip_sweep.csv": "sweep", "signflip_plane.csv": "plane"}),
    "pages/3_Loop_integrals.py": (lambda: loop_integrals(LoopConfig()),
                                  {"loop_accumulated.csv": "accumulated", "loop_convergence.csv": "convergence"}),
    "pages/4_LocalZO.py": (lambda: localzo_view(LocalZOConfig()),
                           {"localzo_curves.csv": "curves", "localzo_threshold_by_m.csv": "threshold_by_m"}),
    "pages/5_Estimators.py": (lambda: estimator_view(EstimatorConfig()), {"estimator_gradients.csv": "gradients"}),
    "pages/7_Surrogate_design.py": (lambda: design_view(DesignConfig()), {"sd_curves.csv": "sd_curves"}),
}


@pytest.mark.apptest
@pytest.mark.parametrize("page", PAGE_CSVS)
def test_page_csv_downloads_are_the_generic_export_of_the_view(page, downloads):
    seen, exported = downloads
    at = apphelpers.app(page)
    assert not at.exception
    make_view, files = PAGE_CSVS[page]
    view = make_view()
    assert set(files) <= set(seen)
    for file_name, table in files.items():
        exported.clear()
        data = seen[file_name]()
        assert [type(v) for v in exported] == [type(view)]  # the button called csv_tables on the page's view
        assert data == csv_tables(view)[table], file_name


@pytest.mark.apptest
def test_design_calculator_csv_is_the_generic_export_of_the_theory_check(downloads):
    seen, exported = downloads
    at = apphelpers.app("pages/7_Surrogate_design.py")
    assert not at.exception and "init_simulation.csv" in seen
    exported.clear()
    data = seen["init_simulation.csv"]()
    assert len(exported) == 1
    tc = exported[0]
    assert type(tc) is type(theory_check(InitConfig(n_steps=10, batch=2)))
    assert data == columns_to_csv(tc.tables()["simulation"])
    assert data.splitlines()[0] == "t,firing_calculator,firing_naive,grad_var_calculator,grad_var_naive," \
                                   "grad_max_calculator,grad_max_naive"
