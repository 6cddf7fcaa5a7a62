# Two commands for a fresh machine with Python 3.11+:
#   make demo   - set everything up, write the demo assessment into ./demo and run it to PDF reports
#   make test   - set everything up and run the whole test suite (what CI runs)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench lint clean

$(STAMP): pyproject.toml scripts/system-deps.sh
	bash scripts/system-deps.sh
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@test -f demo/assessment.toml || $(BIN)/assess demo demo
	cd demo && ../$(BIN)/assess run
	@echo "Reports: demo/data/processed/reports/"

test: $(STAMP)
	bash scripts/run-tests.sh

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check assess flows tests

clean:
	rm -rf demo .pytest_cache
