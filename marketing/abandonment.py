"""Cart-abandonment emails: which carts are due, claiming each step once, sending it,
and the signed links inside (recovery, unsubscribe, open pixel).

The order of work for one email is claim -> send -> mark sent. The claim is a unique
(cart, step) row written before anything goes out, so a second sender (a redelivered
message, the command run by hand while beat runs) finds it and sends nothing. A sender
that dies between claiming and sending leaves the row unsent; once the claim is older
than ABANDONMENT_CLAIM_STALE_SECONDS the next run sends it (at least once), and a row
marked sent is never sent again.
"""

from __future__ import annotations

import email.policy
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from config.mail import render_email
from customers.models import Customer
from customers.records import customer_consent_set
from marketing.models import AbandonmentEmail, AbandonmentSequence, Suppression
from orders.models import Cart, CartLine, Voucher
from orders.services import cart_totals

RECOVER_SALT = "marketing.cart-recover"
UNSUBSCRIBE_SALT = "marketing.unsubscribe"
OPEN_SALT = "marketing.open"
# The last step is still sent this long after it fell due (beat was down); later, never.
LAST_STEP_LATE_LIMIT = timedelta(days=7)
TEMPLATES = {1: "cart_abandoned_1", 2: "cart_abandoned_2"}


# --- The sequence settings ---------------------------------------------------------------------


def abandonment_sequence_get() -> AbandonmentSequence:
    sequence, _ = AbandonmentSequence.objects.get_or_create(pk=AbandonmentSequence.SINGLETON_PK)
    return sequence


def abandonment_sequence_update(
    *,
    enabled: bool,
    step1_delay_hours: int,
    step2_delay_hours: int,
    voucher_percent: int | None,
    voucher_valid_days: int,
) -> AbandonmentSequence:
    """Save the sequence; ValueError says what is wrong (the form says it first)."""
    if step1_delay_hours < 1:
        raise ValueError("The first email waits at least 1 hour.")
    if step2_delay_hours <= step1_delay_hours:
        raise ValueError("The second email must come later than the first.")
    if voucher_percent is not None and not 1 <= voucher_percent <= 100:
        raise ValueError("The voucher percentage must be from 1 to 100.")
    if voucher_valid_days < 1:
        raise ValueError("The voucher must be valid for at least 1 day.")
    sequence = abandonment_sequence_get()
    sequence.enabled = enabled
    sequence.step1_delay_hours = step1_delay_hours
    sequence.step2_delay_hours = step2_delay_hours
    sequence.voucher_percent = voucher_percent
    sequence.voucher_valid_days = voucher_valid_days
    sequence.updated_at = timezone.now()
    sequence.save()
    return sequence


# --- Opt-outs ------------------------------------------------------------------------------------


def email_is_suppressed(email: str) -> bool:
    email = email.strip().lower()
    return (
        Suppression.objects.filter(email=email).exists()
        or _withdrawn().filter(email__iexact=email).exists()
    )


@transaction.atomic
def email_suppress(*, email: str, source: str = "unsubscribe") -> Suppression:
    """Record that `email` wants no more marketing email; withdraw the customer's consent."""
    email = email.strip().lower()
    try:
        with transaction.atomic():
            suppression = Suppression.objects.create(email=email, source=source[:40])
    except IntegrityError:  # already opted out (a second click, the mail client's POST)
        suppression = Suppression.objects.get(email=email)
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer is not None:
        customer_consent_set(customer=customer, accepts=False, source="unsubscribe")
    return suppression


# --- Which carts are due -------------------------------------------------------------------------


def _eligible_carts() -> object:
    """Open carts with an email and at least one line, whose address has not opted out."""
    return (
        Cart.objects.filter(status=Cart.Status.OPEN)
        .exclude(email="")
        .filter(Exists(CartLine.objects.filter(cart=OuterRef("pk"))))
        .exclude(Exists(Suppression.objects.filter(email=Lower(OuterRef("email")))))
        # Consent withdrawn on the account page counts as much as the unsubscribe link.
        .exclude(Exists(_withdrawn().filter(email=Lower(OuterRef("email")))))
    )


def _withdrawn():
    return Customer.objects.filter(accepts_marketing=False, marketing_consent_at__isnull=False)


