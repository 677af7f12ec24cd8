from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from customers.countries import country_name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, email: str) -> User:
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: shoppers with an account and staff. Email is the login."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the staff dashboard (with a role)."
    )
    is_active = models.BooleanField(default=True)
    # Set for a one-time password handed out by `createstaff`; cleared on the first change.
    password_change_required = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when the owner of the address opened the emailed link; until then the account
    # claims no customer record (and so no past orders) of that address.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The marketing box ticked at sign-up: recorded on the customer record (with its
    # timestamp) once the address is confirmed, never on someone else's record before.
    signup_accepts_marketing = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        permissions = [
            ("access_dashboard", "Can sign in to the staff dashboard"),
            ("access_customers", "Can open the customers dashboard"),
            ("manage_staff", "Can add staff and change their roles"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email.split("@")[0]

    @property
    def has_totp(self) -> bool:
        device = getattr(self, "totp_device", None)
        return device is not None and device.confirmed_at is not None

    def needs_second_factor_setup(self) -> bool:
        """True when a setting makes two-factor mandatory for one of this user's roles
        (or for superusers) and it is not on yet."""
        if not settings.STAFF_2FA_REQUIRED or self.has_totp:
            return False
        if self.is_superuser:
            return True
        return self.groups.filter(name__in=settings.STAFF_2FA_REQUIRED_ROLES).exists()

    @property
    def role_names(self) -> list[str]:
        return sorted(group.name for group in self.groups.all())


class TOTPDevice(models.Model):
    """An authenticator app bound to a staff member. Unconfirmed until a first code matches."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The 30-second step of the last accepted code: a code is never accepted twice.
    last_used_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Authenticator for {self.user}"


class RecoveryCode(models.Model):
    """A single-use code that stands in for the authenticator; stored as a SHA-256 digest."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"Recovery code of {self.user}"


MONEY = {"max_digits": 12, "decimal_places": 2}


class CustomerTag(models.Model):
    """A label staff put on customers ("wholesale", "vip"); names are unique in any case."""

    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="customer_tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """Everyone who bought or signed up, identified by email, with or without an account.

    A guest order attaches to the customer of its email; an account made later claims
    those orders once the address is confirmed. The order figures are kept by the orders
    app (through customers.services), so lists sort by them without a join.
    """

    # Stored lowercased by the services; unique regardless of case in the database too.
    email = models.EmailField(unique=True)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="customer"
    )
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    accepts_marketing = models.BooleanField(default=False)
    # When and where consent was given or withdrawn: the proof a regulator asks for.
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    marketing_consent_source = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)
    tags = models.ManyToManyField(CustomerTag, blank=True, related_name="customers")
    orders_count = models.PositiveIntegerField(default=0)
    total_spent = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customer_email_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["-last_order_at"]),
            models.Index(fields=["-total_spent"]),
            models.Index(fields=["full_name"]),
            models.Index(fields=["-orders_count"]),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def average_order_value(self):
        return (self.total_spent / self.orders_count) if self.orders_count else None


class Address(models.Model):
    """A saved address of a customer. Orders copy the address they were placed with."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    full_name = models.CharField(max_length=150)
    company = models.CharField(max_length=150, blank=True)
    line1 = models.CharField("address", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    # ISO 3166-1 alpha-2, upper case.
    country = models.CharField(max_length=2)
    phone = models.CharField(max_length=40, blank=True)
    is_default_shipping = models.BooleanField(default=False)
    is_default_billing = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default_shipping", "-created_at", "-pk"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default_shipping=True),
                name="one_default_shipping_address",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default_billing=True),
                name="one_default_billing_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name}, {self.line1}, {self.city}"

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    def as_dict(self) -> dict[str, str]:
        """The copy an order keeps."""
        return {field: getattr(self, field) for field in ADDRESS_FIELDS}


ADDRESS_FIELDS = (
    "full_name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)
