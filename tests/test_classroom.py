"""Classroom links: hidden controls keep the link's values, lessons open, students can return to the teacher's
settings, and bad ``hide``/``lesson`` values are reported."""

import apphelpers
import pytest
from streamlit.testing.v1 import AppTest

from sgapp.classroom import TEACHER, classroom_link
from sgapp.layout import PAGES
from sgapp.lessons import LESSONS
from sgcore.localzo import LocalZOConfig, localzo_view
from sgcore.pages import PAGES as REGISTRY

pytestmark = pytest.mark.apptest
PAGE = REGISTRY["localzo"].path


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def keys(at: AppTest) -> set[str]:
    return {w.key for w in at.slider} | {w.key for w in at.selectbox}


def test_hidden_controls_keep_the_links_values_and_the_lesson_opens():
    at = apphelpers.app(PAGE, dist="laplace", m="5", delta="0.3", hide="dist,m", lesson="1")
    assert not at.exception and not at.error and not at.warning
    assert "dist" not in keys(at) and "m" not in keys(at) and "delta" in keys(at)
    view = localzo_view(LocalZOConfig(dist="laplace", m=5, delta=0.3))
    assert metric(at, "Expected threshold") == f"{view.bth:.4g}"
    assert any(e.label.startswith("Lesson:") for e in at.expander)
    assert any("fixed by your teacher's link" in c.value for c in at.sidebar.caption)


def test_teachers_settings_come_back_after_exploring():
    at = apphelpers.app(PAGE, dist="laplace", m="5", delta="0.3", hide="dist,m")
    before = metric(at, "Expected threshold")
    at.slider(key="delta").set_value(1.2).run()
    assert metric(at, "Expected threshold") != before
    options = at.button_group(key="preset").options
    assert TEACHER in options
    at.button_group(key="preset").set_value(TEACHER).run()
    assert not at.exception
    assert at.slider(key="delta").value == pytest.approx(0.3)
    assert metric(at, "Expected threshold") == before


def test_plain_links_have_no_teacher_preset():
    at = apphelpers.app(PAGE, delta="0.3")
    assert TEACHER not in at.button_group(key="preset").options
    assert not any(e.label.startswith("Lesson:") for e in at.expander)


@pytest.mark.parametrize("query,needle", [({"hide": "nosuch,<script>"}, "hide names unknown controls"),
                                          ({"lesson": "maybe"}, "lesson must be 1 or 0"),
                                          ({"hide": "x," * 5000}, "hide names unknown controls")])
def test_bad_classroom_values_are_reported(query, needle):
    at = apphelpers.app(PAGE, **query)
    assert not at.exception and not at.error
    assert any(needle in w.value for w in at.warning)
    assert all("<script" not in m.value for m in at.markdown)


def test_hidden_value_that_is_invalid_falls_back_to_the_default():
    at = apphelpers.app(PAGE, m="abc", hide="m")
    assert not at.exception
    assert any("Link parameter ignored" in w.value and "m " in w.value for w in at.warning)
    view = localzo_view(LocalZOConfig())
    assert metric(at, "B_th / δ") == f"{view.bth_over_delta:.4f}"


def test_every_page_has_a_lesson_and_the_share_panel():
    titles = {"Escape noise", "Sign flip", "Loop integrals", "LocalZO", "Gradient estimators", "Live training",
              "Surrogate design", "Classification", "Sweeps"}
    assert set(LESSONS) == titles
    assert len(PAGES) - 1 == len(titles)
    assert set(LESSONS) == {page.title for page in REGISTRY.content()}  # every registered page has its lesson
    assert all(LESSONS[p.title] == {"title": p.lesson.title, "body": p.lesson.body} for p in REGISTRY.content())
    at = apphelpers.app(PAGE, dist="uniform")
    assert any(e.label == "Share with a class" for e in at.sidebar.expander)
    link = next(c.value for c in at.sidebar.code)
    assert "dist=uniform" in link


def test_classroom_link_builder():
    url = classroom_link("http://h/LocalZO", {"delta": ["0.3"], "hide": ["old"], "lesson": ["0"]}, ["m", "dist"], True)
    assert url == "http://h/LocalZO?delta=0.3&hide=dist%2Cm&lesson=1"
    assert classroom_link("/p", {}, [], False) == "/p"
