"""Celery entry points for the portal: thin and idempotent, by ID."""

from smtplib import SMTPException

from celery import shared_task

from orders.system_actors import SystemComponent, system_task
from portal import accounts

# A mail server that is down or refuses for a moment: try again later, the work is idempotent.
MAIL_ERRORS = (SMTPException, ConnectionError, TimeoutError)


@shared_task(
    name=accounts.INVITATION_TASK,
    autoretry_for=MAIL_ERRORS,
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
@system_task(SystemComponent.ACCOUNTS)
def send_customer_invitation(order_id: str, customer_id: int) -> bool:
    return accounts.customer_account_invite(customer_id=customer_id, order_id=order_id)


@shared_task(
    name=accounts.PASSWORD_RESET_TASK,
    autoretry_for=MAIL_ERRORS,
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
@system_task(SystemComponent.ACCOUNTS)
def send_password_reset(user_id: int) -> bool:
    return accounts.password_reset_send(user_id=user_id)
