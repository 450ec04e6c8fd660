"""Checkers for lesson 07's exercises: a loop-heavy daily statistic (bipower variation) compiled
with Numba, then run on every core with ``prange``.

The checkers call the student's function on arrays of their own, with returns drawn afresh on
every check (so that no answer can be computed ahead from the checker's data). 7.1: the function
must be a Numba dispatcher that runs no block in object mode (``with numba.objmode``, which would
hand the work back to the interpreter), compile for those arrays and match the pandas version on
days of different lengths. 7.2 also needs ``parallel=True`` and a ``prange`` loop that Numba made parallel and that does
the work (its body reads the returns, and no addition into the result that reads them stands
outside it), and no race: two threads adding into the same cell of the result at once lose additions. The evidence
for a race is the function's own behaviour on long days, where threads overlap for long enough
to collide: the result on all of Numba's threads differs from the one-thread result by far more
than a float sum taken in another order can (a reduction over a ``prange`` loop adds its
threads' shares in an order that depends on the number of threads, which changes only the last
bits). Where the machine has a single Numba thread, or a run happens to show no collision, the
loop's source still tells: an addition into a cell of an array made outside the ``prange``
loop, at an index that does not depend on the loop's variable, is made by every iteration.
"""

import ast
import inspect
import textwrap

import numba
import numpy as np
import pandas as pd

from helpers.checks import CheckFailed, passed, require
from helpers.compiled import bipower_variation, numba_threads, returns_to_arrays

DAY_LENGTHS = (7, 3, 12, 5)  # uneven, so a loop that assumes equal days goes wrong
RACE_DAYS, RACE_ROWS_PER_DAY = 20, 50_000  # long days: threads sharing one overlap for milliseconds
RACE_RUNS = 20  # runs on all threads, stopped at the first one that differs
REORDERING = 1e-9  # relative: far above what reordering a float sum changes, far below a lost addition
SIGNATURE = "function(values, offsets)"


def sample_returns(day_lengths=DAY_LENGTHS, n_stocks=3, seed=None):
    """A small returns panel with days of different lengths, as the lesson's functions expect
    (``seed=None``: fresh random returns on every call)."""
    rng = np.random.default_rng(seed)
    times = [pd.Timestamp("2007-01-03 09:31") + pd.Timedelta(days=d, minutes=m)
             for d, n in enumerate(day_lengths) for m in range(n)]
    return pd.DataFrame(rng.normal(0, 1e-3, (len(times), n_stocks)), index=pd.DatetimeIndex(times, name="time"),
                        columns=[f"S{k}" for k in range(n_stocks)])


def race_arrays(seed=8):
    """``values`` and ``offsets`` of one stock over long days, where a race shows."""
    values = np.random.default_rng(seed).normal(0, 1e-3, (RACE_DAYS * RACE_ROWS_PER_DAY, 1))
    return values, np.arange(0, len(values) + 1, RACE_ROWS_PER_DAY, dtype=np.int64)


def _call(function, values, offsets):
    """``function(values, offsets)``, with a hint instead of a traceback when it fails."""
    try:
        return function(values, offsets)
    except numba.core.errors.NumbaError as error:
        first_line = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
        raise CheckFailed("Numba could not compile your function for the checker's arrays (values: 2-D float64, "
                          f"offsets: 1-D int64): {first_line} Use only NumPy arrays, numbers and loops inside "
                          "it.") from None
    except TypeError as error:
        raise CheckFailed(f"The checker calls your function as {SIGNATURE}, and it failed: {error}") from None
    except Exception as error:  # noqa: BLE001 - any other failure of the answer is reported, not raised
        raise CheckFailed(f"Your function raised {type(error).__name__}: {error}") from None


def _across_days(values):
    """The wrong answer that runs the pairs over the whole series, day boundaries included."""
    pairs = np.abs(values[1:]) * np.abs(values[:-1])
    return np.pi / 2 * np.vstack([np.zeros((1, values.shape[1])), pairs])


