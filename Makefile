# Two commands for a fresh machine: `make demo` and `make test`. Both set everything up first and
# are idempotent: stamps make a second run skip every install.
PYTHON ?= python3
PYTEST_WORKERS ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: setup system-deps demo test lint typecheck imports unit bench clean doctor

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# PostgreSQL and chromium for the store and dashboard suites (installs only what is missing).
system-deps:
	scripts/system-deps.sh

demo: setup
	$(BIN)/bulwark demo

doctor: setup
	$(BIN)/bulwark doctor

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

imports: setup
	$(BIN)/lint-imports

unit: setup system-deps
	# Two workers, a test file each: most tests wait on anvil, solc or a server, so two files at a
	# time roughly halve the run on a 2-core machine. `PYTEST_WORKERS=0 make unit` runs serially.
	# The slowest tests are listed at the end: CI time is a budget, and this shows where it goes.
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=25

test: lint typecheck imports unit

bench: setup
	$(BIN)/python bench/toolchain.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
