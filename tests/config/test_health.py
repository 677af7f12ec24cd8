import pytest

from config import health


@pytest.mark.django_db
def test_healthz_reports_every_service_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
@pytest.mark.parametrize("down", ["database", "cache", "broker"])
def test_healthz_answers_503_naming_the_service_that_is_down(client, monkeypatch, down):
    def broken() -> None:
        raise ConnectionError("refused")

    monkeypatch.setitem(health.CHECKS, down, broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"][down] == {"ok": False, "error": "ConnectionError"}
    assert all(body["checks"][name]["ok"] for name in health.CHECKS if name != down)


@pytest.mark.django_db
def test_healthz_sees_an_unreachable_redis_broker(client, settings):
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


@pytest.mark.django_db  # the styled 405 page shows the storefront's department menu
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405
