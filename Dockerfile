# One image for every process of the production topology (web, worker, beat, migrate); the
# command decides which. See docker-compose.yml.
FROM python:3.11-slim

# Templates and static files live beside the code (BASE_DIR), so every process imports the
# project from /app (PYTHONPATH) rather than from the installed copy in site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app

# Dependencies first, in their own layer: it is rebuilt only when they change. Exact versions
# come from constraints.txt, as in the Makefile.
COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt setuptools wheel \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-build-isolation -c constraints.txt . \
    && rm -rf build ./*.egg-info

# Static files are collected into the image (WhiteNoise serves them from STATIC_ROOT). The
# production settings insist on real-looking secrets; these exist only during this step.
RUN SECRET_KEY="collectstatic-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DATABASE_URL="sqlite:////tmp/collectstatic.sqlite3" \
    CELERY_BROKER_URL="redis://localhost:6379/0" \
    METRICS_TOKEN="collectstatic-only-metrics-token" \
    ALLOWED_HOSTS="localhost" \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /tmp/collectstatic.sqlite3 \
    && mkdir -p /app/var \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

# uvicorn (ASGI), so that open pages are pushed each change (orders.live_push) over streams
# that cost the server no worker each; gunicorn (config.wsgi) still serves, the pages then poll.
# X-Forwarded-* are read by Django (TRUSTED_PROXY_COUNT), not rewritten by the server.
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--workers", "3", "--no-proxy-headers", "--timeout-graceful-shutdown", "5"]
