"""sgapp.charts.chart draws exactly the element st.plotly_chart draws, from a spec serialised once per figure."""

from streamlit.testing.v1 import AppTest


def _script():
    import numpy as np
    import streamlit as st

    from sgapp.charts import chart
    from sgcore.figures._style import base_layout, figure, line_trace

    x = np.linspace(-1, 1, 7)
    figs = [figure([line_trace(x, x**2, "x²", "#1f5fa8")], base_layout("T", "x", "y")),
            figure([dict(type="heatmap", z=np.eye(3, dtype=np.int8))], base_layout(height=None))]
    for i, fig in enumerate(figs):
        if st.session_state.get("mode") == "ours":
            chart(fig, key=f"k{i}")
            chart(fig)  # no key
            c1, _ = st.columns(2)
            chart(fig, key=f"col{i}", container=c1)
        else:
            st.plotly_chart(fig, theme=None, key=f"k{i}")
            st.plotly_chart(fig, theme=None)
            c1, _ = st.columns(2)
            c1.plotly_chart(fig, theme=None, key=f"col{i}")


def _deltas(mode):
    at = AppTest.from_function(_script)
    at.session_state["mode"] = mode
    at.run()
    assert not at.exception
    return at


def test_chart_equals_st_plotly_chart():
    ours, theirs = _deltas("ours"), _deltas("streamlit")
    a, b = ours.get("plotly_chart"), theirs.get("plotly_chart")
    assert len(a) == len(b) == 6
    for x, y in zip(a, b, strict=True):
        assert x.proto.spec == y.proto.spec
        assert x.proto.config == y.proto.config
        assert x.proto.theme == y.proto.theme
        assert x.proto.id == y.proto.id
        assert x.proto.SerializeToString(deterministic=True) == y.proto.SerializeToString(deterministic=True)
    # the whole element tree (layout configs, containers) is the same
    assert str(ours._tree) == str(theirs._tree)


def test_spec_is_computed_once_per_figure(monkeypatch):
    import numpy as np
    import plotly.io

    from sgapp import charts
    from sgcore.figures._style import base_layout, figure, line_trace

    calls = []
    real = plotly.io.to_json
    monkeypatch.setattr(charts.plotly.io, "to_json", lambda *a, **k: calls.append(1) or real(*a, **k))
    fig = figure([line_trace(np.arange(3.0), np.arange(3.0), "a", "#000")], base_layout())
    first = charts.spec_json(fig)
    assert charts.spec_json(fig) is first and len(calls) == 1
    other = figure([line_trace(np.arange(4.0), np.arange(4.0), "a", "#000")], base_layout())
    assert charts.spec_json(other)[0] != first[0] and len(calls) == 2
    assert first[1] == 380  # the layout height st.plotly_chart uses for height="content"
