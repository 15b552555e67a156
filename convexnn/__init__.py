"""convexnn: train ReLU neural networks by solving an equivalent convex program."""

from .certificate import Certificate, certify
from .deep import (
    ConvexDeep1DRegressor,
    ConvexDeepReLUClassifier,
    ConvexDeepReLURegressor,
    DictionaryProgram,
)
from .estimators import ConvexReLUClassifier, ConvexReLURegressor
from .network import forward, network_objective, network_to_solution, solution_to_network
from .patterns import Patterns, sample_patterns
from .program import ConvexProgram, ConvexSolution
from .solvers import solve

__version__ = "0.1.0"

__all__ = [
    "Certificate",
    "ConvexDeep1DRegressor",
    "ConvexDeepReLUClassifier",
    "ConvexDeepReLURegressor",
    "DictionaryProgram",
    "ConvexProgram",
    "ConvexReLUClassifier",
    "ConvexReLURegressor",
    "ConvexSolution",
    "certify",
    "Patterns",
    "forward",
    "network_objective",
    "sample_patterns",
    "solution_to_network",
    "network_to_solution",
    "solve",
]
