# The README's two promises: `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
DB ?= $(CURDIR)/eduverse.db

NPM ?= npm
ASSETS := webapp/static/build/manifest.json
ASSET_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/build.mjs frontend/package-lock.json
NODE_STAMP := frontend/node_modules/.installed-stamp
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup run test lint typecheck pytest schemas assets browser bench bench-core bench-grading bench-api bench-firestore bench-web fuzz soak screenshots clean

setup: $(STAMP) assets

# Re-install whenever the project's dependency list changes.
$(STAMP): pyproject.toml plugins/eduverse-firestore/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet -e plugins/eduverse-firestore
	@touch $(STAMP)

# The browser app: npm packages (locked), then esbuild bundles into webapp/static/build/.
assets: $(ASSETS)

$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

$(ASSETS): $(NODE_STAMP) $(ASSET_SOURCES)
	cd frontend && node build.mjs

# Debian's chromium for the browser tests (apt, as root in CI); Playwright only drives it.
browser:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "chromium is missing and could not be installed" >&2; exit 1; }

run: setup
	EDUVERSE_STORAGE="sqlite:///$(DB)" $(BIN)/eduverse serve --host $(HOST) --port $(PORT)

test: setup browser lint typecheck pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy eduverse_core
	$(BIN)/mypy --strict webapp
	$(BIN)/mypy --strict plugins/eduverse-firestore/eduverse_firestore plugins/eduverse-firestore/tests

pytest: setup browser
	$(BIN)/pytest
	$(BIN)/pytest plugins/eduverse-firestore/tests

# The API fuzzer for longer than make test runs it (same test, more examples per operation).
fuzz: setup
	EDUVERSE_FUZZ_EXAMPLES=$${EDUVERSE_FUZZ_EXAMPLES:-300} $(BIN)/pytest -q tests/test_fuzz_api.py

# Ten minutes of steady load at half the measured maximum (make test runs one minute of it).
soak: setup
	EDUVERSE_SOAK_SECONDS=$${EDUVERSE_SOAK_SECONDS:-600} $(BIN)/pytest -q -s tests/reliability/test_soak.py

# PNGs of every main page, desktop and phone, for the README (docs/screenshots/); the Korean
# pages need a CJK font in Chromium (Debian's fonts-noto-cjk, installed here if missing).
screenshots: setup browser
	@fc-list :lang=ko | grep -q . || { \
	  echo "installing Debian's fonts-noto-cjk for the Korean screenshots"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }
	$(BIN)/python tools/screenshots.py

# Regenerate the JSON Schemas from the models (a test fails when they drift).
schemas: setup
	$(BIN)/eduverse schema --write

bench: bench-core bench-grading bench-api bench-firestore bench-web

bench-core: setup
	$(BIN)/python bench/bench_core.py

bench-grading: setup
	$(BIN)/python bench/bench_grading.py

bench-api: setup
	$(BIN)/python bench/bench_api.py

bench-firestore: setup
	$(BIN)/python bench/bench_firestore.py

bench-web: setup browser
	$(BIN)/python bench/bench_web.py

clean:
	rm -rf $(VENV) frontend/node_modules webapp/static/build build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
