"""Shared helpers of the AppTest page tests."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def app(page: str | None = None, **query: str) -> AppTest:
    """Run the app from its entry point (so the shared sidebar resolves), on ``page``, with a query string."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if page:
        at.switch_page(page)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def banner(at: AppTest) -> str:
    """The page's single status banner."""
    found = [m.value for m in at.markdown if 'class="sge-banner' in m.value]
    assert len(found) == 1
    return found[0]


def charts(at: AppTest) -> list[str]:
    """Plotly specs on screen, to compare before and after an input change."""
    return [c.proto.spec for c in at.get("plotly_chart")]
