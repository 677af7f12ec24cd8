"""Typed readers for environment variables.

Each raises ImproperlyConfigured naming the variable when its value cannot be
understood, so a typo in a deployment fails at start-up, not at the first
request that happens to need the setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# An empty value counts as unset everywhere: `STAFF_2FA_REQUIRED=` in an .env file must
# mean "the default", not "false".


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    """DATABASE_URL as Django's DATABASES["default"]; only SQLite and PostgreSQL are supported."""
    import dj_database_url

    raw = env_str(name) or default
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except ValueError as err:
        raise ImproperlyConfigured(f"{name} is not a database URL we understand: {err}") from None
    engine = config.get("ENGINE", "")
    if engine not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        raise ImproperlyConfigured(f"{name} must point at PostgreSQL or SQLite, not {engine!r}.")
    if engine.endswith("sqlite3"):
        # Persistent connections buy nothing on SQLite and keep the file locked longer.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    return config


def env_redis_url(name: str) -> str:
    raw = env_str(name)
    if raw and urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"{name} must be a redis://, rediss:// or unix:// URL.")
    return raw


SMTP = "django.core.mail.backends.smtp.EmailBackend"
_MAIL_BACKENDS = {
    "smtp": SMTP,
    "smtps": SMTP,
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
}


def env_mailer(*, debug: bool, file_path: Path) -> dict[str, object]:
    """Django's MAILERS["default"], from EMAIL_URL, else EMAIL_HOST and friends.

    EMAIL_URL looks like smtp://user:pass@host:587?tls=true (smtps:// for implicit TLS,
    file:///path, console://, memory://). With neither set: files under `file_path`
    in development, the SMTP server on localhost in production.
    """
    raw = env_str("EMAIL_URL")
    if raw:
        return _mailer_from_url("EMAIL_URL", raw)
    if env_str("EMAIL_HOST"):
        use_ssl = env_bool("EMAIL_USE_SSL", default=False)
        use_tls = env_bool("EMAIL_USE_TLS", default=False)
        return _smtp(
            "EMAIL_HOST",
            host=env_str("EMAIL_HOST"),
            port=env_int("EMAIL_PORT", 465 if use_ssl else 25, minimum=1),
            username=env_str("EMAIL_HOST_USER"),
            password=env_str("EMAIL_HOST_PASSWORD"),
            use_tls=use_tls,
            use_ssl=use_ssl,
        )
    if debug:
        return {
            "BACKEND": _MAIL_BACKENDS["file"],
            "OPTIONS": {"file_path": str(file_path)},
        }
    return {"BACKEND": SMTP, "OPTIONS": {"host": "localhost", "port": 25, "timeout": 10}}


def _smtp(name: str, **options: object) -> dict[str, object]:
    if options["use_tls"] and options["use_ssl"]:
        raise ImproperlyConfigured(f"{name}: use either TLS (STARTTLS) or SSL, not both.")
    return {"BACKEND": SMTP, "OPTIONS": {**options, "timeout": 10}}


def _mailer_from_url(name: str, raw: str) -> dict[str, object]:
    url = urlsplit(raw)
    if url.scheme not in _MAIL_BACKENDS:
        raise ImproperlyConfigured(f"{name} scheme must be one of {', '.join(_MAIL_BACKENDS)}.")
    backend = _MAIL_BACKENDS[url.scheme]
    if url.scheme == "file":
        return {"BACKEND": backend, "OPTIONS": {"file_path": unquote(url.path)}}
    if backend != SMTP:
        return {"BACKEND": backend}
    try:
        port = url.port or (465 if url.scheme == "smtps" else 25)
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a port that is not a number.") from None
    if not url.hostname:
        raise ImproperlyConfigured(f"{name} needs a host name.")
    query = {key: values[-1].lower() for key, values in parse_qs(url.query).items()}
    return _smtp(
        name,
        host=url.hostname,
        port=port,
        username=unquote(url.username or ""),
        password=unquote(url.password or ""),
        use_tls=query.get("tls") in _TRUE,
        use_ssl=url.scheme == "smtps" or query.get("ssl") in _TRUE,
    )
