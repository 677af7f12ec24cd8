"""Thin Celery tasks: load by id, call one service, decide on retry."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from customers.services import (
    email_confirmation_send,
    shopper_password_reset_send,
    staff_password_reset_send,
)


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def staff_password_reset_send_task(user_id: int) -> None:
    # A retried delivery sends another link; each one works, so a duplicate is harmless.
    staff_password_reset_send(user_id=user_id)


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def email_confirmation_send_task(user_id: int) -> None:
    # A duplicate delivery mails a second link; both confirm the same address: harmless.
    email_confirmation_send(user_id=user_id)


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def shopper_password_reset_send_task(user_id: int) -> None:
    shopper_password_reset_send(user_id=user_id)
