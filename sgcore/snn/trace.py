"""The single-neuron view: one deterministic LIF neuron driven by one periodic input (a loop over
:func:`sgcore.lif.lif_step`, Gygax & Zenke Eqs. 21-22)."""

from __future__ import annotations

from dataclasses import replace

from ..lif import LIF_PARAMS, LIFParams, LIFState, lif_step
from ..params import ParamSpec

__all__ = ["LIF_TRACE_PARAMS", "lif_trace"]


#: Declared parameters of one LIF neuron's trace (:func:`lif_trace`): its weight, input and reset.
LIF_TRACE_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("weight", "Weight", 0.5, symbol="w", domain=(-1e3, 1e3), slider=(-2.0, 5.0), step=0.05,
              help="Weight of the single input."),
    ParamSpec("input_period", "Input period", 1, kind="int", domain=(1, 10_000), slider=(1, 50), step=1,
              unit="steps", help="The input spikes at steps 0, p, 2p, ..."),
    ParamSpec("steps", "Steps", 40, kind="int", domain=(1, 10_000), slider=(5, 400), step=1,
              help="Number of simulated steps."),
    replace(LIF_PARAMS[4]),
)


def lif_trace(weight: float, input_period: int, steps: int, reset: str = "same",
              params: LIFParams | None = None) -> dict[str, list]:
    """One deterministic LIF neuron (Gygax & Zenke Eqs. 21-22, or the reset of Methods 8.4.1) driven by one
    input that spikes every ``input_period`` steps from step 0.

    Returns ``spike_steps`` (steps n with S[n] = 1), ``membrane`` (U[n]) and ``current`` (I[n]) for
    n = 0..steps-1: a float64 loop over :func:`sgcore.lif.lif_step` (the reference the engine is tested against).
    ``reset`` overrides ``params.reset``.
    """
    spec = {s.name: s for s in LIF_TRACE_PARAMS}
    weight = spec["weight"].validate(weight)
    input_period = spec["input_period"].validate(input_period)
    steps = spec["steps"].validate(steps)
    params = replace(params or LIFParams(), reset=spec["reset"].validate(reset))
    state = LIFState(0.0, 0.0)
    membrane, current, spikes = [], [], []
    for n in range(steps):
        membrane.append(float(state.u))
        current.append(float(state.i))
        s, state = lif_step(state, weight if n % input_period == 0 else 0.0, params)
        if s:
            spikes.append(n)
    return {"spike_steps": spikes, "membrane": membrane, "current": current}
