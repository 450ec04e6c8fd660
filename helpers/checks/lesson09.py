"""Checkers for lesson 09's exercises: value function iteration against the closed form, and
whole models solved in parallel across discount factors.

9.1 verifies the student's solution itself: one more Bellman update of its value function must
change it by less than 1e-8 (what "converged to 1e-8" means, whatever the solution's own list of
distances says), and its policy must be the checker's own solve of the same case (log utility,
full depreciation, 100 points); the student's gap must be the gap of the student's solution. 9.2 asks for a function ``steady_capitals(executor, betas)``; the
checker calls it with discount factors of its own and a recording pool whose jobs finish in
another order than they were given, and verifies from the record that every model was solved by
``growth.solve_steady_capital`` in a pool worker, once, with that function's own grid and
tolerance, and that the answer returns exactly the workers' results, in the order of the betas it
was given.
"""

import functools
import inspect
import os
from numbers import Real

import numpy as np

from helpers import growth
from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import RecordingPool, call_answer, describe, notebook_names, same_function

CLOSED_FORM = growth.Params(sigma=1.0, delta=1.0)
N_POINTS = 100
TOLERANCE = 1e-8  # the exercise's: successive value functions within this
CLOSED_FORM_GAP = 0.01  # what linear interpolation on 100 points allows
SAME_POLICY = 1e-6  # in k': the compiled and the SciPy solvers agree far closer than this

SWEEP_BETAS = (0.97, 0.91, 0.95, 0.93)
SWEEP_DELAYS = (0.6, 0.0, 0.3, 0.0)  # the first job finishes last, the third after the others
SWEEP_SIGNATURE = "steady_capitals(executor, betas)"
MODEL_DEFAULTS = {name: parameter.default for name, parameter
                  in inspect.signature(growth.solve_steady_capital).parameters.items()}


def closed_form_gap(solution, p=CLOSED_FORM):
    """Largest relative gap between the policy and k' = alpha beta k^alpha over the grid (the
    exact k' lies between k and k*, so inside the grid at every point)."""
    policy, grid = np.asarray(solution.policy, dtype=float), np.asarray(solution.grid, dtype=float)
    return float(np.max(np.abs(policy / _exact_policy(grid, p) - 1)))


def _exact_policy(grid, p=CLOSED_FORM):
    return p.alpha * p.beta * grid**p.alpha


def _gap_hint(gap, solution):
    """What a wrong ``gap`` most likely is, as a hint."""
    policy, exact = np.asarray(solution.policy, dtype=float), _exact_policy(np.asarray(solution.grid, dtype=float))
    relative = policy / exact - 1
    mistakes = {float(np.max(relative)): "gap is the largest signed difference: a gap counts in either direction",
                float(np.max(np.abs(policy - exact))): "gap is an absolute difference in k'; the exercise "
                                                                 "asks for a relative one",
                float(np.mean(np.abs(relative))): "gap is an average; the exercise asks for the largest gap"}
    for value, hint in mistakes.items():
        if np.isclose(gap, value, rtol=1e-9, atol=0):
            return hint
    return ("gap is not the largest relative gap |k'(k) / (alpha beta k^alpha) - 1| over the grid points of "
            "log_solution")


def _solution_arrays(solution):
    """The grid, value and policy of ``solution`` as float arrays of one number per grid point,
    and its distances, or a hint saying what is off."""
    try:
        grid, value, policy = (np.asarray(getattr(solution, name), dtype=float)
                               for name in ("grid", "value", "policy"))
        distances = np.asarray(solution.distances, dtype=float).ravel()
    except (TypeError, ValueError):
        raise CheckFailed("log_solution's grid, value, policy and distances should be arrays of numbers: store "
                          "what the solver returns, unchanged") from None
    require(grid.ndim == 1, f"the solution's grid has shape {grid.shape}: store what the solver returns, unchanged")
    require(len(grid) == N_POINTS, f"the solution has {len(grid)} grid points: solve on {N_POINTS}")
    require(value.shape == policy.shape == grid.shape,
            f"the solution's value and policy have shapes {value.shape} and {policy.shape}, its grid {grid.shape}: "
            "store what the solver returns, unchanged")
    return grid, value, policy, distances


def check_closed_form(log_solution, gap):
    """Exercise 9.1: the log, full-depreciation case solved on 100 points until successive value
    functions differ by less than 1e-8, and its largest relative gap to the closed-form policy."""
    require(isinstance(log_solution, growth.Solution),
            f"log_solution is a {type(log_solution).__name__}: store what the solver returns")
    grid, value, policy, distances = _solution_arrays(log_solution)
    require(np.allclose(grid, growth.make_grid(CLOSED_FORM, N_POINTS)),
            "the grid is not the closed-form case's (it depends on the steady state): solve with sigma = 1 and "
            "delta = 1, the other parameters as in the assignment")
    last = distances[-1] if len(distances) else float("inf")
    require(last < TOLERANCE, f"not converged far enough: the last distance is {last:.1e}; iterate until "
                              f"successive value functions differ by less than {TOLERANCE:.0e}")
    reference = growth.solve_vfi_numba(CLOSED_FORM, n_points=N_POINTS, tol=TOLERANCE)
    require(np.allclose(policy, reference.policy, rtol=0, atol=SAME_POLICY),
            "the policy is not the one of log utility with full depreciation: solve with sigma = 1 and delta = 1")
    next_value, _ = growth.bellman_update_numba(grid, value, CLOSED_FORM)
    residual = float(np.max(np.abs(next_value - value)))
    require(residual < TOLERANCE, f"one more iteration would still change the value function by {residual:.1e}: "
                                  "it has not converged to the exercise's tolerance. Solve again, with the "
                                  "tolerance as the solver's tol")
    require(isinstance(gap, Real) or (isinstance(gap, np.ndarray) and gap.ndim == 0),
            f"gap is a {describe(gap)}: store one number, the largest relative gap")
    require(np.isclose(float(gap), closed_form_gap(log_solution), rtol=1e-9, atol=0),
            _gap_hint(float(gap), log_solution))
    require(float(gap) < CLOSED_FORM_GAP, f"the policy is {float(gap):.1%} off the closed form somewhere")
    passed(f"VFI on {N_POINTS} points, converged to {TOLERANCE:.0e}, is within {CLOSED_FORM_GAP:.0%} of "
           "k' = alpha beta k^alpha at every grid point, and gap is its largest relative gap")


