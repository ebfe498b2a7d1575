# syntax=docker/dockerfile:1
# The service image: `orders serve [--roles ...]`, `orders migrate`, `orders celery ...`.
#   docker build -t orders .
#   docker run --rm orders --help
# compose.yml runs the whole stack from it.
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv with the dependencies and the project ------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# The runtime dependencies alone first, from the lock (requirements.txt, exported from
# uv.lock by `make lock`: exact versions and every file's hash, the build backend included),
# so a change to the code reuses this layer. The image's own pip installs exactly these or
# fails: no resolution, no pip upgrade, nothing unhashed. Each one ships a manylinux wheel
# for x86_64 and aarch64 (tests/unit/test_lock.py): no compiler needed.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt

# The project itself, installed in editable mode: the code stays in /app, so
# store/migrate.py finds /app/migrations next to its packages (a regular install would
# put the packages in site-packages, away from migrations/). Built by the locked setuptools
# already in the venv (--no-build-isolation: nothing downloaded). .dockerignore keeps
# tests, benchmarks, docs and local state out.
COPY . .
RUN pip install --no-deps --no-build-isolation -e . \
    && python -m compileall -q /app

# --- runtime: the virtualenv and the code, run by an unprivileged user ----------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8000 \
    LOG_FORMAT=json
RUN groupadd --system --gid 10001 orders \
    && useradd --system --uid 10001 --gid orders --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin orders
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER orders:orders
EXPOSE 8000
# /health answers on every role's HTTP port (HTTP_PORT); a Celery container has none and
# disables this check (compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HTTP_PORT', '8000'), timeout=2)" || exit 1
ENTRYPOINT ["orders"]
CMD ["serve"]
