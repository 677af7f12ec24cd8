"""Fixtures shared by the whole suite.

The suite runs on PostgreSQL when DATABASE_URL points at one (CI does), on SQLite
otherwise; tests marked `postgres` are skipped on SQLite with the reason printed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection

from config.celery import app as celery_app
from config.staff import STAFF_SESSION_KEY
from customers.services import roles_sync
from tests.factories import StaffFactory


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    # Browser tests last (after pytest-django's own ordering): Playwright keeps an event
    # loop running in the main thread from its first test to the end of the session, and
    # Django refuses database set-up from a thread with a running loop.
    items.sort(key=lambda item: "browser" in item.nodeid.split("/"))

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = bool(settings.REDIS_URL)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path_factory) -> Iterator[None]:
    # Argon2 is slow by design; the hasher choice itself is tested in test_settings.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STAFF_2FA_REQUIRED = False
    # Uploads (product images, imports) go to a folder of this test, never the checkout.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    cache.clear()
    # Tasks run inline, when their transaction commits (tests that need on_commit use
    # django_capture_on_commit_callbacks); real workers are tested in test_celery_workers.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def roles(db) -> None:
    roles_sync()


@pytest.fixture
def staff_login(client):
    """Sign `user` in the way the dashboard does: a session that passed the staff sign-in."""

    def sign_in(user, target_client=None):
        target = target_client or client
        target.force_login(user)
        session = target.session
        session[STAFF_SESSION_KEY] = True
        session.save()
        return target

    return sign_in


@pytest.fixture
def owner(roles):
    return StaffFactory(role="Owner")


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def warm_menu():
    """Cache the storefront header's department menu as a running shop has it, so query
    counts measure the page itself (the menu's own cost is tested on its own). Call it
    after creating categories: saving one drops the cached menu."""
    from catalog.selectors import category_menu
    from catalog.templatetags.catalog_tags import MENU_CACHE_KEY

    def warm() -> None:
        cache.set(MENU_CACHE_KEY, category_menu(), 600)

    warm()
    return warm
