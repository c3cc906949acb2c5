"""Classification datasets (issue 17; Gygax & Zenke 2024 Fig. 7 / S1): Randman and the Spiking Heidelberg
Digits as spike-count rasters with a seeded split."""

from .data import (
    RANDMAN_DT_MS,
    RANDMAN_PARAMS,
    SHD_UNITS,
    Dataset,
    RandmanConfig,
    RandmanManifolds,
    load_shd,
    load_shd_pair,
    randman,
    randman_manifold,
)

__all__ = ["RANDMAN_DT_MS", "RANDMAN_PARAMS", "SHD_UNITS", "Dataset", "RandmanConfig", "RandmanManifolds",
           "load_shd", "load_shd_pair", "randman", "randman_manifold"]
