# The two commands: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# fediverse-pasture and bovine-herd, for tests/interop: a venv of their own.
PASTURE_VENV := .venv-pasture
PASTURE_REQUIREMENTS := tests/interop/requirements-pasture.txt
STGY := $(VENV)/bin/stgy
SERVICES_ENV := .var/services.env
# Load the found DATABASE_URL / REDIS_URL into a recipe's shell.
WITH_SERVICES := set -a && . ./$(SERVICES_ENV) && set +a &&

.PHONY: run test lint typecheck pytest bench services stop install pasture clean

$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

$(PASTURE_VENV)/.installed: $(PASTURE_REQUIREMENTS)
	@test -x $(PASTURE_VENV)/bin/python || $(PYTHON) -m venv $(PASTURE_VENV)
	@$(PASTURE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PASTURE_VENV)/bin/python -m pip install --quiet -r $(PASTURE_REQUIREMENTS)
	@touch $@

pasture: $(PASTURE_VENV)/.installed

# A temporary file of its own, so that two `make run`s started together do not take
# each other's.
services: install
	@mkdir -p .var
	@tmp=$$(mktemp .var/services.env.XXXXXX) && \
	  if $(STGY) services up > "$$tmp"; then mv -f "$$tmp" $(SERVICES_ENV); \
	  else rm -f "$$tmp"; exit 1; fi

run: services
	@$(WITH_SERVICES) $(STGY) db migrate && exec $(STGY) run --no-migrate

test: services pasture
	$(VENV)/bin/ruff check stgy federation storage tasks tests bench
	$(VENV)/bin/mypy stgy federation storage tasks
	@$(WITH_SERVICES) $(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: services
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq wrk >/dev/null || apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "bench: wrk is not installed; the benchmarks fall back to a Python load generator (apt install wrk for better figures)"; fi; }
	@$(WITH_SERVICES) for f in bench/bench_*.py; do $(VENV)/bin/python $$f || exit 1; done

stop:
	@test -x $(STGY) && $(STGY) services down || true

clean: stop
	rm -rf .var $(VENV) $(PASTURE_VENV)
