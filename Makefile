# Handvest — the two commands are `make run` and `make test`; everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run serve test setup system-deps lint format lock demo-data worker beat screenshots bench bench-aggregates bench-measurements bench-intake bench-processes clean letters-images

$(STAMP): requirements.lock requirements.in
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

setup: $(STAMP)

## make system-deps: Debian packages for scanned letters (Tesseract with Dutch, pdftoppm) and the browser test (chromium),
## installed only when missing; Playwright drives Debian's chromium and never downloads a browser of its own
## (poppler-utils also renders docs/letters/*.png and lets the tests check where the address sits on a PDF letter)
system-deps:
	@missing=""; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr"; \
	{ dpkg -s tesseract-ocr-nld >/dev/null 2>&1 || tesseract --list-langs 2>/dev/null | grep -qx nld; } || missing="$$missing tesseract-ocr-nld"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "WARNING: missing$$missing and no apt-get here; install them yourself (OCR and browser tests are skipped until then)."; exit 0; \
	fi; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	echo "Installing$$missing (OCR of scanned letters; headless browser test)"; \
	$$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends$$missing

## make run: install, migrate SQLite, load the Harlingen charter, demo users, serve on :8000 at once while the
## tagger trains in the background (var/tagger-training.log); cases that arrive meanwhile are tagged when it is ready.
## Beat's relays run once before serving and every five minutes beside the server (killed when the server stops).
# Without a worker and beat nothing releases a held acknowledgement, so `make run` sends it at once.
run: export HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES ?= 0
# The demo accounts log in with their password only; the setting is refused when DJANGO_DEBUG is off.
run: export HANDVEST_TWO_FACTOR_REQUIRED ?= false
# A web request never waits for a training: the background job below trains and then tags what waited.
run: export HANDVEST_TAGGER_TRAIN_ON_DEMAND ?= false
run: $(STAMP) system-deps
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_charter --if-empty cms/charters/harlingen-2017.yaml
	$(BIN)/python manage.py create_demo_users
	$(BIN)/python manage.py run_relays
	@mkdir -p var
	@echo "Training the tagger in the background (var/tagger-training.log); the site is served meanwhile."
	$(BIN)/python manage.py ensure_tagger --tag-waiting > var/tagger-training.log 2>&1 &
	@echo "Beat's relays run again every five minutes beside the server (var/relays.log)."
	$(BIN)/python manage.py run_relays --every 300 > var/relays.log 2>&1 & relays=$$!; \
	trap 'kill $$relays 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## make serve: the production shape on PostgreSQL and Redis (Procfile run by honcho): gunicorn with whitenoise,
## a worker for citizen mail, a worker for housekeeping, and beat; CHARTER is loaded into an empty database only.
## honcho hands PORT (default 8000) to web, the first line of the Procfile; without --port it would give it 5000.
CHARTER ?= cms/charters/harlingen-2017.yaml
serve: $(STAMP)
	@test -n "$$DATABASE_URL" -a -n "$$CELERY_BROKER_URL" || { echo "make serve needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://… (README: Production)"; exit 2; }
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py load_charter --if-empty $(CHARTER)
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho start -f Procfile --port $${PORT:-8000}

## make test: install, lint, import contracts, Django checks, migrations check, the whole test suite
test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
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

## make worker: one worker for both queues (citizen mail "mail" and housekeeping "celery"); in production run one per queue
worker: $(STAMP)
	$(BIN)/celery -A config worker -l info -Q mail,celery

beat: $(STAMP)
	$(BIN)/celery -A config beat -l info

## make letters-images: render the sample acknowledgement (PDF letter and e-mail) to docs/letters/*.png
letters-images: $(STAMP) system-deps
	$(BIN)/python docs/letters/render.py

## make bench: time the officers' inbox with 100,000 cases on PostgreSQL (needs DATABASE_URL=postgres://…)
bench: $(STAMP)
	$(BIN)/python bench/bench_case_list.py

## make bench-aggregates: time the editors' aggregates over 1,000,000 cases on PostgreSQL (needs DATABASE_URL=postgres://…)
bench-aggregates: $(STAMP)
	$(BIN)/python bench/bench_aggregates.py

## make bench-intake: what registering a case costs beside a bare INSERT view, and its SQL statements (needs DATABASE_URL and CELERY_BROKER_URL)
bench-intake: $(STAMP)
	$(BIN)/python bench/bench_intake.py

## make bench-processes: resident memory of web, workers and beat in the production shape (needs DATABASE_URL and CELERY_BROKER_URL)
bench-processes: $(STAMP)
	$(BIN)/python bench/bench_processes.py

## make bench-measurements: import 1,000,000 measurements and time the charter report over them on PostgreSQL (needs DATABASE_URL=postgres://…)
bench-measurements: $(STAMP)
	$(BIN)/python bench/bench_measurements.py

## make screenshots: the browser tests, which save the officer's flow and each role's first day to docs/screenshots/{flow,journey}-*.png
screenshots: $(STAMP) system-deps
	HANDVEST_SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -m browser tests/test_browser_flow.py tests/test_browser_journeys.py

clean:
	rm -rf $(VENV) var/ .pytest_cache
