# Two commands for a fresh machine with Python 3.11+:
#   make demo   - set everything up, write the demo assessment into ./demo and run it to PDF reports
#   make test   - set everything up, lint and type-check, and run the whole test suite (what CI runs)
# Installs come from requirements.lock (exact versions and hashes); `make lock` updates it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9
UV := $(BIN)/uv
# quiet, reproducible installs: the lock file is the whole truth, the project itself adds no dependencies
INSTALL := $(UV) pip install --quiet --python $(BIN)/python

.PHONY: setup demo test bench lint lock clean

$(STAMP): pyproject.toml requirements.lock scripts/system-deps.sh
	bash scripts/system-deps.sh
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) 2>&1 | grep -v "^WARNING: Location" || true
	$(INSTALL) --require-hashes -r requirements.lock
	$(INSTALL) --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@test -f demo/assessment.toml || $(BIN)/assess demo demo
	cd demo && ../$(BIN)/assess run
	@echo "Reports: demo/data/processed/reports/"

test: $(STAMP) lint
	bash scripts/run-tests.sh

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check assess flows tests benchmarks
	$(BIN)/ruff format --check assess flows tests benchmarks
	$(BIN)/mypy

# Re-resolve the pinned versions from pyproject.toml's ranges (then run `make test` and commit both files).
lock: $(STAMP)
	$(UV) pip compile pyproject.toml --extra test --python-version 3.11 --generate-hashes --quiet \
		--output-file requirements.lock

clean:
	rm -rf demo .pytest_cache
