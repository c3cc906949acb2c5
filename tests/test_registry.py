"""The page registry: its entries are consistent, and a new page is one script plus one entry.

A scratch page registered in a copy of the registry reaches the CLI (no file needed), the lessons, and, with a
temporary page script beside the app, the sidebar, the home page's list, its lesson box and its preset chips.
"""

import dataclasses
import json
import shutil
from pathlib import Path

import apphelpers
import pytest
from streamlit.testing.v1 import AppTest

import sgcore.pages as registry
from sgapp.lessons import LESSONS
from sgcore.cli import build_parser, main
from sgcore.pages import HOME, PAGES, Command, Lesson, Page, Registry
from sgcore.params import ParamSpec

SCRATCH_SPEC = ParamSpec("x", "Scratch value", 1.5, domain=(0.0, 10.0), slider=(0.0, 10.0))
SCRATCH = Page(
    "scratch", "Scratch page", "pages/9_Scratch.py", "Scratch", ":material/science:", "A page made by a test.",
    specs=(SCRATCH_SPEC,),
    presets={"Large x": {"x": 9.0}},
    lesson=Lesson("a lesson made by a test", "1. Move x."),
    commands=(Command("scratch", "A scratch command (doubles x)", lambda args: {"double": 2 * args.x, "n": args.n},
                      (SCRATCH_SPEC,), lambda p: p.add_argument("--n", type=int, default=3)),),
)
SCRIPT = '''
import streamlit as st

from sgapp.controls import preset_bar, url_notices, widget
from sgapp.layout import page_setup
from sgcore.pages import PAGES

page = PAGES["scratch"]
page_setup(page.title)
url_notices(page.specs)
preset_bar(page.specs, page.presets)
st.title("Scratch")
st.write("x =", widget(page.specs[0]))
'''


def run_cli(capsys, argv, reg=None) -> tuple[int, str, str]:
    try:
        code = main(argv, registry=reg)
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


# --- the registry as it is --------------------------------------------------------------------------------------
def test_every_entry_has_its_script_and_the_home_page_comes_first():
    assert next(iter(PAGES)) == HOME and PAGES[HOME].path == "app.py"
    for page in PAGES.values():
        assert (apphelpers.ROOT / page.path).is_file(), page.path
    assert [p.url_path for p in PAGES.content()] == ["Escape_noise", "Sign_flip", "Loop_integrals", "LocalZO",
                                                     "Estimators", "Training", "Surrogate_design", "Classification",
                                                     "Sweeps"]


def test_every_content_page_has_specs_a_lesson_and_a_command():
    for page in PAGES.content():
        assert page.specs and page.lesson and page.commands, page.key
        names = [s.name for s in page.specs]
        assert len(names) == len(set(names)), page.key
        for values in page.presets.values():
            assert set(values) <= set(names), page.key  # a preset sets only keys a link may carry


def test_every_command_parses_its_defaults():
    parser = build_parser()
    for name, command in PAGES.commands().items():
        args = parser.parse_args([name])
        assert args.page == name
        for spec in command.specs:
            assert hasattr(args, spec.name)


@pytest.mark.parametrize("field,value", [("key", "escape"), ("title", "LocalZO"), ("path", "pages/6_Training.py")])
def test_a_clash_with_a_registered_page_is_refused(field, value):
    clash = Page(**{**{f: getattr(SCRATCH, f) for f in ("key", "title", "path", "label", "icon", "blurb")},
                    field: value})
    with pytest.raises(ValueError, match=f"{field} '{value}' is already registered"):
        PAGES.add(clash)


def test_a_clashing_command_name_is_refused():
    page = Page("other", "Other", "pages/9_Other.py", "Other", ":material/star:", "",
                commands=(Command("train", "", lambda args: {}),))
    with pytest.raises(ValueError, match="command 'train' is already registered"):
        PAGES.add(page)


def test_an_unknown_page_names_the_registered_ones():
    with pytest.raises(KeyError, match="unknown page 'nosuch'; registered: home, escape"):
        PAGES["nosuch"]