def _require_results_shape(results, betas):
    if results is not None and hasattr(results, "__next__"):
        raise CheckFailed("the function returned an iterator (a generator, or map's result as it is): return a "
                          "list, e.g. by passing it to list(...)")
    require(isinstance(results, (list, tuple)),
            f"the function returned {describe(results)}: return a list of what growth.solve_steady_capital returns")
    require(len(results) > 0, "the function returned an empty list: solve one model per discount factor")
    require(all(isinstance(r, growth.SteadyCapital) for r in results),
            "the list should hold what growth.solve_steady_capital returns (SteadyCapital), one per discount "
            f"factor; it holds {sorted({type(r).__name__ for r in results})}")
    require(len(results) == len(betas), f"{len(results)} results for {len(betas)} discount factors")


def _unwrapped(function, args, kwargs):
    """The function a job ran and all its arguments, through ``functools.partial`` wrappers."""
    while isinstance(function, functools.partial):
        args, kwargs = function.args + tuple(args), {**function.keywords, **kwargs}
        function = function.func
    return function, args, kwargs


def _job_name(function):
    return getattr(function, "__qualname__", type(function).__name__)


def _bound_arguments(args, kwargs):
    """The arguments a job gave growth.solve_steady_capital, by name, defaults filled in."""
    try:
        arguments = inspect.signature(growth.solve_steady_capital).bind(*args, **kwargs)
    except TypeError as error:
        raise CheckFailed(f"a job called growth.solve_steady_capital with arguments it does not take ({error}): "
                          "give it one discount factor per job") from None
    arguments.apply_defaults()
    return arguments.arguments


def _require_solved_in_workers(pool, results, betas):
    """Every beta solved once by growth.solve_steady_capital in a worker, and those are the results."""
    jobs = [(call, *_unwrapped(call.function, call.args, call.kwargs)) for call in pool.calls]
    calls = [(call, args, kwargs) for call, function, args, kwargs in jobs
             if same_function(function, growth.solve_steady_capital)]
    others = sorted({_job_name(function) for _, function, _, _ in jobs
                     if not same_function(function, growth.solve_steady_capital)})
    names = notebook_names([call.function for call in pool.calls])
    require(not names, f"the workers were sent {', '.join(names)}, defined in the notebook: a worker started by "
                       "spawn or forkserver (Windows, macOS, Python 3.14 on Linux) cannot find it; hand the pool "
                       "growth.solve_steady_capital itself")
    require(calls or others, "nothing ran on the executor your function received: give the jobs to that executor "
                             "(not to a pool of your own, nor to a loop in this process)")
    require(calls, f"the executor ran {', '.join(others)}, not growth.solve_steady_capital")
    bound = [_bound_arguments(args, kwargs) for _, args, kwargs in calls]
    other_settings = sorted({f"{name}={value!r}" for arguments in bound for name, value in arguments.items()
                             if name != "beta" and value != MODEL_DEFAULTS[name]})
    require(not other_settings, f"the workers solved the models with {', '.join(other_settings)}: the exercise's "
                                "models are the ones growth.solve_steady_capital(beta) solves, with its own "
                                "grid and tolerance")
    solved = sorted((arguments["beta"] for arguments in bound), key=repr)
    require(solved == sorted(betas, key=repr), f"the workers solved the models for {solved}, but the betas given "
                                               f"were {sorted(betas)}: solve each of the betas the function "
                                               "receives, once")
    by_worker = {call.result for call, _, _ in calls if call.result is not None}
    require(os.getpid() not in {r.pid for r in results},
            "some results were computed in this notebook's process, not in the pool's workers")
    require(all(r in by_worker for r in results), "the results returned are not the ones the workers computed: "
                                                  "return what the pool hands back")


def check_beta_sweep(steady_capitals, mp_context=None):
    """Exercise 9.2: ``steady_capitals(executor, betas)`` solves one whole model per discount
    factor on ``executor`` and returns the results in the order of ``betas``. Run with the
    checker's own betas, on a pool whose jobs finish out of order (``mp_context``: the start
    method's context, default this process's default)."""
    betas = list(SWEEP_BETAS)
    with RecordingPool(2, delays=SWEEP_DELAYS, mp_context=mp_context) as pool:
        results = call_answer(steady_capitals, pool, list(betas), expected_signature=SWEEP_SIGNATURE)
    _require_results_shape(results, betas)
    _require_solved_in_workers(pool, results, betas)
    require([r.beta for r in results] == betas,
            "the results are not in the order of betas: the jobs finished in another order than they were "
            "given, and the list must follow betas")
    passed(f"{len(betas)} models, each solved once by growth.solve_steady_capital in a pool worker, returned in "
           "the order of the betas given")
