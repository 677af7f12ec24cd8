from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import RequestFactory

from analytics.middleware import VISIT_COOKIE, VISITOR_COOKIE, VisitMiddleware, device_class
from analytics.models import OrderAttribution, ProductView, Visit, Visitor
from orders.services import order_place
from tests.factories import ProductFactory, ShopperFactory, StaffFactory, VariantFactory
from tests.factories.inventory import WarehouseFactory, stock
from tests.factories.orders import ready_cart

pytestmark = pytest.mark.django_db
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def close(response) -> None:
    """Close a response by hand, as the server does once it is sent. That sends
    request_finished, which would close the test's connection (inside its transaction):
    unhooked meanwhile, as the test client does."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


@pytest.fixture
def shopper(client):
    client.defaults["HTTP_USER_AGENT"] = DESKTOP
    return client


def test_first_page_records_a_visit_with_utm_referrer_device_and_cookies(client):
    response = client.get(
        "/?utm_source=Newsletter&utm_medium=Email&utm_campaign=Spring-Sale",
        HTTP_USER_AGENT=IPHONE,
        HTTP_REFERER="https://www.example.org/some/page",
    )
    assert response.status_code == 200
    visit = Visit.objects.get()
    assert (visit.landing_path, visit.page_views, visit.device) == ("/", 1, "mobile")
    assert (visit.utm_source, visit.utm_medium, visit.utm_campaign) == (
        "newsletter",
        "email",
        "spring-sale",
    )
    assert (visit.source, visit.referrer_host) == ("newsletter", "example.org")
    visitor = Visitor.objects.get()
    assert (visitor.first_source, visitor.first_campaign) == ("newsletter", "spring-sale")
    for name in (VISITOR_COOKIE, VISIT_COOKIE):
        cookie = response.cookies[name]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
    assert response.cookies[VISIT_COOKIE].value == visit.key
    assert response.cookies[VISITOR_COOKIE].value == visitor.key == visit.visitor_key


def test_more_pages_count_in_the_same_visit_and_product_pages_are_views(shopper):
    product = ProductFactory()
    VariantFactory(product=product)
    shopper.get("/", HTTP_REFERER="https://duckduckgo.com/")
    assert shopper.get(f"/products/{product.slug}/").status_code == 200
    shopper.get(f"/products/{product.slug}/")
    visit = Visit.objects.get()
    assert (visit.page_views, visit.source, visit.device) == (3, "duckduckgo.com", "desktop")
    assert ProductView.objects.filter(product=product, visit_key=visit.key).count() == 2


def test_a_new_visit_keeps_the_visitors_first_source(shopper):
    shopper.get("/?utm_source=instagram")
    shopper.cookies.pop(VISIT_COOKIE)  # 30 quiet minutes later the visit cookie is gone
    shopper.get("/?utm_source=google")
    assert Visit.objects.count() == 2
    assert set(Visit.objects.values_list("source", flat=True)) == {"instagram", "google"}
    assert Visitor.objects.get().first_source == "instagram"


def test_a_link_inside_the_store_is_not_a_referrer(shopper):
    shopper.get("/", HTTP_REFERER="http://testserver/products/x/")
    assert Visit.objects.get().source == "direct"


@pytest.mark.parametrize(
    "agent",
    ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.4", "HeadlessChrome/120", ""],
)
def test_bots_are_not_counted(client, agent):
    client.get("/", HTTP_USER_AGENT=agent)
    assert not Visit.objects.exists()
    assert not Visitor.objects.exists()


def test_staff_are_not_counted_shoppers_are(shopper):
    shopper.force_login(StaffFactory())
    shopper.get("/")
    assert not Visit.objects.exists()
    shopper.force_login(ShopperFactory())
    shopper.get("/")
    assert Visit.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/healthz", "/static/css/store.css", "/robots.txt"]
)
def test_dashboard_static_health_and_robots_are_not_visits(shopper, path):
    shopper.get(path)
    assert not Visit.objects.exists()


def test_htmx_requests_posts_and_missing_pages_are_not_page_views(shopper):
    shopper.get("/", HTTP_HX_REQUEST="true")
    shopper.post("/search/")
    shopper.get("/products/no-such-thing/")
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (IPHONE, "mobile"),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) Safari", "tablet"),
        ("Mozilla/5.0 (Linux; Android 14; SM-X200) Safari/537.36", "tablet"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36", "mobile"),
        (DESKTOP, "desktop"),
    ],
)
def test_device_class(agent, device):
    assert device_class(agent) == device


def test_nothing_is_written_until_the_response_is_closed_then_one_visit(db):
    request = RequestFactory().get("/", HTTP_USER_AGENT=DESKTOP)
    request.user = ShopperFactory.build()
    response = VisitMiddleware(lambda r: HttpResponse("<p>hi</p>"))(request)
    assert not Visit.objects.exists()
    close(response)
    assert Visit.objects.count() == 1


def test_an_order_placed_in_a_visit_is_credited_to_the_visitors_first_source(
    shopper, django_capture_on_commit_callbacks
):
    warehouse = WarehouseFactory()
    variant = VariantFactory(price=Decimal("10.00"))
    stock(variant, warehouse, 5)
    shopper.get("/?utm_source=newsletter")
    cart = ready_cart([(variant, 1)])
    placed = {}

    def checkout(request):
        # The order's transaction commits inside the view, as in the store.
        with django_capture_on_commit_callbacks(execute=True):
            placed["order"] = order_place(cart=cart)
        return HttpResponse(status=302)

    request = RequestFactory().post("/checkout/", HTTP_USER_AGENT=DESKTOP)
    request.COOKIES.update({k: v.value for k, v in shopper.cookies.items()})
    request.user = ShopperFactory.build()
    close(VisitMiddleware(checkout)(request))
    attribution = OrderAttribution.objects.get()
    assert attribution.order == placed["order"]
    assert (attribution.source, attribution.visit_key) == ("newsletter", Visit.objects.get().key)
    assert Visit.objects.get().page_views == 1  # the POST was not a page view