# --- a scratch page in a copy of the registry --------------------------------------------------------------------
def test_scratch_page_reaches_the_cli_without_a_file(capsys):
    reg = PAGES.add(SCRATCH)
    assert isinstance(reg, Registry) and "scratch" not in PAGES  # the real registry is unchanged
    code, out, err = run_cli(capsys, ["scratch", "--x", "2.5", "--n", "4"], reg)
    assert code == 0 and json.loads(out) == {"double": 5.0, "n": 4} and not err
    code, out, _ = run_cli(capsys, ["scratch"], reg)
    assert code == 0 and json.loads(out) == {"double": 3.0, "n": 3}
    code, out, err = run_cli(capsys, ["scratch", "--x", "11"], reg)  # the declared domain is the CLI's check
    assert code == 2 and not out and "x must be" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run_cli(capsys, ["escape", "--u", "0"], reg)  # the registered pages keep their commands
    assert code == 0 and "firing_probability" in json.loads(out)
    code, out, _ = run_cli(capsys, ["--help"], reg)
    assert code == 0 and "A scratch command (doubles x)" in out
    code, _, err = run_cli(capsys, ["scratch"])  # not in the real registry
    assert code == 2 and "invalid choice: 'scratch'" in err


def test_scratch_page_reaches_the_lessons(monkeypatch):
    assert "Scratch page" not in LESSONS
    monkeypatch.setattr(registry, "PAGES", PAGES.add(SCRATCH))
    assert LESSONS["Scratch page"] == {"title": "a lesson made by a test", "body": "1. Move x."}
    assert registry.PAGES.by_title("Scratch page") is registry.PAGES["scratch"]


@pytest.fixture
def scratch_app(tmp_path, monkeypatch):
    """The app's entry point and pages beside a scratch page script, with the scratch page registered."""
    shutil.copy(apphelpers.ROOT / "app.py", tmp_path / "app.py")
    (tmp_path / "pages").mkdir()
    for page in PAGES.content():
        (tmp_path / page.path).symlink_to(apphelpers.ROOT / page.path)
    (tmp_path / SCRATCH.path).write_text(SCRIPT)
    monkeypatch.setattr(registry, "PAGES", PAGES.add(SCRATCH))
    return Path(tmp_path)


@pytest.mark.apptest
def test_scratch_page_reaches_the_sidebar_home_page_lesson_and_presets(scratch_app):
    home = AppTest.from_file(str(scratch_app / "app.py"), default_timeout=60).run()
    assert not home.exception
    links = [pl.proto.page for pl in home.get("page_link")]
    assert links.count("Scratch") == 2  # the sidebar and the home page's list
    assert [pl.proto.page for pl in home.sidebar.get("page_link")][-1] == "Scratch"

    at = AppTest.from_file(str(scratch_app / "app.py"), default_timeout=60)
    at.switch_page(SCRATCH.path)
    at.query_params["lesson"] = "1"
    at.run()
    assert not at.exception
    assert at.session_state["sge_page"] == "Scratch page"
    assert [pl.proto.page for pl in at.sidebar.get("page_link")] == [*(p.url_path for p in PAGES.values()),
                                                                     "Scratch"]
    assert any(e.label == "Lesson: a lesson made by a test" for e in at.expander)
    assert "Large x" in at.button_group(key="preset").options
    at.button_group(key="preset").set_value("Large x").run()
    assert at.slider(key="x").value == 9.0


# --- every page's computations, over its defaults and presets -------------------------------------------------------
def _cases():
    for page in PAGES.content():
        for i, compute in enumerate(page.computes):
            for label, values in {"defaults": {}, **page.presets}.items():
                yield pytest.param(compute, values, id=f"{page.key}-{i}-{label}")


@pytest.mark.parametrize("compute,values", list(_cases()))
def test_every_preset_configures_and_computes_a_view_the_cli_and_csv_export(compute, values):
    from sgcore.export import csv_tables, view_to_dict

    cfg = compute.configure(values)
    fields = {f.name for f in dataclasses.fields(cfg)}
    for key, value in compute.values(values).items():  # the preset's values reach the configuration
        if key in fields:
            got = getattr(cfg, key)
            assert (tuple(got) == tuple(value)) if isinstance(value, tuple) else got == value, key
    view = compute.view(cfg)
    out = view_to_dict(view, getattr(view, "CLI_FIELDS", None))
    json.dumps(out, allow_nan=False)  # NaN and inf are null
    tables = csv_tables(view)
    assert tables and all(text.count("\n") >= 2 for text in tables.values())  # a header and at least one row


def test_pages_with_computations_are_the_analytic_pages():
    assert [p.key for p in PAGES.content() if p.computes] == ["escape", "signflip", "loop", "localzo", "estimators",
                                                              "design"]
    design = PAGES["design"].computes[1]
    cfg = design.configure({"i_n_rec": 150, "i_mean_w_rec": 0.01, "i_set_mean_w_rec": False})
    assert cfg.n_rec == 150 and cfg.mean_w_rec is None  # a derived value is left out unless its switch is on
    assert design.configure({"i_mean_w_rec": 0.01, "i_set_mean_w_rec": True}).mean_w_rec == 0.01
