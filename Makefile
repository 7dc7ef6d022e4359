# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
DEV_STAMP := $(STAMP)-dev

.PHONY: run test lint typecheck install dev system-deps postgres serve clean

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

## make run: migrate, seed the demo and serve API + web UI + worker on http://127.0.0.1:$${CCM_PORT:-8000}
run: $(STAMP)
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

test: $(DEV_STAMP) system-deps postgres lint typecheck
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var/*.db var/archive var/outbox
