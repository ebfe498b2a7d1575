# One target per habit. Everything runs from the project's own virtualenv in .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install lock lock-check lock-verify run run-stack reset test test-fast lint fmt migrate bench bench-smoke temporal services ci clean

# The venv from the lock alone (README, Dependencies): exact versions, every file's hash, the
# build backend included, with whatever pip the venv's Python brought (never upgraded): no
# resolution, nothing unhashed. Again whenever pyproject.toml or the lock changes; a package
# the lock dropped stays until `make clean install`.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# uv.lock (one resolution for every Python and platform) and its export with hashes:
# requirements.txt (the runtime: the Dockerfile) and requirements-dev.txt (everything:
# make install, CI). After any edit of pyproject.toml's dependency lists run `make lock`
# (it moves only what the edit needs) and commit the four files. Newer releases:
# make lock UV_LOCK_ARGS="--upgrade-package aiohttp" (one), UV_LOCK_ARGS=--upgrade (all).
UV_LOCK_ARGS ?=
UV_EXPORT = $(BIN)/uv export --frozen --format requirements-txt --no-emit-project --group build
lock: | $(VENV)/.installed
	$(BIN)/uv lock $(UV_LOCK_ARGS)
	$(UV_EXPORT) > requirements.txt
	$(UV_EXPORT) --extra dev > requirements-dev.txt

# CI: fails when uv.lock no longer matches pyproject.toml or the requirements files are not
# its export. Offline: it reads the three files and pyproject.toml, nothing else.
lock-check: install
	@$(BIN)/uv lock --check --offline \
		|| { echo "uv.lock does not match pyproject.toml: run make lock" >&2; exit 1; }
	@$(UV_EXPORT) 2>/dev/null | diff -u requirements.txt - \
		|| { echo "requirements.txt is not uv.lock's export: run make lock" >&2; exit 1; }
	@$(UV_EXPORT) --extra dev 2>/dev/null | diff -u requirements-dev.txt - \
		|| { echo "requirements-dev.txt is not uv.lock's export: run make lock" >&2; exit 1; }
	@echo "uv.lock, requirements.txt and requirements-dev.txt match pyproject.toml"

# The lock installed in fresh venvs by the stock pip of Python 3.11, 3.12 and 3.13 (each
# found on PATH or under pyenv), as a user or the image build would: a few minutes, not CI.
lock-verify:
	bash .ci/lock-verify.sh

# .env holds the SECRET_KEY: created readable and writable by its owner only (0600).
.env:
	@umask 077 && $(PYTHON) -c "import os,secrets,pathlib; t=pathlib.Path('.env.example').read_text().replace('change-me-to-a-random-string-of-at-least-32-characters', secrets.token_urlsafe(48)); fd=os.open('.env', os.O_WRONLY|os.O_CREAT|os.O_EXCL, 0o600); os.write(fd, t.encode()); os.close(fd)"
	@echo "wrote .env (mode 0600) from .env.example with a fresh SECRET_KEY"

# The suite on two workers (pytest-xdist), each with its own test database and Temporal dev
# server; a module's tests stay together on one worker, and the `slow` modules all run on
# one, in turn (tests/support/scheduling.py). TEST_WORKERS=0: one process, as `pytest` alone.
TEST_WORKERS ?= 2
PYTEST_WORKERS = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: install
	$(PY) -m pytest $(PYTEST_WORKERS)

test-fast: install
	$(PY) -m pytest $(PYTEST_WORKERS) -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: install .env
	$(BIN)/orders migrate

# The process layout of `make run`: the variables of .env are added to the environment
# without overriding what is already exported (the real environment wins, as it does for
# pydantic-settings and docker compose), then supervisord runs run/supervisord.conf in the
# foreground: it restarts a process that dies while the others keep running. Its pid file
# is in RUN_STATE_DIR; RUNNING succeeds while that names a live supervisord.
ENV_FILE ?= .env
RUN_STATE_DIR ?= $(CURDIR)/.run
export RUN_STATE_DIR
RUN_STACK = $(BIN)/dotenv -f $(ENV_FILE) run --no-override $(BIN)/supervisord -n -c run/supervisord.conf
RUNNING = pid=$$(cat "$(RUN_STATE_DIR)/supervisord.pid" 2>/dev/null) \
	&& ps -p "$$pid" -o args= 2>/dev/null | grep -q supervisord
