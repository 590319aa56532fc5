# riskhub — two commands: `make run` (local, embedded) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench bench-decisions bench-rescore clean chromium screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(RUN_STAMP)

## run: set up a local riskhub on SQLite (tasks in-process), print a demo key, serve on :8000
run: $(RUN_STAMP)
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py demo_seller --base-url http://$(HOST):$(PORT)
	DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole suite, on the real PostgreSQL + Redis + Celery worker when they answer
test: $(DEV_STAMP) chromium
	$(BIN)/python scripts/run_tests.py $(ARGS)

## chromium: Debian's Chromium for the browser tests (Playwright drives it; no browser download)
chromium:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null \
	  || echo "could not install chromium (not root?): the browser tests will be skipped"; }

## screenshots: every console and buyer page at 400 px and 1400 px, into var/screenshots/
## (needs PostgreSQL + Redis, like the browser tests); the README's card is copied to docs/screenshots/
screenshots: $(DEV_STAMP) chromium
	rm -rf var/screenshots
	RISKHUB_SCREENSHOTS=$(CURDIR)/var/screenshots $(BIN)/python scripts/run_tests.py -q tests/browser
	mkdir -p docs/screenshots
	cp var/screenshots/check-1400.png var/screenshots/check-400.png docs/screenshots/

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: production processes under load (needs PostgreSQL + Redis; see docs/benchmarks.md)
bench: bench-decisions bench-rescore

## bench-decisions: 5,000 buyers / 15,000 flags in, then wrk on decisions vs the bare-view floor
bench-decisions: $(DEV_STAMP)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/run_bench.py $(ARGS)

## bench-rescore: full rescore of FLAGS flags (default 1,000,000) over FLAGS/5 buyers by the Celery workers
FLAGS ?= 1000000
bench-rescore: $(DEV_STAMP)
	$(BIN)/python bench/rescore_bench.py --flags $(FLAGS) --buyers $$(( $(FLAGS) / 5 ))

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
