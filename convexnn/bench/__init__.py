"""Benchmarks of convex training against scikit-learn's SGD, Adam and L-BFGS (``convexnn bench``).

Datasets (:mod:`.datasets`) × methods (:mod:`.methods`) × alphas, every run scored by the objective
of record ``J`` (:ref:`maths-objective`); results as tables, CSV/JSON and plots (:mod:`.report`).
"""

from .datasets import BUNDLED, Dataset, load_bundled, load_csv, load_npz_folder, load_series
from .methods import DEFAULT_LEARNING_RATES, METHODS, MethodConfig, run_method
from .report import performance_profile, solved_fractions

__all__ = [
    "BUNDLED",
    "DEFAULT_LEARNING_RATES",
    "METHODS",
    "Dataset",
    "MethodConfig",
    "load_bundled",
    "load_csv",
    "load_npz_folder",
    "load_series",
    "performance_profile",
    "run_method",
    "solved_fractions",
]
