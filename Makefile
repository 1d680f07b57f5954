# Two commands for a newcomer: `make run` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean web web-test web-clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The dashboard (web/, React + Vite) is built into $(WEB_OUT), which the server mounts at "/".
# Stamps keep both steps no-ops when nothing changed: `npm ci` runs when web/node_modules is missing or
# older than the lock file; the build runs when any source is newer than the last build. A failure in
# either fails make.
WEB := web
WEB_OUT := src/tradewarden/api/static
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_BUILT := $(WEB_OUT)/.built
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json \
	$(WEB)/tsconfig.node.json -type f -not -name '*.test.ts' -not -name '*.test.tsx' -not -path '*/test/*' 2>/dev/null)

$(WEB_DEPS): $(WEB)/package-lock.json $(WEB)/package.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build
	@touch $@

web: $(WEB_BUILT)

web-test: $(WEB_DEPS)
	cd $(WEB) && npm test

web-clean:
	rm -rf $(WEB)/node_modules $(WEB_OUT)

run: $(STAMP) web
	$(BIN)/tradewarden up

test: $(STAMP) web web-test
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
