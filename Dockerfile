# EduVerse for Cloud Run (or any container host): the browser app is built in a Node stage,
# the Python runtime is slim and runs as a non-root user. Build: docker build -t eduverse .
# Run:   docker run -p 8080:8080 -e EDUVERSE_SECRET_KEY=... -e EDUVERSE_STORAGE=firestore://PROJECT eduverse

FROM node:20-bookworm-slim AS assets
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
# Writes /src/webapp/static/build (hashed bundles, Pyodide, pre-compressed twins).
RUN node build.mjs

FROM python:3.12-slim AS runtime
# Who the server runs as. The default is an unprivileged user. With RUN_AS=0 the server runs as
# root and the sandbox gives every worker's submissions their own uid (stronger isolation of
# learner code from the server: see SECURITY.md, "Cloud Run").
ARG RUN_AS=10001
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EDUVERSE_ENV=production \
    PORT=8080
WORKDIR /app
COPY pyproject.toml README.md ./
COPY eduverse_core/ eduverse_core/
COPY webapp/ webapp/
COPY schemas/ schemas/
COPY scenario_packs/ scenario_packs/
COPY plugins/eduverse-firestore/ plugins/eduverse-firestore/
COPY --from=assets /src/webapp/static/build/ webapp/static/build/
RUN pip install . ./plugins/eduverse-firestore \
    && rm -rf /app/eduverse_core /app/webapp /app/plugins \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin eduverse
USER ${RUN_AS}
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
CMD ["gunicorn", "--config", "python:webapp.gunicorn_conf"]
