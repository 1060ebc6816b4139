# restore-planner: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck unit soak fuzz bench clean browser postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/restore-planner demo $(DEMO_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check planner tests bench
	$(BIN)/ruff format --check planner

typecheck: $(STAMP)
	$(BIN)/mypy

# The HTML report is checked in a real headless browser: Debian's chromium,
# installed here when missing (the test skips, saying why, where it cannot be).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq chromium >/dev/null 2>&1; } ; } || \
	  echo "note: chromium could not be installed; the browser test will be skipped"

# The PostgreSQL state backend's tests start a throwaway cluster (.ci/pg.sh, as an
# unprivileged user on 127.0.0.1); the server is installed here when missing (the
# tests skip, saying why, where it cannot be).
postgres:
	@bash .ci/pg.sh install

# The slowest wall-clock tests (real processes, kill -9, HTTP drills) are marked slow and
# run by `make soak`; an in-process test covers each one's property here.
test: $(STAMP) browser postgres
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)
	$(BIN)/ruff check planner tests bench
	$(BIN)/mypy  # strict, planner/ and tests/ (pyproject.toml)

soak: $(STAMP) postgres
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Property tests with fresh random examples (make test replays a fixed set).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest tests/config/test_fuzz.py tests/state/test_fuzz_files.py tests/graph tests/plan/test_diff_properties.py $(PYTEST_ARGS)

bench: $(STAMP)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