def abandonment_due(*, now: datetime, sequence: AbandonmentSequence) -> list[tuple[int, str, int]]:
    """(cart id, email, step) for each email due now: the cart untouched for the step's
    delay, the step not claimed yet, the step before it sent at least the gap between the
    two delays ago (no burst of both emails after an outage), and not so late that the
    next step is already due."""
    delays = sequence.delays()
    steps = sorted(delays)
    due: list[tuple[int, str, int]] = []
    for index, step in enumerate(steps):
        delay = timedelta(hours=delays[step])
        if index + 1 < len(steps):
            too_old = now - timedelta(hours=delays[steps[index + 1]])
        else:
            too_old = now - delay - LAST_STEP_LATE_LIMIT
        carts = _eligible_carts().filter(updated_at__lte=now - delay, updated_at__gt=too_old)
        carts = carts.exclude(
            Exists(AbandonmentEmail.objects.filter(cart=OuterRef("pk"), step=step))
        )
        if index > 0:
            previous = steps[index - 1]
            gap = timedelta(hours=delays[step] - delays[previous])
            carts = carts.filter(
                Exists(
                    AbandonmentEmail.objects.filter(
                        cart=OuterRef("pk"),
                        step=previous,
                        outcome=AbandonmentEmail.Outcome.SENT,
                        sent_at__lte=now - gap,
                    )
                )
            )
        due += [(pk, email, step) for pk, email in carts.order_by("pk").values_list("pk", "email")]
    return due


