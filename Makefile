# mltui: the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install demo run test test-unit test-snapshot-update check lint format bench screenshots engine setup-demo setup-test clean

# Debian packages the quick start needs, installed where missing (as root; otherwise
# tools/setup prints the one command to run).
setup-demo:
	tools/setup demo

setup-test:
	tools/setup test

$(BIN)/mltui: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

install: $(BIN)/mltui

# Start a Docker engine where none answers (root), as a one-node swarm.
engine: setup-demo
	tools/engine-up

# Builds the offline demo's images if missing, deploys it, waits until it is
# ready, then opens mltui on it. `mltui demo down` removes it.
demo: setup-demo install engine
	$(BIN)/mltui demo up

run: install
	$(BIN)/mltui

# The whole suite against a real engine (started here if needed); the images it
# runs are built first, once per machine (a bare one: several minutes).
test: setup-test install engine
	$(PY) tests/testimages.py
	$(BIN)/pytest -q

# Rewrite the SVG snapshots after a deliberate change of a screen (look at them first:
# snapshot_report.html shows the old and the new side by side).
test-snapshot-update: install
	$(BIN)/pytest -q tests/ui/test_snapshots.py tests/ui/test_interaction_snapshots.py --snapshot-update

test-unit: install
	$(BIN)/pytest -q tests/unit

# ruff, mypy (strict on core, checked on ui and cli) and the import-linter layer contracts
lint: install
	$(BIN)/ruff check src tests bench tools stacks
	$(BIN)/ruff format --check src tests bench stacks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Everything that needs neither the engine nor the real model servers (the linters,
# unit tests, UI tests on the recorded engine), for a quick answer before `make test`.
check: lint
	$(BIN)/pytest -q -m "not engine and not servers"

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install engine
	$(PY) bench/inventory.py
	$(PY) bench/logs.py --minute

screenshots: install engine
	$(BIN)/mltui demo up --detach
	$(PY) tools/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
