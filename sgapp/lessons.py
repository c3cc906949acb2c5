"""Short lessons a classroom link can open (``lesson=1``), keyed by the page title given to ``page_setup``."""

from __future__ import annotations

__all__ = ["LESSONS"]

LESSONS: dict[str, dict[str, str]] = {
    "Escape noise": {
        "title": "when is a surrogate derivative exact?",
        "body": (
            "1. Leave the surrogate matched to the escape noise: the two curves in the derivative panel coincide. "
            "The surrogate *is* the derivative of the stochastic neuron's expected output (Eq. 6 = Eq. 8).\n"
            "2. Change only β_SG. The shapes still agree but the heights do not: what changed, and why does "
            "gradient descent still work?\n"
            "3. Make the noise very steep (large β_N). What happens to the true derivative of a *deterministic* "
            "neuron, and what does the surrogate give instead?"),
    },
    "Sign flip": {
        "title": "a surrogate gradient that points the wrong way",
        "body": (
            "1. Find the red regions of the sign-disagreement map: there the SG and the true gradient of the "
            "smoothed output have opposite signs.\n"
            "2. Step along w with the step-forward switch: does following the SG increase or decrease the output?\n"
            "3. Which factor of Eq. 12 flips sign? Try to predict it before you move β_SG."),
    },
    "Loop integrals": {
        "title": "is the SG the gradient of anything?",
        "body": (
            "1. Integrate the true gradient around a circle: the result is zero (up to round-off).\n"
            "2. Do the same with the SG: it is not zero, so no function has the SG as its gradient.\n"
            "3. Compare the loop value with the curl map: Stokes' theorem says they must agree."),
    },
    "LocalZO": {
        "title": "a random finite difference as a surrogate",
        "body": (
            "1. One draw of the estimator is spiky; the average over draws is the smooth curve. Which distribution "
            "gives which surrogate?\n"
            "2. Increase m: the threshold B_th grows and more neurons are active in the backward pass.\n"
            "3. Choose the fast sigmoid as target with α = −1: why is its variance infinite at u = 0?"),
    },
    "Gradient estimators": {
        "title": "exact gradients against estimators",
        "body": (
            "1. Start with no hidden layer: the stochastic SG equals the exact gradient. Now add a hidden layer: "
            "how large is the bias, and does the table detect it?\n"
            "2. Compare the variance of finite differences with and without common random numbers.\n"
            "3. Move β_SG away from β_N: where is the bias smallest?"),
    },
    "Live training": {
        "title": "do stochastic networks learn with surrogate gradients?",
        "body": (
            "1. Press Play and watch both output rasters approach the target. Which network matches exact spike "
            "times better (L2) and which is as good in the van Rossum distance?\n"
            "2. Follow the Fano factor: the output layer becomes more reliable, the hidden layer stays variable.\n"
            "3. Switch the backward pass to LocalZO or SparseGrad mid-run: how many neurons are still active?"),
    },
    "Surrogate design": {
        "title": "choosing a surrogate deliberately",
        "body": (
            "1. Compare shapes at γ = s = 1: which have an infinite tail moment?\n"
            "2. Translate your favourite library's default surrogate: what are its γ and s?\n"
            "3. In the calculator, why can Conditions III and IV not both hold with the paper's dampening?"),
    },
}
