# mltui: the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install demo run test test-unit lint format bench screenshots engine clean

$(BIN)/mltui: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

install: $(BIN)/mltui

# Start a Docker engine where none answers (root), as a one-node swarm.
engine:
	tools/engine-up

# Builds the offline demo's images if missing, deploys it, waits until it is
# ready, then opens mltui on it. `mltui demo down` removes it.
demo: install engine
	$(BIN)/mltui demo up

run: install
	$(BIN)/mltui

# The whole suite against a real engine (started here if needed).
test: install engine
	$(BIN)/pytest -q

test-unit: install
	$(BIN)/pytest -q tests/unit

lint: install
	$(BIN)/ruff check src tests bench tools stacks
	$(BIN)/ruff format --check src tests bench stacks
	$(BIN)/mypy

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
