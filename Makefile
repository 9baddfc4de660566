# Two commands: `make demo` and `make test`. Both create .venv from pinned versions when needed.
# `make test` runs lint, typecheck and the three tiers of tests: `make unit` (no socket, under a
# minute), `make integration` (the emulator, moto's S3, Redis over loopback; dag.test()) and
# `make system` (Airflow's own components as subprocesses, the example DAGs, the built wheel).
# `make docs` builds the documentation site (docs/_build/html/index.html) with warnings as errors.
# `make scale-out` (many users on one key, CeleryExecutor) has its own .venv-scale-out and Redis.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SCALE_VENV ?= .venv-scale-out
SCALE_STAMP := $(SCALE_VENV)/.installed
#: e.g. SCALE_OUT_ARGS="--budget none" (see python scripts/scale_out.py --help)
SCALE_OUT_ARGS ?=

.PHONY: test lint typecheck docs unit integration system demo clean bench scale-out redis-server

# the shared request budget's tests and make scale-out use a real Redis (Debian's redis-server);
# where it cannot be installed (no root, no apt) those tests skip and say so
redis-server:
	@command -v redis-server >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; } || \
		echo "redis-server could not be installed: the shared-budget tests will skip"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,docs]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# the site from scratch (-E: every page read again, so every docstring is checked), warnings
# (a broken link between pages, a missing docstring or :param:, an example marker that points
# nowhere) are errors; no network
docs: $(STAMP)
	$(BIN)/sphinx-build -E -W --keep-going -q -b html -d docs/_build/doctrees docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

PYTEST := $(BIN)/python -m pytest -q -rs -p no:cacheprovider

unit: $(STAMP)
	$(PYTEST) --durations=10 tests/unit

integration: $(STAMP) redis-server
	$(PYTEST) --durations=20 tests/integration

system: $(STAMP)
	$(PYTEST) --durations=20 tests/system

test: lint typecheck docs unit integration system

$(SCALE_STAMP): pyproject.toml constraints.txt constraints-scale-out.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "make scale-out needs Python 3.11 or later (the celery provider)"; exit 1; }
	test -x $(SCALE_VENV)/bin/python || $(PYTHON) -m venv $(SCALE_VENV)
	$(SCALE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c constraints.txt -c constraints-scale-out.txt -e ".[test,redis]" apache-airflow-providers-celery
	touch $(SCALE_STAMP)

# 20 users x 10,000 albums on one key limited to 20 requests/s, CeleryExecutor 2 workers x 2 slots
scale-out: $(SCALE_STAMP)
	command -v redis-server >/dev/null || { apt-get update && apt-get install -y redis-server; }
	$(SCALE_VENV)/bin/python scripts/scale_out.py $(SCALE_OUT_ARGS)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

clean:
	rm -rf $(VENV) $(SCALE_VENV) .demo .pytest_cache .mypy_cache .ruff_cache build dist docs/_build \
		docs/reference/api docs/_generated
