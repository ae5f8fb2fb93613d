"""E-mail to customers, sent from outbox tasks (orders.outbox): one template pair per kind
(``emails/<template>_subject.txt`` and ``emails/<template>.txt``)."""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from orders.outbox import current_message_id

# A mail server that is down or refuses for a moment: the e-mail tasks try again later.
MAIL_ERRORS: tuple[type[BaseException], ...] = (SMTPException, ConnectionError, TimeoutError)


def email_send(*, template: str, context: dict[str, Any], to: str) -> None:
    """Render and send one e-mail (``email_deliver``)."""
    subject, body = email_render(template=template, context=context)
    email_deliver(subject=subject, body=body, to=to)


def email_render(*, template: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject (on one line: a newline in a subject is a header injection) and body of
    ``template`` for ``context``."""
    context = {**context, "site_url": settings.SITE_URL}
    subject = render_to_string(f"emails/{template}_subject.txt", context)
    body = render_to_string(f"emails/{template}.txt", context)
    return " ".join(subject.split()), body


def email_deliver(*, subject: str, body: str, to: str) -> None:
    """Send one e-mail as written. Sent from an outbox task, it carries the outbox message's
    own Message-ID: should a crash between the mail server's acceptance and the task's commit
    ever send it twice, mail clients show it once."""
    headers = {}
    message_id = current_message_id()
    if message_id is not None:
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        headers["Message-ID"] = f"<outbox-{message_id}@{domain}>"
    EmailMessage(
        " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [to],
        headers=headers,
    ).send()
