"""Streamlit adapters shared by the pages: layout, widgets from ParamSpecs, URL state, errors.

Everything numerical lives in :mod:`sgcore`; this package only turns declared parameters into
widgets and results into screen elements.
"""
