from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from config.staff import STAFF_SESSION_KEY, staff_nav_for


def store(request: HttpRequest) -> dict[str, object]:
    context: dict[str, object] = {
        "store_name": settings.STORE_NAME,
        "page_base": "storefront/base.html",
    }
    user = getattr(request, "user", None)
    staff_session = hasattr(request, "session") and request.session.get(STAFF_SESSION_KEY)
    if request.path.startswith("/dashboard/") and user is not None and staff_session:
        context["staff_nav"] = staff_nav_for(user, request.path)
        # Error pages inside the dashboard keep the dashboard's navigation.
        context["page_base"] = "staff/base.html"
    return context
