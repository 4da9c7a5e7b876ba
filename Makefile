# The two commands of the README: `make dev` (run the whole product locally) and `make test` (the whole suite).
# `make bundle` regenerates every committed artifact (rules, dashboards, manifests, .env.example).
# `make check` verifies the lock file, lint, format, the import contracts and types (.ci/run runs it before the tests).
# `make lock` refreshes uv.lock after a change to pyproject.toml; every other target installs from it (--frozen).
#
# uv itself comes from PyPI into .uv/ (a tiny venv of its own, pinned below), so a fresh machine needs only Python 3.11.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
UV_VERSION := 0.13.9
UV_DIR := .uv
UV := $(UV_DIR)/bin/uv
VENV := .venv
STAMP_DEV := $(VENV)/.stamp-dev
STAMP_TEST := $(VENV)/.stamp-test
# uv must use this interpreter and never download one; it writes the project environment to .venv.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: dev test check bundle lint lock services clean

$(UV):
	$(PYTHON) -m venv $(UV_DIR)
	$(UV_DIR)/bin/python -m pip install --quiet uv==$(UV_VERSION)

# dev: the runtime dependencies and the dev extra (SQLite, embedded Redis, the bundle generators); inexact, so a
# test environment keeps its extras. The test extra includes the dev extra.
$(STAMP_DEV): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --extra dev --quiet
	touch $@

$(STAMP_TEST): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra test --quiet
	touch $@ $(STAMP_DEV)

dev: $(STAMP_DEV)
	$(VENV)/bin/scaisend dev

services:
	@bash .ci/ensure-services >/dev/null

test: $(STAMP_TEST)
	@eval "$$(bash .ci/ensure-services)" && $(VENV)/bin/python -m pytest

check: $(STAMP_TEST)
	$(UV) lock --check --quiet
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

bundle: $(STAMP_TEST)
	$(VENV)/bin/python -m deploy.generate

lint: check

lock: | $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) $(UV_DIR) .scaisend .pytest_cache .ruff_cache
