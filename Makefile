# Concurrency in Python: set-up, course and tests.
#   make lab    create the environment (first time only) and open the course in JupyterLab
#   make test   create the same environment and run every test
#   make check  is this machine ready? (Python, packages, cores, a measured pool; a few seconds)
# Other targets are for the course's developers and instructors; see README.md.

# Another Python, in its own environment: make test-notebooks PYTHON=python3.13 VENV=.venv-3.13
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 600
# The tests run in TEST_JOBS processes at once (pytest-xdist), each test file, and so each notebook,
# whole in one of them; TEST_JOBS=0 runs everything in this one process.
TEST_JOBS ?= 2
PARALLEL := -n $(TEST_JOBS) --dist loadfile
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: env lab check live test test-unit test-notebooks test-notebooks-spawn test-notebooks-forkserver execute data data-original student bench bench-quick site site-serve clean

# The Python version is checked first: outside the supported range pip's errors would mislead.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m helpers.setup_check --python-only
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt -e .
	touch $(STAMP)

env: $(STAMP)

# The test tools (requirements-test.txt) go into the same environment for `make test` only.
TEST_STAMP := $(VENV)/.test-installed
$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt -c constraints.txt
	touch $(TEST_STAMP)

LAB_DIR  ?= notebooks
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_DIR) $(LAB_ARGS)

# Is this machine ready for the course, and what speed-up can it give? (helpers/setup_check.py)
check: $(STAMP)
	$(BIN)/python -m helpers.setup_check

# Copies of the lessons with outputs and claim checks cleared, for live coding, in live/ (git-ignored).
live: $(STAMP)
	$(BIN)/python -m helpers.student --live notebooks live

test: test-unit test-notebooks test-notebooks-spawn test-notebooks-forkserver

test-unit: $(TEST_STAMP)
	$(BIN)/python -m pytest $(PARALLEL) tests

# The notebooks under the platform's default start method, then under spawn (Windows, macOS),
# then under forkserver (Linux's default from Python 3.14).
test-notebooks: $(TEST_STAMP)
	$(BIN)/python -m pytest $(PARALLEL) $(NBVAL) notebooks

test-notebooks-spawn: $(TEST_STAMP)
	COURSE_START_METHOD=spawn $(BIN)/python -m pytest $(PARALLEL) $(NBVAL) notebooks

test-notebooks-forkserver: $(TEST_STAMP)
	COURSE_START_METHOD=forkserver $(BIN)/python -m pytest $(PARALLEL) $(NBVAL) notebooks

# Re-execute every notebook top to bottom in a fresh kernel and save it with its outputs.
# Lesson 08 measures what Python 3.14 adds (interpreter pools), so it is saved executed on 3.14,
# from VENV_314 (built as .ci/run builds it; see README, "Supported Pythons").
VENV_314 ?= .venv-3.14
ON_314   := notebooks/08_types_of_concurrency.ipynb
execute: $(STAMP)
	@[ -x $(VENV_314)/bin/jupyter ] || { echo "make execute needs Python 3.14's environment in $(VENV_314) for $(ON_314)" >&2; exit 1; }
	for nb in $(NOTEBOOKS); do \
	  jupyter=$(BIN)/jupyter; [ $$nb = $(ON_314) ] && jupyter=$(VENV_314)/bin/jupyter; \
	  $$jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1200 $$nb || exit 1; \
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

# The course website, from the committed notebooks as they are (nothing re-run), into
# site/_build/html (git-ignored); README "The course on the web". Its packages (pinned in
# requirements-site.txt) go into the same environment on first use; site/fetch_js.py brings the
# widget and MathJax scripts from the npm registry once. Any Sphinx warning fails the build.
SITE_STAMP := $(VENV)/.site-installed
SITE_PORT  ?= 8000
$(SITE_STAMP): $(STAMP) requirements-site.txt
	$(BIN)/python -m pip install --quiet -r requirements-site.txt -c constraints.txt
	touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(BIN)/python site/fetch_js.py
	$(BIN)/sphinx-build -b html -c site -d site/_build/doctrees -E -a -W --keep-going -q . site/_build/html
	@echo "The site is in site/_build/html: open its index.html, or make site-serve"

site-serve: site
	$(BIN)/python -m http.server $(SITE_PORT) --bind 127.0.0.1 --directory site/_build/html

clean:
	rm -rf $(VENV) .pytest_cache live site/_build site/_vendor
