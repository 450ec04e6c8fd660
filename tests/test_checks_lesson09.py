"""Lesson 09's checkers: the worked solutions pass, typical wrong answers get their hint."""
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest

from helpers import growth
from helpers.checks import CheckFailed
from helpers.checks.lesson09 import CLOSED_FORM, check_beta_sweep, check_closed_form, closed_form_gap

BETAS = [0.9, 0.95, 0.97]


@pytest.fixture(scope="module")
def log_solution():
    return growth.solve_vfi_numba(CLOSED_FORM, n_points=100, tol=1e-8)


@pytest.fixture(scope="module")
def pooled():
    with ProcessPoolExecutor(max_workers=2) as executor:
        return list(executor.map(growth.solve_steady_capital, BETAS))


def test_the_worked_closed_form_passes(log_solution, capsys):
    check_closed_form(log_solution, closed_form_gap(log_solution))
    assert capsys.readouterr().out.startswith("Correct:")


def test_closed_form_mistakes_get_their_hint(log_solution):
    gap = closed_form_gap(log_solution)
    default_model = growth.solve_vfi_numba(growth.Params(), n_points=100, tol=1e-8)
    unconverged = growth.solve_vfi_numba(CLOSED_FORM, n_points=100, tol=1e-2)
    coarse = growth.solve_vfi_numba(CLOSED_FORM, n_points=8, tol=1e-8)
    cases = [((default_model, gap), "sigma = 1 and delta = 1"),
             ((unconverged, gap), "not converged"),
             ((coarse, closed_form_gap(coarse)), "too few grid points"),
             ((log_solution, gap * 2), "largest relative gap"),
             ((log_solution, [gap]), "one number"),
             ((log_solution.policy, gap), "store what the solver returns")]
    for answer, hint in cases:
        with pytest.raises(CheckFailed, match=hint):
            check_closed_form(*answer)


def test_the_worked_sweep_passes(pooled, capsys):
    check_beta_sweep(pooled, BETAS)
    assert capsys.readouterr().out.startswith("Correct:")


def test_sweep_mistakes_get_their_hint(pooled):
    serial = [growth.solve_steady_capital(beta) for beta in BETAS]
    unconverged = [replace(r, capital=r.capital * 1.2) for r in pooled]
    cases = [((serial, BETAS), "not parallel"),
             ((pooled[::-1], BETAS), "not in the order"),
             ((pooled[:2], BETAS), "2 results for 3"),
             ((unconverged, BETAS), "far from the steady state"),
             (([r.capital for r in pooled], BETAS), "list of what")]
    for answer, hint in cases:
        with pytest.raises(CheckFailed, match=hint):
            check_beta_sweep(*answer)
