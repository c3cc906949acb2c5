"""Surrogate Gradient Explorer: entry point and home page."""

import streamlit as st

from sgapp.layout import APP_TITLE, page_setup
from sgcore import pages

page_setup("Home")
st.title(APP_TITLE)
st.markdown(
    """
A spiking neuron emits a spike when its membrane potential crosses a threshold: its output is a
**step function** of its input. The derivative of a step is zero everywhere except at the
threshold, where it does not exist, so gradient descent gets no signal through spikes.
**Surrogate gradients (SGs)** keep the step in the forward pass and replace its derivative on the
backward pass by a smooth **surrogate derivative (SD)**, such as the derivative of a sigmoid.

This explorer lets you see, move and measure what that replacement means, following three papers:

* **Why do SGs work, and where do they fail?** (Gygax & Zenke, 2024) In a stochastic neuron with
  escape noise, the SD that matches the noise's derivative is the exact derivative of the expected
  output, and stochastic automatic differentiation extends this to deep networks. Yet SGs can
  point against the true gradient and are not the gradient of any surrogate loss.
* **How should one choose an SG?** (Herranz-Celotti & Rouat) Shape, dampening, sharpness, tail
  fatness, and initialisation conditions that make the choice principled.
* **How can one estimate it cheaply?** (Mukhoty et al., LocalZO) A two-point zeroth-order estimate
  of the Heaviside's derivative whose expectation is a surrogate, with sparse backward passes.

Every page shows its equations beside its plots, keeps its state in the link (copy the URL to share
exactly what is on screen), and offers the plotted numbers as CSV. Every number comes from the
tested library `sgcore`, which you can import in a notebook or script with
`python -m sgcore <page> --help`.
"""
)
st.subheader("Pages")
for page in pages.PAGES.content():
    with st.container(border=True):
        st.page_link(page.path, label=page.label, icon=page.icon)
        st.caption(page.blurb)
