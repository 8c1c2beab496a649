# MetaCRM tasks. `make run` and `make test` install what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app run.py
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_SIZE ?= 200
# test processes (pytest-xdist); each file runs whole on one, so module fixtures are built once
TEST_WORKERS ?= 2

.PHONY: run test test-pg lint install browser

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

## browser: Debian's chromium for the browser tests (needs root and apt-get)
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && { apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk; } \
	  || echo "chromium not installed: browser tests will be skipped"; }

## test: the whole suite (SQLite unless CRM_TEST_DATABASE_URL names a PostgreSQL database), on
## TEST_WORKERS processes (0: one process, as plain `pytest`)
test: install browser
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(VENV)/bin/ruff check app tests bench
