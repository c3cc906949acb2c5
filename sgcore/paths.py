"""Closed paths in a plane of parameter space, and accurate line integrals of vector fields along them.

A path lies in the plane through ``centre`` spanned by the orthonormal rows of ``basis`` (d1, d2); in plane
coordinates (a along d1, b along d2) it is

* ``circle``: (a, b) = r (sin t, cos t) (Gygax & Zenke Methods 8.3), or
* ``square``: the square of half side r, |a|, |b| <= r, run at constant speed,

for t in [0, 2 pi], both starting at (0, r) and running *clockwise* (toward +a first), so Stokes' theorem reads
``integral = - iint curl F dA`` with curl F = dF_b/da - dF_a/db. A path returns its points and its tangent
d theta / dt (with the step length), so a line integral is ``int F(theta(t)) . theta'(t) dt``.

Quadrature (:func:`line_integral`): a field that jumps where some pre-activations change sign (a step forward)
is smooth between those points. We locate them (dense sign scan + bisection), split the path there and at the
square's corners, and use Gauss-Kronrod 7-15 on every piece, graded geometrically toward each break and halved
adaptively until the pair agrees to :data:`LINE_RTOL`; the sum of the accepted pieces' differences is reported as
the estimated error. The plain midpoint rule (:func:`midpoint_ladder`) shows convergence in the number of steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "LINE_RTOL",
    "PATH_KINDS",
    "ClosedPath",
    "find_breaks",
    "line_integral",
    "midpoint_ladder",
    "midpoint_line_integral",
]

Field = Callable[[np.ndarray], np.ndarray]  # (n, dim) points -> (n, dim) vectors
PreActs = Callable[[np.ndarray], np.ndarray]  # (n, dim) points -> (n, k) pre-activations

#: The closed paths a :class:`ClosedPath` can be: a circle or a square in a plane of parameter space.
PATH_KINDS = ("circle", "square")

# The square, in units of r, as five straight runs (a0, b0, da/du, db/du, u0, u1) along u = 8 t / (2 pi) in [0, 8]:
# top right half, right side down, bottom leftward, left side up, top left half back to the start.
_SQUARE_RUNS = ((0.0, 1.0, 1.0, 0.0, 0.0, 1.0), (1.0, 1.0, 0.0, -1.0, 1.0, 3.0), (1.0, -1.0, -1.0, 0.0, 3.0, 5.0),
                (-1.0, -1.0, 0.0, 1.0, 5.0, 7.0), (-1.0, 1.0, 1.0, 0.0, 7.0, 8.0))


@dataclass(frozen=True, eq=False)
class ClosedPath:
    """A closed path of size ``r`` around ``centre`` in the plane of ``basis`` (see the module docstring)."""

    kind: str
    centre: np.ndarray
    basis: np.ndarray  # (2, dim), orthonormal rows d1, d2
    r: float
    corners: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if self.kind not in PATH_KINDS:
            raise ValueError(f"path must be one of {', '.join(PATH_KINDS)}; got {self.kind!r}")
        if not (np.isfinite(self.r) and self.r > 0):
            raise ValueError(f"the path's size r must be a finite number > 0; got {self.r!r}")
        object.__setattr__(self, "centre", np.asarray(self.centre, dtype=np.float64))
        object.__setattr__(self, "basis", np.asarray(self.basis, dtype=np.float64))
        corners = 2 * np.pi * np.array([1.0, 3.0, 5.0, 7.0]) / 8 if self.kind == "square" else np.empty(0)
        object.__setattr__(self, "corners", corners)

    @classmethod
    def circle(cls, centre: Any, basis: Any, r: float) -> ClosedPath:
        return cls("circle", centre, basis, r)

    @classmethod
    def square(cls, centre: Any, basis: Any, r: float) -> ClosedPath:
        return cls("square", centre, basis, r)

    @property
    def length(self) -> float:
        """Length of the path in parameter space."""
        return 2 * np.pi * self.r if self.kind == "circle" else 8.0 * self.r

    def plane(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Plane coordinates (a, b) at ``t`` and their derivatives (da/dt, db/dt)."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "circle":
            s, c = np.sin(t), np.cos(t)
            return self.r * s, self.r * c, self.r * c, -self.r * s
        u = 8.0 * t / (2 * np.pi)
        a, b, da, db = (np.zeros_like(u) for _ in range(4))
        for a0, b0, du_a, du_b, u0, u1 in _SQUARE_RUNS:
            on = (u >= u0) & (u <= u1)
            a[on], b[on] = a0 + du_a * (u[on] - u0), b0 + du_b * (u[on] - u0)
            da[on], db[on] = du_a, du_b
        speed = self.r * 8.0 / (2 * np.pi)
        return self.r * a, self.r * b, speed * da, speed * db

    def __call__(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points theta(t) (n, dim) and tangents d theta / dt (n, dim)."""
        a, b, da, db = self.plane(t)
        d1, d2 = self.basis
        points = self.centre + a[:, None] * d1 + b[:, None] * d2
        return points, da[:, None] * d1 + db[:, None] * d2

    def outline(self, n: int = 361) -> tuple[np.ndarray, np.ndarray]:
        """Plane coordinates (a, b) of ``n`` points around the path (corners included), for drawing."""
        t = np.unique(np.concatenate([np.linspace(0.0, 2 * np.pi, n), self.corners]))
        a, b, _, _ = self.plane(t)
        return a, b

    def area_integral(self, f: Callable[[np.ndarray, np.ndarray], np.ndarray], n: int = 48) -> float:
        """iint over the enclosed region of f(a, b) dA: Gauss-Legendre in the radius and the periodic rule in the
        angle (circle; 4 n angles), or Gauss-Legendre in each direction (square; 2 n per side)."""
        x, w = np.polynomial.legendre.leggauss(n if self.kind == "circle" else 2 * n)
        if self.kind == "circle":
            rho, w_rho = 0.5 * self.r * (x + 1), 0.5 * self.r * w
            phi = np.arange(4 * n) * (2 * np.pi / (4 * n))
            rr, pp = np.meshgrid(rho, phi, indexing="ij")
            return float(np.sum(f(rr * np.cos(pp), rr * np.sin(pp)) * rr * w_rho[:, None]) * (2 * np.pi / (4 * n)))
        side, w_side = self.r * x, self.r * w
        aa, bb = np.meshgrid(side, side, indexing="ij")
        return float(np.sum(f(aa, bb) * np.outer(w_side, w_side)))


