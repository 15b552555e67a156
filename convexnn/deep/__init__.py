"""Deeper ReLU networks from convex programs (:ref:`deep-networks`).

- :mod:`.stacking`: layer-wise convex stacking of two-layer blocks (each block a certified
  optimum of its own program, no guarantee for the whole).
- :mod:`.oned`: the exact Lasso of deep narrow ReLU networks on one-dimensional inputs (a program
  beside :class:`~convexnn.program.ConvexProgram`, solved by the same solver interface).
"""

from .estimators import ConvexDeep1DRegressor, ConvexDeepReLUClassifier, ConvexDeepReLURegressor
from .oned import (
    Dictionary,
    DictionaryProgram,
    build_dictionary,
    deep_objective,
    dictionary_to_network,
    rebalance,
)
from .stacking import stack_convex_blocks

__all__ = [
    "ConvexDeep1DRegressor",
    "ConvexDeepReLUClassifier",
    "ConvexDeepReLURegressor",
    "Dictionary",
    "DictionaryProgram",
    "build_dictionary",
    "deep_objective",
    "dictionary_to_network",
    "rebalance",
    "stack_convex_blocks",
]
