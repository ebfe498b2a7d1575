# One target per habit. Everything runs from the project's own virtualenv in .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install run test test-fast lint fmt migrate bench bench-smoke temporal clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

.env:
	@$(PYTHON) -c "import secrets,pathlib; t=pathlib.Path('.env.example').read_text(); pathlib.Path('.env').write_text(t.replace('change-me-to-a-random-string-of-at-least-32-characters', secrets.token_urlsafe(48)))"
	@echo "wrote .env from .env.example with a fresh SECRET_KEY"

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: install .env
	$(BIN)/orders migrate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
