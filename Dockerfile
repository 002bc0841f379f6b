# One image for web, worker, beat and migrate (see docker-compose.yml).
# The base image is pinned to one Python release on one Debian release, so a rebuild does not
# silently change the interpreter. To pin the exact image as well, append its digest:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm   (the "Digest:" line)
#   FROM python:3.11.14-slim-bookworm@sha256:<that digest>
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/app/.venv/bin:$PATH"

RUN pip install --no-cache-dir uv==0.13.9 \
    && useradd --create-home --uid 10001 labtrack \
    && install -d -o labtrack /var/lib/labtrack/audit-anchors

WORKDIR /app
# Dependencies first, so a code change does not reinstall them. Exactly uv.lock, without the dev
# group: no test tools and no embedded PostgreSQL or Redis (compose runs real ones).
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# Settings need syntactically valid values at import; nothing connects during collectstatic.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

USER labtrack
EXPOSE 8000
# gthread workers and their timeouts: labtrack/gunicorn_conf.py.
CMD ["gunicorn", "--config", "python:labtrack.gunicorn_conf", "labtrack.wsgi:application"]
