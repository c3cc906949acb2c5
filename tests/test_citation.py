"""CITATION.cff: valid Citation File Format 1.2.0 metadata of the software, citing the three papers the maths is
from. (Checked in full against the CFF schema with cffconvert when written; here the structure the README and the
API reference rely on.)"""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_the_software_is_described():
    cff = _cff()
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["message"] and cff["title"] and cff["authors"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert cff["version"] == version


def test_the_three_papers_are_cited():
    refs = {r["title"]: r for r in _cff()["references"]}
    expected = {
        "Elucidating the theoretical underpinnings of surrogate gradient learning in spiking neural networks":
            (2024, ["Gygax", "Zenke"], "arXiv:2404.14964"),
        "Surrogate Gradients Design": (2022, ["Herranz-Celotti", "Rouat"], None),
        "Energy Efficient Training of SNN using Local Zeroth Order Method":
            (2023, ["Mukhoty", "Bojković", "de Vazelhes", "De Masi", "Xiong", "Gu"], None),
    }
    assert set(refs) == set(expected)
    for title, (year, authors, ident) in expected.items():
        ref = refs[title]
        assert ref["type"] == "article" and ref["year"] == year
        assert [a["family-names"] for a in ref["authors"]] == authors
        if ident is not None:  # only identifiers checked against the paper's own record
            assert ident in [i["value"] for i in ref["identifiers"]]
