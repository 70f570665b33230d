# Two commands: `make run` serves the portal, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := wsgi

.PHONY: run test bench soak translations messages check-python

run: $(VENV)/.run-deps translations
	$(BIN)/flask --app wsgi init-db
	$(BIN)/flask --app wsgi seed-demo --if-empty
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: $(VENV)/.dev-deps translations
	$(BIN)/python -m pytest

bench: $(VENV)/.dev-deps translations  ## ratios to the stack's own limits, see bench/bench.py
	@command -v wrk > /dev/null || { echo "make bench needs wrk (Debian: apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.bench $(BENCH_ARGS)

soak: $(VENV)/.dev-deps translations  ## load and fault scenarios, see docs/reliability.md
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

translations: $(VENV)/.run-deps
	@$(BIN)/pybabel compile --directory portal/translations > /dev/null

messages: $(VENV)/.run-deps  ## re-extract UI strings and update the English catalogue
	$(BIN)/pybabel extract -F babel.cfg -k _l -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations
