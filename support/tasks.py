"""Celery entry points for support: thin and idempotent, by ID."""

from smtplib import SMTPException

from celery import shared_task

from support import services

# A mail server that is down or refuses for a moment: try again later, the work is idempotent.
MAIL_ERRORS = (SMTPException, ConnectionError, TimeoutError)


@shared_task(
    name=services.TICKET_ANSWER_EMAIL_TASK,
    autoretry_for=MAIL_ERRORS,
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_ticket_answer(order_id: str, answer_id: int) -> bool:
    # No system actor: the only write is the answer's delivery mark, which is not audited.
    return services.ticket_answer_email_send(answer_id=answer_id)
