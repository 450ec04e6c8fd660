"""Lesson 09's checkers: the worked solutions pass; each kind of wrong answer (wrong model, too
loose a tolerance, a wrong gap; for the sweep: serial, a pool of its own, hard-coded, fabricated,
out of order, empty or wrongly shaped, functions a worker cannot receive) gets its hint. The
sweep's answers run on the checker's recording pool under fork and under spawn."""
import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace

import numpy as np
import pytest

from helpers import growth
from helpers.checks import CheckFailed
from helpers.checks.lesson09 import (CLOSED_FORM, TOLERANCE, check_beta_sweep, check_closed_form,
                                     closed_form_gap)

METHODS = ["fork", "spawn"]
LESSON_BETAS = [0.90, 0.92, 0.94, 0.96, 0.98]


@pytest.fixture(scope="module")
def log_solution():
    return growth.solve_vfi_numba(CLOSED_FORM, n_points=100, tol=TOLERANCE)


def test_the_worked_closed_form_passes(log_solution, capsys):
    check_closed_form(log_solution, closed_form_gap(log_solution))
    assert capsys.readouterr().out.startswith("Correct:")


def test_every_exact_policy_lies_inside_the_grid(log_solution):
    exact = CLOSED_FORM.alpha * CLOSED_FORM.beta * log_solution.grid**CLOSED_FORM.alpha
    assert np.all((exact > log_solution.grid[0]) & (exact < log_solution.grid[-1]))


def test_closed_form_mistakes_get_their_hint(log_solution):
    gap = closed_form_gap(log_solution)
    exact = CLOSED_FORM.alpha * CLOSED_FORM.beta * log_solution.grid**CLOSED_FORM.alpha
    relative = log_solution.policy / exact - 1
    cases = [
        ((growth.solve_vfi_numba(growth.Params(), n_points=100, tol=TOLERANCE), gap), "sigma = 1 and delta = 1"),
        ((growth.solve_vfi_numba(growth.Params(sigma=2.0, delta=1.0), n_points=100, tol=TOLERANCE), gap),
         "not the one of log utility"),
        ((growth.solve_vfi_numba(CLOSED_FORM, n_points=100, tol=1e-6), gap), "less than 1e-08"),
        ((growth.solve_vfi_numba(CLOSED_FORM, n_points=50, tol=TOLERANCE), gap), "solve on 100"),
        ((log_solution, float(np.max(relative))), "signed"),
        ((log_solution, float(np.max(np.abs(log_solution.policy - exact)))), "absolute difference"),
        ((log_solution, float(np.mean(np.abs(relative)))), "an average"),
        ((log_solution, gap * 2), "not the largest relative gap"),
        ((log_solution, 6.9e-03), "not the largest relative gap"),  # typed in from a printout
        ((log_solution, [gap]), "one number"),
        ((log_solution, "0.0069"), "one number"),
        ((log_solution.policy, gap), "store what the solver returns"),
        ((replace(log_solution, distances=[]), gap), "not converged"),
        # converged to 1e-6 only, with a last distance appended to its list: the value function tells
        ((lambda loose: (replace(loose, distances=loose.distances + [1e-9]), closed_form_gap(loose)))(
            growth.solve_vfi_numba(CLOSED_FORM, n_points=100, tol=1e-6)), "one more iteration would still change"),
        ((replace(log_solution, policy=exact), 0.0), "not the one of log utility"),  # the closed form typed in
        ((growth.Solution(None, None, None, None), gap), "store what the solver returns"),
        ((replace(log_solution, policy=log_solution.policy[:50]), gap), "shapes"),
        ((replace(log_solution, distances=["small"]), gap), "arrays of numbers"),
    ]
    for answer, hint in cases:
        with pytest.raises(CheckFailed, match=hint):
            check_closed_form(*answer)


# Answers to 9.2: the student's function, called by the checker with its pool and its betas.

def by_map(executor, betas):
    return list(executor.map(growth.solve_steady_capital, betas))


def by_futures_in_order(executor, betas):
    futures = [executor.submit(growth.solve_steady_capital, beta) for beta in betas]
    return [future.result() for future in futures]


