"""Plotly figure builders (no Streamlit): the same figures work in a notebook."""

from ._style import COLORS, figure
from .escape import escape_figures
from .estimators import estimator_figures
from .localzo import localzo_figures
from .loop import fig_accumulated, fig_convergence, fig_curl, fig_heatmaps
from .signflip import signflip_figures

__all__ = ["COLORS", "escape_figures", "estimator_figures", "fig_accumulated", "fig_convergence", "fig_curl",
           "fig_heatmaps", "figure", "localzo_figures", "signflip_figures"]
