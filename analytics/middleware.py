"""Storefront visits, recorded by analytics itself: no third-party tracker.

A random first-party cookie names the browser (the visitor) and a second one, living 30
minutes from the last page, names the visit. Nothing is written while the page is made:
what the request saw is written after the response has been sent (the response's close
hook), one UPSERT for the visit plus one INSERT for a product page.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

VISITOR_COOKIE = "store_vid"
VISIT_COOKIE = "store_visit"
VISITOR_MAX_AGE = 60 * 60 * 24 * 365
VISIT_MAX_AGE = 30 * 60
KEY = re.compile(r"^[0-9a-f]{32}$")
EXCLUDED_PREFIXES = ("/dashboard/", "/static/", "/media/", "/healthz", "/admin/", "/webhooks/")
EXCLUDED_PATHS = {"/favicon.ico", "/robots.txt", "/sitemap.xml"}
BOT = re.compile(
    r"bot|crawl|spider|slurp|scrap|fetch|preview|headless|lighthouse|monitor|curl|wget|"
    r"python-|httpx|okhttp|java/|go-http|libwww|facebookexternalhit|embedly|pingdom",
    re.IGNORECASE,
)
TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.IGNORECASE)
MOBILE = re.compile(r"mobi|iphone|ipod|android|windows phone|blackberry|opera mini", re.I)


def device_class(user_agent: str) -> str:
    if TABLET.search(user_agent):
        return "tablet"
    if MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(BOT.search(user_agent))


def is_tracked_path(path: str) -> bool:
    return path not in EXCLUDED_PATHS and not path.startswith(EXCLUDED_PREFIXES)


def _host(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")[:200]


# A signed token in a path (order status and pay links, cart recovery, unsubscribe, email
# confirmation) opens what it names: never kept. Django's signed values contain ":".
PASSWORD_RESET_PREFIX = "/account/password-reset/"  # noqa: S105 - a URL, not a secret


def masked_path(path: str) -> str:
    if path.startswith(PASSWORD_RESET_PREFIX) and path != PASSWORD_RESET_PREFIX:
        return PASSWORD_RESET_PREFIX + "<token>/"
    return "/".join("<token>" if ":" in part else part for part in path.split("/"))


def _param(request: HttpRequest, name: str) -> str:
    return request.GET.get(name, "").strip().lower()[:100]


@dataclass
class PageView:
    """What one request saw; written by analytics.services.visit_record after the response."""

    visitor_key: str
    visit_key: str
    new_visitor: bool
    at: object
    path: str
    referrer_host: str
    source: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    device: str
    count_page: bool = False
    product_slug: str = ""
    order_ids: list[int] = field(default_factory=list)


# The visit of the request being served: an order placed during it is credited to it.
current_page_view: ContextVar[PageView | None] = ContextVar("current_page_view", default=None)


def page_view_for(request: HttpRequest) -> PageView | None:
    """Read the cookies and the request; None when it must not be recorded."""
    if not is_tracked_path(request.path) or is_bot(request.headers.get("User-Agent", "")):
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return None
    visitor = request.COOKIES.get(VISITOR_COOKIE, "")
    visit = request.COOKIES.get(VISIT_COOKIE, "")
    new_visitor = not KEY.match(visitor)
    visitor = secrets.token_hex(16) if new_visitor else visitor
    visit = visit if KEY.match(visit) and not new_visitor else secrets.token_hex(16)
    referrer_host = _host(request.headers.get("Referer", ""))
    own_host = request.get_host().split(":")[0].lower().removeprefix("www.")
    if referrer_host == own_host:
        referrer_host = ""
    utm_source = _param(request, "utm_source")
    return PageView(
        visitor_key=visitor,
        visit_key=visit,
        new_visitor=new_visitor,
        at=timezone.now(),
        path=masked_path(request.path)[:500],
        referrer_host=referrer_host,
        source=(utm_source or referrer_host or "direct")[:100],
        utm_source=utm_source,
        utm_medium=_param(request, "utm_medium"),
        utm_campaign=_param(request, "utm_campaign"),
        device=device_class(request.headers.get("User-Agent", "")),
    )


def _is_page(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        request.method == "GET"
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
        and not request.headers.get("HX-Request")
    )


class VisitMiddleware:
    """Put after AuthenticationMiddleware (staff are recognised by their user)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = page_view_for(request)
        if view is None:
            return self.get_response(request)
        token = current_page_view.set(view)
        try:
            response = self.get_response(request)
        finally:
            current_page_view.reset(token)
        view.count_page = _is_page(request, response)
        if view.count_page:
            match = getattr(request, "resolver_match", None)
            if match and match.view_name == "catalog:product":
                view.product_slug = str(match.kwargs.get("slug", ""))
            response.set_cookie(
                VISIT_COOKIE, view.visit_key, max_age=VISIT_MAX_AGE, httponly=True, samesite="Lax"
            )
            if view.new_visitor:
                response.set_cookie(
                    VISITOR_COOKIE,
                    view.visitor_key,
                    max_age=VISITOR_MAX_AGE,
                    httponly=True,
                    samesite="Lax",
                )
        if view.count_page or view.order_ids:
            from analytics.services import visit_record

            response._resource_closers.append(lambda: visit_record(view=view))
        return response
