"""The gallery's closed forms of peak, area, int f^2 and int v^2 f, read from each shape's registry record.

The derivations live with the shapes (:attr:`sgcore.shapes.SurrogateShape.closed_forms`); :mod:`.gallery`
compares them with quadrature.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..shapes import Q_SPEC, SHAPES, get_shape

__all__ = ["CLOSED_FORMS", "closed_form"]


class _Latex(Mapping[str, Mapping[str, str]]):
    """Shape name -> {quantity: LaTeX derivation}, a live view of the registry."""

    def __getitem__(self, name: str) -> Mapping[str, str]:
        return {k: cf.latex for k, cf in SHAPES[name].closed_forms.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(SHAPES)

    def __len__(self) -> int:
        return len(SHAPES)


#: Closed forms (LaTeX) of the gallery quantities of each standard form f.
CLOSED_FORMS: Mapping[str, Mapping[str, str]] = _Latex()


def closed_form(name: str, quantity: str, q: float = Q_SPEC.default) -> float:
    """Closed form of ``peak``, ``area``, ``int_f_sq`` or ``tail_moment`` (``inf`` when infinite, ``nan`` if none)."""
    shp = get_shape(name)
    return shp.closed_form(quantity, **shp.pick_params(q=Q_SPEC.validate(q)))
