# One image for every process of the store: the web server (the default command),
# the Celery worker and Celery beat (docker-compose.yml gives them their own command).
FROM python:3.12-slim

# gunicorn reads its worker count from WEB_CONCURRENCY when --workers is not given.
# DEBUG=false: the image is for deployments; run it without SECRET_KEY and it refuses to start.
ENV DEBUG=false \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3

WORKDIR /app

RUN groupadd --system --gid 1000 store \
    && useradd --system --uid 1000 --gid store --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin store

# Dependencies first, in their own layer, rebuilt only when pyproject.toml changes.
# `[tool.setuptools] packages = []` makes `pip install .` install the dependencies and no
# package; the apps run from /app through manage.py. pyproject.toml names README.md as
# the readme, so a placeholder stands in for it here (the real one comes with the source).
COPY pyproject.toml ./
RUN touch README.md && pip install . && rm -rf README.md build *.egg-info

COPY . .

# Static files are collected at build time and served by WhiteNoise. Settings refuse to
# load with DEBUG off and no real SECRET_KEY, so this step gets a throwaway key that
# exists only here; the running containers must be given their own SECRET_KEY.
# var/ (beat schedule, file:// mail) and media/ (uploads) are the only places the app
# user may write; docker-compose.yml mounts volumes on both.
RUN DEBUG=false \
    SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789 \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var /app/media \
    && chown -R store:store /app/var /app/media

USER store

EXPOSE 8000

# WEB_CONCURRENCY sets the worker count. /dev/shm keeps worker heartbeats off the overlay
# filesystem. --no-control-socket: gunicorn's runtime control socket would be created in
# $HOME, which the app user may not write, and nothing here uses it.
CMD ["gunicorn", "config.wsgi", \
     "--bind", "0.0.0.0:8000", \
     "--timeout", "30", \
     "--graceful-timeout", "30", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--no-control-socket", \
     "--access-logfile", "-"]
