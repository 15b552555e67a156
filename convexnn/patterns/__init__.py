"""Activation patterns of the data: hyperplane arrangements ``D(g) = diag(1[X̃g ≥ 0])`` (:ref:`maths-patterns`).

A sampler returns :class:`Patterns`: the gates ``g`` (in the *original* input space, bias last) and the
boolean masks of the training points, with duplicate and all-zero patterns removed.
"""

from __future__ import annotations

from .core import Patterns, add_bias_column, gate_patterns, settled_gates, unique_patterns
from .exact import DEFAULT_MAX_PATTERNS, cover_count, exact_arrangement, exact_patterns
from .mlp import fit_mlp, mlp_patterns
from .samplers import SAMPLERS, data_patterns, gaussian_patterns, sample_patterns

__all__ = [
    "Patterns",
    "sample_patterns",
    "SAMPLERS",
    "add_bias_column",
    "unique_patterns",
    "gate_patterns",
    "settled_gates",
    "gaussian_patterns",
    "data_patterns",
    "exact_patterns",
    "mlp_patterns",
    "fit_mlp",
    "exact_arrangement",
    "cover_count",
    "DEFAULT_MAX_PATTERNS",
]
