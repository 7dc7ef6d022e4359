# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
DEV_STAMP := $(STAMP)-dev

.PHONY: run test lint typecheck install dev system-deps postgres serve clean editor bench

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)
dev: $(DEV_STAMP)

## The template editor's bundle (CodeMirror 6 from npm, see package.json), when Node is present; without it the
## template pages keep plain textareas with the same live preview.
EDITOR_BUNDLE := ccm/web/static/editor/editor.js
## The analytics charts' bundle (uPlot from npm), built the same way; without it pages show the tables alone.
CHARTS_BUNDLE := ccm/web/static/charts/charts.js

editor:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(EDITOR_BUNDLE) $(CHARTS_BUNDLE); \
	else \
	  echo "note: Node.js/npm not found, so the code editor is not built; template pages use plain textareas."; \
	fi

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(EDITOR_BUNDLE): node_modules/.package-lock.json $(wildcard ccm/web/editor/*)
	npm run --silent build -- editor

$(CHARTS_BUNDLE): node_modules/.package-lock.json $(wildcard ccm/web/charts/*) ccm/web/editor/build.mjs
	npm run --silent build -- charts

## make run: migrate, seed the demo and serve API + web UI + worker on http://127.0.0.1:$${CCM_PORT:-8000}
run: $(STAMP) editor
	$(BIN)/ccm migrate
	$(BIN)/ccm seed-demo
	$(BIN)/ccm serve

## Debian packages the tests drive: Chromium for the web UI, qpdf for PDF checks, fonts and HarfBuzz for WeasyPrint.
system-deps:
	@missing=""; \
	command -v qpdf >/dev/null || missing="$$missing qpdf"; \
	test -x /usr/lib/chromium/chromium || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing="$$missing libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## PostgreSQL for the second half of the suite; started here when it is not running.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; echo "PostgreSQL did not start"; exit 1

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

## The suite in PYTEST_WORKERS processes (pytest-xdist; each its own databases and loopback servers): much of
## it waits on servers, subprocesses and clocks rather than the CPU, so more processes than cores pay off.
## Tests marked `serial` (one restarts the PostgreSQL server every other test uses, one bounds a latency) run
## alone, after.
PYTEST_WORKERS ?= 4

test: $(DEV_STAMP) editor system-deps postgres lint typecheck
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal -m "not serial"
	$(BIN)/python -m pytest -m serial

## make bench: each workload, ours beside a reference measured in the same run, and their ratio (never fails);
## make bench QUICK=1: the scaled-down run (aim: under 3 minutes). See benchmarks/README.md.
bench: $(DEV_STAMP) postgres
	$(BIN)/python -m benchmarks.bench $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) var/*.db var/archive var/outbox node_modules ccm/web/static/editor ccm/web/static/charts
