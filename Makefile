# Backline: `make demo` serves the demo, `make test` runs the whole suite. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/backline

.PHONY: demo test test-sqlite test-postgres lint format assets install browser clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Optional mypyc build of the template miner (never fails the install; see docs/patterns.md).
SPEEDUP_SOURCES := src/backline/patterns/miner.py src/backline/patterns/masking.py
$(BIN)/.speedups: $(BIN)/.installed scripts/build_speedups.py $(SPEEDUP_SOURCES)
	$(BIN)/python scripts/build_speedups.py
	touch $@

install: $(BIN)/.installed $(BIN)/.speedups

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

src/backline/web/static/vendor/.built: node_modules/.installed scripts/build-assets.mjs
	node scripts/build-assets.mjs
	touch $@

assets: src/backline/web/static/vendor/.built

# Debian's chromium drives the browser tests (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' (browser tests will be skipped)"; fi; }

demo: install assets
	$(BIN)/backline demo

test: install assets browser test-sqlite

test-sqlite:
	BACKLINE_VAR_DIR=var/test $(BIN)/pytest -q -n 2 --dist loadfile

test-postgres: install assets browser
	BACKLINE_VAR_DIR=var/test BACKLINE_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules src/backline/web/static/vendor var
