# The two commands: `make demo` runs claimwatch end to end on the bundled demo; `make test` runs the suite.
# Both create the virtual environment (.venv) themselves on first use. `make test-fast` is the inner
# loop: lint, the layer contracts and every test not marked slow, in under a minute.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint venv clean

$(BIN)/claimwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/claimwatch

venv: $(BIN)/claimwatch

demo: venv
	$(BIN)/claimwatch demo

test: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

test-fast: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -m "not slow"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
