"""Celery entry points for support: thin and idempotent, by ID, run through the outbox
(orders.outbox.work): the answer's e-mail is sent in the transaction that holds its outbox
message's lock and marks it completed; a mail server that is down is tried again with
backoff."""

from orders.notifications import MAIL_ERRORS
from orders.outbox import outbox_task
from support import services


# No system actor: the only write is the answer's delivery mark, which is not audited.
@outbox_task(services.TICKET_ANSWER_EMAIL_TASK, transient_errors=MAIL_ERRORS)
def send_ticket_answer(order_id: str, answer_id: int) -> bool:
    return services.ticket_answer_email_send(answer_id=answer_id)
