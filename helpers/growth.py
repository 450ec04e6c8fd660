"""Lesson 09: the deterministic growth model solved by value function iteration (VFI).

A planner chooses next period's capital k' given capital k:

    V(k) = max_{k'} U(k^alpha + (1 - delta) k - k') + beta V(k'),   U(c) = (c^(1-sigma) - 1) / (1 - sigma)

(log utility when sigma = 1, the limit of U as sigma -> 1). Three solvers of the same
algorithm: plain loops maximising with SciPy's bounded scalar minimiser (Brent's method:
golden-section steps mixed with parabolic interpolation), the same maximisation spread over a
process pool that lives across iterations, and a Numba version with a golden-section search of
its own (SciPy cannot be called from compiled code). All interpolate V linearly between grid
points.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy.optimize import minimize_scalar

GOLDEN = (math.sqrt(5) - 1) / 2
SEARCH_TOLERANCE = 1e-8  # on k', for every maximiser


@dataclass(frozen=True)
class Params:
    """The model's parameters (the assignment's values by default)."""

    sigma: float = 2.0
    beta: float = 0.95
    delta: float = 0.1
    alpha: float = 0.33


@dataclass
class Solution:
    """A solved model: the grid, the value function, the policy k'(k), consumption, and the
    sup-norm distance between successive value functions at each iteration."""

    grid: np.ndarray
    value: np.ndarray
    policy: np.ndarray
    consumption: np.ndarray
    distances: list = field(default_factory=list)


def steady_state(p):
    """k* from the Euler equation at rest: 1 = beta (alpha k^(alpha-1) + 1 - delta)."""
    return (p.alpha / (1 / p.beta - 1 + p.delta)) ** (1 / (1 - p.alpha))


def make_grid(p, n_points, low=0.25, high=1.75):
    """``n_points`` capital levels from ``low`` k* to ``high`` k*."""
    return np.linspace(low * steady_state(p), high * steady_state(p), n_points)


def resources(k, p):
    """Output plus undepreciated capital: what can be eaten or saved."""
    return k**p.alpha + (1 - p.delta) * k


def utility(c, sigma):
    """CRRA utility (c^(1-sigma) - 1) / (1 - sigma). At sigma = 1 the formula divides 0 by 0, so
    that case is its limit, log c (l'Hopital in sigma), computed directly."""
    return np.log(c) if sigma == 1 else (c ** (1 - sigma) - 1) / (1 - sigma)


def _choice_bounds(k, grid, p):
    """k' stays on the grid and leaves positive consumption."""
    return grid[0], min(grid[-1], resources(k, p) - 1e-10)


def bellman_point(k, grid, value, p):
    """Best value and k' at capital ``k``, by SciPy's bounded minimiser (Brent's method) on minus
    the objective."""
    low, high = _choice_bounds(k, grid, p)

    def minus_objective(k_next):
        return -(utility(resources(k, p) - k_next, p.sigma) + p.beta * np.interp(k_next, grid, value))

    best = minimize_scalar(minus_objective, bounds=(low, high), method="bounded",
                           options={"xatol": SEARCH_TOLERANCE})
    return -best.fun, best.x


def bellman_chunk(ks, grid, value, p):
    """:func:`bellman_point` for each capital level in ``ks``: the job a pool worker runs."""
    return np.array([bellman_point(k, grid, value, p) for k in ks])


def bellman_update(grid, value, p, executor=None, n_chunks=1):
    """One VFI step: new value and policy on the whole grid.

    Serial without ``executor``; otherwise the grid is cut into ``n_chunks`` chunks, one task
    each (``n_chunks=len(grid)`` is one future per point)."""
    if executor is None:
        result = bellman_chunk(grid, grid, value, p)
    else:
        chunks = np.array_split(grid, n_chunks)
        result = np.concatenate(list(executor.map(bellman_chunk, chunks, [grid] * n_chunks,
                                                  [value] * n_chunks, [p] * n_chunks)))
    return result[:, 0], result[:, 1]


def solve_vfi(p=Params(), n_points=100, tol=1e-6, max_iter=2000, executor=None, n_chunks=1):
    """Iterate the Bellman operator from V = 0 until successive values differ by less than
    ``tol`` (sup norm), or ``max_iter`` steps."""
    grid = make_grid(p, n_points)
    value, distances = np.zeros(n_points), []
    for _ in range(max_iter):
        new_value, policy = bellman_update(grid, value, p, executor, n_chunks)
        distances.append(float(np.max(np.abs(new_value - value))))
        value = new_value
        if distances[-1] < tol:
            break
    return Solution(grid, value, policy, resources(grid, p) - policy, distances)


# --------------------------------------------------------------------------------------------
# The same algorithm, compiled


@njit(cache=True)
def _interp(x, grid, value):
    """Linear interpolation on an evenly spaced grid."""
    step = (grid[-1] - grid[0]) / (len(grid) - 1)
    i = min(max(int((x - grid[0]) / step), 0), len(grid) - 2)
    weight = (x - grid[i]) / step
    return (1 - weight) * value[i] + weight * value[i + 1]


@njit(cache=True)
def _objective(k_next, k, grid, value, sigma, beta, delta, alpha):
    """The Bellman objective at ``k_next``: utility now (log at sigma = 1, see :func:`utility`)
    plus the discounted interpolated value."""
    c = k**alpha + (1 - delta) * k - k_next
    u = math.log(c) if sigma == 1 else (c ** (1 - sigma) - 1) / (1 - sigma)
    return u + beta * _interp(k_next, grid, value)


@njit(cache=True)
def _golden_section_max(k, grid, value, sigma, beta, delta, alpha, low, high):
    """Maximise the Bellman objective over [low, high] by golden-section search: each step keeps
    the part of the interval that holds the better of two inner points, placed so that one of them
    is reused next step (the interval shrinks by 0.618 per evaluation)."""
    a, b = low, high
    x1, x2 = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    f1 = _objective(x1, k, grid, value, sigma, beta, delta, alpha)
    f2 = _objective(x2, k, grid, value, sigma, beta, delta, alpha)
    while b - a > SEARCH_TOLERANCE:
        if f1 < f2:
            a, x1, f1 = x1, x2, f2
            x2 = a + GOLDEN * (b - a)
            f2 = _objective(x2, k, grid, value, sigma, beta, delta, alpha)
        else:
            b, x2, f2 = x2, x1, f1
            x1 = b - GOLDEN * (b - a)
            f1 = _objective(x1, k, grid, value, sigma, beta, delta, alpha)
    best = (a + b) / 2
    return _objective(best, k, grid, value, sigma, beta, delta, alpha), best


@njit(cache=True)
def _bellman_step(grid, value, new_value, policy, sigma, beta, delta, alpha):
    """One Bellman update, compiled: the best value and k' at every grid point, written into
    ``new_value`` and ``policy`` (k' stays on the grid and leaves positive consumption)."""
    for i in range(len(grid)):
        k = grid[i]
        high = min(grid[-1], k**alpha + (1 - delta) * k - 1e-10)
        new_value[i], policy[i] = _golden_section_max(k, grid, value, sigma, beta, delta, alpha, grid[0], high)


@njit(cache=True)
def _vfi_compiled(grid, sigma, beta, delta, alpha, tol, max_iter):
    """:func:`solve_vfi`'s iteration, compiled: value, policy and the distances."""
    n = len(grid)
    value, new_value, policy = np.zeros(n), np.zeros(n), np.zeros(n)
    distances = np.empty(max_iter)
    for iteration in range(max_iter):
        _bellman_step(grid, value, new_value, policy, sigma, beta, delta, alpha)
        distances[iteration] = np.max(np.abs(new_value - value))
        value[:] = new_value
        if distances[iteration] < tol:
            return value, policy, distances[:iteration + 1]
    return value, policy, distances


def solve_vfi_numba(p=Params(), n_points=100, tol=1e-6, max_iter=2000):
    """:func:`solve_vfi` compiled with Numba (golden-section search instead of SciPy's Brent)."""
    grid = make_grid(p, n_points)
    value, policy, distances = _vfi_compiled(grid, p.sigma, p.beta, p.delta, p.alpha, tol, max_iter)
    return Solution(grid, value, policy, resources(grid, p) - policy, distances.tolist())


def bellman_update_numba(grid, value, p):
    """One compiled Bellman update of ``value``: the new value and policy on ``grid``. Applied to a
    solution, it tells how far from converged that solution is (lesson 09's first exercise)."""
    new_value, policy = np.empty(len(grid)), np.empty(len(grid))
    _bellman_step(grid, value, new_value, policy, p.sigma, p.beta, p.delta, p.alpha)
    return new_value, policy


# --------------------------------------------------------------------------------------------
# Accuracy


def euler_errors(solution, p):
    """log10 of the relative Euler equation error at each grid point.

    The consumption the Euler equation implies today, given the policy's consumption tomorrow,
    compared with the policy's consumption today (points whose k' sits on the grid's edge, where
    the Euler equation need not hold, are NaN)."""
    k_next = solution.policy
    c_next = np.interp(k_next, solution.grid, solution.consumption)
    gross_return = p.alpha * k_next ** (p.alpha - 1) + 1 - p.delta
    implied = (p.beta * c_next ** (-p.sigma) * gross_return) ** (-1 / p.sigma)
    errors = np.log10(np.abs(implied / solution.consumption - 1) + 1e-16)
    at_edge = (k_next <= solution.grid[0] + 1e-6) | (k_next >= solution.grid[-1] - 1e-6)
    return np.where(at_edge, np.nan, errors)


# --------------------------------------------------------------------------------------------
# A whole model per task (lesson 09's second exercise)


@dataclass(frozen=True)
class SteadyCapital:
    """The capital the solved policy settles at for one discount factor, and the process that
    solved it."""

    beta: float
    capital: float
    pid: int


def solve_steady_capital(beta, n_points=100, tol=1e-6):
    """Solve the model (compiled VFI) for discount factor ``beta``, the other parameters as in the
    assignment, and return where the policy crosses the 45-degree line, k'(k) = k: the steady
    state the numerical solution implies."""
    if not 0 < beta < 1:
        raise ValueError(f"beta = {beta}: a discount factor must lie strictly between 0 and 1")
    solution = solve_vfi_numba(Params(beta=beta), n_points=n_points, tol=tol)
    capital = float(np.interp(0.0, solution.grid - solution.policy, solution.grid))
    return SteadyCapital(beta, capital, os.getpid())
