# The README's two promises: `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
DB ?= $(CURDIR)/eduverse.db

.PHONY: setup run test lint typecheck pytest schemas bench bench-core bench-grading bench-api clean

setup: $(STAMP)

# Re-install whenever the project's dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: setup
	EDUVERSE_STORAGE="sqlite:///$(DB)" $(BIN)/eduverse serve --host $(HOST) --port $(PORT)

test: setup lint typecheck pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy eduverse_core
	$(BIN)/mypy --strict webapp

pytest: setup
	$(BIN)/pytest

# Regenerate the JSON Schemas from the models (a test fails when they drift).
schemas: setup
	$(BIN)/eduverse schema --write

bench: bench-core bench-grading bench-api

bench-core: setup
	$(BIN)/python bench/bench_core.py

bench-grading: setup
	$(BIN)/python bench/bench_grading.py

bench-api: setup
	$(BIN)/python bench/bench_api.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
