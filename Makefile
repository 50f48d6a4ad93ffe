# Handvest — the two commands are `make run` and `make test`; everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run test setup lint format lock demo-data worker beat screenshots bench clean

$(STAMP): requirements.lock requirements.in
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

setup: $(STAMP)

## make run: install, migrate SQLite, load the Harlingen charter, train the tagger, demo users, serve on :8000
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_charter cms/charters/harlingen-2017.yaml
	$(BIN)/python manage.py create_demo_users
	$(BIN)/python manage.py ensure_tagger
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## make test: install, lint, Django checks, migrations check, the whole test suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make lock: re-pin every dependency after editing requirements.in
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements.in
	.venv-lock/bin/pip freeze --exclude-editable > requirements.lock
	rm -rf .venv-lock

worker: $(STAMP)
	$(BIN)/celery -A config worker -l info

beat: $(STAMP)
	$(BIN)/celery -A config beat -l info

clean:
	rm -rf $(VENV) var/ .pytest_cache
