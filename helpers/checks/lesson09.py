"""Checkers for lesson 09's exercises: value function iteration against the closed form, and
whole models solved in parallel across discount factors."""

import os

import numpy as np

from helpers import growth
from helpers.checks import passed, require

CLOSED_FORM = growth.Params(sigma=1.0, delta=1.0)
CONVERGED = 1e-6  # largest last distance accepted
CLOSED_FORM_GAP = 0.01  # what linear interpolation on ~100 points allows
STEADY_STATE_GAP = 0.02  # relative, numerical k* against the formula


def closed_form_gap(solution, p=CLOSED_FORM):
    """Largest relative gap between the policy and k' = alpha beta k^alpha, over the grid points
    whose exact k' lies inside the grid."""
    exact = p.alpha * p.beta * solution.grid**p.alpha
    inside = (exact > solution.grid[0]) & (exact < solution.grid[-1])
    return float(np.max(np.abs(solution.policy[inside] / exact[inside] - 1)))


def check_closed_form(log_solution, gap):
    """Exercise 9.1: a converged solution of the log, full-depreciation case, and its largest
    relative gap to the closed-form policy."""
    require(isinstance(log_solution, growth.Solution),
            f"log_solution is a {type(log_solution).__name__}: store what the solver returns")
    n = len(log_solution.grid)
    require(np.allclose(log_solution.grid, growth.make_grid(CLOSED_FORM, n)),
            "the grid is not the closed-form case's: solve with sigma = 1 and delta = 1")
    last = log_solution.distances[-1]
    require(last < CONVERGED, f"not converged: the last distance is {last:.1e}; iterate until it is "
                              f"below {CONVERGED:.0e}")
    true_gap = closed_form_gap(log_solution)
    require(true_gap < CLOSED_FORM_GAP, f"the policy is {true_gap:.1%} off the closed form somewhere: "
                                        "too few grid points?")
    require(np.isscalar(gap), f"gap is a {type(gap).__name__}: store one number, the largest relative gap")
    require(np.isclose(gap, true_gap, rtol=1e-6, atol=1e-12),
            "gap is not the largest relative gap |k'(k) / (alpha beta k^alpha) - 1| over the grid points "
            "whose exact k' lies inside the grid")
    passed(f"VFI on {n} points matches k' = alpha beta k^alpha within {CLOSED_FORM_GAP:.0%}")


def check_beta_sweep(results, betas):
    """Exercise 9.2: one whole model per discount factor, solved in pool workers, in the order of
    ``betas``."""
    require(isinstance(results, list) and all(isinstance(r, growth.SteadyCapital) for r in results),
            "results should be a list of what growth.solve_steady_capital returns")
    require(len(results) == len(betas), f"{len(results)} results for {len(betas)} discount factors")
    require([r.beta for r in results] == list(betas),
            "the results are not in the order of betas: keep them in input order")
    for r in results:
        expected = growth.steady_state(growth.Params(beta=r.beta))
        require(abs(r.capital / expected - 1) < STEADY_STATE_GAP,
                f"beta = {r.beta}: capital {r.capital:.3f} is far from the steady state; solve to convergence")
    require(os.getpid() not in {r.pid for r in results},
            "not parallel: models were solved in this notebook's process; give them to a process pool")
    passed(f"{len(results)} models solved in pool workers, in order, each at its steady state")