def _check_values(function, returns):
    """Call ``function(values, offsets)`` on ``returns`` and compare with the pandas version."""
    values, offsets, _ = returns_to_arrays(returns)
    expected = bipower_variation(returns).to_numpy()
    got = _call(function, values, offsets)
    require(isinstance(got, np.ndarray), f"the function returned a {type(got).__name__}: return a NumPy array")
    require(got.shape == expected.shape, f"the result has shape {got.shape}; it needs one row per day and one "
                                         f"column per stock, {expected.shape}")
    if np.allclose(got, expected, rtol=1e-10, atol=0):
        return
    require(np.any(got != 0), "the result is all zeros: nothing was added up")
    with_boundaries = np.add.reduceat(_across_days(values), offsets[:-1], axis=0)
    require(not np.allclose(got, with_boundaries, rtol=1e-10, atol=0),
            "the first return of a day is paired with the last return of the day before: start each day's "
            "pairs at its second row")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = got / expected
    require(not np.allclose(ratio, ratio.flat[0], rtol=1e-10),
            "every value is off by the same factor: check the constant in front of the sum")
    raise CheckFailed("wrong values: compare one day by hand with bipower_variation's definition "
                      "(absolute values of consecutive returns of the same day)")


def _require_compiled(function):
    require(callable(function), f"Pass your function itself, without parentheses: the checker calls it as "
                                f"{SIGNATURE}. Got {type(function).__name__}.")
    require(isinstance(function, numba.core.dispatcher.Dispatcher),
            f"{getattr(function, '__name__', function)} is not compiled: decorate it with Numba's @njit")
    require(not function.targetoptions.get("forceobj"),
            "forceobj=True leaves the function to the Python interpreter (object mode): decorate it with @njit")


def _code_names(code):
    """Every global or attribute name ``code`` and the functions defined inside it use."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if inspect.iscode(constant):
            names |= _code_names(constant)
    return names


def _dispatchers_called(function):
    """The Numba functions ``function``'s source can call: those among its globals and closure."""
    python = function.py_func
    found = [python.__globals__.get(name) for name in _code_names(python.__code__)]
    for cell in python.__closure__ or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:  # a cell not filled yet
            pass
    return [f for f in found if isinstance(f, numba.core.dispatcher.Dispatcher)]


def uses_object_mode(function, seen=None):
    """Whether ``function``, as compiled so far, or a Numba function it calls runs a block in
    object mode (``with numba.objmode(...)``: Numba lifts the block out and leaves it to the
    Python interpreter)."""
    seen = set() if seen is None else seen
    if id(function) in seen:
        return False
    seen.add(id(function))
    if any(getattr(result, "lifted", ()) for result in function.overloads.values()):
        return True
    return any(uses_object_mode(called, seen) for called in _dispatchers_called(function))


def _require_no_object_mode(function):
    require(not uses_object_mode(function),
            "part of your function runs in object mode (with numba.objmode): that part is left to the Python "
            "interpreter, as slow as without Numba. Write the loops in compiled code")


def check_bipower(function):
    """Exercise 7.1: a compiled ``function(values, offsets)`` giving pandas' bipower variation."""
    _require_compiled(function)
    _check_values(function, sample_returns())
    _require_no_object_mode(function)
    passed("compiled by Numba, the bipower variation matches the pandas version on days of different lengths")


def prange_loop_count(function, *args):
    """How many ``prange`` loops Numba turned into parallel loops when it compiled ``function``
    (array expressions it parallelises on its own, such as ``np.zeros``, not counted). A version
    loaded from Numba's on-disk cache (``cache=True``) keeps no record of that, so then an
    uncached copy is compiled for ``args`` and counted."""
    results = [result for result in function.overloads.values() if result.metadata is not None]
    if not results:
        copy = numba.njit(**{k: v for k, v in function.targetoptions.items() if k != "nopython"})(function.py_func)
        copy(*args)
        results = list(copy.overloads.values())
    diagnostics = [result.metadata.get("parfor_diagnostics") for result in results]
    return sum(1 for found in diagnostics if found is not None for parfor in found.initial_parfors
               for pattern in parfor.patterns if isinstance(pattern, tuple) and pattern[0] == "prange")


