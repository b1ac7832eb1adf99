# cmlkb: make help lists the targets. Everything installs into .venv from this repo's own files.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
CMLKB  := $(VENV)/bin/cmlkb

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast check lint bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; v=sys.version_info; sys.exit(0 if (3,11) <= v[:2] < (3,13) else "cmlkb needs Python 3.11 or 3.12 (durable-rules does not import on 3.13); set PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev,dask]'
	touch $@

install: $(VENV)/.installed ## create .venv and install cmlkb with test and dev extras

demo: install ## evaluate the shipped example cases, printing an explained recommendation for each
	$(CMLKB) evaluate examples/cases/*.json --no-store

test: install ## run the whole test suite (slow tests included)
	$(PY) -m pytest -q

test-fast: install ## the test suite without the tests marked slow
	$(PY) -m pytest -q -m "not slow"

check: install ## check the knowledge base (SHACL, OWL consistency, rule lint, QC queries)
	$(CMLKB) check

lint: install ## ruff lint and format check, mypy on engine/, the import layers (import-linter)
	$(VENV)/bin/ruff check engine tests
	$(VENV)/bin/ruff format --check engine tests
	$(VENV)/bin/mypy engine
	$(VENV)/bin/lint-imports

bench: install ## benchmark evaluation throughput, cold start and memory; writes bench/REPORT.md
	$(PY) bench/run.py --report bench/REPORT.md

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
