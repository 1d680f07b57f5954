# Two commands for a newcomer: `make run` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean web web-test web-clean reliability

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

# The browser tests (tests/e2e) drive Debian's Chromium: install it when missing (as root, or with sudo
# that needs no prompt, since CI has no stdin). If it cannot be installed, make stops and says why.
CHROMIUM := /usr/bin/chromium
.PHONY: chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  echo "Installing Debian's chromium for the browser tests (tests/e2e)..."; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
	  && test -x $(CHROMIUM); \
	} || { echo "error: Chromium could not be installed at $(CHROMIUM), and the browser tests (tests/e2e)" \
	  "need it. Install it as root: apt-get update && apt-get install -y --no-install-recommends chromium" >&2; \
	  exit 1; }

# Store tests also run on PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`) when it answers.
# Start the machine's cluster if it is stopped; install Debian's postgresql only where none exists.
# Never fatal: without it the suite runs the store tests on SQLite and says so in its header.
.PHONY: postgres
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then \
	    echo "Installing Debian's postgresql for the store tests..."; \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; \
	  fi; \
	  for v in $$(ls /etc/postgresql 2>/dev/null); do $$SUDO pg_ctlcluster --skip-systemctl-redirect $$v main start; done; \
	  pg_isready -q -h 127.0.0.1 -p 5432 || echo "note: PostgreSQL is not available; store tests run on SQLite only."; \
	} || true

# CI runs `make test`: the lint (ruff, mypy) comes first, so an unformatted or mistyped tree fails CI too.
# The tests run in TEST_WORKERS processes (pytest-xdist), a test file per worker at a time: most of the
# suite waits on servers, simulators and browsers, so four workers keep two cores busy. TEST_WORKERS=0
# runs them in one process.
TEST_WORKERS ?= 4
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
test: $(STAMP) lint web web-test chromium postgres
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) --durations=25

# The long reliability configuration (issue 17): hundreds of faulted live orders, dozens of SIGKILLs and
# hostile inputs, in under 30 minutes; it ends with the reliability table and fails on any duplicate,
# lost order, leaked secret, 5xx or half-written row. `make test` runs the short configuration.
# The bot tests run with their long knobs: a month replayed (TW_REPLAY_DAYS), the live DCA bot under
# ~20 % venue faults for TW_BOT_FAULT_CYCLES cycles, 100 paper bots for TW_BOT_HOURS simulated hours,
# TW_BOT_KILLS SIGKILLs of `tradewarden runner`; their passed tests are counted in the table too.
# --timeout 900: a test without its own limit (the month replay) gets 15 minutes, not the default 2.
reliability: $(STAMP) postgres
	TW_RELIABILITY=long TW_REPLAY_DAYS=31 TW_BOT_FAULT_CYCLES=8 TW_BOT_HOURS=5 TW_BOT_KILLS=10 \
	  $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) --durations=15 --timeout 900 tests/reliability tests/integration/bots

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