def find_breaks(pre: PreActs, path: ClosedPath, scan: int = 4096, iters: int = 13, sections: int = 17
                ) -> np.ndarray:
    """Parameters t in (0, 2 pi) where the sign pattern of the pre-activations changes.

    A scan on ``scan`` steps brackets each change; each bracket is then cut into ``sections`` equal parts per
    iteration, keeping the part where the pattern first differs from its left end's (bisection with 16 points at
    once: 17^13 shrinks a scan step of 1.5e-3 below the spacing of doubles, in 13 evaluations instead of 52).
    """
    t = np.linspace(0.0, 2 * np.pi, scan + 1)
    sign = np.sign(pre(path(t)[0]))
    change = np.flatnonzero(np.any(sign[1:] != sign[:-1], axis=1))
    if change.size == 0:
        return np.empty(0)
    lo, hi = t[change], t[change + 1]
    ref, end, end_sign = sign[change], hi, sign[change + 1]
    frac = np.arange(1, sections) / sections
    found = []
    for _ in range(_MAX_ROUNDS):  # a bracket may hold several changes: search again right of each one found
        for _ in range(iters):
            inner = lo[:, None] + (hi - lo)[:, None] * frac[None, :]  # (brackets, sections - 1)
            s = np.sign(pre(path(inner.ravel())[0])).reshape(lo.size, sections - 1, -1)
            differs = np.any(s != ref[:, None, :], axis=2)
            first = np.where(differs.any(axis=1), differs.argmax(axis=1), sections - 1)  # the first change
            grid = np.concatenate([lo[:, None], inner, hi[:, None]], axis=1)
            rows = np.arange(lo.size)
            lo, hi = grid[rows, first], grid[rows, first + 1]
        found.append(0.5 * (lo + hi))
        after = hi + _SEPARATION  # clear of the change just found (the pattern right at it is round-off)
        right = np.sign(pre(path(after)[0]))
        more = np.any(right != end_sign, axis=1) & (after < end)  # the pattern changes again before the scan point
        if not more.any():
            break
        lo, hi, ref, end, end_sign = after[more], end[more], right[more], end[more], end_sign[more]
    return np.sort(np.concatenate(found))


_MAX_ROUNDS = 8  # changes located per scan step at most
_SEPARATION = 1e-12  # closest two changes located apart (in t)


