"""Settings as a deployment sees them: each case starts a fresh Python with its own variables."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "shop.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    unset = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_on_the_development_secret_key():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_bad_variable_stops_start_up_with_its_name():
    result = manage("check", WORKER_HEARTBEAT_SECONDS="soon")
    assert result.returncode != 0
    assert "WORKER_HEARTBEAT_SECONDS must be a whole number" in result.stderr


def test_development_defaults_need_no_services(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.CACHES['default']['BACKEND'], s.MAILERS['default']['BACKEND']]))"
    )
    unset = ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "EMAIL_HOST", "DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '["django.db.backends.sqlite3", "filesystem://localhost//", '
        '"django.core.cache.backends.filebased.FileBasedCache", '
        '"django.core.mail.backends.filebased.EmailBackend"]'
    )


def test_passwords_are_hashed_with_argon2():
    import config.settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize(
    "name", ["task_acks_late", "task_reject_on_worker_lost", "worker_prefetch_multiplier"]
)
def test_celery_is_configured_for_at_least_once_delivery(name):
    from config.celery import app

    assert app.conf[name] in (True, 1)


def test_redis_is_broker_and_cache_when_set(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "from config.celery import app; "
        "print(json.dumps([app.conf.broker_url, s.CACHES['default']['BACKEND']]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "REDIS_URL": "redis://cache.internal:6379/2",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '["redis://cache.internal:6379/2", "django.core.cache.backends.redis.RedisCache"]'
    )
