# Costline: `make run` serves the demo app on SQLite, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup run test lint format lock worker beat clean

## setup: create .venv, install Costline with its dev extras, migrate (idempotent)
setup: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v 0

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## run: demo data + dev server on the embedded default (SQLite, eager Celery)
run: setup
	@$(BIN)/python manage.py load_demo > $(VENV)/demo.out
	@echo ""
	@echo "  Costline is starting at  http://$(HOST):$(PORT)/"
	@echo "  Demo login:              demo / demo"
	@echo "  Demo API token:          $$(tail -n 1 $(VENV)/demo.out)"
	@echo "  Try: curl -H \"Authorization: Bearer $$(tail -n 1 $(VENV)/demo.out)\" http://$(HOST):$(PORT)/v2/segments"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole suite on the embedded default (two processes: this machine's two cores)
test: setup
	$(BIN)/python -m pytest -n 2

lint:
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## lock: pin pyproject.toml's dependencies (dev extras included) in requirements.lock
lock:
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--custom-compile-command "make lock" -o requirements.lock

worker:
	$(BIN)/celery -A config worker -l info

beat:
	$(BIN)/celery -A config beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles var
