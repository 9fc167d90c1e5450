# syntax=docker/dockerfile:1
# One image for the three services and the operator CLI. The command picks what runs:
#   docker run IMAGE applications | workshops | funding      (python -m <service>)
#   docker run --entrypoint programme IMAGE topics create    (the operator CLI)
# Settings come from the environment only (<SERVICE>_*, PROGRAMME_*); nothing secret is baked in.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------- build
FROM ${PYTHON_IMAGE} AS build

# uv from PyPI, pinned to the version that wrote uv.lock.
ARG UV_VERSION=0.13.9
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
RUN pip install "uv==${UV_VERSION}"

WORKDIR /src

# Third-party dependencies first, from the lock alone: this layer is rebuilt only when a
# pyproject or uv.lock changes, not on every code change.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/pyproject.toml
COPY services/applications/pyproject.toml services/applications/pyproject.toml
COPY services/workshops/pyproject.toml services/workshops/pyproject.toml
COPY services/funding/pyproject.toml services/funding/pyproject.toml
COPY programme/pyproject.toml programme/pyproject.toml
RUN uv sync --frozen --no-dev --no-editable --no-install-workspace

# Then the workspace members, installed as wheels (not editable): the venv alone is the
# application, SQL migrations included (they are package data of each wheel).
COPY shared shared
COPY services services
COPY programme programme
RUN uv sync --frozen --no-dev --no-editable \
 && /opt/venv/bin/python -c "import applications, workshops, funding, programme" \
 && test -n "$(ls /opt/venv/lib/python3.11/site-packages/shared/migrations/*.sql)" \
 && for s in applications workshops funding; do \
        test -n "$(ls /opt/venv/lib/python3.11/site-packages/$s/migrations/*.sql)" || exit 1; \
    done

# ---------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="programme" \
      org.opencontainers.image.description="Clusters as a driver of restructuring: applications, workshops, funding"

# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 programme \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin programme

# Only the virtual environment: no sources, no uv, no compiler. Owned by root, read-only to the app.
COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# An empty working directory: nothing on sys.path but the venv's site-packages.
WORKDIR /app
USER 10001:10001

EXPOSE 8081 8082 8083
ENTRYPOINT ["python", "-m"]
CMD ["applications"]
