"""Celery entry points for customer notices: thin and idempotent, by ID, run through the outbox
(orders.outbox.work): the e-mail is sent in the transaction that holds its outbox message's
lock and marks it completed; a mail server that is down is tried again with backoff."""

from notices import services
from orders.notifications import MAIL_ERRORS
from orders.outbox import outbox_task


# No system actor: the only write is the notice's delivery mark, which is not audited.
@outbox_task(services.NOTICE_EMAIL_TASK, transient_errors=MAIL_ERRORS)
def send_customer_notice(order_id: str, notice_id: int) -> bool:
    return services.notice_email_send(notice_id=notice_id)
