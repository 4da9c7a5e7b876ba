# The two commands of the README: `make dev` (run the whole product locally) and `make test` (the whole suite).
# `make bundle` regenerates every committed artifact (rules, dashboards, manifests, .env.example).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
STAMP_DEV := $(VENV)/.stamp-dev
STAMP_TEST := $(VENV)/.stamp-test

.PHONY: dev test bundle lint services clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(STAMP_DEV): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_DEV)

dev: $(STAMP_DEV)
	$(VENV)/bin/scaisend dev

services:
	@bash .ci/ensure-services >/dev/null

test: $(STAMP_TEST)
	@eval "$$(bash .ci/ensure-services)" && $(VENV)/bin/python -m pytest

bundle: $(STAMP_TEST)
	$(VENV)/bin/python -m deploy.generate

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .scaisend .pytest_cache .ruff_cache
