"""The marketing dashboard: sequence settings (who may change them, bad input) and the
abandonment report on known figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from customers.records import customer_for_email
from marketing.abandonment import abandonment_sequence_get
from marketing.models import AbandonmentEmail, AbandonmentSequence
from marketing.selectors import abandonment_report
from orders.models import Cart, Order
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

INDEX = "/dashboard/marketing/"
UPDATE = "/dashboard/marketing/abandonment/"
GOOD = {
    "enabled": "on",
    "step1_delay_hours": "2",
    "step2_delay_hours": "36",
    "voucher_percent": "20",
    "voucher_valid_days": "5",
}


def test_urls_are_where_the_brief_says():
    assert reverse("marketing:staff-index") == INDEX
    assert reverse("marketing:staff-abandonment-update") == UPDATE


# --- Access ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client):
    for response in (client.get(INDEX), client.post(UPDATE, GOOD)):
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/?next=")
    assert not AbandonmentSequence.objects.exists()


def test_warehouse_gets_403_and_changes_nothing(client, roles, staff_login):
    staff_login(StaffFactory(role="Warehouse"))
    assert client.get(INDEX).status_code == 403
    assert client.post(UPDATE, GOOD).status_code == 403
    assert abandonment_sequence_get().step1_delay_hours == 1


def test_marketing_gets_in_and_saves_the_sequence(client, roles, staff_login):
    staff_login(StaffFactory(role="Marketing"))
    page = client.get(INDEX)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Carts recovered" in text
    assert 'name="step1_delay_hours"' in text
    assert "<html" in text
    response = client.post(UPDATE, GOOD)
    assert response.status_code == 302
    assert response["Location"] == INDEX
    sequence = abandonment_sequence_get()
    assert (
        sequence.enabled,
        sequence.step1_delay_hours,
        sequence.step2_delay_hours,
        sequence.voucher_percent,
        sequence.voucher_valid_days,
    ) == (True, 2, 36, 20, 5)
    assert "Cart-abandonment emails saved." in client.get(INDEX).content.decode()


def test_viewing_without_the_change_permission_shows_but_cannot_save(client, roles, staff_login):
    viewer = StaffFactory()
    viewer.user_permissions.add(
        Permission.objects.get(codename="access_marketing"),
        Permission.objects.get(codename="access_dashboard"),
    )
    staff_login(viewer)
    page = client.get(INDEX).content.decode()
    assert "can see these settings but not change them" in page
    assert client.post(UPDATE, GOOD).status_code == 403
    assert abandonment_sequence_get().step2_delay_hours == 24


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"step2_delay_hours": "1"}, "step2_delay_hours", "must come later than the first (2 h)"),
        ({"step2_delay_hours": "2"}, "step2_delay_hours", "must come later than the first (2 h)"),
        ({"voucher_percent": "0"}, "voucher_percent", "Enter a percentage from 1 to 100."),
        ({"voucher_percent": "101"}, "voucher_percent", "Enter a percentage from 1 to 100."),
        ({"step1_delay_hours": "0"}, "step1_delay_hours", "greater than or equal to 1"),
        ({"step1_delay_hours": "soon"}, "step1_delay_hours", "Enter a whole number."),
        ({"voucher_valid_days": "0"}, "voucher_valid_days", "greater than or equal to 1"),
    ],
)
def test_bad_settings_get_a_clear_error_and_change_nothing(
    client, roles, staff_login, change, field, error
):
    staff_login(StaffFactory(role="Marketing"))
    before = abandonment_sequence_get()
    response = client.post(UPDATE, {**GOOD, **change})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert response.context["sequence_form"].errors[field]
    after = AbandonmentSequence.objects.get()
    assert (after.step1_delay_hours, after.step2_delay_hours, after.voucher_percent) == (
        before.step1_delay_hours,
        before.step2_delay_hours,
        before.voucher_percent,
    )


def test_the_database_refuses_a_sequence_that_goes_backwards(db):
    from django.db import IntegrityError, transaction

    sequence = abandonment_sequence_get()
    sequence.step2_delay_hours = sequence.step1_delay_hours
    with pytest.raises(IntegrityError), transaction.atomic():
        sequence.save()


def test_no_voucher_is_a_valid_choice(client, roles, staff_login):
    staff_login(StaffFactory(role="Marketing"))
    assert client.post(UPDATE, {**GOOD, "voucher_percent": ""}).status_code == 302
    assert abandonment_sequence_get().voucher_percent is None


# --- htmx ------------------------------------------------------------------------------------


def test_htmx_range_change_returns_only_the_report(client, roles, staff_login):
    staff_login(StaffFactory(role="Marketing"))
    response = client.get(
        INDEX, {"start": "2026-01-01", "end": "2026-01-31"}, headers={"HX-Request": "true"}
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<div id="abandonment-report">')
    assert "<html" not in text
    assert "1 Jan 2026 to 31 Jan 2026" in text


def test_htmx_save_returns_the_form_region(client, roles, staff_login):
    staff_login(StaffFactory(role="Marketing"))
    headers = {"HX-Request": "true"}
    saved = client.post(UPDATE, GOOD, headers=headers)
    assert saved.status_code == 200
    assert saved.content.decode().lstrip().startswith('<section id="sequence-form"')
    assert "Cart-abandonment emails saved." in saved.content.decode()
    bad = client.post(UPDATE, {**GOOD, "voucher_percent": "300"}, headers=headers)
    assert bad.status_code == 200  # htmx swaps only 2xx answers
    assert abandonment_sequence_get().voucher_percent == 20
    assert "Enter a percentage from 1 to 100." in bad.content.decode()
    assert "<html" not in bad.content.decode()


def test_a_backwards_date_range_says_so_and_shows_the_default(client, roles, staff_login):
    staff_login(StaffFactory(role="Marketing"))
    response = client.get(INDEX, {"start": "2026-02-10", "end": "2026-02-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert response.context["report"].end == timezone.localdate()


# --- The report ------------------------------------------------------------------------------


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 5, day, hour, tzinfo=timezone.get_current_timezone())


def sent(cart: Cart, step: int, when: datetime, *, opened=False, clicked=False, outcome="sent"):
    return AbandonmentEmail.objects.create(
        cart=cart,
        step=step,
        email=cart.email,
        outcome=outcome,
        claimed_at=when,
        sent_at=when if outcome == "sent" else None,
        opened_at=when + timedelta(minutes=5) if opened else None,
        clicked_at=when + timedelta(minutes=6) if clicked else None,
        clicks=1 if clicked else 0,
    )


def ordered(cart: Cart, when: datetime, total: str, status=Order.Status.PAID) -> Order:
    return Order.objects.create(
        customer=customer_for_email(email=cart.email),
        email=cart.email,
        cart_token=cart.token,
        total=Decimal(total),
        status=status,
        created_at=when,
    )


@pytest.fixture
def known_data(db):
    """Six carts, worked out by hand:
    A: email 1 (opened, clicked) on the 3rd, email 2 on the 4th, ordered 50.00 on the 5th
    B: email 1 (opened) on the 3rd, ordered 30.00 the same evening
    C: email 1 on the 3rd, but ordered before it went (not recovered by it)
    D: email 1 on the 6th, order cancelled
    E: email 1 on 20 April (outside the range), ordered 99.00 in May
    F: email 1 claimed and never sent
    """
    carts = {
        name: Cart.objects.create(email=f"{name.lower()}@example.net", status="ordered")
        for name in "ABCDEF"
    }
    sent(carts["A"], 1, at(3), opened=True, clicked=True)
    sent(carts["A"], 2, at(4))
    ordered(carts["A"], at(5), "50.00")
    sent(carts["B"], 1, at(3), opened=True)
    ordered(carts["B"], at(3, 20), "30.00")
    ordered(carts["C"], at(3, 8), "70.00")
    sent(carts["C"], 1, at(3))
    sent(carts["D"], 1, at(6))
    ordered(carts["D"], at(6, 18), "40.00", status=Order.Status.CANCELLED)
    sent(carts["E"], 1, datetime(2026, 4, 20, 12, tzinfo=timezone.get_current_timezone()))
    ordered(carts["E"], at(2), "99.00")
    sent(carts["F"], 1, at(3), outcome="pending")
    return carts


def test_report_figures_on_known_data(known_data):
    report = abandonment_report(start=date(2026, 5, 1), end=date(2026, 5, 31))
    first, second = report.steps
    assert (first.step, first.sent, first.opened, first.clicked) == (1, 4, 2, 1)
    assert (first.recovered, first.revenue) == (2, Decimal("80.00"))  # A and B
    assert (second.step, second.sent, second.opened, second.clicked) == (2, 1, 0, 0)
    assert (second.recovered, second.revenue) == (1, Decimal("50.00"))  # A
    # Overall, A counts once although both of its emails preceded the order.
    assert (report.sent, report.opened, report.clicked) == (5, 2, 1)
    assert (report.recovered, report.revenue) == (2, Decimal("80.00"))


def test_report_range_is_inclusive_and_narrows_the_figures(known_data):
    report = abandonment_report(start=date(2026, 5, 4), end=date(2026, 5, 6))
    assert [(s.step, s.sent) for s in report.steps] == [(1, 1), (2, 1)]  # D, and A's second
    assert (report.recovered, report.revenue) == (1, Decimal("50.00"))
    empty = abandonment_report(start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert (empty.sent, empty.recovered, empty.revenue) == (0, 0, Decimal("0.00"))


def test_report_page_shows_the_figures_with_few_queries(
    client, roles, staff_login, known_data, django_assert_max_num_queries
):
    staff_login(StaffFactory(role="Marketing"))
    abandonment_sequence_get()
    # Session, user, permissions (2), second factor, sequence, counts per step,
    # recovered per step (2) and overall.
    with django_assert_max_num_queries(12):
        response = client.get(INDEX, {"start": "2026-05-01", "end": "2026-05-31"})
    text = response.content.decode()
    assert "€80.00" in text
    assert "€50.00" in text
    assert "(50%)" in text  # 2 of 4 first emails opened
