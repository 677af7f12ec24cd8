"""Reads for customers and staff accounts that views, tasks and commands share."""

from __future__ import annotations

import pyotp
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from customers.models import Address, Customer, RecoveryCode, TOTPDevice, User


def totp_provisioning_uri(*, device: TOTPDevice) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(
        name=device.user.email, issuer_name=settings.STORE_NAME
    )


def recovery_codes_left(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def staff_password_reset_url(*, user: User) -> str:
    """An absolute, single-use link to choose a password (valid PASSWORD_RESET_TIMEOUT).

    Built on SITE_URL, never on the request's Host header, which a client controls.
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("customers:staff-password-reset-confirm", args=[uid, token])
    return f"{settings.SITE_URL}{path}"


# --- Shopper accounts and customers ---------------------------------------------------------

EMAIL_CONFIRM_SALT = "customers.email-confirm"


def email_confirmation_url(*, user: User) -> str:
    """An absolute, signed link that confirms `user`'s address (valid EMAIL_CONFIRM_SECONDS).

    It names the address as well as the account, so it stops working if the email changes.
    """
    token = signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=EMAIL_CONFIRM_SALT)
    return f"{settings.SITE_URL}{reverse('customers:account-confirm', args=[token])}"


def shopper_password_reset_url(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("customers:account-password-reset-confirm", args=[uid, token])
    return f"{settings.SITE_URL}{path}"


def customer_of(user: object) -> Customer | None:
    """The customer record an account has claimed (after confirming its email), if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Customer.objects.filter(user=user).first()


def addresses_of(*, customer: Customer) -> list[Address]:
    return list(customer.addresses.all())


def address_get_for_user_or_404(*, user: User, pk: int) -> Address:
    """A saved address of `user`'s own customer record; 404 for anybody else's."""
    return get_object_or_404(Address.objects.select_related("customer"), pk=pk, customer__user=user)


SORTS = {
    "newest": ("-created_at", "-pk"),
    "spent": ("-total_spent", "-pk"),
    "orders": ("-orders_count", "-pk"),
    "last_order": (F("last_order_at").desc(nulls_last=True), "-pk"),
}


def customer_list_for_staff(*, filters: dict) -> QuerySet[Customer]:
    """Customers for the dashboard list, filtered and sorted; tags come prefetched."""
    customers = Customer.objects.prefetch_related("tags")
    query = (filters.get("q") or "").strip()
    if query:
        customers = customers.filter(
            Q(email__icontains=query) | Q(full_name__icontains=query) | Q(phone__icontains=query)
        )
    yes_no = {"yes": True, "no": False}
    if filters.get("account") in yes_no:
        customers = customers.filter(user__isnull=not yes_no[filters["account"]])
    if filters.get("marketing") in yes_no:
        customers = customers.filter(accepts_marketing=yes_no[filters["marketing"]])
    if filters.get("ordered") == "yes":
        customers = customers.filter(orders_count__gt=0)
    elif filters.get("ordered") == "no":
        customers = customers.filter(orders_count=0)
    if filters.get("tag"):
        customers = customers.filter(tags=filters["tag"])
    return customers.order_by(*SORTS.get(filters.get("sort") or "newest", SORTS["newest"]))


def customer_get_for_staff_or_404(pk: int) -> Customer:
    return get_object_or_404(
        Customer.objects.select_related("user").prefetch_related("tags", "addresses"), pk=pk
    )
