"""AppTest tests of the LocalZO page."""

import json

import apphelpers
import pytest
from apphelpers import banner, charts
from streamlit.testing.v1 import AppTest

from sgcore.localzo import DISTRIBUTIONS, LocalZOConfig, localzo_view

PAGE = "pages/4_LocalZO.py"
pytestmark = pytest.mark.apptest


def app(**query: str) -> AppTest:
    return apphelpers.app(PAGE, **query)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_default_shows_normal_closed_form_and_thresholds():
    at = app()
    assert not at.exception and not at.error and not at.warning
    assert "Normal(0, 1)" in banner(at) and "closed form" in banner(at)
    assert len(charts(at)) == 5
    view = localzo_view(LocalZOConfig())
    assert metric(at, "B_th / δ") == f"{view.bth_over_delta:.4f}" == "0.7979"  # Table 1, m = 1: 0.798
    assert metric(at, "Active: LocalZO") == f"{view.active_localzo:.2%}"
    assert metric(at, "Active: SparseGrad") == f"{view.active_sparse:.2%}"


def test_paper_checks_table_flags_the_fast_sigmoid_threshold():
    at = app()
    table = at.table[0].value
    row = table[table["printed"] == "0.0461"].iloc[0]
    assert row["holds"] == "✗" and row["computed"].startswith("0.0494")
    assert set(table["holds"]) == {"✓", "✗"}


@pytest.mark.parametrize("key,value", [("delta", 0.2), ("m", 5), ("u_lo", -0.5)])
def test_sliders_change_the_view(key, value):
    at = app()
    before = charts(at)
    at.slider(key=key).set_value(value).run()
    assert not at.exception and not at.error and charts(at) != before


@pytest.mark.parametrize("dist", list(DISTRIBUTIONS))
def test_every_distribution_renders(dist):
    at = app(dist=dist)
    assert not at.exception and not at.error
    assert DISTRIBUTIONS[dist].label in banner(at)


def test_fast_sigmoid_preset_shows_infinities_not_numbers():
    at = app()
    at.button_group(key="preset").set_value("Sec. 5.2: fast sigmoid, k = 100").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="target").value == "superspike" and at.selectbox(key="alpha").value == "-1"
    assert "Theorem 3" in banner(at) and "c = 0.02" in banner(at)
    assert metric(at, "B_th / δ") == "∞" and metric(at, "Expected threshold") == "∞"
    assert metric(at, "Active: SparseGrad") == "100.00%"
    warnings = " ".join(w.value for w in at.warning)
    assert "infinite at u = 0" in warnings and "diverges" in warnings
    spec = json.loads(charts(at)[1])
    assert any("∞" in a["text"] for a in spec["layout"]["annotations"])


def test_sigmoid_theorem3_shows_table_error():
    at = app(source="surrogate", target="sigmoid", k="30.63", delta="0.05", u_span="0.2")
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "inverse-CDF table" in captions and "largest CDF error" in captions


def test_invalid_combination_keeps_last_view_with_message():
    at = app(source="surrogate", target="sigmoid")
    before = charts(at)
    at.selectbox(key="target").set_value("triangular").run()  # alpha = 1 with a corner: c = inf
    assert not at.exception
    assert at.error and "alpha = -1" in at.error[0].value
    assert charts(at) == before


@pytest.mark.parametrize("query", [{"delta": "nan"}, {"delta": "-1"}, {"m": "0"}, {"alpha": "0"},
                                   {"dist": "<script>alert(1)</script>"}, {"k": "1e99"}, {"u_std": "inf"}])
def test_bad_links_fall_back_with_a_notice(query):
    at = app(**query)
    assert not at.exception and not at.error
    (name,) = query
    assert any(name in w.value and "Link parameter ignored" in w.value for w in at.warning)
    assert len(charts(at)) == 5


def test_uniform_potentials_reversed_range_is_an_error_not_a_crash():
    at = app()
    at.slider(key="u_lo").set_value(2.0).run()
    assert not at.exception
    assert at.error and "u_lo < u_hi" in at.error[0].value


def test_two_csv_downloads():
    at = app()
    labels = sorted(b.proto.label for b in at.get("download_button"))
    assert labels == ["curves.csv", "threshold_by_m.csv"]


def test_huge_m_link_is_refused_with_a_notice_not_a_memory_error():
    # issue 16: ?m=10000 built a 30000 x 10000 array and crashed the page with an uncaught MemoryError; a link is
    # held to the slider's range, and LocalZOConfig's work bound refuses the product for any other caller
    at = app(m="10000")
    assert not at.exception and not at.error
    assert any("Link parameter ignored: m must be an integer in" in w.value for w in at.warning)
    assert at.slider(key="m").value == 1 and len(charts(at)) == 5
    with pytest.raises(ValueError, match="exceeds 2e"):
        LocalZOConfig.from_mapping({"m": 10_000})
