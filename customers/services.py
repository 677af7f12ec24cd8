"""Writes for customers and staff accounts.

Each is `<entity>_<verb>(*, ...)` in its own transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.mail import send_templated_email
from customers.models import (
    ADDRESS_FIELDS,
    Address,
    Customer,
    CustomerTag,
    RecoveryCode,
    TOTPDevice,
    User,
)
from customers.records import customer_consent_set, customer_for_email
from customers.roles import PROJECT_APPS, ROLES, role_grants
from customers.selectors import (
    EMAIL_CONFIRM_SALT,
    email_confirmation_url,
    shopper_password_reset_url,
    staff_password_reset_url,
)

RECOVERY_CODE_COUNT = 10


class StaffError(Exception):
    """A staff account operation that cannot be done as asked; the message says why."""


# --- Roles ---------------------------------------------------------------------------------


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the role groups and set each one's permissions to exactly what ROLES grants.

    Safe to run any number of times; returns the permission count of each role.
    """
    permissions = list(
        Permission.objects.filter(content_type__app_label__in=PROJECT_APPS).select_related(
            "content_type"
        )
    )
    counts = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        granted = [
            perm
            for perm in permissions
            if role_grants(role, f"{perm.content_type.app_label}.{perm.codename}")
        ]
        group.permissions.set(granted)
        counts[role] = len(granted)
    return counts


@transaction.atomic
def staff_create(
    *, email: str, role: str, full_name: str = "", password: str | None = None
) -> tuple[User, str | None]:
    """Create a staff member in `role`.

    Without `password`, a one-time password is generated and returned: the member must
    change it at first sign-in. Raises StaffError for an unknown role or a taken email.
    """
    email = email.strip().lower()
    if role not in ROLES:
        raise StaffError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    try:
        validate_email(email)
    except ValidationError:
        raise StaffError(f"{email!r} is not an email address.") from None
    if User.objects.filter(email__iexact=email).exists():
        raise StaffError(f"A user with the email {email} already exists.")
    group = Group.objects.filter(name=role).first()
    if group is None:
        raise StaffError("The roles do not exist yet; run `python manage.py setup_roles` first.")

    one_time = None
    if password is None:
        one_time = password = secrets.token_urlsafe(12)
    user = User(email=email, full_name=full_name, is_staff=True)
    try:
        validate_password(password, user)
    except ValidationError as err:
        raise StaffError(" ".join(err.messages)) from None
    user.set_password(password)
    user.password_change_required = one_time is not None
    user.save()
    user.groups.add(group)
    return user, one_time


@transaction.atomic
def staff_invite(*, email: str, role: str, full_name: str = "") -> User:
    """Create a staff member with no password yet; they choose one through a reset link
    (selectors.staff_password_reset_url), and can ask for a new link when it expires."""
    user, _ = staff_create(email=email, role=role, full_name=full_name)
    user.set_unusable_password()
    user.password_change_required = False
    user.save(update_fields=["password", "password_change_required"])
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str) -> None:
    """Set a password the user chose (already validated); spends a one-time password."""
    user.set_password(password)
    user.password_change_required = False
    user.save(update_fields=["password", "password_change_required"])


def staff_password_reset_send(*, user_id: int) -> bool:
    """Mail a reset link to the staff member `user_id`; False if there is none to mail."""
    user = User.objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    if user is None:
        return False
    send_templated_email(
        template="staff_password_reset",
        to=[user.email],
        context={"email": user.email, "reset_url": staff_password_reset_url(user=user)},
    )
    return True


# --- Two-factor authentication ---------------------------------------------------------------


def _hash_code(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_hash_code(code)) for code in codes
    )
    return codes


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """Give `user` a secret to scan; it protects nothing until confirmed with a code.

    An unconfirmed secret is reused: reloading the page must not invalidate what the
    phone just scanned. A confirmed device is never replaced here: turning it off is a
    separate, deliberate step (and turning it on again then brings a new secret).
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if device is not None and device.confirmed_at is not None:
        raise StaffError("Two-factor authentication is already on.")
    if device is not None:
        return device
    device = TOTPDevice(user=user)
    device.secret = pyotp.random_base32()
    device.created_at = timezone.now()
    device.last_used_step = 0
    device.save()
    return device


def _accept_code(device: TOTPDevice, code: str) -> bool:
    """Check `code` against the steps around now (clock drift); never accept one step twice.

    The caller holds the device row lock, so two requests cannot both spend the same code.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(device.secret)
    now_step = totp.timecode(timezone.now())
    for step in (now_step - 1, now_step, now_step + 1):
        if step > device.last_used_step and hmac.compare_digest(totp.generate_otp(step), code):
            device.last_used_step = step
            device.save(update_fields=["last_used_step"])
            return True
    return False