def _stale_claims(now: datetime) -> list[int]:
    """Claims nobody finished: claimed and not sent, no sender on them for a while."""
    stale = now - timedelta(seconds=settings.ABANDONMENT_CLAIM_STALE_SECONDS)
    return list(
        AbandonmentEmail.objects.filter(
            outcome=AbandonmentEmail.Outcome.PENDING, claimed_at__lte=stale
        )
        .filter(Q(attempt_at__isnull=True) | Q(attempt_at__lte=stale))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def abandonment_send_due(*, now: datetime | None = None, inline: bool = False) -> list[int]:
    """The beat job: claim every step that is due, then send each claim (and claims whose
    sender died) after the commit: through a task each, or here when `inline`.

    Returns the ids of the claims handed to a sender. A transaction that rolls back
    claims and enqueues nothing."""
    now = now or timezone.now()
    sequence = abandonment_sequence_get()
    if not sequence.enabled:
        return []
    claim_ids = _stale_claims(now)
    with transaction.atomic():
        for cart_id, email, step in abandonment_due(now=now, sequence=sequence):
            try:
                with transaction.atomic():
                    claim = AbandonmentEmail.objects.create(
                        cart_id=cart_id, step=step, email=email, claimed_at=now
                    )
            except IntegrityError:  # claimed meanwhile by another run
                continue
            claim_ids.append(claim.pk)

        def send() -> None:
            if inline:
                for claim_id in claim_ids:
                    abandonment_email_send(claim_id=claim_id)
                return
            from marketing.tasks import abandonment_email_task

            for claim_id in claim_ids:
                abandonment_email_task.delay(claim_id)

        transaction.on_commit(send)
    return claim_ids


# --- Sending one email ---------------------------------------------------------------------------


def _take(claim_id: int, now: datetime) -> bool:
    """Become the sender of a claim: one conditional UPDATE, so of two senders racing for
    it (or for a stale one) exactly one wins."""
    stale = now - timedelta(seconds=settings.ABANDONMENT_CLAIM_STALE_SECONDS)
    return bool(
        AbandonmentEmail.objects.filter(pk=claim_id, outcome=AbandonmentEmail.Outcome.PENDING)
        .filter(Q(attempt_at__isnull=True) | Q(attempt_at__lte=stale))
        .update(attempt_at=now, attempts=F("attempts") + 1)
    )


def _still_wanted(cart: Cart) -> bool:
    return (
        cart.status == Cart.Status.OPEN
        and bool(cart.email)
        and cart.lines.exists()
        and not email_is_suppressed(cart.email)
    )


def _voucher_for(claim: AbandonmentEmail, sequence: AbandonmentSequence, now: datetime):
    """The step's single-use voucher, made once per claim (a re-send reuses it)."""
    if claim.voucher_id or claim.step != 2 or not sequence.voucher_percent:
        return claim.voucher
    voucher = Voucher.objects.create(
        code=f"BACK-{secrets.token_hex(4).upper()}",
        kind=Voucher.Kind.PERCENTAGE,
        value=Decimal(sequence.voucher_percent),
        usage_limit=1,
        starts_at=now,
        ends_at=now + timedelta(days=sequence.voucher_valid_days),
        note=f"Abandoned cart {claim.cart.token[:8]}, email {claim.step}",
    )
    AbandonmentEmail.objects.filter(pk=claim.pk).update(voucher=voucher)
    claim.voucher = voucher
    return voucher


def abandonment_email_send(*, claim_id: int, now: datetime | None = None) -> bool:
    """Send the email a claim stands for, unless it went out, another sender holds it,
    or the cart no longer wants it (ordered, emptied, opted out: marked skipped).
    Returns whether an email went out now."""
    now = now or timezone.now()
    if not _take(claim_id, now):
        return False
    if settings.ABANDONMENT_PAUSE_AFTER_CLAIM:  # test hook: die here, see test_workers
        time.sleep(settings.ABANDONMENT_PAUSE_AFTER_CLAIM)
    claim = AbandonmentEmail.objects.select_related("cart", "voucher").get(pk=claim_id)
    cart = claim.cart
    if not _still_wanted(cart):
        AbandonmentEmail.objects.filter(pk=claim.pk).update(
            outcome=AbandonmentEmail.Outcome.SKIPPED
        )
        return False
    sequence = abandonment_sequence_get()
    voucher = _voucher_for(claim, sequence, now)
    unsubscribe = unsubscribe_url(email=cart.email, claim_id=claim.pk)
    subject, text, html = render_email(
        TEMPLATES[claim.step],
        {
            "cart": cart,
            "lines": _email_lines(cart),
            "totals": cart_totals(cart=cart),
            "recover_url": recover_url(cart=cart, claim_id=claim.pk),
            "unsubscribe_url": unsubscribe,
            "open_pixel_url": open_pixel_url(claim_id=claim.pk),
            "voucher": voucher,
        },
    )
    message = _UnfoldedHeadersEmail(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[cart.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the URL.
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    message.send()
    AbandonmentEmail.objects.filter(pk=claim.pk).update(
        outcome=AbandonmentEmail.Outcome.SENT, sent_at=timezone.now(), email=cart.email
    )
    return True


class _UnfoldedHeadersEmail(EmailMultiAlternatives):
    """Headers up to RFC 5322's 998 characters a line. Python folds a longer header
    without spaces into RFC 2047 encoded words, and mail clients do not decode those in
    List-Unsubscribe: the one-click link would be lost (config.mail keeps the default)."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


@dataclass
class EmailLine:
    title: str
    variant_title: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    image_url: str


def _email_lines(cart: Cart) -> list[EmailLine]:
    lines = cart.lines.select_related("variant__product__cover_image").order_by("added_at", "pk")
    result = []
    for line in lines:
        variant, product = line.variant, line.variant.product
        cover = product.cover_image
        image_url = settings.SITE_URL + cover.image.url if cover and cover.image else ""
        result.append(
            EmailLine(
                title=product.title,
                variant_title=variant.title,
                quantity=line.quantity,
                unit_price=variant.price,
                total=variant.price * line.quantity,
                image_url=image_url,
            )
        )
    return result


# --- Links in the email --------------------------------------------------------------------------


def recover_url(*, cart: Cart, claim_id: int) -> str:
    token = signing.dumps({"c": cart.token, "e": claim_id}, salt=RECOVER_SALT, compress=True)
    return settings.SITE_URL + reverse("marketing:cart-recover", args=[token])


def unsubscribe_url(*, email: str, claim_id: int | None = None) -> str:
    token = signing.dumps({"m": email, "e": claim_id}, salt=UNSUBSCRIBE_SALT, compress=True)
    return settings.SITE_URL + reverse("marketing:unsubscribe", args=[token])


def open_pixel_url(*, claim_id: int) -> str:
    token = signing.dumps(claim_id, salt=OPEN_SALT)
    return settings.SITE_URL + reverse("marketing:email-open", args=[token])


# A recovery link opens a cart (its address too) in any browser: it does not last forever.
RECOVER_LINK_MAX_AGE = 30 * 24 * 60 * 60


def recover_token_read(token: str) -> tuple[str, int]:
    """(cart token, claim id) from a recovery link; signing.BadSignature when tampered,
    signing.SignatureExpired (a BadSignature) when older than RECOVER_LINK_MAX_AGE."""
    data = signing.loads(token, salt=RECOVER_SALT, max_age=RECOVER_LINK_MAX_AGE)
    return str(data["c"]), int(data["e"])


def unsubscribe_token_read(token: str) -> tuple[str, int | None]:
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    return str(data["m"]), data.get("e")


def open_token_read(token: str) -> int:
    return int(signing.loads(token, salt=OPEN_SALT))


def abandonment_email_opened(*, claim_id: int) -> bool:
    """Count the open once per email (the pixel loads on every view)."""
    return bool(
        AbandonmentEmail.objects.filter(pk=claim_id, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )
    )


def abandonment_email_clicked(*, claim_id: int) -> None:
    now = timezone.now()
    AbandonmentEmail.objects.filter(pk=claim_id).update(clicks=F("clicks") + 1)
    AbandonmentEmail.objects.filter(pk=claim_id, clicked_at__isnull=True).update(clicked_at=now)
