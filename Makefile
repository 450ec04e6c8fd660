# Concurrency in Python: set-up, course and tests.
#   make lab    create the environment (first time only) and open the course in JupyterLab
#   make test   create the same environment and run every test
# Other targets are for the course's developers and instructors; see README.md.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 600
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: env lab test test-unit test-notebooks test-notebooks-spawn execute data data-original student bench bench-quick clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt -e .
	touch $(STAMP)

env: $(STAMP)

LAB_DIR  ?= notebooks
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_DIR) $(LAB_ARGS)

test: test-unit test-notebooks test-notebooks-spawn

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests

# The notebooks under the platform's default start method, then under spawn (Windows, macOS).
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

test-notebooks-spawn: $(STAMP)
	COURSE_START_METHOD=spawn $(BIN)/python -m pytest $(NBVAL) notebooks

# Re-execute every notebook top to bottom in a fresh kernel and save it with its outputs.
execute: $(STAMP)
	for nb in $(NOTEBOOKS); do \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1200 $$nb || exit 1; \
	done

# The simulated default panel (lesson 06), or the lecture's original zip downloaded on request.
data: $(STAMP)
	$(BIN)/python -m helpers.data simulate data

data-original: $(STAMP)
	$(BIN)/python -m helpers.data download data

# Student copies of the assignment notebooks (solutions replaced by exercises) in student/.
student: $(STAMP)
	$(BIN)/python -m helpers.student notebooks student

# Every speed claim of the course, measured on this machine; results/ holds the tables.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --out results

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick --out results/quick

clean:
	rm -rf $(VENV) .pytest_cache
