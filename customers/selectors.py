"""Reads for customers and staff accounts that views, tasks and commands share."""

from __future__ import annotations

import pyotp
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from customers.models import RecoveryCode, TOTPDevice, User


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