def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_prange(call):
    return isinstance(call, ast.Call) and (getattr(call.func, "id", None) == "prange"
                                           or getattr(call.func, "attr", None) == "prange")


def _assignments(loop):
    """(targets, value) of every assignment inside ``loop``'s body (or a function's), inner loops'
    variables included."""
    found = []
    for node in (n for statement in loop.body for n in ast.walk(statement)):
        if isinstance(node, ast.Assign):
            found += [(target, node.value) for target in node.targets]
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            found.append((node.target, node.value))
        elif isinstance(node, ast.For):
            found.append((node.target, node.iter))
    return found


def _element_reads(node):
    """The names ``node`` uses other than for an array's size (``x.shape``, ``x.size``,
    ``x.ndim``, ``len(x)``): the arrays whose values it reads."""
    sizes = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr in ("shape", "size", "ndim") and isinstance(n.value, ast.Name):
            sizes.add(id(n.value))
        elif isinstance(n, ast.Call) and getattr(n.func, "id", None) == "len":
            sizes |= {id(a) for a in n.args if isinstance(a, ast.Name)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in sizes}


def _computed_from(names, assignments, uses=_names):
    """``names`` and every name assigned from an expression that uses one of them (``uses``
    tells which names an expression uses), directly or through other such names."""
    depends = set(names)
    while True:
        more = {name for target, value in assignments if not isinstance(target, ast.Subscript)
                and uses(value) & depends for name in _names(target)} - depends
        if not more:
            return depends
        depends |= more


def _updates_a_cell(node):
    """The cell ``node`` adds into: ``array[index] += ...``, or ``array[index] = ...`` whose value
    reads ``array[index]`` itself (the same read-add-write); None for any other statement."""
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
        return node.target
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
        cell = ast.dump(node.targets[0].value), ast.dump(node.targets[0].slice)
        if any(isinstance(n, ast.Subscript) and (ast.dump(n.value), ast.dump(n.slice)) == cell
               for n in ast.walk(node.value)):
            return node.targets[0]
    return None


def _additions_into_cells(loop):
    """(array name, names in the index, text) of every addition into a cell of an array inside
    ``loop`` (see :func:`_updates_a_cell`)."""
    found = []
    for node in (n for statement in loop.body for n in ast.walk(statement)):
        target = _updates_a_cell(node)
        if target is not None:
            base, indices = target, set()
            while isinstance(base, ast.Subscript):  # out[d][k] as well as out[d, k]
                indices |= _names(base.slice)
                base = base.value
            if isinstance(base, ast.Name):
                found.append((base.id, indices, ast.unparse(target)))
    return found


def _source_tree(function):
    """The parsed source of a Numba function's Python function, or None when it cannot be read."""
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function.py_func)))
    except (OSError, TypeError, SyntaxError):
        return None


def _prange_loops(tree):
    return [n for n in ast.walk(tree) if isinstance(n, ast.For) and _is_prange(n.iter)]


def idle_prange_loops(function):
    """Whether every ``prange`` loop of ``function``'s source leaves the returns alone: no name
    its body uses is the first parameter (``values``) or computed from it, so the loop on
    Numba's threads does none of the work. False when the source cannot be read."""
    tree = _source_tree(function)
    definitions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)] if tree else []
    if not definitions or not definitions[0].args.args:
        return False
    definition = definitions[0]
    data = _computed_from({definition.args.args[0].arg}, _assignments(definition))
    loops = _prange_loops(tree)
    return bool(loops) and not any(_names(ast.Module(body=loop.body, type_ignores=[])) & data for loop in loops)


