"""Staff access: the decorator every dashboard view wears, and the dashboard navigation.

A staff session is one that came through the dashboard sign-in (password, then the
second factor when the user has one). Signing in anywhere else does not open the
dashboard, so the storefront login can never skip two-factor authentication.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from config.htmx import redirect_for

STAFF_SESSION_KEY = "staff_signed_in"

View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    permission: str
    description: str = ""


# One entry per pillar; an entry shows only to staff holding its permission.
STAFF_NAV: tuple[NavEntry, ...] = (
    NavEntry("Home", "analytics:staff-home", "customers.access_dashboard"),
    NavEntry(
        "Orders",
        "orders:staff-index",
        "orders.access_orders",
        "Orders, payments, refunds, settings",
    ),
    NavEntry(
        "Catalog", "catalog:staff-index", "catalog.access_catalog", "Products, prices, collections"
    ),
    NavEntry(
        "Inventory",
        "inventory:staff-index",
        "inventory.access_inventory",
        "Stock, suppliers, purchase orders",
    ),
    NavEntry(
        "Fulfillment",
        "fulfillment:staff-index",
        "fulfillment.access_fulfillment",
        "Picking, packing, shipping, returns",
    ),
    NavEntry(
        "Customers",
        "customers:staff-index",
        "customers.access_customers",
        "Shoppers, accounts, addresses",
    ),
    NavEntry(
        "Marketing",
        "marketing:staff-index",
        "marketing.access_marketing",
        "Cart-abandonment emails",
    ),
    NavEntry(
        "Analytics",
        "analytics:staff-index",
        "analytics.access_analytics",
        "Revenue, conversion, traffic",
    ),
)


def staff_nav_for(user: object, current_path: str) -> list[dict[str, object]]:
    entries = []
    for entry in STAFF_NAV:
        if not user.has_perm(entry.permission):
            continue
        url = reverse(entry.url_name)
        is_home = url.rstrip("/") == "/dashboard"
        active = current_path == url if is_home else current_path.startswith(url)
        entries.append(
            {"label": entry.label, "url": url, "active": active, "description": entry.description}
        )
    return entries


def _login_redirect(request: HttpRequest) -> HttpResponse:
    query = urlencode({"next": request.get_full_path()})
    return redirect_for(request, f"{reverse(settings.LOGIN_URL)}?{query}")


def staff_required(permission: str, *, setup_step: bool = False) -> Callable[[View], View]:
    """Let through a signed-in staff member holding `permission`; 403 for other staff.

    `setup_step` marks the pages a new staff member must reach before anything else
    (changing a one-time password, turning on two-factor authentication). What the
    user must do is asked of the user model (`needs_second_factor_setup`), so this
    module needs no app.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            user = request.user
            if not (
                user.is_authenticated
                and user.is_active
                and user.is_staff
                and request.session.get(STAFF_SESSION_KEY)
            ):
                return _login_redirect(request)
            if not setup_step:
                if user.password_change_required:
                    return redirect_for(request, reverse("customers:staff-password-change"))
                if user.needs_second_factor_setup():
                    return redirect_for(request, reverse("customers:staff-totp-setup"))
            if not user.has_perm(permission):
                raise PermissionDenied(f"Your role does not include {permission}.")
            response = view(request, *args, **kwargs)
            # Staff pages hold customer data: no cache, so Back after sign-out shows nothing.
            add_never_cache_headers(response)
            return response

        wrapper.staff_permission = permission  # read by the test that walks every URL
        return wrapper

    return decorator