NOT_RUNNING = if $(RUNNING); then \
	echo "make run is already running in this checkout (supervisord pid $$pid): Ctrl-C it first"; \
	exit 1; fi

# Everything on a fresh machine: venv, .env, servers checked, migrations, then Temporal, the
# API, the pipeline roles and a Celery worker under supervisord. Ctrl-C stops them all.
run: install .env
	@mkdir -p "$(RUN_STATE_DIR)" && $(NOT_RUNNING)
	@bash .ci/services.sh check
	$(BIN)/orders migrate
	@read -r port operator <<< "$$($(PY) -c 'from service.settings import load_settings; s = load_settings(); print(s.http_port, s.operator_listen_port or "off")')"; \
	echo; \
	echo "  API              http://localhost:$$port"; \
	echo "  Swagger UI       http://localhost:$$port/docs"; \
	echo "  Temporal Web UI  http://localhost:$${TEMPORAL_DEV_UI_PORT:-8233}"; \
	echo "  Metrics          http://localhost:$$port/metrics (API)," \
	     "http://localhost:$${PIPELINE_HTTP_PORT:-8001}/metrics (pipeline)," \
	     "http://127.0.0.1:$${CELERY_METRICS_PORT:-9101}/metrics (Celery)"; \
	echo "  Operator         http://127.0.0.1:$$operator/ready (API)," \
	     "http://127.0.0.1:$${PIPELINE_OPERATOR_PORT:-9001}/ready (pipeline): details and /metrics"; \
	echo "  A process that dies is started again; Ctrl-C stops everything (a Temporal"; \
	echo "  server that was already running is left alone)"; \
	echo
	exec $(RUN_STACK)

# The processes alone, as `make run` starts them (tests/e2e/test_config_precedence.py,
# tests/e2e/test_run_supervision.py).
run-stack:
	@mkdir -p "$(RUN_STATE_DIR)" && $(NOT_RUNNING)
	exec $(RUN_STACK)

# Empties the local state (README, "Starting afresh"), every part at once: the database
# (dropped, created, migrated), our Redis keys, our RabbitMQ queues and the dev server's files
# (TEMPORAL_DEV_DATA, else temporal-dev/data). It asks first; `make reset RESET=yes` does
# not. Refused while `make run` runs here, a Temporal server answers, or a session uses the
# database (`orders reset`, service/reset.py). Never part of `make test`.
RESET ?=
reset:
	@$(NOT_RUNNING)
	@$(MAKE) -s install .env
	@$(BIN)/dotenv -f $(ENV_FILE) run --no-override bash -c \
		'exec $(BIN)/orders reset --temporal-data "$${TEMPORAL_DEV_DATA:-temporal-dev/data}" "$$@"' \
		reset $(if $(filter yes,$(RESET)),--yes)

# The Temporal dev server alone, in the foreground (temporal-dev/README.md).
temporal: install
	temporal-dev/start.sh

# Start each local PostgreSQL, Redis or RabbitMQ that does not answer.
services:
	bash .ci/services.sh start

# Every figure of issue 10, each beside its baseline measured in the same run (bench/README.md,
# docs/performance.md): routes, end to end and CPU per order, memory, latency, the full stack
# under load, isolation, a 60 s soak; about 12 minutes (20 with --repeat 3). Some parts only,
# or more repetitions: make bench BENCH_ARGS="--only e2e,cpu --repeat 3" (--layout one|split,
# --profile, ...: python -m bench.run --help).
# Uses wrk, installing it from Debian's packages when missing and running as root; else a
# Python load generator.
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get install -y -qq wrk >/dev/null 2>&1 \
		     || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1; }; }; } \
		|| echo "wrk not available: using the Python load generator"
	$(PY) -m bench.run $(BENCH_ARGS)

# A second or so of each part on one stack, no soak: proves the benchmark works (CI). It fails
# only on errors (a non-2xx answer, an order never processed), never on timings.
bench-smoke: install
	$(PY) -m bench.run --smoke $(BENCH_ARGS)

# What CI runs, on this tree (CI itself runs it on a clean clone).
ci:
	CI=true bash .ci/run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
