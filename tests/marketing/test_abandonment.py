"""The cart-abandonment sequence: timing on a frozen clock, stopping, opt-outs, claims,
the email itself and its single-use voucher."""

from __future__ import annotations

import email.policy
from datetime import timedelta
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from PIL import Image

from catalog.images import product_image_add
from customers.records import customer_for_email
from marketing.abandonment import (
    abandonment_email_send,
    abandonment_send_due,
    abandonment_sequence_update,
    email_suppress,
)
from marketing.models import AbandonmentEmail, Suppression
from orders.models import Cart, Voucher
from orders.pricing import VoucherError, voucher_check
from orders.services import (
    cart_add,
    cart_checkout_update,
    cart_remove,
    cart_totals,
    cart_voucher_apply,
    order_place,
)
from tests.factories.orders import ADDRESS, ShippingMethodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """One beat run at the clock's time; tasks run inline after the commit (eager)."""

    def run_once() -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return abandonment_send_due()

    return run_once


def sent_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def make_orderable(cart: Cart) -> Cart:
    return cart_checkout_update(
        cart=cart,
        shipping_address=dict(ADDRESS),
        shipping_method=ShippingMethodFactory(),
        payment_method="bank_transfer",
    )


# --- Timing ----------------------------------------------------------------------------------


def test_first_email_at_one_hour_not_before(clock, left_cart, run):
    start = clock.now
    cart = left_cart()
    clock.at(start, minutes=59)
    assert run() == []
    assert not mail.outbox
    clock.at(start, hours=1)
    run()
    [message] = mail.outbox
    assert message.to == ["ada@example.net"]
    assert message.subject == f"You left something in your cart at {settings.STORE_NAME}"
    claim = AbandonmentEmail.objects.get(cart=cart)
    assert (claim.step, claim.outcome, claim.sent_at) == (1, "sent", start + timedelta(hours=1))
    # The next beat runs send nothing more until the second step is due.
    for minutes in (75, 90, 23 * 60 + 45):
        clock.at(start, minutes=minutes)
        run()
    assert len(mail.outbox) == 1


def test_second_email_at_24_hours_and_there_is_no_third(clock, left_cart, run):
    start = clock.now
    cart = left_cart()
    clock.at(start, hours=1)
    run()
    clock.at(start, hours=23, minutes=59)
    run()
    assert len(mail.outbox) == 1
    clock.at(start, hours=24)
    run()
    assert len(mail.outbox) == 2
    assert "still waiting" in mail.outbox[1].subject or "% off" in mail.outbox[1].subject
    for hours in (25, 48, 24 * 7, 24 * 30):
        clock.at(start, hours=hours)
        run()
    assert len(mail.outbox) == 2
    assert list(
        AbandonmentEmail.objects.filter(cart=cart).order_by("step").values_list("step", flat=True)
    ) == [1, 2]


def test_activity_after_the_first_email_restarts_the_clock(clock, left_cart, variants, run):
    start = clock.now
    cart = left_cart()
    clock.at(start, hours=1)
    run()
    clock.at(start, hours=5)
    cart_add(cart=cart, variant_id=variants[0].pk, quantity=1)  # the shopper came back
    clock.at(start, hours=24)
    run()
    assert len(mail.outbox) == 1
    clock.at(start, hours=5 + 24)
    run()
    assert len(mail.outbox) == 2


def test_a_cart_found_too_late_for_the_first_email_gets_none(clock, left_cart, run):
    """Beat was down for a day: no burst of both emails at once, and no stale reminder."""
    start = clock.now
    left_cart()
    clock.at(start, hours=30)
    run()
    assert not mail.outbox
    assert not AbandonmentEmail.objects.exists()


def test_the_settings_move_the_steps(clock, left_cart, run):
    abandonment_sequence_update(
        enabled=True,
        step1_delay_hours=3,
        step2_delay_hours=48,
        voucher_percent=None,
        voucher_valid_days=7,
    )
    start = clock.now
    left_cart()
    clock.at(start, hours=2)
    run()
    assert not mail.outbox
    clock.at(start, hours=3)
    run()
    clock.at(start, hours=47)
    run()
    assert len(mail.outbox) == 1
    clock.at(start, hours=48)
    run()
    assert len(mail.outbox) == 2
    assert "BACK-" not in mail.outbox[1].body  # no voucher configured
    assert not Voucher.objects.exists()


