import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_mailer,
    env_redis_url,
    env_str,
)


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False)])
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", default=not expected) is expected


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG", default=False)


def test_env_int_refuses_words_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 5, minimum=1)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,, ")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_database_url_for_postgres(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://shop:pw@db:5432/store")
    config = env_database("DATABASE_URL", "sqlite:///x.db")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["NAME"], config["USER"]) == ("db", "store", "shop")


def test_database_url_refuses_unsupported_engines(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@db/store")
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL or SQLite"):
        env_database("DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("DATABASE_URL", "not a url")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", "sqlite:///x.db")


def test_redis_url_must_be_redis(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "http://cache:6379")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        env_redis_url("REDIS_URL")


def test_email_url_for_smtp_with_tls(monkeypatch, tmp_path):
    monkeypatch.setenv("EMAIL_URL", "smtp://user%40shop:p%40ss@mail.example:587?tls=true")
    mailer = env_mailer(debug=True, file_path=tmp_path)
    assert mailer["BACKEND"].endswith("smtp.EmailBackend")
    assert mailer["OPTIONS"] == {
        "host": "mail.example",
        "port": 587,
        "username": "user@shop",
        "password": "p@ss",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }


def test_classic_email_host_variables_still_work(monkeypatch, tmp_path):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.setenv("EMAIL_HOST", "smtp.example")
    monkeypatch.setenv("EMAIL_USE_SSL", "true")
    mailer = env_mailer(debug=False, file_path=tmp_path)
    assert mailer["OPTIONS"]["host"] == "smtp.example"
    assert mailer["OPTIONS"]["port"] == 465


def test_mail_defaults_to_files_in_development_and_smtp_in_production(monkeypatch, tmp_path):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    assert env_mailer(debug=True, file_path=tmp_path)["OPTIONS"] == {"file_path": str(tmp_path)}
    assert env_mailer(debug=False, file_path=tmp_path)["BACKEND"].endswith("smtp.EmailBackend")


@pytest.mark.parametrize(
    "raw", ["ftp://mail.example", "smtp://mail.example:notaport", "smtp://h?tls=1&ssl=1"]
)
def test_email_url_refuses_bad_values(monkeypatch, tmp_path, raw):
    monkeypatch.setenv("EMAIL_URL", raw)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        env_mailer(debug=True, file_path=tmp_path)


def test_an_empty_value_means_the_default(monkeypatch):
    monkeypatch.setenv("FLAG", "")
    monkeypatch.setenv("NAME", "  ")
    monkeypatch.setenv("HOSTS", "")
    assert env_bool("FLAG", default=True) is True
    assert env_str("NAME", "fallback") == "fallback"
    assert env_list("HOSTS", ["a"]) == ["a"]