def serial_additions(function):
    """The additions into a cell of an array (see :func:`_updates_a_cell`) that read the returns
    (the first parameter, or a name computed from it) and stand outside every ``prange`` loop of
    ``function``'s source: work left to one thread next to the parallel loop. Empty when the
    source cannot be read."""
    tree = _source_tree(function)
    definitions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)] if tree else []
    if not definitions or not definitions[0].args.args:
        return []
    definition = definitions[0]
    data = _computed_from({definition.args.args[0].arg}, _assignments(definition), _element_reads)
    in_parallel = {id(n) for loop in _prange_loops(definition) for statement in loop.body for n in ast.walk(statement)}
    return [ast.unparse(target) for node in ast.walk(definition) if id(node) not in in_parallel
            for target in [_updates_a_cell(node)] if target is not None and _element_reads(node.value) & data]


def shared_cell_additions(function):
    """The additions inside a ``prange`` loop of ``function``'s source into a cell that every
    iteration adds to: ``array[index] += ...`` where ``array`` is made outside the loop and no
    part of ``index`` depends on the loop's variable. Empty when the source cannot be read."""
    tree = _source_tree(function)
    if tree is None:
        return []
    found = []
    for loop in _prange_loops(tree):
        assignments = _assignments(loop)
        made_inside = {name for target, _ in assignments if not isinstance(target, ast.Subscript)
                       for name in _names(target)}
        depends = _computed_from(_names(loop.target), assignments)
        found += [text for array, indices, text in _additions_into_cells(loop)
                  if array not in made_inside and not indices & depends]
    return found


def _race_hint(where):
    return (f"{where}: two threads add into the same cell of the result at the same moment and one of the "
            "additions is lost (a race). Parallelise a loop whose iterations never write the same cell.")


def check_bipower_parallel(function):
    """Exercise 7.2: the same statistic with a loop run on Numba's threads (``parallel=True`` and a
    ``prange`` that Numba made parallel and that reads the returns), right on one thread, and without a race: on long days
    the result on all threads equals the one-thread result up to the order of float additions."""
    _require_compiled(function)
    require(function.targetoptions.get("parallel"), "not parallel: compile it with parallel=True")
    returns = sample_returns()
    with numba_threads(1):
        _check_values(function, returns)
    _require_no_object_mode(function)
    require(prange_loop_count(function, *returns_to_arrays(returns)[:2]) > 0,
            "not parallel: Numba found no loop to split over threads; write one of the loops with prange")
    require(not idle_prange_loops(function),
            "your prange loop does none of the work (its body never reads the returns), so the threads have "
            "nothing to share: turn one of the loops that add up the result into the prange")
    serial = serial_additions(function)
    require(not serial, f"your function adds into {serial[0] if serial else ''} outside its prange loop: that work "
                        "runs on one thread, and the prange shares none of it. Turn one of the loops that add up "
                        "the result into the prange")
    shared = shared_cell_additions(function)
    require(not shared, _race_hint(f"every iteration of your prange loop adds into {shared[0]}" if shared else ""))
    values, offsets = race_arrays()
    with numba_threads(1):
        one_thread = _call(function, values, offsets)
    if numba.get_num_threads() > 1:
        for _ in range(RACE_RUNS):
            on_all = _call(function, values, offsets)
            lost = int(np.sum(~np.isclose(on_all, one_thread, rtol=REORDERING, atol=0, equal_nan=True)))
            require(lost == 0, _race_hint(f"on long days, {lost} of the {one_thread.size} results on "
                                          f"{numba.get_num_threads()} threads differ from the one-thread run"))
    passed("compiled with parallel=True and a prange loop, right on one thread, and on long days the same on "
           "all of Numba's threads as on one (no two threads add into the same cell)")