def by_futures_put_back(executor, betas):
    futures = {executor.submit(growth.solve_steady_capital, beta): i for i, beta in enumerate(betas)}
    results = [None] * len(betas)
    for future in as_completed(futures):
        results[futures[future]] = future.result()
    return results


def as_they_finish(executor, betas):
    futures = [executor.submit(growth.solve_steady_capital, beta) for beta in betas]
    return [future.result() for future in as_completed(futures)]


def serial(executor, betas):
    return [growth.solve_steady_capital(beta) for beta in betas]


def own_pool(executor, betas):
    with ProcessPoolExecutor(2) as mine:
        return list(mine.map(growth.solve_steady_capital, betas))


def hard_coded(executor, betas):
    return list(executor.map(growth.solve_steady_capital, LESSON_BETAS[:len(betas)]))


def fabricated(executor, betas):
    list(executor.map(growth.solve_steady_capital, betas))  # the pool runs, its results are dropped
    return [growth.solve_steady_capital(beta) for beta in betas]


def twice_each(executor, betas):
    list(executor.map(growth.solve_steady_capital, betas))
    return list(executor.map(growth.solve_steady_capital, betas))


def through_a_partial(executor, betas):
    return list(executor.map(functools.partial(growth.solve_steady_capital, n_points=100), betas))


def coarser_models(executor, betas):
    return list(executor.map(functools.partial(growth.solve_steady_capital, n_points=10, tol=1e-2), betas))


def arguments_it_does_not_take(executor, betas):
    for beta in betas:
        executor.submit(growth.solve_steady_capital, beta, 100, 1e-6, "extra")  # never asks for the result
    return by_map(executor, betas)


def through_a_lambda(executor, betas):
    return list(executor.map(lambda beta: growth.solve_steady_capital(beta), betas))


def wrapped(beta):
    return growth.solve_steady_capital(beta)


def through_a_wrapper(executor, betas):
    return list(executor.map(wrapped, betas))


def one_parameter(betas):
    return betas


@pytest.fixture(params=METHODS)
def context(request):
    return multiprocessing.get_context(request.param)


@pytest.mark.parametrize("answer", [by_map, by_futures_in_order, by_futures_put_back, through_a_partial])
def test_right_sweeps_pass(answer, context, capsys):
    check_beta_sweep(answer, mp_context=context)
    assert capsys.readouterr().out.startswith("Correct: 4 models, each solved once")


@pytest.mark.parametrize("answer, hint", [
    (as_they_finish, "not in the order of betas"),
    (through_a_lambda, "cannot be pickled"),
    (through_a_wrapper, "not growth.solve_steady_capital"),
])
def test_pool_mistakes_get_their_hint_under_every_start_method(answer, hint, context):
    with pytest.raises(CheckFailed, match=hint):
        check_beta_sweep(answer, mp_context=context)


@pytest.mark.parametrize("answer, hint", [
    (serial, "nothing ran on the executor"),
    (own_pool, "nothing ran on the executor"),
    (hard_coded, "but the betas given were"),
    (fabricated, "computed in this notebook's process"),
    (twice_each, "once"),
    (coarser_models, "with n_points=10, tol=0.01"),
    (arguments_it_does_not_take, "arguments it does not take"),
    (lambda executor, betas: [], "empty list"),
    (lambda executor, betas: None, "NoneType"),
    (lambda executor, betas: executor.map(growth.solve_steady_capital, betas), "iterator"),
    (lambda executor, betas: [r.capital for r in by_map(executor, betas)], "it holds .'float'."),
    (lambda executor, betas: {r.beta: r for r in by_map(executor, betas)}, "returned dict"),
    (lambda executor, betas: by_map(executor, betas)[:2], "2 results for 4"),
    (one_parameter, r"calls your function as steady_capitals\(executor, betas\)"),
    ("capitals", "Pass your function itself"),
])
def test_sweep_mistakes_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_beta_sweep(answer, mp_context=multiprocessing.get_context("fork"))
