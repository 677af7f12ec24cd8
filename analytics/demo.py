"""Demo storefront traffic for the weeks of the demo orders, and the KPI days rolled up.

Visitors came first from a search engine, directly, from the newsletter or from Instagram
(the last two through utm parameters); each day has a few dozen visits with their page
and product views, now and then a cart left behind (no email: nobody is reminded of it),
and every demo order was placed in a visit of its day (credited to its
customer's first source, as analytics.services.visit_record would). The rows are written
directly (bulk_create), as the middleware would have left them. Then the days of the
period are rolled up, so the dashboard shows them at once.

Idempotent: nothing is written when any visit exists.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from analytics import selectors
from analytics.models import OrderAttribution, ProductView, Visit, Visitor
from analytics.services import kpis_roll_up_due
from catalog.models import Category, Collection, Product, Variant
from orders.models import Cart, CartLine, Order, OrderLine

DAYS = 36  # the demo orders are spread over the last five weeks


@dataclass(frozen=True)
class Source:
    source: str
    weight: int
    referrer_host: str = ""
    utm_medium: str = ""
    campaigns: tuple[str, ...] = ("",)


SOURCES = [
    Source("direct", 30),
    Source("google.com", 38, referrer_host="google.com"),
    Source("newsletter", 12, utm_medium="email", campaigns=("weekly-picks", "new-arrivals")),
    Source(
        "instagram",
        20,
        referrer_host="l.instagram.com",
        utm_medium="social",
        campaigns=("stories", "bio-link", "autumn-reel"),
    ),
]
# Hour of the day (store time) a visit starts, weighted: quiet nights, busy evenings.
HOURS = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 6, 5, 5, 6, 7, 8, 9, 9, 8, 5, 3]
DEVICES = [("mobile", 58), ("desktop", 34), ("tablet", 8)]


def seed(*, log: Callable[[str], object]) -> None:
    if Visit.objects.exists():
        log("analytics: visits already recorded, nothing added")
        return
    products = list(
        Product.objects.filter(status=Product.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", "slug")
    )
    if not products:
        log("analytics: no active products, no demo visits")
        return
    traffic = _Traffic(products, now=timezone.now())
    traffic.orders()
    traffic.browsing()
    traffic.save_abandoned_carts()
    Visitor.objects.bulk_create(traffic.visitors.values(), batch_size=500)
    Visit.objects.bulk_create(traffic.visits, batch_size=500)
    ProductView.objects.bulk_create(traffic.product_views, batch_size=500)
    OrderAttribution.objects.bulk_create(traffic.attributions, batch_size=500)
    days = kpis_roll_up_due()
    log(
        f"analytics: {len(traffic.visitors)} visitors, {len(traffic.visits)} visits, "
        f"{len(traffic.product_views)} product views, {len(traffic.carts)} carts left behind, "
        f"{len(traffic.attributions)} orders attributed, {len(days)} KPI days rolled up"
    )


class _Traffic:
    """Builds the rows in memory (seeded random: the same demo every time)."""

    def __init__(self, products: list[tuple[int, str]], *, now: datetime) -> None:
        self.rng = random.Random(2611)  # noqa: S311 - demo traffic, not secrets
        self.now = now
        self.today = selectors.store_today()
        self.first_day = self.today - timedelta(days=DAYS - 1)
        self.products = products
        # A few products are the shop's bestsellers: they are looked at most.
        self.product_weights = [self.rng.choice([1, 1, 2, 3, 6]) for _ in products]
        self.listing_paths = ["/", "/search/"] + [
            f"/categories/{slug}/" for slug in Category.objects.values_list("slug", flat=True)
        ]
        self.listing_paths += [
            f"/collections/{slug}/" for slug in Collection.objects.values_list("slug", flat=True)
        ]
        self.visitors: dict[str, Visitor] = {}
        self.visits: list[Visit] = []
        self.product_views: list[ProductView] = []
        self.attributions: list[OrderAttribution] = []
        self.by_customer: dict[int, str] = {}
        self.variants: dict[int, Variant] = {}
        for variant in Variant.objects.filter(product_id__in=[pk for pk, _ in products]).order_by(
            "-pk"
        ):
            self.variants[variant.product_id] = variant  # the first variant of each product
        self.carts: list[tuple[Cart, list[CartLine]]] = []

    def _key(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _start(self, day: date) -> datetime | None:
        start, end = selectors.day_bounds(day, day)
        hour = self.rng.choices(range(24), weights=HOURS)[0]
        at = start + timedelta(hours=hour, minutes=self.rng.randint(0, 59))
        return at if at < min(end, self.now) else None

    def _visitor(self, at: datetime, *, returning: bool = True) -> Visitor:
        """A returning visitor now and then (seen before `at`), else a new one."""
        earlier = [v for v in self.visitors.values() if v.first_seen_at < at] if returning else []
        if earlier and self.rng.random() < 0.22:
            return self.rng.choice(earlier)
        source = self.rng.choices(SOURCES, weights=[s.weight for s in SOURCES])[0]
        visitor = Visitor(
            key=self._key(),
            first_seen_at=at,
            first_source=source.source,
            first_medium=source.utm_medium,
            first_campaign=self.rng.choice(source.campaigns),
        )
        self.visitors[visitor.key] = visitor
        return visitor

    def _visit(self, visitor: Visitor, at: datetime, *, pages: int, viewed: list[int]) -> Visit:
        # A new visitor arrives through their first source; a returning one mostly types
        # the address (or comes from the next newsletter).
        if visitor.first_seen_at == at:
            source = next(s for s in SOURCES if s.source == visitor.first_source)
            campaign = visitor.first_campaign
        else:
            source = self.rng.choices(SOURCES, weights=[50, 20, 20, 10])[0]
            campaign = self.rng.choice(source.campaigns)
        utm = source.utm_medium != ""
        slugs = dict(self.products)
        if viewed and (pages == 1 or self.rng.random() < 0.45):
            landing = f"/products/{slugs[viewed[0]]}/"
        else:
            landing = self.rng.choice(self.listing_paths)
            if source.source == "direct":
                landing = "/"
        last_seen = at + timedelta(minutes=(pages - 1) * self.rng.randint(1, 3))
        visit = Visit(
            key=self._key(),
            visitor_key=visitor.key,
            started_at=at,
            last_seen_at=min(last_seen, self.now),
            landing_path=landing,
            referrer_host=source.referrer_host,
            source=source.source,
            utm_source=source.source if utm else "",
            utm_medium=source.utm_medium,
            utm_campaign=campaign if utm else "",
            device=self.rng.choices([d for d, _ in DEVICES], weights=[w for _, w in DEVICES])[0],
            page_views=pages,
        )
        self.visits.append(visit)
        step = (visit.last_seen_at - at) / max(len(viewed), 1)
        self.product_views += [
            ProductView(visit_key=visit.key, product_id=pk, viewed_at=at + step * n)
            for n, pk in enumerate(viewed)
        ]
        return visit

    def _browse(self, count: int) -> list[int]:
        pks = [pk for pk, _ in self.products]
        return self.rng.choices(pks, weights=self.product_weights, k=count)

    def orders(self) -> None:
        """Every demo order of the period placed in a visit that day: a customer keeps one
        browser, so a repeat order is credited to where they first came from."""
        orders = Order.objects.filter(
            created_at__gte=selectors.day_bounds(self.first_day, self.first_day)[0]
        ).order_by("created_at")
        bought: dict[int, list[int]] = {}
        for order_id, product_id in OrderLine.objects.filter(
            order__in=orders, variant__isnull=False
        ).values_list("order_id", "variant__product_id"):
            bought.setdefault(order_id, []).append(product_id)
        for order_id, customer_id, created_at in orders.values_list(
            "pk", "customer_id", "created_at"
        ):
            local_start = timezone.localtime(created_at, selectors.store_tz())
            day_start = selectors.day_bounds(local_start.date(), local_start.date())[0]
            at = max(day_start, created_at - timedelta(minutes=self.rng.randint(6, 40)))
            visitor_key = self.by_customer.get(customer_id)
            if visitor_key:
                visitor = self.visitors[visitor_key]
            else:  # not another customer's browser
                visitor = self._visitor(at, returning=False)
            self.by_customer[customer_id] = visitor.key
            viewed = bought.get(order_id, []) + self._browse(self.rng.randint(0, 3))
            self.rng.shuffle(viewed)
            visit = self._visit(
                visitor, at, pages=len(viewed) + self.rng.randint(3, 6), viewed=viewed
            )
            self.attributions.append(
                OrderAttribution(
                    order_id=order_id, visit_key=visit.key, source=visitor.first_source
                )
            )

    def browsing(self) -> None:
        """A few dozen visits a day, a little busier at weekends and growing week by week;
        about four in ten leave after one page."""
        for offset in range(DAYS):
            day = self.first_day + timedelta(days=offset)
            weekend = 1.25 if day.weekday() >= 5 else 1.0
            count = int(self.rng.randint(24, 38) * weekend * (0.85 + 0.3 * offset / DAYS))
            starts = sorted(filter(None, (self._start(day) for _ in range(count))))
            for at in starts:
                visitor = self._visitor(at)
                if self.rng.random() < 0.42:
                    pages = 1
                    viewed = self._browse(1) if self.rng.random() < 0.4 else []
                else:
                    pages = self.rng.randint(2, 9)
                    viewed = self._browse(self.rng.choice([0, 1, 1, 1, 2, 2, 3]))
                visit = self._visit(visitor, at, pages=pages, viewed=viewed)
                if viewed and pages > 2 and self.rng.random() < 0.12:
                    self._cart_left(visit, viewed)

    def _cart_left(self, visit: Visit, viewed: list[int]) -> None:
        """A cart filled in the visit and never ordered; one in three reached checkout."""
        added = visit.started_at + (visit.last_seen_at - visit.started_at) / 2
        cart = Cart(
            currency=settings.STORE_CURRENCY,
            created_at=added,
            updated_at=visit.last_seen_at,
            checkout_started_at=visit.last_seen_at if self.rng.random() < 0.33 else None,
        )
        lines = [
            CartLine(
                variant=self.variants[pk],
                quantity=self.rng.choice([1, 1, 1, 2]),
                price_seen=self.variants[pk].price,
                added_at=added,
            )
            for pk in dict.fromkeys(viewed)
            if pk in self.variants
        ]
        if lines:
            self.carts.append((cart, lines))

    def save_abandoned_carts(self) -> None:
        Cart.objects.bulk_create([cart for cart, _ in self.carts], batch_size=500)
        for cart, lines in self.carts:
            for line in lines:
                line.cart = cart
        CartLine.objects.bulk_create(
            [line for _, lines in self.carts for line in lines],
            batch_size=500,
        )
