"""What the KPI dashboard shows: the rollup tables for past days plus today so far,
computed live from the same aggregations the rollup uses (today only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum

from analytics import selectors
from analytics.models import DailyKpi, DailyProductKpi, DailySourceKpi
from catalog.models import Product
from config.charts import line_chart

COUNTS = [
    "sessions",
    "bounces",
    "product_views",
    "add_to_carts",
    "checkouts_started",
    "orders",
    "units",
    "new_customers",
    "returning_customers",
    "carts_created",
    "carts_abandoned",
]
AMOUNTS = [
    "gross_revenue",
    "refunds",
    "discounts",
    "tax",
    "shipping",
    "cost_of_goods",
]
SUMMED = COUNTS + AMOUNTS
TOP_PRODUCTS = 10


def _div(numerator, denominator) -> Decimal:
    return Decimal(numerator) / Decimal(denominator) if denominator else Decimal(0)


@dataclass
class Figures:
    """Sums over some days, and the rates worked out from the sums (not averaged)."""

    totals: dict = field(default_factory=lambda: dict.fromkeys(SUMMED, 0))

    def add(self, row: dict) -> None:
        for name in SUMMED:
            self.totals[name] += row.get(name) or 0

    def __getattr__(self, name: str):
        totals = self.__dict__.get("totals", {})
        if name in totals:
            return totals[name]
        raise AttributeError(name)

    @property
    def net_revenue(self) -> Decimal:
        return Decimal(self.gross_revenue) - Decimal(self.refunds)

    @property
    def gross_profit(self) -> Decimal:
        return self.net_revenue - Decimal(self.tax) - Decimal(self.cost_of_goods)

    @property
    def gross_margin(self) -> Decimal:
        return _div(self.gross_profit, self.net_revenue - Decimal(self.tax))

    @property
    def conversion_rate(self) -> Decimal:
        return _div(self.orders, self.sessions)

    @property
    def average_order_value(self) -> Decimal:
        return _div(self.gross_revenue, self.orders)

    @property
    def cart_abandonment_rate(self) -> Decimal:
        return _div(self.carts_abandoned, self.carts_created)

    @property
    def bounce_rate(self) -> Decimal:
        return _div(self.bounces, self.sessions)


def _live_rows(parts, day: date, keys: tuple[str, ...]) -> dict[tuple, dict]:
    """Today's figures by key, from the rollup's own aggregations."""
    rows: dict[tuple, dict] = {}
    for part in parts:
        for row in part(day, day).rows():
            key = tuple(row.pop(k) for k in keys)
            rows.setdefault(key, {}).update(row)
    return rows


@dataclass(frozen=True)
class Headline:
    label: str
    key: str
    value: Decimal | int
    previous: Decimal | int
    kind: str  # money, count, rate
    higher_is_better: bool = True

    @property
    def change(self) -> Decimal | None:
        """Relative change for money and counts, points for rates; None without a base."""
        if self.kind == "rate":
            return (Decimal(self.value) - Decimal(self.previous)) * 100
        if not self.previous:
            return None
        return (Decimal(self.value) - Decimal(self.previous)) / Decimal(self.previous) * 100

    @property
    def display(self) -> str:
        if self.kind == "money":
            return f"{Decimal(self.value):,.2f}"
        if self.kind == "rate":
            return f"{Decimal(self.value) * 100:.1f} %"
        return f"{self.value:,}"

    @property
    def change_display(self) -> str:
        change = self.change
        if change is None:
            return "no earlier figure"
        unit = " pts" if self.kind == "rate" else " %"
        return f"{change:+.1f}{unit} vs previous period"

    @property
    def tone(self) -> str:
        """ "good", "bad" or "" (no change, or nothing to compare with)."""
        change = self.change
        if not change:
            return ""
        return "good" if (change > 0) == self.higher_is_better else "bad"


@dataclass
class Report:
    first: date
    last: date
    previous_first: date
    previous_last: date
    current: Figures
    previous: Figures
    days: list[dict]
    sources: list[dict]
    products: list[dict]
    currency: str = field(default_factory=lambda: settings.STORE_CURRENCY)

    @property
    def headlines(self) -> list[Headline]:
        c, p = self.current, self.previous
        return [
            Headline("Revenue", "gross_revenue", c.gross_revenue, p.gross_revenue, "money"),
            Headline("Orders", "orders", c.orders, p.orders, "count"),
            Headline("Conversion rate", "conversion", c.conversion_rate, p.conversion_rate, "rate"),
            Headline(
                "Average order value", "aov", c.average_order_value, p.average_order_value, "money"
            ),
            Headline(
                "Cart abandonment",
                "abandonment",
                c.cart_abandonment_rate,
                p.cart_abandonment_rate,
                "rate",
                higher_is_better=False,
            ),
            Headline("Gross margin", "margin", c.gross_margin, p.gross_margin, "rate"),
        ]

    @property
    def funnel(self) -> list[tuple[str, int, Decimal]]:
        c = self.current
        steps = [
            ("Sessions", c.sessions),
            ("Product views", c.product_views),
            ("Added to cart", c.add_to_carts),
            ("Checkout started", c.checkouts_started),
            ("Ordered", c.orders),
        ]
        top = steps[0][1] or max((n for _, n in steps), default=0)
        return [(label, n, _div(n, top) * 100) for label, n in steps]

    def chart(self, key: str):
        return line_chart([float(day[key]) for day in self.days])

    @property
    def charts(self) -> list[tuple[str, object]]:
        return [
            ("Revenue per day", self.chart("gross_revenue")),
            ("Orders per day", self.chart("orders")),
            ("Sessions per day", self.chart("sessions")),
            ("Conversion rate per day (%)", self.chart("conversion_pct")),
        ]


def _figures(first: date, last: date, today: date, live_today: dict | None) -> Figures:
    figures = Figures()
    stored_last = min(last, today - timedelta(days=1))
    if first <= stored_last:
        figures.add(
            DailyKpi.objects.filter(day__gte=first, day__lte=stored_last).aggregate(
                **{name: Sum(name) for name in SUMMED}
            )
        )
    if live_today is not None and first <= today <= last:
        figures.add(live_today)
    return figures


def report(*, first: date, last: date, top: int = TOP_PRODUCTS) -> Report:
    """The dashboard for days first..last (last may be today) and the period before."""
    today = selectors.store_today()
    span = (last - first).days + 1
    previous_last = first - timedelta(days=1)
    previous_first = previous_last - timedelta(days=span - 1)
    live = first <= today <= last
    live_today = (
        _live_rows(selectors.DAILY_PARTS, today, ("day",)).get((today,), {}) if live else None
    )

    current = _figures(first, last, today, live_today)
    previous = _figures(previous_first, previous_last, today, live_today)

    by_day = {
        row["day"]: row
        for row in DailyKpi.objects.filter(day__gte=first, day__lte=min(last, today)).values(
            "day", *SUMMED
        )
    }
    if live:
        by_day[today] = {"day": today, **dict.fromkeys(SUMMED, 0), **live_today}
    days = []
    for offset in range(span):
        day = first + timedelta(days=offset)
        if day > today:
            break
        row = by_day.get(day) or {"day": day, **dict.fromkeys(SUMMED, 0)}
        row["conversion_pct"] = _div(row["orders"], row["sessions"]) * 100
        days.append(row)

    stored_last = min(last, today - timedelta(days=1))
    sources: dict[str, dict] = {}
    for row in (
        DailySourceKpi.objects.filter(day__gte=first, day__lte=stored_last)
        .values("source")
        .annotate(sessions=Sum("sessions"), orders=Sum("orders"), revenue=Sum("revenue"))
    ):
        sources[row["source"]] = row
    if live:
        parts = (selectors.source_sessions, selectors.source_orders)
        for (_, source), row in _live_rows(parts, today, ("day", "source")).items():
            into = sources.setdefault(
                source, {"source": source, "sessions": 0, "orders": 0, "revenue": 0}
            )
            for name in ("sessions", "orders", "revenue"):
                into[name] += row.get(name) or 0
    for row in sources.values():
        row["conversion_rate"] = _div(row["orders"], row["sessions"])
        row["conversion_pct"] = row["conversion_rate"] * 100
    source_rows = sorted(
        sources.values(), key=lambda r: (-r["sessions"], -r["orders"], r["source"])
    )

    products: dict[int, dict] = {}
    for row in (
        DailyProductKpi.objects.filter(day__gte=first, day__lte=stored_last)
        .values("product_id")
        .annotate(
            views=Sum("views"),
            add_to_carts=Sum("add_to_carts"),
            units=Sum("units"),
            revenue=Sum("revenue"),
        )
    ):
        products[row["product_id"]] = row
    if live:
        parts = (selectors.product_views, selectors.product_add_to_carts, selectors.product_sales)
        for (_, product_id), row in _live_rows(parts, today, ("day", "product_id")).items():
            into = products.setdefault(
                product_id,
                {"product_id": product_id, "views": 0, "add_to_carts": 0, "units": 0, "revenue": 0},
            )
            for name in ("views", "add_to_carts", "units", "revenue"):
                into[name] += row.get(name) or 0
    product_rows = sorted(
        products.values(), key=lambda r: (-r["revenue"], -r["units"], -r["views"], r["product_id"])
    )
    if top:
        product_rows = product_rows[:top]
    titles = dict(
        Product.objects.filter(pk__in=[r["product_id"] for r in product_rows]).values_list(
            "pk", "title"
        )
    )
    for row in product_rows:
        row["title"] = titles.get(row["product_id"], f"Deleted product {row['product_id']}")
        row["view_to_cart"] = _div(row["add_to_carts"], row["views"])

    return Report(
        first=first,
        last=last,
        previous_first=previous_first,
        previous_last=previous_last,
        current=current,
        previous=previous,
        days=days,
        sources=source_rows,
        products=product_rows,
    )


def headlines_report(*, first: date, last: date) -> Report:
    """Only the headline figures of days already rolled up (no live today), this period and
    the previous one in a single query: cheap enough for the dashboard home."""
    span = (last - first).days + 1
    previous_last = first - timedelta(days=1)
    previous_first = previous_last - timedelta(days=span - 1)
    current_days = Q(day__gte=first, day__lte=last)
    previous_days = Q(day__gte=previous_first, day__lte=previous_last)
    sums = DailyKpi.objects.filter(day__gte=previous_first, day__lte=last).aggregate(
        **{f"c_{n}": Sum(n, filter=current_days) for n in SUMMED},
        **{f"p_{n}": Sum(n, filter=previous_days) for n in SUMMED},
    )
    current, previous = Figures(), Figures()
    current.add({n: sums[f"c_{n}"] for n in SUMMED})
    previous.add({n: sums[f"p_{n}"] for n in SUMMED})
    return Report(first, last, previous_first, previous_last, current, previous, [], [], [])
