# `make test` sets everything up on a fresh machine (idempotently) and runs lint + the test suite.
SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
PYTHON_VERSION := $(shell cat .python-version)
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
PYTHON312 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/$(PYTHON_VERSION)/bin/python3.12) \
                         $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
LINT_PATHS := hummingbot perp_dex_connectors emulator demo test bench soak scripts controllers setup.py

.PHONY: test bootstrap develop lint pytest bench demo hummingbot clean

$(PY):
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found: install it (e.g. 'pyenv install $(PYTHON_VERSION)')."; exit 1; }
	$(PYTHON312) -m venv $(VENV)

# Hummingbot is an sdist that compiles for ~7 minutes; pip keeps the built wheel in its cache, and this stamp skips
# the whole step while the requirements are unchanged.
$(VENV)/.bootstrapped: requirements-dev.txt pyproject.toml | $(PY)
	$(PIP) install -q --upgrade "pip>=24" wheel setuptools
	$(PIP) install -r requirements-dev.txt
	$(PIP) check
	touch $@

bootstrap: $(VENV)/.bootstrapped

# Links the working tree's connector folders into the venv's Hummingbot (moving upstream's lighter_perpetual aside)
# and prints what Hummingbot's own discovery finds.
develop: bootstrap
	$(PY) -m perp_dex_connectors install --link --no-deps
	$(PY) -m perp_dex_connectors verify

lint: bootstrap
	$(VENV)/bin/flake8 $(wildcard $(LINT_PATHS))
	$(VENV)/bin/isort --check-only --diff $(wildcard $(LINT_PATHS))

pytest: develop
	$(PY) -m coverage erase
	$(PY) -m coverage run -m pytest -q $(PYTEST_ARGS)
	$(PY) -m coverage combine -q
	$(PY) -m coverage report

test: lint pytest

# A real Hummingbot strategy on the local exchange: `make demo DEMO_ARGS="--duration 120"`.
demo: develop
	$(PY) -m demo $(DEMO_ARGS)

# Hummingbot's interactive client with both connectors, its conf/, logs/ and data/ in HUMMINGBOT_HOME.
# EMULATOR=1 starts both local exchanges and stores a funded account's keys for each (a home of its own).
HUMMINGBOT_HOME ?= $(HOME)/.perp-dex-hummingbot$(if $(EMULATOR),-emulator)
hummingbot: develop
	$(PY) -m $(if $(EMULATOR),demo.hummingbot_client,perp_dex_connectors.client) --home "$(HUMMINGBOT_HOME)"

# Every benchmark runs; make fails at the end if the Lighter one found ours outside its round-trip bounds.
bench: develop
	status=0; \
	$(PY) bench/bench_lighter_connector.py || status=1; \
	$(PY) bench/bench_lighter_connector.py --orders 100 || status=1; \
	$(PY) bench/bench_extended_connector.py || status=1; \
	$(PY) bench/bench_scale.py $(BENCH_SCALE_ARGS) || status=1; \
	exit $$status

# One Lighter connector (ours and upstream) on 1, 20 and all 129 markets against Lighter's limits, then ours on 1, 20
# and all 68 Extended markets (`--exchange lighter|extended` for one); the idle window is 60 s here (the issue's
# 5 minutes: `make bench-scale BENCH_SCALE_ARGS="--idle-s 300"`).
.PHONY: bench-scale
bench-scale: develop
	$(PY) bench/bench_scale.py $(BENCH_SCALE_ARGS)

# 500 randomized orders x 2 seeds per exchange with every emulator fault on, then the invariants against the
# exchange's truth (exit 1 if any fails); `make soak SOAK_ARGS="--orders 200 --seeds 1"`. Its short version runs
# in `make test` (test/soak).
.PHONY: soak
soak: develop
	$(PY) -m soak --orders 500 --seeds 2 $(SOAK_ARGS)

clean:
	-$(PY) -m perp_dex_connectors uninstall
	rm -rf $(VENV) .coverage
