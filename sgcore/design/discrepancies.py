"""Where the paper's printed formulas (and the authors' code) and the re-derivations followed here part ways."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperDiscrepancy:
    """Where the paper's printed formula and the integral/derivation (followed here) part ways."""

    where: str
    printed: str
    followed: str
    evidence: str


#: Discrepancies found while re-deriving the paper (and the authors' code, LuCeHe/lif_stability).
PAPER_DISCREPANCIES: tuple[PaperDiscrepancy, ...] = (
    PaperDiscrepancy("Eq. 19 (CI)", "Mean[w_rec] = (1/(n_rec-1)) (1-alpha)/Mean[x] thr + thr",
                     "Mean[w_rec] = thr (1 + (1-alpha)/Mean[x]) / (n_rec-1) (Eq. 18 solved; = Eq. 20 at 1/2)",
                     "n_rec = 101, alpha = 0.9, thr = 1: printed 1.002, Eq. 18/20 give 0.012"),
    PaperDiscrepancy("Eq. 28 / CII vs the authors' code",
                     "code: var_rec = (Var z + Mean z^2) Var[W_in] n_in/(n_rec-1) - Mean[w_rec]^2/2",
                     "Eq. 28 (re-derived, printed correctly): 2 (Var z + Mean z^2) n_in/(n_rec-1) Var[w_in] - m^2/2",
                     "the code drops the factor 2 on the input term, so Var[W_rec x] = Var[W_in z]/2; CLI example "
                     "(n_rec 101, n_in 200, Mean z 0.5, Var z 0.25, Var w_in 0.01): 0.019928 vs 0.009928"),
    PaperDiscrepancy("Main-text CIV, Eq. 56 vs Eq. 55/57",
                     "main text: xi n_in E[w_in^2] E[sigma'_in]; Eq. 56: E[sigma'^2] in the input term",
                     "Eq. 57: xi n_in E[w_in^2] E[sigma'_in^2] (from E[(w_in sigma'_in)^2] in Eq. 55)",
                     "the authors' code also uses the first moment (E_sm(s_in, 1, ...))"),
    PaperDiscrepancy("Eqs. 65-67 (exponential closed form of Eq. 64)",
                     "int_{v-}^{v+} e^{-2m|v|} dv = (2 - e^{-2m|v+|} - e^{-2m|v-|}) / (2m)",
                     "signed antiderivative sign(v)(1 - e^{-2m|v|})/(2m) (= the integral; the authors' code too)",
                     "valid only if y_min < thr < y_max; e.g. gamma = s = 1, thr = 1, y in [1.5, 3]: printed 0.3107 "
                     "vs integral 0.0225 (x13.8)"),
    PaperDiscrepancy("Eq. 47 (CIV variance of a sum)",
                     "Var[alpha dy] + ... + Var[thr sigma' dy] as independent terms",
                     "the leak and reset paths act on the same dy_{t-1}: Var[(alpha - thr sigma') dy] adds "
                     "-2 alpha thr E[sigma'] Var[dy] (condition_iv_residual(cross_term=True))",
                     "makes CIV harder still to meet"),
    PaperDiscrepancy("CIII with CIV", "gamma from CIII, then s from CIV through Eq. 2",
                     "E[sigma'^2] <= gamma^2 (f <= 1), but the CIV target exceeds gamma_CIII^2 for every "
                     "symmetric W_rec, so no s exists (sharpness = None)",
                     "CLI example: gamma = 0.1/11 = 0.00909, gamma^2 = 8.3e-5 < target 0.19/3 = 0.0633; the authors' "
                     "random search over s in [0.3, 1.6] just returns its edge"),
    PaperDiscrepancy("Eqs. 72/74 (B.6)", "Max[w x] = Max[w], Min[w x] = Min[w] for x in {0, 1}",
                     "max(Max[w], 0) and min(Min[w], 0)", "differs only when all weights share a sign"),
    PaperDiscrepancy("Eqs. 39-40, 48", "delta n_in Max[...] (Eq. 39-40); dy_{t-1} in the input term (Eq. 48)",
                     "xi n_in ...; dy^in_{t-1}", "typos"),
    PaperDiscrepancy("authors' code, neural_models/lsnn.py", "if 'nogradreset': (a non-empty string: always true)",
                     "the reset path -thr x_{t-1} never carries gradient in the trained networks",
                     "so the thr terms of CIII/CIV (Eqs. 42, 56) do not describe the networks the paper trained"),
    PaperDiscrepancy("Sec. 2.2 / Table S1 wording", "s is 'the width' of the SG",
                     "s is an inverse width (larger s, narrower SD)", "terminology"),
)
