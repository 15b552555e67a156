"""Layer-wise convex stacking: deep ReLU networks from a sequence of two-layer convex programs.

Block ``l`` is the exact ReLU program (:ref:`maths-programs`) of a two-layer network from the previous
block's activations ``H_{l−1}`` (``H_0 = X``) to the *final* targets, solved to a certified gap;
its hidden layer (at most ``hidden_layer_sizes[l]`` neurons) becomes layer ``l`` of the deep
network and ``H_l = (H_{l−1} W_l + b_l)_+`` feeds the next block. The last block's output layer is
the network's output layer.

With several classes (the softmax loss) a block's neurons feed every class, as an MLP's do: the
block is the shared-neuron program (:ref:`maths-shared`,
:class:`~convexnn.shared.SharedNeuronProgram`), each sampled pattern's neurons along the output
direction :func:`gradient_directions` gives it, so a pattern carries at most two neurons. With the
per-output program a pattern could carry ``2K`` neurons, each feeding one of ``K`` classes: a layer
of 16 on 8 classes then held a single pattern's 9 neurons, and the 8-class blocks of ``ecoli`` took
80–130 s. That program is kept for ``solver="al"`` (the one other solver of exact ReLU programs),
which does not take the shared one, and for several regression targets, where the shared blocks
scored lower (:doc:`/deep`).

When a block's solution has more neurons than allowed, the strongest ones (largest ``‖w‖·|a|``,
which is the block norm ``s`` of :ref:`maths-mapping`) are kept and the block is re-solved on their patterns
only; so every kept layer is the hidden layer of a certified optimum of its own (restricted)
program. **Each block is a global optimum of its own program; nothing is claimed for the whole
network**, whose objective is reported for information only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from .._memory import check_program_memory, check_sampling_memory
from ..network import solution_to_network
from ..patterns import sample_patterns
from ..program import ConvexProgram
from ..shared import SharedNeuronProgram
from ..solvers import solve, solves_program

__all__ = ["BlockReport", "gradient_directions", "stack_convex_blocks"]


@dataclass
class BlockReport:
    """What one block of the stack solved.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    n_inputs : int
        Width of the block's input.
    n_patterns : int
        Patterns of the program the kept layer comes from.
    n_neurons : int
        Neurons kept (at most the requested width).
    objective : float
        Objective of the block's convex program at its solution (two-layer objective of record).
    gap : float
        Certified relative duality gap of that program.
    status, solver : str
    restricted : bool
        Whether the block was re-solved on the patterns of its strongest neurons.
    n_iter : int
        Solver iterations spent on the block, its re-solves included.
    """

    n_inputs: int
    n_patterns: int
    n_neurons: int
    objective: float
    gap: float
    status: str
    solver: str
    restricted: bool
    n_iter: int = 0


def _neuron_patterns(program, solution):
    """For every mapped neuron (in the order of :func:`solution_to_network`): its pattern index and
    its block norm."""
    d = program.n_features
    patterns, strengths = [], []
    for blocks in (solution.U, solution.V):
        for o in range(blocks.shape[0]):
            for k in range(program.n_patterns):
                s = float(np.linalg.norm(blocks[o, :d, k].astype(np.float64)))
                if s > 0.0:
                    patterns.append(k)
                    strengths.append(s)
    return np.array(patterns, dtype=int), np.array(strengths)


def gradient_directions(X, Y, loss, patterns):
    """An output direction for every pattern: the one along which a small neuron of that pattern
    lowers the loss of the zero network (its optimal intercept) the most.

    A neuron ``u`` of pattern ``k`` feeding the outputs along a unit ``e`` changes the loss at
    the zero network at the rate ``−uᵀX̃ᵀD_kθe`` (``θ`` the residual there, ``n × K``,
    :meth:`~convexnn.program.ConvexProgram.residual`); over unit ``u`` and ``e`` (the cone
    constraint aside) the steepest is the top right singular vector of ``X̃ᵀD_kθ``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets encoded for ``loss``.
    loss : {"squared", "logistic", "softmax"}
    patterns : Patterns
        Patterns of ``X``.

    Returns
    -------
    ndarray of shape (n_outputs, n_patterns)
        Unit columns.
    """
    program = ConvexProgram(X, Y, patterns, loss, 1.0, "relu")
    theta = np.asarray(program.residual(program.zero_solution()), dtype=np.float64)
    Xt = np.asarray(program.Xt, dtype=np.float64)
    G = np.einsum("ip,ik,io->kpo", Xt, program.masks.astype(np.float64), theta)
    directions = np.linalg.svd(G)[2][:, 0, :].T  # (K, P)
    # a pattern on which the residual sums to zero has no preferred direction: the first output
    flat = np.linalg.norm(G, axis=(1, 2)) == 0.0
    directions[:, flat] = np.eye(Y.shape[1])[:, :1]
    return directions


def _solve_block(H, Y, loss, alpha, patterns, directions, solve_options, max_memory, owner):
    if directions is None:
        program = ConvexProgram(H, Y, patterns, loss, alpha, "relu")
    else:
        program = SharedNeuronProgram(H, Y, patterns, directions, loss, alpha)
    check_program_memory(program, solve_options["solver"], max_memory, owner, gated=False)
    result = solve(program, max_memory=max_memory, **solve_options)
    return program, result


def stack_convex_blocks(
    X,
    Y,
    loss,
    hidden_layer_sizes,
    alpha,
    *,
    n_gates=100,
    sampler="gaussian",
    solver="auto",
    tol=1e-6,
    max_iter=1000,
    random_state=None,
    verbose=False,
    max_memory=None,
):
    """Train a deep ReLU network block by block, each block a convex program (module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets encoded for ``loss``.
    loss : {"squared", "logistic", "softmax"}
    hidden_layer_sizes : sequence of int
        Maximum width of every hidden layer; its length is the number of hidden layers.
    alpha : float
        Weight decay of every block (Lasso convention, :ref:`maths-objective`).
    n_gates, sampler : see :func:`convexnn.patterns.sample_patterns`
        Patterns are drawn afresh on every block's input.
    solver, tol, max_iter : passed to :func:`convexnn.solvers.solve`.
    random_state : int, RandomState instance or None
    verbose : bool
    max_memory : "auto", float or None, default=None
        Memory budget in bytes of every block's sampling and solve: a :class:`MemoryError` that
        states the estimate where one would exceed it (as the two-layer estimators' parameter of
        that name), and the memory ``solver="auto"`` chooses its solvers in; None: no check, the
        solver chosen by size alone.

    Returns
    -------
    coefs, intercepts : list of ndarray
        The deep network in scikit-learn's layout.
    reports : list of BlockReport
    """
    rng = check_random_state(random_state)
    options = dict(solver=solver, tol=tol, max_iter=max_iter, verbose=False)
    H = np.asarray(X, dtype=np.float64)
    coefs, intercepts, reports = [], [], []
    n_outputs = Y.shape[1]
    shared = loss == "softmax" and solves_program(solver, SharedNeuronProgram)
    per_pattern = 2 if shared else 2 * n_outputs  # the most neurons one pattern carries
    for depth, width in enumerate(hidden_layer_sizes):
        seed = rng.randint(np.iinfo(np.int32).max)
        owner = f"hidden layer {depth + 1}"
        check_sampling_memory(H, n_gates, max_memory, owner)
        patterns = sample_patterns(H, n_gates, sampler, seed)
        directions = gradient_directions(H, Y, loss, patterns) if shared else None
        program, result = _solve_block(H, Y, loss, alpha, patterns, directions, options,
                                       max_memory, owner)
        n_iter = result.n_iter
        neuron_pattern, strength = _neuron_patterns(program, result.solution)
        restricted = False
        # keep the patterns of the strongest neurons and re-solve on them; a pattern can carry up
        # to per_pattern neurons, so shrink the number of patterns kept until the optimum fits:
        # first to the width, then to as many as the last solve's neurons per pattern let fit;
        # always fewer than carry neurons (keeping all of those would solve the same program)
        cap = width
        while neuron_pattern.shape[0] > width:
            carrying = len(np.unique(neuron_pattern))
            if carrying < 2:
                break
            if cap >= carrying:
                cap = carrying * width // neuron_pattern.shape[0]
            cap = max(1, min(carrying - 1, cap))
            ranked = neuron_pattern[np.argsort(-strength, kind="stable")]
            keep = np.sort(np.array(list(dict.fromkeys(ranked.tolist()))[:cap], dtype=int))
            patterns = program.patterns.subset(keep)
            if directions is not None:
                directions = program.directions[:, keep]
            program, result = _solve_block(H, Y, loss, alpha, patterns, directions, options,
                                       max_memory, owner)
            n_iter += result.n_iter
            neuron_pattern, strength = _neuron_patterns(program, result.solution)
            restricted = True
            cap = len(keep) * width // max(neuron_pattern.shape[0], 1)
        net_coefs, net_intercepts, _ = solution_to_network(program, result.solution)
        if net_coefs[0].shape[1] > width:
            raise ValueError(
                f"hidden layer {depth + 1} allows {width} neurons, fewer than the "
                f"{per_pattern} one activation pattern can carry with {n_outputs} outputs; "
                "use a larger width"
            )
        reports.append(
            BlockReport(
                H.shape[1],
                program.n_patterns,
                net_coefs[0].shape[1],
                program.objective(result.solution),
                result.gap,
                result.status,
                result.solver,
                restricted,
                n_iter,
            )
        )
        if verbose:
            r = reports[-1]
            print(
                f"[convexnn] block {depth + 1}: {r.n_neurons} neurons (max {width}) from "
                f"{r.n_patterns} patterns on {r.n_inputs} inputs, gap {r.gap:.2e}, {r.solver}"
            )
        W, b = net_coefs[0], net_intercepts[0]
        if W.shape[1] == 0:  # no neuron survived: a dead unit keeps the layer well-formed
            W, b = np.zeros((H.shape[1], 1)), np.zeros(1)
            net_coefs[1] = np.zeros((1, n_outputs))
        coefs.append(W)
        intercepts.append(b)
        H = np.maximum(H @ W + b, 0.0)
        last = (net_coefs[1], net_intercepts[1])
    coefs.append(last[0])
    intercepts.append(last[1])
    return coefs, intercepts, reports
