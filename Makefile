# The two commands: `make run` and `make test`. Everything they need, they install.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
PYTHON ?= python3
INSTALLED := $(VENV)/.installed
ASSETS := app/static/govuk/.installed
LIVE_EDITOR := app/static/live-editor.js

.PHONY: run test setup assets services bench lint migrate seed clean

setup: $(INSTALLED) $(ASSETS) $(LIVE_EDITOR)

$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ASSETS): node_modules/.installed
	rm -rf app/static/govuk && mkdir -p app/static/govuk
	cp -R node_modules/govuk-frontend/dist/govuk/assets node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js app/static/govuk/
	@touch $@

# The live co-editing editor: bundled from frontend/ by esbuild (pinned in package-lock.json).
$(LIVE_EDITOR): node_modules/.installed $(wildcard frontend/live-editor/*)
	npm run --silent build:live-editor

assets: $(ASSETS) $(LIVE_EDITOR)

migrate: setup
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed --demo

## make run: install, migrate, seed demo data and serve on http://127.0.0.1:5000 (embedded defaults)
run: seed
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(VENV)/bin/gunicorn --bind 127.0.0.1:5000 --workers 1 --threads 8 --access-logfile - app.wsgi:app

services:
	@bash scripts/ensure-services.sh

## make test: install, start PostgreSQL/Redis if down, install Chromium if missing, run every test
test: setup services
	$(PY) -m pytest $(PYTEST_ARGS)

## make bench [ONLY=name]: run the benchmarks; each prints one BENCH line
bench: setup services
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(PY) -m bench $(ONLY)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) node_modules app/static/govuk instance
