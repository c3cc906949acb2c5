"""Plotly figure builders (no Streamlit): the same figures work in a notebook."""

from ._style import COLORS, figure
from .escape import escape_figures
from .signflip import signflip_figures

__all__ = ["COLORS", "escape_figures", "figure", "signflip_figures"]
