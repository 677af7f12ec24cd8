"""docker-compose.yml, checked offline: against the Compose Specification schema that
check-jsonschema ships (no Docker, no network), and against what the store needs from it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML  # check-jsonschema's own YAML parser, so it is always installed

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = ("web", "worker", "beat")
# Read by settings but deliberately not passed by docker-compose.yml.
NOT_IN_COMPOSE = {
    # Mail is configured through EMAIL_URL alone there.
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    # Fixed by the image: /app/var and /app/media, where the volumes are mounted.
    "VAR_DIR",
    "MEDIA_ROOT",
    # For tests only.
    "CELERY_TASK_ALWAYS_EAGER",
    "ABANDONMENT_PAUSE_AFTER_CLAIM",
}


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def load_compose() -> dict:
    # The safe loader resolves the x-app-env / x-app anchors and `<<` merges like Compose.
    return YAML(typ="safe", pure=True).load(COMPOSE_FILE.read_text())


def command_text(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_compose_file_matches_the_compose_spec():
    result = validate(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param("services:\n  web:\n    ports: 8000\n", id="ports-not-a-list"),
        pytest.param("services:\n  web:\n    image: x\n    colour: blue\n", id="unknown-key"),
        pytest.param(
            "services:\n  web:\n    image: x\n    depends_on:\n"
            "      db:\n        condition: service_happy\n",
            id="unknown-depends-on-condition",
        ),
    ],
)
def test_validator_rejects_a_broken_compose_file(tmp_path, broken):
    path = tmp_path / "docker-compose.yml"
    path.write_text(broken)
    result = validate(path)
    assert result.returncode != 0, result.stdout
    assert "Schema validation errors were encountered" in result.stdout


def test_the_five_services_are_there():
    assert set(load_compose()["services"]) == {"postgres", "redis", "web", "worker", "beat"}


def test_postgres_and_redis_report_health():
    services = load_compose()["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(name):
    depends_on = load_compose()["services"][name]["depends_on"]
    for dependency in ("postgres", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_worker_and_beat_start_after_web_has_migrated(name):
    depends_on = load_compose()["services"][name]["depends_on"]
    assert depends_on["web"]["condition"] == "service_healthy"


def test_web_migrates_and_creates_roles_before_serving():
    command = command_text(load_compose()["services"]["web"])
    migrate = command.index("manage.py migrate --noinput")
    roles = command.index("manage.py setup_roles")
    gunicorn = command.index("gunicorn config.wsgi")
    assert migrate < roles < gunicorn
    assert "--bind 0.0.0.0:8000" in command


def test_web_healthcheck_asks_healthz_on_an_allowed_host():
    compose = load_compose()
    web = compose["services"]["web"]
    probe = " ".join(web["healthcheck"]["test"])
    assert "http://localhost:8000/healthz" in probe
    assert any(port.endswith(":8000") for port in web["ports"])
    # With DEBUG off an unlisted Host gets a 400, which would mark web unhealthy forever.
    allowed = web["environment"]["ALLOWED_HOSTS"].split(",")
    assert "localhost" in allowed


def test_worker_and_beat_run_celery():
    services = load_compose()["services"]
    assert command_text(services["worker"]).startswith("celery -A config worker")
    assert command_text(services["beat"]).startswith("celery -A config beat")


def test_app_services_share_one_production_environment():
    services = load_compose()["services"]
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert environments[0] == environments[1] == environments[2]
    env = environments[0]
    assert env["DEBUG"] == "false"
    # `:?` makes Compose stop with a message instead of starting on an empty key.
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert env["DATABASE_URL"] == "postgres://store:store@postgres:5432/store"
    assert env["REDIS_URL"] == "redis://redis:6379/0"


def test_compose_passes_every_setting_the_app_reads():
    source = "".join((ROOT / "config" / name).read_text() for name in ("settings.py", "env.py"))
    read = set(re.findall(r'\benv_\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert {"SECRET_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY"} <= read  # the pattern still works
    passed = set(load_compose()["x-app-env"])
    missing = sorted(read - passed - NOT_IN_COMPOSE)
    assert not missing, f"add these to x-app-env in docker-compose.yml: {missing}"


@pytest.mark.parametrize("name", ["web", "worker"])
def test_uploads_and_var_are_volumes(name):
    compose = load_compose()
    mounts = dict(volume.split(":", 1) for volume in compose["services"][name]["volumes"])
    assert mounts == {"media": "/app/media", "var": "/app/var"}
    assert {"postgres-data", "media", "var"} <= set(compose["volumes"])


def test_dockerfile_build_key_is_accepted_by_production_settings():
    # collectstatic runs at build time with DEBUG off; settings refuse a short SECRET_KEY.
    dockerfile = (ROOT / "Dockerfile").read_text()
    key = re.search(r"SECRET_KEY=(\S+)", dockerfile).group(1)
    assert len(key) >= 50
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DEBUG": "false", "SECRET_KEY": key, "ALLOWED_HOSTS": "localhost"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
