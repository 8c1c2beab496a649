# MetaCRM tasks. `make run` and `make test` install what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app run.py
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_SIZE ?= 200
# test processes (pytest-xdist); each file runs whole on one, so module fixtures are built once
TEST_WORKERS ?= 2

.PHONY: run test test-pg lint install browser translations

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## run: create the database, load demo data once, serve at http://$(HOST):$(PORT)
run: install
	mkdir -p instance
	$(FLASK) crm secret-key
	$(FLASK) crm validate
	$(FLASK) crm init
	$(FLASK) crm demo --if-empty --size $(DEMO_SIZE)
	@echo ""
	@echo "  MetaCRM is at http://$(HOST):$(PORT)  -  log in as admin with the password 'crm init' printed"
	@echo "  on the first run (or CRM_ADMIN_PASSWORD if you set it then)"
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

## browser: Debian's chromium and CJK fonts for the browser tests (needs root and apt-get); the fonts are
## checked on their own, so a machine that already had chromium does not render Chinese as boxes
browser:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	dpkg-query -W -f='$${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed" || missing="$$missing fonts-noto-cjk"; \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -q && apt-get install -y -q $$missing; \
	else echo "not installed:$$missing (browser tests will be skipped, or Chinese shows as boxes)"; fi

## test: the whole suite (SQLite unless CRM_TEST_DATABASE_URL names a PostgreSQL database), on
## TEST_WORKERS processes (0: one process, as plain `pytest`)
test: install browser
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(VENV)/bin/ruff check app tests bench

## translations: compile every catalog (app/translations/*/LC_MESSAGES/messages.po -> .mo; docs/i18n.md)
translations: install
	$(PY) -m app.i18n.catalogs compile
