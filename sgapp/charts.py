"""Plotly charts whose wire payload is serialised once per figure, not once per rerun.

``st.plotly_chart`` converts a figure on every call: ``Figure.to_dict()`` (a deep copy that re-encodes every
NumPy array as base64) and ``plotly.io.to_json``. Our figures are built once per configuration and cached
(``st.cache_resource``), immutable and shared by every session, so the same conversion was repeated on every
rerun of every student — with the post-run garbage collection, the largest part of a slider move's server
CPU (profiled with py-spy on a running server, see ``bench/move_cost.py``).

:func:`chart` produces *the same element* as ``st.plotly_chart(fig, theme=None, key=key)`` — the same spec
string, config, element id (computed by Streamlit from the same arguments) and layout — but takes the spec
from a per-figure memo. A figure must therefore not be mutated after its first display (ours never are: the
builders return fresh figures and the caches hand out read-only results). ``tests/test_charts.py`` checks the
equality against ``st.plotly_chart`` itself, so a Streamlit upgrade that changes the element fails loudly.

Only the options the app uses are supported: no selections, no theme, default width and height.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.io
import streamlit as st
from streamlit.elements.lib import agent_spec
from streamlit.elements.lib.form_utils import current_form_id
from streamlit.elements.lib.layout_utils import LayoutConfig
from streamlit.elements.lib.utils import compute_and_register_element_id
from streamlit.proto.PlotlyChart_pb2 import PlotlyChart as PlotlyChartProto

__all__ = ["chart", "spec_json"]

_CONFIG = json.dumps({})
_SELECTION = ("points", "box", "lasso")
#: the memo lives on the figure itself, so a figure evicted from a cache frees its spec too
_ATTR = "_sge_spec"


def spec_json(fig: Any) -> tuple[str, Any]:
    """(JSON spec, layout height) of ``fig`` exactly as ``st.plotly_chart`` writes it, computed once per figure."""
    hit = getattr(fig, _ATTR, None)
    if hit is not None:
        return hit
    # As plotly.tools.return_figure_from_figure_or_data + plotly.io.to_json do inside st.plotly_chart.
    spec = plotly.io.to_json(fig.to_dict(), validate=False)
    height = fig.layout.height
    out = (spec, height)
    object.__setattr__(fig, _ATTR, out)  # two threads racing here compute the same value: harmless
    return out


def _content_height(height: Any) -> int:
    # as streamlit.elements.plotly_chart._resolve_content_height for height="content"
    if height is not None and isinstance(height, int | float) and height > 0:
        return int(height)
    return 450


def chart(fig: Any, *, key: str | None = None, container: Any = None) -> Any:
    """``st.plotly_chart(fig, theme=None, key=key)`` with the figure's spec serialised once (see module doc).

    ``container`` is where to draw (a column, the sidebar, ...); default: the current container.
    """
    dg = container if container is not None else st._main  # st.plotly_chart is st._main.plotly_chart
    spec, height = spec_json(fig)
    proto = PlotlyChartProto()
    proto.theme = ""
    proto.form_id = current_form_id(dg)
    proto.spec = spec
    proto.config = _CONFIG
    width = "stretch"
    proto.id = compute_and_register_element_id(
        "plotly_chart",
        user_key=key,
        key_as_main_identity=False,
        dg=dg,
        plotly_spec=spec,
        plotly_config=_CONFIG,
        selection_mode=_SELECTION,
        is_selection_activated=False,
        theme=None,
        width=width,
        height="content",
        alt=None,
    )
    layout_config = LayoutConfig(width=width, height=_content_height(height))
    return dg._enqueue(
        "plotly_chart",
        proto,
        layout_config=layout_config,
        agent_props=agent_spec.element("plotly_chart", key=key, data_builder=lambda: _agent_data(spec)),
    )


def _agent_data(spec: str) -> Any:
    from streamlit.elements.plotly_chart import _plotly_data

    return _plotly_data(spec)
