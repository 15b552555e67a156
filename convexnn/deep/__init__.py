"""Deeper ReLU networks from convex programs (:ref:`deep-networks`).

- :mod:`.stacking`: layer-wise convex stacking of two-layer blocks (each block a certified
  optimum of its own program, no guarantee for the whole).
- :mod:`.oned`: the exact Lasso of deep narrow ReLU networks on one-dimensional inputs (a program
  beside :class:`~convexnn.program.ConvexProgram`, on the same :class:`~convexnn.program.Program`
  base) and its mapping to a network; :mod:`.dictionary` builds its features, :mod:`.objective`
  scores any deep network under its penalty; its solvers :mod:`.lasso_cd` and :mod:`.lasso_ip`, registered here with
  :func:`convexnn.solvers.register_solver` so that :func:`convexnn.solvers.solve` runs them with
  the same checks as the two-layer solvers.
"""

from ..solvers import register_solver
from .dictionary import Dictionary, build_dictionary
from .estimators import ConvexDeep1DRegressor, ConvexDeepReLUClassifier, ConvexDeepReLURegressor
from .lasso_cd import solve_lasso_cd
from .lasso_ip import solve_lasso_ip
from .objective import deep_objective, rebalance
from .oned import DictionaryProgram, dictionary_to_network
from .stacking import stack_convex_blocks

# the Lasso programs' solvers, beside the two-layer ones; "auto" picks the interior point
register_solver("lasso_cd", solve_lasso_cd, DictionaryProgram)
register_solver("lasso_ip", solve_lasso_ip, DictionaryProgram, auto=True)

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
    "solve_lasso_cd",
    "solve_lasso_ip",
    "stack_convex_blocks",
]
