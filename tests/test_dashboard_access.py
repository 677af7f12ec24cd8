"""Every dashboard URL, for every role: who gets in, who gets 403, who is sent to sign in."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from customers.roles import ROLES
from tests.factories import ShopperFactory, StaffFactory

pytestmark = pytest.mark.django_db

# Reachable before signing in, by design.
PUBLIC = {
    "customers:staff-login",
    "customers:staff-login-verify",
    "customers:staff-logout",
    "customers:staff-password-reset",
    "customers:staff-password-reset-done",
    "customers:staff-password-reset-confirm",
    "customers:staff-password-reset-complete",
}


def fill_arguments(route: str) -> str:
    """Put an id that exists nowhere into every argument: the permission check comes before
    any lookup, so a role without it gets 403 and a role with it gets 404."""
    return re.sub(r"<(?:int:)?\w+>", "999999", re.sub(r"<(?:slug|str):\w+>", "missing", route))


def dashboard_urls() -> list[tuple[str, str, object]]:
    """(name, path, view) of every URL under /dashboard/, found by walking the resolver."""
    found = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and route.startswith("dashboard/"):
                name = f"{namespace}:{pattern.name}"
                found.append((name, "/" + fill_arguments(route), pattern.callback))

    walk(get_resolver().url_patterns, "", None)
    return found


PROTECTED = [(name, path, view) for name, path, view in dashboard_urls() if name not in PUBLIC]


def test_the_walk_finds_every_pillar():
    paths = {path for _, path, _ in PROTECTED}
    for pillar in ("catalog", "inventory", "orders", "fulfillment", "customers", "marketing"):
        assert f"/dashboard/{pillar}/" in paths
    assert {"/dashboard/", "/dashboard/analytics/"} <= paths
    assert len(PROTECTED) >= 13


@pytest.mark.parametrize(("name", "path", "view"), PROTECTED, ids=[n for n, _, _ in PROTECTED])
def test_every_dashboard_view_declares_a_permission(name, path, view):
    assert getattr(view, "staff_permission", None), f"{name} is not wrapped in staff_required"


@pytest.mark.parametrize(("name", "path", "view"), PROTECTED, ids=[n for n, _, _ in PROTECTED])
def test_anonymous_and_shoppers_are_sent_to_sign_in(client, name, path, view):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/?next=")
    client.force_login(ShopperFactory())
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/")


ALL_PILLARS = {
    "catalog",
    "inventory",
    "orders",
    "fulfillment",
    "customers",
    "marketing",
    "analytics",
}
PILLARS_BY_ROLE = {
    "Owner": ALL_PILLARS,
    "Manager": ALL_PILLARS,
    "Warehouse": {"catalog", "inventory", "orders", "fulfillment"},
    "Support": {"catalog", "orders", "fulfillment", "customers"},
    "Marketing": {"catalog", "customers", "marketing", "analytics"},
    None: set(),  # staff flag but no role: nothing at all
}


@pytest.mark.parametrize("role", [*ROLES, None])
def test_every_role_gets_exactly_what_its_permissions_allow(client, roles, staff_login, role):
    user = StaffFactory(role=role) if role else StaffFactory()
    staff_login(user)
    allowed, denied = [], []
    for name, path, view in PROTECTED:
        response = client.get(path)
        if user.has_perm(view.staff_permission):
            # 405: a POST-only action; 404: the made-up id; 302: a page that redirects
            # (the catalog index to its products); all past the permission check.
            assert response.status_code in (200, 302, 404, 405), (name, response.status_code)
            assert not response.get("Location", "").startswith("/dashboard/login/"), name
            allowed.append(name)
        else:
            assert response.status_code == 403, (name, response.status_code)
            assert b"have access to this page" in response.content
            denied.append(name)
    pillars = {path.split("/")[2] for name, path, _ in PROTECTED if name in allowed}
    assert pillars - {"", "account"} == PILLARS_BY_ROLE[role]
    if role is not None:
        assert {"", "account"} <= pillars, "every role has the home page and its own account"


def test_navigation_shows_only_the_pillars_of_the_role(client, roles, staff_login):
    staff_login(StaffFactory(role="Warehouse"))
    page = client.get("/dashboard/").text
    nav = page.split('<nav class="staff-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/dashboard/inventory/"' in nav
    assert 'href="/dashboard/fulfillment/"' in nav
    assert 'href="/dashboard/marketing/"' not in nav
    assert 'href="/dashboard/analytics/"' not in nav


def test_an_htmx_request_without_a_session_redirects_the_whole_page(client):
    response = client.get("/dashboard/orders/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/dashboard/login/?next=")


def test_dashboard_home_queries_stay_few(client, roles, staff_login, django_assert_max_num_queries):
    staff_login(StaffFactory(role="Manager"))
    # Session, user, the user's and their groups' permissions (once for the whole nav),
    # role names, second-factor state; the headline KPIs of the last 7 rolled-up days (one).
    with django_assert_max_num_queries(7):
        assert client.get("/dashboard/").status_code == 200
