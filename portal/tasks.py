"""Celery entry points for the portal: thin and idempotent, by ID, run through the outbox.

Each e-mail is sent inside the transaction that holds its outbox message's lock and marks it
completed (orders.outbox.work), so a message handed over twice sends one e-mail; a mail server
that is down or refuses for a moment is tried again with backoff."""

from orders.notifications import MAIL_ERRORS
from orders.outbox import outbox_task
from orders.system_actors import SystemComponent
from portal import accounts


@outbox_task(
    accounts.INVITATION_TASK, component=SystemComponent.ACCOUNTS, transient_errors=MAIL_ERRORS
)
def send_customer_invitation(order_id: str, customer_id: int) -> bool:
    return accounts.customer_account_invite(customer_id=customer_id, order_id=order_id)


@outbox_task(
    accounts.PASSWORD_RESET_TASK, component=SystemComponent.ACCOUNTS, transient_errors=MAIL_ERRORS
)
def send_password_reset(user_id: int) -> bool:
    return accounts.password_reset_send(user_id=user_id)
