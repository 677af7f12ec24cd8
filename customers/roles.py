"""The staff roles and what each may do, as patterns over `app_label.codename`.

Patterns rather than lists so that a permission added by a later migration (say
`catalog.change_product`) reaches the right roles the next time `setup_roles` runs.
A leading "!" removes what earlier patterns granted.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

# Permissions outside these apps (sessions, content types, auth internals) go to no role.
PROJECT_APPS = (
    "catalog",
    "customers",
    "inventory",
    "orders",
    "fulfillment",
    "marketing",
    "analytics",
)

_VIEW_CATALOG = ("catalog.access_catalog", "catalog.view_*")
# Staff accounts and their second factors are the Owner's business alone.
_NOT_ACCOUNTS = (
    "!customers.manage_staff",
    "!customers.*_user",
    "!customers.*_totpdevice",
    "!customers.*_recoverycode",
)

ROLES: dict[str, tuple[str, ...]] = {
    "Owner": ("*.*",),
    "Manager": ("*.*", *_NOT_ACCOUNTS),
    "Warehouse": (
        "customers.access_dashboard",
        *_VIEW_CATALOG,
        "inventory.*",
        "fulfillment.*",
        "orders.access_orders",
        "orders.view_*",
    ),
    "Support": (
        "customers.*",
        *_NOT_ACCOUNTS,
        *_VIEW_CATALOG,
        "orders.access_orders",
        "orders.view_*",
        "orders.change_order",
        "fulfillment.access_fulfillment",
        "fulfillment.view_*",
        "fulfillment.*return*",
    ),
    "Marketing": (
        "customers.access_dashboard",
        "customers.access_customers",
        "customers.view_*",
        *_NOT_ACCOUNTS,
        *_VIEW_CATALOG,
        "marketing.*",
        "analytics.*",
    ),
}

ROLE_DESCRIPTIONS = {
    "Owner": "Everything, including staff and their roles.",
    "Manager": "Runs the store day to day: every pillar, but not staff accounts.",
    "Warehouse": "Stock, suppliers, purchase orders, picking, packing and shipping.",
    "Support": "Customers, orders and returns; reads the catalog.",
    "Marketing": "Campaigns, automations and analytics; reads the catalog and customers.",
}


def role_grants(role: str, permission: str) -> bool:
    """Whether `role` holds `permission` ("app_label.codename") under the patterns above."""
    granted = False
    for pattern in ROLES[role]:
        if pattern.startswith("!"):
            if fnmatchcase(permission, pattern[1:]):
                granted = False
        elif fnmatchcase(permission, pattern):
            granted = True
    return granted
