"""Lesson 09: value function iteration is right (closed form, Euler equation, steady state) and
the three solvers agree."""
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from helpers import growth as g


def test_steady_state_satisfies_the_euler_equation_at_rest():
    p = g.Params()
    k = g.steady_state(p)
    assert p.beta * (p.alpha * k ** (p.alpha - 1) + 1 - p.delta) == pytest.approx(1.0)


@pytest.mark.parametrize("solver", [g.solve_vfi, g.solve_vfi_numba])
def test_closed_form_with_log_utility_and_full_depreciation(solver):
    p = g.Params(sigma=1.0, delta=1.0)
    solution = solver(p, n_points=80, tol=1e-7)
    exact = p.alpha * p.beta * solution.grid**p.alpha
    assert np.all((exact > solution.grid[0]) & (exact < solution.grid[-1]))  # between k and k*: inside the grid
    assert np.max(np.abs(solution.policy / exact - 1)) < 0.01  # linear interpolation error


def test_log_utility_is_the_limit_of_crra_utility_at_sigma_one():
    c = np.array([0.3, 1.0, 2.5])
    assert np.allclose(g.utility(c, 1 + 1e-7), np.log(c), atol=1e-6)
    assert np.allclose(g.utility(c, 1 - 1e-7), np.log(c), atol=1e-6)
    assert np.array_equal(g.utility(c, 1.0), np.log(c))


def test_the_three_solvers_agree():
    p = g.Params()
    loops = g.solve_vfi(p, n_points=40, tol=1e-5)
    compiled = g.solve_vfi_numba(p, n_points=40, tol=1e-5)
    with ProcessPoolExecutor(2) as executor:
        pooled = g.solve_vfi(p, n_points=40, tol=1e-5, executor=executor, n_chunks=3)
    np.testing.assert_array_equal(pooled.value, loops.value)  # same code, same order of work
    assert np.max(np.abs(compiled.value - loops.value)) < 1e-6
    assert np.max(np.abs(compiled.policy - loops.policy)) < 1e-5
    assert len(compiled.distances) == len(loops.distances)


def test_value_iteration_converges_and_the_policy_is_sensible():
    p = g.Params()
    solution = g.solve_vfi_numba(p, n_points=100, tol=1e-6)
    assert solution.distances[-1] < 1e-6 and np.all(np.diff(solution.distances) <= 1e-12)
    assert np.all(np.diff(solution.policy) > 0) and np.all(solution.consumption > 0)
    k_star = g.steady_state(p)
    crossing = np.interp(0.0, solution.grid - solution.policy, solution.grid)
    assert crossing == pytest.approx(k_star, rel=0.02)  # k'(k) = k at the steady state
    assert np.nanmax(g.euler_errors(solution, p)) < -1.5


def test_steady_capital_is_the_formula_and_names_its_process():
    import os
    result = g.solve_steady_capital(0.9, n_points=100)
    assert result.beta == 0.9 and result.pid == os.getpid()
    assert result.capital == pytest.approx(g.steady_state(g.Params(beta=0.9)), rel=0.02)
    assert g.solve_steady_capital(0.97).capital > result.capital  # more patient, more capital
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        g.solve_steady_capital(1.0)


def test_one_more_compiled_update_of_a_solution_is_its_next_iteration():
    p = g.Params()
    solution = g.solve_vfi_numba(p, n_points=50, tol=1e-6)
    one_more = g.solve_vfi_numba(p, n_points=50, tol=0.0, max_iter=len(solution.distances) + 1)
    value, policy = g.bellman_update_numba(solution.grid, solution.value, p)
    np.testing.assert_array_equal(value, one_more.value)
    np.testing.assert_array_equal(policy, one_more.policy)
    assert np.max(np.abs(value - solution.value)) < p.beta * solution.distances[-1] * 1.01  # a contraction