def test_disabled_sequence_sends_nothing(clock, left_cart, run):
    abandonment_sequence_update(
        enabled=False,
        step1_delay_hours=1,
        step2_delay_hours=24,
        voucher_percent=10,
        voucher_valid_days=7,
    )
    start = clock.now
    left_cart()
    clock.at(start, hours=2)
    assert run() == []
    assert not mail.outbox


# --- Who gets nothing ------------------------------------------------------------------------


def test_carts_without_email_or_items_or_ordered_get_nothing(clock, left_cart, variants, run):
    start = clock.now
    left_cart(email="")
    emptied = left_cart(email="empty@example.net")
    for variant in variants:
        cart_remove(cart=emptied, variant_id=variant.pk)
    ordered = make_orderable(left_cart(email="bought@example.net"))
    order_place(cart=ordered)
    clock.at(start, hours=2)
    run()
    assert not mail.outbox
    assert not AbandonmentEmail.objects.exists()


def test_sequence_stops_when_the_cart_is_ordered(clock, left_cart, run):
    start = clock.now
    cart = make_orderable(left_cart())
    clock.at(start, hours=1)
    run()
    clock.at(start, hours=2)
    order_place(cart=Cart.objects.get(pk=cart.pk))
    clock.at(start, hours=24)
    run()
    assert len(mail.outbox) == 1
    assert not AbandonmentEmail.objects.filter(step=2).exists()


def test_sequence_stops_when_the_cart_is_emptied(clock, left_cart, variants, run):
    start = clock.now
    cart = left_cart()
    clock.at(start, hours=1)
    run()
    for variant in variants:
        cart_remove(cart=cart, variant_id=variant.pk)
    clock.at(start, hours=30)
    run()
    assert len(mail.outbox) == 1


