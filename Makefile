# The two commands: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STGY := $(VENV)/bin/stgy
# Every venv is built from a lock (exact versions, with hashes), never from the ranges
# in pyproject.toml. .venv, for `make run` and `make test` alike, holds the dev set
# (runtime + [dev], the runtime packages at the same versions as the runtime lock,
# which is what the Docker image installs). `make lock` writes them: see CONTRIBUTING.md.
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK := requirements/dev.txt
BUILD_REQUIREMENTS := requirements/build.in
# fediverse-pasture and bovine-herd, for tests/interop: a venv of their own.
PASTURE_VENV := .venv-pasture
PASTURE_REQUIREMENTS := tests/interop/requirements-pasture.txt
PASTURE_LOCK := requirements/pasture.txt
# A venv's stamp is named by its lock's SHA-256, so a changed lock finds no stamp and
# the venv is made again from nothing (`pip install -r` never removes what left a lock).
lock_digest = $(firstword $(shell sha256sum $(1)))
VENV_STAMP := $(VENV)/.installed-$(call lock_digest,$(DEV_LOCK))
PASTURE_STAMP := $(PASTURE_VENV)/.installed-$(call lock_digest,$(PASTURE_LOCK))
# uv writes the locks (`make lock`) and installs the venvs from them; only it lives in
# .venv-tools, installed from its own lock (requirements/tools.in names its version).
TOOLS_VENV := .venv-tools
TOOLS_LOCK := requirements/tools.txt
UV_STAMP := $(TOOLS_VENV)/.installed-$(call lock_digest,$(TOOLS_LOCK))
UV_COMPILE := $(TOOLS_VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) \
  $(addprefix --upgrade-package ,$(UPGRADE_PACKAGE))
# The web UI's front-end files (htmx, axe-core for the browser tests, swagger-ui) come from
# package-lock.json by `npm ci` into node_modules/; its stamp is named by the lock's hash.
NPM_LOCK := package-lock.json
NPM_STAMP := node_modules/.installed-$(call lock_digest,$(NPM_LOCK))
# The browser tests drive Debian's Chromium (there is no browser download here), with
# fonts-noto-cjk so that screenshots show Japanese.
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
SERVICES_ENV := .var/services.env
# Load the found DATABASE_URL / REDIS_URL into a recipe's shell.
WITH_SERVICES := set -a && . ./$(SERVICES_ENV) && set +a &&

.PHONY: run test lint typecheck pytest bench services stop install assets browser messages \
  pasture lock upgrade clean

# $(1): the venv, $(2): its lock. The lock pins pip and setuptools too. uv installs it
# (every hash checked, as pip would, and the bytecode compiled, as pip does): about 15 s
# where pip took 80.
define venv_from_lock
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(TOOLS_VENV)/bin/uv pip install --quiet --compile-bytecode --require-hashes \
	  --python $(1)/bin/python -r $(2)
endef

$(VENV_STAMP): $(UV_STAMP)
	$(call venv_from_lock,$(VENV),$(DEV_LOCK))
	@touch $@

# The project itself, editable; its build backend (setuptools) comes from the lock.
$(VENV)/.project: $(VENV_STAMP) pyproject.toml
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	  --no-deps --no-build-isolation -e .
	@broken=$$($(VENV)/bin/python -m pip check --disable-pip-version-check) || { echo "$$broken"; \
	  echo "install: $(DEV_LOCK) does not satisfy pyproject.toml: run make lock" >&2; exit 1; }
	@touch $@

install: $(VENV)/.project assets

# Without npm the site still works, without its in-place behaviour (one line says so).
# --ignore-scripts: no package runs code at install (swagger-ui-dist's would phone home).
$(NPM_STAMP): $(NPM_LOCK) package.json
	@if command -v npm >/dev/null; then \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "assets: npm is not installed, so the web UI runs without htmx (no in-place" \
	  "updates) and the browser tests cannot run: apt-get install npm"; fi

assets: $(NPM_STAMP)

