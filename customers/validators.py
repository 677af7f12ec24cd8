from __future__ import annotations

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class StaffAwareMinimumLengthValidator(MinimumLengthValidator):
    """Shoppers need `min_length` characters; staff, who can see every order, need more."""

    def __init__(self, min_length: int = 8, staff_min_length: int = 12) -> None:
        super().__init__(min_length=min_length)
        self.staff_min_length = staff_min_length

    def validate(self, password: str, user: object = None) -> None:
        if user is not None and getattr(user, "is_staff", False):
            if len(password) < self.staff_min_length:
                raise ValidationError(
                    "Staff passwords must be at least %(min_length)d characters long.",
                    code="password_too_short",
                    params={"min_length": self.staff_min_length},
                )
            return
        super().validate(password, user)

    def get_help_text(self) -> str:
        return f"At least {self.min_length} characters; {self.staff_min_length} for staff accounts."