def test_a_cart_ordered_between_claim_and_send_is_skipped(
    clock, left_cart, django_capture_on_commit_callbacks
):
    """The check happens again at send time: the order may come while the email waits."""
    start = clock.now
    cart = make_orderable(left_cart())
    clock.at(start, hours=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [claim_id] = abandonment_send_due()
    order_place(cart=Cart.objects.get(pk=cart.pk))
    for callback in callbacks:
        callback()
    assert not mail.outbox
    assert AbandonmentEmail.objects.get(pk=claim_id).outcome == AbandonmentEmail.Outcome.SKIPPED


def test_opted_out_addresses_never_get_abandonment_emails(clock, left_cart, run):
    start = clock.now
    customer = customer_for_email(email="ada@example.net")
    email_suppress(email="ADA@Example.net")
    left_cart(email="ada@example.net")
    left_cart(email="grace@example.net")
    for hours in (1, 24, 48):
        clock.at(start, hours=hours)
        run()
    assert [message.to for message in mail.outbox] == [["grace@example.net"]] * 2
    customer.refresh_from_db()
    assert customer.accepts_marketing is False
    assert customer.marketing_consent_source == "unsubscribe"
    assert Suppression.objects.get().email == "ada@example.net"


def test_opting_out_after_the_first_email_stops_the_second(clock, left_cart, run):
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    run()
    email_suppress(email="ada@example.net")
    email_suppress(email="ada@example.net")  # twice (page, then mail client): one row
    clock.at(start, hours=24)
    run()
    assert len(mail.outbox) == 1
    assert Suppression.objects.count() == 1


# --- Claims ----------------------------------------------------------------------------------


def test_each_step_goes_once_however_often_it_is_asked_for(
    clock, left_cart, run, django_capture_on_commit_callbacks
):
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    [claim_id] = run()
    # A redelivered message and the command run by hand: the claim is sent already.
    assert abandonment_email_send(claim_id=claim_id) is False
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_abandonment_emails", stdout=StringIO())
    assert len(mail.outbox) == 1
    claim = AbandonmentEmail.objects.get(pk=claim_id)
    assert claim.attempts == 1


def test_a_claim_whose_sender_died_is_sent_on_a_later_run_once(
    clock, left_cart, run, django_capture_on_commit_callbacks
):
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    # Claimed, then the message was lost (worker killed before it took the claim).
    with django_capture_on_commit_callbacks(execute=False):
        [claim_id] = abandonment_send_due()
    clock.at(start, hours=1, minutes=2)  # not stale yet: the sender may still come
    assert run() == []
    assert not mail.outbox
    clock.at(start, hours=1, seconds=settings.ABANDONMENT_CLAIM_STALE_SECONDS)
    assert run() == [claim_id]
    assert len(mail.outbox) == 1
    clock.at(start, hours=2)
    assert run() == []
    assert len(mail.outbox) == 1


def test_a_sender_holding_a_fresh_claim_keeps_it(
    clock, left_cart, django_capture_on_commit_callbacks
):
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    with django_capture_on_commit_callbacks(execute=False):
        [claim_id] = abandonment_send_due()
    AbandonmentEmail.objects.filter(pk=claim_id).update(attempt_at=clock.now, attempts=1)
    clock.advance(seconds=30)
    assert abandonment_email_send(claim_id=claim_id) is False  # someone else is on it
    assert not mail.outbox
    clock.advance(seconds=settings.ABANDONMENT_CLAIM_STALE_SECONDS)
    assert abandonment_email_send(claim_id=claim_id) is True  # that sender died: take over
    assert len(mail.outbox) == 1


def test_a_transaction_that_rolls_back_claims_and_enqueues_nothing(
    clock, left_cart, django_capture_on_commit_callbacks
):
    start = clock.now
    left_cart()
    clock.at(start, hours=1)

    def claim_then_fail() -> None:
        with transaction.atomic():
            abandonment_send_due()
            raise RuntimeError("boom")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        claim_then_fail()
    assert callbacks == []
    assert not AbandonmentEmail.objects.exists()
    assert not mail.outbox


def test_the_command_sends_what_is_due(clock, left_cart, django_capture_on_commit_callbacks):
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_abandonment_emails", stdout=out)
    assert "1 abandonment email(s) handled." in out.getvalue()
    assert len(mail.outbox) == 1


def test_the_beat_job_is_scheduled_once_in_settings():
    jobs = [
        name
        for name, job in settings.CELERY_BEAT_SCHEDULE.items()
        if job["task"] == "marketing.tasks.abandonment_send_due_task"
    ]
    assert jobs == ["cart-abandonment"]
    assert settings.CELERY_BEAT_SCHEDULE["cart-abandonment"]["schedule"] == 15 * 60


# --- The email -------------------------------------------------------------------------------


def png() -> SimpleUploadedFile:
    out = BytesIO()
    Image.new("RGB", (40, 40), (200, 120, 40)).save(out, "PNG")
    return SimpleUploadedFile("apron.png", out.getvalue(), content_type="image/png")


def test_the_email_lists_items_with_pictures_and_prices_and_its_links(
    clock, left_cart, variants, run
):
    product_image_add(product=variants[0].product, upload=png(), alt="Apron")
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    [claim_id] = run()
    [message] = mail.outbox
    html = message.alternatives[0].content
    for text in ("2 x Linen apron: €20.00", "1 x Oak board: €25.00", "Subtotal: €45.00"):
        assert text in message.body
    assert "/cart/recover/" in message.body
    assert "/unsubscribe/" in message.body
    assert f'src="{settings.SITE_URL}/media/products/' in html  # the product picture
    assert "/email/open/" in html
    assert ".gif" in html
    assert "€20.00" in html
    assert "Back to your cart" in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{settings.SITE_URL}/unsubscribe/")
    assert unsubscribe[-1] == ">"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert AbandonmentEmail.objects.get(pk=claim_id).voucher is None  # only step 2 has one


@pytest.mark.parametrize("policy", [email.policy.default, email.policy.SMTP])
def test_list_unsubscribe_arrives_as_a_plain_url_not_encoded_words(clock, left_cart, run, policy):
    """Python folds a long header without spaces into =?utf-8?q?...?= words, which mail
    clients do not read in List-Unsubscribe: the header must stay one plain line."""
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    run()
    [message] = mail.outbox
    raw = message.message(policy=policy).as_bytes().decode()
    header = message.extra_headers["List-Unsubscribe"]
    assert len(header) > 78  # long enough that default folding would have encoded it
    assert f"List-Unsubscribe: {header}" in raw
    assert "=?utf-8?" not in raw.split("\n\n", 1)[0].replace("\r", "")


# --- The voucher of the second email ---------------------------------------------------------


def test_second_email_voucher_is_single_use_and_valid_only_for_its_window(
    clock, left_cart, variants, run
):
    abandonment_sequence_update(
        enabled=True,
        step1_delay_hours=1,
        step2_delay_hours=24,
        voucher_percent=15,
        voucher_valid_days=3,
    )
    start = clock.now
    cart = make_orderable(left_cart())
    clock.at(start, hours=1)
    run()
    clock.at(start, hours=24)
    run()
    claim = AbandonmentEmail.objects.get(cart=cart, step=2)
    voucher = claim.voucher
    assert (voucher.kind, voucher.value, voucher.usage_limit) == ("percentage", Decimal(15), 1)
    assert voucher.starts_at == start + timedelta(hours=24)
    assert voucher.ends_at == start + timedelta(hours=24, days=3)
    second = mail.outbox[1]
    assert second.subject == f"15% off the cart you left at {settings.STORE_NAME}"
    assert voucher.code in second.body
    assert voucher.code in second.alternatives[0].content

    lines = cart_totals(cart=cart).lines
    clock.at(start, hours=24, days=3)  # the window has closed
    with pytest.raises(VoucherError, match="expired"):
        voucher_check(voucher=voucher, lines=lines, subtotal=Decimal("45.00"))
    clock.at(start, hours=25)
    cart_voucher_apply(cart=cart, code=voucher.code)
    order = order_place(cart=Cart.objects.get(pk=cart.pk))
    assert order.discount_total == Decimal("6.75")  # 15 % of 45.00
    voucher.refresh_from_db()
    assert voucher.times_used == 1
    other = make_orderable(left_cart(email="grace@example.net"))
    with pytest.raises(VoucherError, match="used up"):
        cart_voucher_apply(cart=other, code=voucher.code)


def test_a_resent_second_email_reuses_its_voucher(
    clock, left_cart, django_capture_on_commit_callbacks
):
    start = clock.now
    left_cart()
    clock.at(start, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        abandonment_send_due()
    clock.at(start, hours=24)
    with django_capture_on_commit_callbacks(execute=False):
        [claim_id] = abandonment_send_due()
    # A sender made the voucher and sent, but died before marking the claim sent (the
    # at-least-once case): the re-send carries the same code, no second voucher.
    assert abandonment_email_send(claim_id=claim_id) is True
    AbandonmentEmail.objects.filter(pk=claim_id).update(outcome="pending", sent_at=None)
    clock.advance(seconds=settings.ABANDONMENT_CLAIM_STALE_SECONDS)
    assert abandonment_email_send(claim_id=claim_id) is True
    assert Voucher.objects.count() == 1
    code = Voucher.objects.get().code
    assert code in mail.outbox[1].body
    assert code in mail.outbox[2].body


def test_no_code_outside_settings_schedules_beat_jobs():
    """Beat reads one schedule (settings): nothing registers periodic tasks of its own."""
    import os
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    scheduling = re.compile(r"add_periodic_task|beat_schedule\b|abandonment_send_due_task")
    mentions = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
        for name in files:
            path = Path(folder, name)
            if name.endswith(".py") and scheduling.search(path.read_text(encoding="utf-8")):
                mentions.append(str(path.relative_to(root)))
    # settings.py holds the schedule, marketing/tasks.py defines the task, tests look at it.
    assert sorted(m for m in mentions if not m.startswith("tests/")) == [
        "config/settings.py",
        "marketing/tasks.py",
    ]


SKIPPED_FOLDERS = {".venv", ".git", "node_modules", "var", "media", "staticfiles", "__pycache__"}