# Installed when missing if we may (root with apt-get); else the browser tests fail and
# say how to install it.
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(CJK_FONT) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "browser: installing chromium and fonts-noto-cjk for the browser tests"; \
	    apt-get install -y -qq chromium fonts-noto-cjk >/dev/null \
	      || { apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }; \
	  else echo "browser: $(CHROMIUM) or $(CJK_FONT) is missing: the browser tests will fail;" \
	    "install them with: sudo apt-get install chromium fonts-noto-cjk"; fi; \
	fi

# Gathers the web UI's strings into its catalogs (then translate the new ones in
# stgy/web/translations/ja/LC_MESSAGES/messages.po).
messages: install
	@mkdir -p .var
	$(VENV)/bin/pybabel -q extract -F stgy/web/babel.cfg --sort-by-file --add-location=file \
	  --no-wrap -c TRANSLATORS: --project stgy -o .var/messages.pot stgy/web
	$(VENV)/bin/pybabel -q update -i .var/messages.pot -d stgy/web/translations \
	  --no-wrap --no-fuzzy-matching --ignore-obsolete

$(PASTURE_STAMP):
	$(call venv_from_lock,$(PASTURE_VENV),$(PASTURE_LOCK))
	@touch $@

pasture: $(PASTURE_STAMP)

$(UV_STAMP):
	rm -rf $(TOOLS_VENV)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	  --require-hashes -r $(TOOLS_LOCK)
	@touch $@

# Keeps the locked versions that the ranges still admit; UPGRADE=1 takes the newest,
# UPGRADE_PACKAGE="a b" the newest of those only.
# The runtime lock is held to the dev lock's versions: the image runs what was tested.
lock: $(UV_STAMP)
	$(UV_COMPILE) pyproject.toml $(BUILD_REQUIREMENTS) --extra dev -o $(DEV_LOCK)
	$(UV_COMPILE) pyproject.toml $(BUILD_REQUIREMENTS) -c $(DEV_LOCK) -o $(RUNTIME_LOCK)
	$(UV_COMPILE) $(PASTURE_REQUIREMENTS) $(BUILD_REQUIREMENTS) -o $(PASTURE_LOCK)
	$(UV_COMPILE) requirements/tools.in -o $(TOOLS_LOCK)

upgrade:
	@$(MAKE) --no-print-directory lock UPGRADE=1

# A temporary file of its own, so that two `make run`s started together do not take
# each other's.
services: install
	@mkdir -p .var
	@tmp=$$(mktemp .var/services.env.XXXXXX) && \
	  if $(STGY) services up > "$$tmp"; then mv -f "$$tmp" $(SERVICES_ENV); \
	  else rm -f "$$tmp"; exit 1; fi

run: services
	@$(WITH_SERVICES) $(STGY) db migrate && exec $(STGY) run --no-migrate

test: lint typecheck pytest

lint: install
	$(VENV)/bin/ruff check stgy federation storage tasks tests bench

typecheck: install
	$(VENV)/bin/mypy stgy federation storage tasks

# The suite runs in PYTEST_WORKERS processes (pytest-xdist; 0: in this one), each with
# its own database, queue prefix and live instances. A file, and each folder whose tests
# share live instances, stays in one process (see tests/conftest.py).
# Two by default: on two cores it takes about 11 minutes instead of 19, and it has
# passed the whole suite in the last three runs (docs/testing.md); PYTEST_WORKERS=0 runs
# the tests in this one process.
PYTEST_WORKERS ?= 2

pytest: services pasture browser
	@$(WITH_SERVICES) $(VENV)/bin/pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: services
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq wrk >/dev/null || apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "bench: wrk is not installed; the benchmarks fall back to a Python load generator (apt install wrk for better figures)"; fi; }
	@$(WITH_SERVICES) for f in bench/bench_*.py; do $(VENV)/bin/python $$f || exit 1; done

stop:
	@test -x $(STGY) && $(STGY) services down || true

clean: stop
	rm -rf .var $(VENV) $(PASTURE_VENV) $(TOOLS_VENV) node_modules