#: Relative tolerance of the accurate line integrals: each piece is halved until its Gauss-Kronrod 7-15 pair
#: agrees to LINE_RTOL x max(1, int |integrand| dt) x (its share of the path).
LINE_RTOL = 1e-10
#: Halvings of a piece beyond the initial grading (a piece then is 2**-40 of a display step: far below any
#: transition width of a sigmoid with beta <= 1e6 on a path of size <= 100).
MAX_HALVINGS = 40
#: Bound on the pieces refined at once (15 field evaluations each).
MAX_PIECES = 60_000
#: Round-off floor of a piece's Kronrod-Gauss difference, relative to sum |F_j theta'_j| on it (summed over the
#: path: 1e-12 of int |integrand| at most, a hundredth of LINE_RTOL when the terms do not cancel).
NOISE_FLOOR = 1e-12
#: Halves whose differences add up to NOISE_RATIO of their parent's, each below NOISE_CEILING of its own
#: magnitude, are at the integrand's noise (accepted; their differences still count in the error estimate).
NOISE_RATIO = 0.9
NOISE_CEILING = 1e-9


def _graded_pieces(edges: np.ndarray, graded: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every [edges[i], edges[i+1]] split geometrically toward a graded endpoint. Returns (starts, ends, interval
    index of each piece)."""
    ratios = 0.5 ** np.arange(1, levels + 1)
    left, right = graded[:-1], graded[1:]
    starts, ends, owner = [], [], []
    for code_left in (False, True):
        for code_right in (False, True):
            idx = np.flatnonzero((left == code_left) & (right == code_right))
            if idx.size == 0:
                continue
            cuts = [0.0, 1.0]
            if code_left:
                cuts += list(ratios)
            if code_right:
                cuts += list(1 - ratios)
            cuts = np.unique(cuts)
            a, width = edges[idx][:, None], (edges[idx + 1] - edges[idx])[:, None]
            starts.append((a + width * cuts[None, :-1]).ravel())
            ends.append((a + width * cuts[None, 1:]).ravel())
            owner.append(np.repeat(idx, len(cuts) - 1))
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(owner)


# Gauss-Kronrod 7-15 on [-1, 1] (QUADPACK qk15): the Kronrod rule (exact to degree 23) and the embedded Gauss rule
# (degree 13, on every other node) from the same 15 evaluations; |K15 - G7| bounds G7's error, far above K15's.
_XGK = np.array([0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                 0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                 0.207784955007898467600689403773245, 0.0])
_WGK = np.array([0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                 0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                 0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                 0.204432940075298892414161999234649, 0.209482141084727828012999174891714])
_WG7 = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                 0.381830050505118944950369775488975, 0.417959183673469387755102040816327])
_GK_NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])
_GK_WEIGHTS = np.concatenate([_WGK[:-1], _WGK[::-1]])
_G7_WEIGHTS = np.zeros(15)
_G7_WEIGHTS[1::2] = np.concatenate([_WG7[:-1], _WG7[::-1]])


def _gk_sums(fields: Mapping[Any, Field], path: ClosedPath, s: np.ndarray, e: np.ndarray
             ) -> tuple[dict[Any, np.ndarray], dict[Any, np.ndarray], dict[Any, np.ndarray]]:
    """Kronrod and embedded Gauss sums of every field's integrand on each piece [s, e], and the Kronrod sums of
    sum_j |F_j theta'_j| (the scale of their round-off: the terms of F . theta' can cancel)."""
    half = 0.5 * (e - s)
    nodes = ((0.5 * (s + e))[:, None] + half[:, None] * _GK_NODES[None, :]).ravel()
    points, tangent = path(nodes)
    kron, gauss, mags = {}, {}, {}
    for k, f in fields.items():
        terms = f(points) * tangent
        g = np.sum(terms, axis=1).reshape(s.size, -1)
        kron[k], gauss[k] = (g @ _GK_WEIGHTS) * half, (g @ _G7_WEIGHTS) * half
        mags[k] = (np.sum(np.abs(terms), axis=1).reshape(s.size, -1) @ _GK_WEIGHTS) * half
    return kron, gauss, mags


def line_integral(fields: Mapping[Any, Field], pre: PreActs | None, path: ClosedPath, display: int = 361,
                  levels: int = 14, rtol: float = LINE_RTOL
                  ) -> tuple[np.ndarray, dict[Any, np.ndarray], np.ndarray, dict[Any, float]]:
    """Accurate integrals of several fields along the same closed path (the loop integrals of Gygax & Zenke
    Sec. 4.2, Fig. 5B).

    Returns ``(t, cumulative, breaks, error)``: ``t`` are ``display`` parameters from 0 to 2 pi,
    ``cumulative[key][i]`` the integral from 0 to ``t[i]`` (the closed-path integral is ``[-1]``), the break
    parameters where ``pre`` changes sign, and each field's estimated absolute error.

    Pieces start graded toward the breaks; a piece whose Kronrod and Gauss sums differ by more than its share of
    the tolerance is halved. The estimate is the sum over the accepted pieces of that difference (the Kronrod
    sum, which is kept, is far more accurate than the difference says).
    """
    t_disp = np.linspace(0.0, 2 * np.pi, display)
    breaks = find_breaks(pre, path) if pre is not None else np.empty(0)
    edges = np.unique(np.concatenate([t_disp, breaks, path.corners]))
    s, e, owner = _graded_pieces(edges, np.isin(edges, breaks), levels)
    keys = list(fields)
    per_interval = {k: np.zeros(len(edges) - 1) for k in keys}
    error = dict.fromkeys(keys, 0.0)
    scale = None
    parent: dict[Any, np.ndarray] = {}
    sibling = None
    for depth in range(MAX_HALVINGS + 1):
        kron, gauss, mags = _gk_sums(fields, path, s, e)
        diff = {k: np.abs(kron[k] - gauss[k]) for k in keys}
        if scale is None:  # int |integrand| dt, per field, from the first pass
            scale = {k: max(1.0, float(np.sum(np.abs(kron[k])))) for k in keys}
        share = (e - s) / (2 * np.pi)
        # a piece is done when within its share of the tolerance, or when the sums differ only by round-off: of the
        # sums (NOISE_FLOOR of sum |F_j theta'_j|, which adds up to far below the tolerance), or of the integrand
        # itself (steep fields far from the origin are computed to ~1e-13 relative): two halves that together
        # differ by as much as their parent did are at that noise, since halving shrinks a truncation error
        # ~2^15-fold (and a jump's 2-fold), if the difference is also small against the piece (NOISE_CEILING)
        within = {k: diff[k] <= np.maximum(rtol * scale[k] * share, NOISE_FLOOR * mags[k]) for k in keys}
        if sibling is None:
            ok = np.all([within[k] for k in keys], axis=0)
        else:
            ok = np.all([within[k] | ((diff[k] + diff[k][sibling] >= NOISE_RATIO * parent[k])
                                      & (diff[k] <= NOISE_CEILING * mags[k])) for k in keys], axis=0)
        if depth == MAX_HALVINGS or 2 * np.count_nonzero(~ok) > MAX_PIECES:  # bounded work: report it
            ok[:] = True
        for k in keys:
            per_interval[k] += np.bincount(owner[ok], weights=kron[k][ok], minlength=len(edges) - 1)
            error[k] += float(np.sum(diff[k][ok]))
        bad = ~ok
        if not bad.any():
            break
        s, e, owner = s[bad], e[bad], owner[bad]
        mid = 0.5 * (s + e)
        s, e, owner = np.concatenate([s, mid]), np.concatenate([mid, e]), np.concatenate([owner, owner])
        n = int(np.count_nonzero(bad))
        parent = {k: np.concatenate([diff[k][bad], diff[k][bad]]) for k in keys}
        sibling = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    disp_index = np.searchsorted(edges, t_disp)
    out = {k: np.concatenate([[0.0], np.cumsum(per_interval[k])])[disp_index] for k in keys}
    return t_disp, out, breaks, error


_CHUNK = 200_000


def midpoint_line_integral(field: Field, path: ClosedPath, steps: int, chunk: int = _CHUNK) -> float:
    """The plain midpoint rule with ``steps`` equal steps in t (the convergence panel, Gygax & Zenke Fig. 5C)."""
    total = 0.0
    h = 2 * np.pi / steps
    for start in range(0, steps, chunk):
        t = (np.arange(start, min(start + chunk, steps)) + 0.5) * h
        points, tangent = path(t)
        total += float(np.sum(field(points) * tangent)) * h
    return total


def midpoint_ladder(field: Field, path: ClosedPath, max_steps: int, base: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint-rule values for N = base * 3^k <= max_steps from one evaluation on the finest grid.

    Tripling N keeps every old midpoint (it is the middle third's midpoint), so all coarser sums are
    sub-sums of the finest one.
    """
    levels = max(0, int(np.floor(np.log(max(max_steps, base) / base) / np.log(3) + 1e-12)))
    finest = base * 3**levels
    h = 2 * np.pi / finest
    g = np.empty(finest)
    for start in range(0, finest, _CHUNK):  # bounded memory at large N
        t = (np.arange(start, min(start + _CHUNK, finest)) + 0.5) * h
        points, tangent = path(t)
        g[start:start + t.size] = np.sum(field(points) * tangent, axis=1)
    ladder, values = [], []
    for j in range(levels, -1, -1):
        stride = 3**j
        ladder.append(finest // stride)
        values.append(float(np.sum(g[(stride - 1) // 2::stride])) * h * stride)
    return np.array(ladder), np.array(values)