@transaction.atomic
def totp_device_confirm(*, user: User, code: str) -> list[str]:
    """Turn two-factor on once the app shows a matching code; returns new recovery codes."""
    device = TOTPDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise StaffError("Start the set-up again: no authenticator is waiting to be confirmed.")
    if device.confirmed_at is not None:
        raise StaffError("Two-factor authentication is already on.")
    if not _accept_code(device, code):
        raise StaffError("That code does not match. Check the time on your phone and try again.")
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    return _new_recovery_codes(user)


@transaction.atomic
def second_factor_verify(*, user: User, code: str) -> bool:
    """True if `code` is a current authenticator code or an unused recovery code of `user`."""
    device = (
        TOTPDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    )
    if device is None:
        return False
    if _accept_code(device, code):
        return True
    spent = RecoveryCode.objects.filter(
        user=user, code_hash=_hash_code(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return spent == 1


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    if not user.has_totp:
        raise StaffError("Turn on two-factor authentication first.")
    return _new_recovery_codes(user)


@transaction.atomic
def totp_device_remove(*, user: User) -> None:
    """Turn two-factor off, unless a setting makes it mandatory for the user's role."""
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    user._state.fields_cache.pop("totp_device", None)
    if user.needs_second_factor_setup():
        # Roll back: the role may not go without it.
        raise StaffError("Your role must use two-factor authentication; it cannot be turned off.")


# --- Shopper accounts ------------------------------------------------------------------------

# A confirmation link stays good for a week: people sign up, then read their mail later.
EMAIL_CONFIRM_SECONDS = 7 * 24 * 60 * 60
SIGNUP_SOURCE = "signup"


class AccountError(Exception):
    """A shopper account step that cannot be done as asked; the message says why."""


@transaction.atomic
def shopper_sign_up(
    *, email: str, password: str, full_name: str = "", accepts_marketing: bool = False
) -> User:
    """Create a shopper account (password already validated) and mail the confirmation link.

    The account claims nothing yet: the customer record of this address, with its past
    orders and its consent, is linked only when the link in the email is opened.
    """
    user = User.objects.create_user(email=email, password=password, full_name=full_name.strip())
    user.signup_accepts_marketing = accepts_marketing
    user.save(update_fields=["signup_accepts_marketing"])
    transaction.on_commit(lambda: _email_confirmation_task().delay(user.pk))
    return user


def _email_confirmation_task():
    from customers.tasks import email_confirmation_send_task  # tasks import this module

    return email_confirmation_send_task


def email_confirmation_send(*, user_id: int) -> bool:
    """Mail the confirmation link to `user_id`; False if there is nothing to confirm."""
    user = User.objects.filter(
        pk=user_id, is_active=True, is_staff=False, email_confirmed_at__isnull=True
    ).first()
    if user is None:
        return False
    send_templated_email(
        template="account_confirm",
        to=[user.email],
        context={"user": user, "confirm_url": email_confirmation_url(user=user)},
    )
    return True


def email_confirmation_request(*, user: User) -> None:
    """Send the link again (after commit, through a worker)."""
    transaction.on_commit(lambda: _email_confirmation_task().delay(user.pk))


@transaction.atomic
def user_email_confirmed(*, user: User) -> Customer:
    """Mark `user`'s address as proven and claim the customer record of that address
    (made when there is none), so its past guest orders show in the account."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    customer = customer_for_email(email=user.email, full_name=user.full_name, user=user)
    if customer.user_id != user.pk:
        # Another account claimed this record first; it cannot have two owners.
        raise AccountError("This address belongs to another account. Contact us for help.")
    if user.signup_accepts_marketing:
        customer_consent_set(customer=customer, accepts=True, source=SIGNUP_SOURCE)
        user.signup_accepts_marketing = False
        user.save(update_fields=["signup_accepts_marketing"])
    elif customer.marketing_consent_at is None:
        customer_consent_set(customer=customer, accepts=False, source=SIGNUP_SOURCE)
    return customer


def user_email_confirm(*, token: str) -> User:
    """Confirm the address named in a signed link; raises AccountError when the link is
    forged, expired, or the account or its address has changed since."""
    try:
        data = signing.loads(token, salt=EMAIL_CONFIRM_SALT, max_age=EMAIL_CONFIRM_SECONDS)
    except signing.SignatureExpired:
        raise AccountError("This link has expired. Sign in to get a new one.") from None
    except signing.BadSignature:
        raise AccountError("This link is not valid. Check that you copied all of it.") from None
    user = User.objects.filter(pk=data.get("u"), is_active=True, is_staff=False).first()
    if user is None or user.email.lower() != str(data.get("e", "")).lower():
        raise AccountError("This link is not valid any more. Sign in to get a new one.")
    user_email_confirmed(user=user)
    return user


def shopper_password_reset_send(*, user_id: int) -> bool:
    """Mail a reset link to the shopper `user_id`; False if there is none to mail."""
    user = User.objects.filter(pk=user_id, is_active=True, is_staff=False).first()
    if user is None:
        return False
    send_templated_email(
        template="account_password_reset",
        to=[user.email],
        context={"email": user.email, "reset_url": shopper_password_reset_url(user=user)},
    )
    return True


# --- Addresses and consent -------------------------------------------------------------------

DEFAULT_KINDS = {"shipping": "is_default_shipping", "billing": "is_default_billing"}


def _lock_customer(customer: Customer) -> None:
    # One default per kind is a partial unique index: switching is clear-then-set, and the
    # customer row lock makes two tabs switching at once queue instead of colliding.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()


@transaction.atomic
def address_save(
    *,
    customer: Customer,
    data: dict[str, str],
    address: Address | None = None,
    default_shipping: bool = False,
    default_billing: bool = False,
) -> Address:
    """Create or update a saved address; the first one becomes both defaults."""
    _lock_customer(customer)
    if address is None:
        address = Address(customer=customer)
        if not customer.addresses.exists():
            default_shipping = default_billing = True
    for field in ADDRESS_FIELDS:
        if field in data:
            setattr(address, field, data[field])
    address.country = address.country.upper()
    wanted = {"shipping": default_shipping, "billing": default_billing}
    for kind, flag in DEFAULT_KINDS.items():
        if wanted[kind] and not getattr(address, flag):
            customer.addresses.exclude(pk=address.pk).filter(**{flag: True}).update(**{flag: False})
            setattr(address, flag, True)
    address.full_clean(exclude=["customer"])
    address.save()
    return address


@transaction.atomic
def address_set_default(*, address: Address, kind: str) -> Address:
    """Make `address` the default for `kind` ("shipping" or "billing") in one transaction."""
    if kind not in DEFAULT_KINDS:
        raise AccountError("Choose shipping or billing.")
    flag = DEFAULT_KINDS[kind]
    _lock_customer(address.customer)
    Address.objects.filter(customer_id=address.customer_id, **{flag: True}).exclude(
        pk=address.pk
    ).update(**{flag: False})
    if not getattr(address, flag):
        setattr(address, flag, True)
        address.save(update_fields=[flag])
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    address.delete()


# --- Staff: notes and tags -------------------------------------------------------------------


def customer_note_set(*, customer: Customer, note: str) -> Customer:
    customer.note = note.strip()
    customer.save(update_fields=["note"])
    return customer


@transaction.atomic
def customer_tag_add(*, customer: Customer, name: str) -> CustomerTag:
    """Put the tag `name` (found in any case, made when new) on `customer`."""
    name = " ".join(name.split())
    if not name:
        raise AccountError("A tag needs a name.")
    tag = CustomerTag.objects.filter(name__iexact=name).first()
    if tag is None:
        try:
            with transaction.atomic():
                tag = CustomerTag.objects.create(name=name)
        except IntegrityError:  # made meanwhile by another request
            tag = CustomerTag.objects.get(name__iexact=name)
    customer.tags.add(tag)
    return tag


def customer_tag_remove(*, customer: Customer, tag: CustomerTag) -> None:
    customer.tags.remove(tag)
