# syntax=docker/dockerfile:1
# The bridge image, in two stages: the first installs the locked dependencies (hashes checked)
# and the bridge's wheel into a virtual environment; the second holds only that environment,
# runs as a non-root user, keeps its SQLite store under the /data volume and reports /health.
# The wheel carries the default mappings; mount your own folder and name it in
# BRIDGE_MAPPINGS_DIR (Compose and deploy/kubernetes mount /etc/bridge/mappings).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock requirements-build.lock ./
RUN python -m venv /opt/bridge \
 && /opt/bridge/bin/pip install --require-hashes -r requirements.lock \
 && pip install --require-hashes -r requirements-build.lock
COPY pyproject.toml README.md cli.py ./
COPY bridge ./bridge
COPY connectors ./connectors
COPY topics ./topics
COPY mappings ./mappings
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
 && /opt/bridge/bin/pip install --no-deps /wheels/*.whl

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/bridge/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BRIDGE_STORE__URL=sqlite+aiosqlite:////data/bridge.db \
    BRIDGE_HTTP__HOST=0.0.0.0 \
    BRIDGE_HTTP__PORT=8080 \
    BRIDGE_LOG_FORMAT=json
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin bridge \
 && mkdir /data && chown bridge:bridge /data
COPY --from=build /opt/bridge /opt/bridge
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# /health fails when the bridge cannot make progress (urlopen raises on a 503).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BRIDGE_HTTP__PORT', '8080') + '/health', timeout=4)"]
ENTRYPOINT ["bridge"]
CMD ["run"]
