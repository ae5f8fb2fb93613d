"""Support answers a customer's ticket from the order view (support.services.ticket_answer):
the customer sees the answer on their order page and gets it by e-mail, once per answer."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from orders.models import OutboxMessage
from support import tasks
from support.models import SupportTicket, TicketAnswer
from support.services import (
    TICKET_ANSWER_EMAIL_TASK,
    ticket_answer,
    ticket_answer_email_send,
    ticket_open,
)

pytestmark = pytest.mark.django_db

ANSWER = "An engineer will visit on Thursday between 8am and 1pm."


@pytest.fixture
def ticket(customer_manual_order, customer_user) -> SupportTicket:
    return ticket_open(
        order=customer_manual_order,
        customer_user=customer_user,
        subject="activation_date",
        message="When will my line be live?",
    )


def answer_url(ticket: SupportTicket) -> str:
    return reverse("support:ticket_answer", kwargs={"ticket_id": ticket.pk})


def test_support_answers_from_the_order_view_and_the_customer_reads_it_and_gets_it_by_e_mail(
    client, ticket, support_user, customer_user, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://orders.isp.example"
    order = ticket.order
    mail.outbox.clear()
    # Given support on the order's view, which offers to answer the open ticket
    client.force_login(support_user)
    view = client.get(reverse("support:order", kwargs={"order_id": order.pk})).content.decode()
    assert f'action="{answer_url(ticket)}"' in view
    # When support sends an answer
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(answer_url(ticket), {"message": ANSWER})
    # Then support is back on the order view, which shows the answer, and the ticket is answered
    assert response.status_code == 302
    assert response.url == reverse("support:order", kwargs={"order_id": order.pk})
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.ANSWERED
    assert ANSWER in client.get(response.url).content.decode()
    # ... the customer gets exactly one e-mail with the answer and a link to their order page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [order.customer.email]
    assert order.display_id in message.subject
    assert ANSWER in message.body
    order_page = reverse("portal:order_detail", kwargs={"order_id": order.pk})
    assert f"https://orders.isp.example{order_page}" in message.body
    assert TicketAnswer.objects.get(ticket=ticket).emailed_at is not None
    # ... and reads the answer on their order page, without the staff member's name
    client.force_login(customer_user)
    page = client.get(order_page).content.decode()
    assert ANSWER in page
    assert support_user.username not in page


def test_the_e_mail_is_queued_in_the_answers_transaction(ticket, support_user):
    # When an answer is recorded in a transaction that then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_answer(ticket=ticket, actor=support_user, message=ANSWER)
        assert OutboxMessage.objects.filter(task_name=TICKET_ANSWER_EMAIL_TASK).count() == 1
        raise RuntimeError("the request failed after the answer")
    # Then neither the answer nor its e-mail is left behind
    assert not TicketAnswer.objects.exists()
    assert not OutboxMessage.objects.filter(task_name=TICKET_ANSWER_EMAIL_TASK).exists()
    # When it commits, then exactly one e-mail is queued for it, through the outbox
    answer = ticket_answer(ticket=ticket, actor=support_user, message=ANSWER)
    queued = OutboxMessage.objects.get(task_name=TICKET_ANSWER_EMAIL_TASK)
    assert queued.kwargs == {"order_id": ticket.order_id, "answer_id": answer.pk}
    assert queued.order_id == ticket.order_id


def test_one_e_mail_per_answer_whatever_is_retried(ticket, support_user):
    # Given two answers to one ticket, recorded without running their e-mails yet
    first = ticket_answer(ticket=ticket, actor=support_user, message=ANSWER)
    second = ticket_answer(ticket=ticket, actor=support_user, message="Thursday is confirmed.")
    mail.outbox.clear()
    # When each e-mail task runs, and then runs again (a redelivery, a recovery sweep)
    for _ in range(2):
        for answer in (first, second):
            tasks.send_ticket_answer(order_id=ticket.order_id, answer_id=answer.pk)
    # Then the customer got one e-mail per answer, no more
    assert sorted(m.body.count("Thursday is confirmed.") for m in mail.outbox) == [0, 1]
    assert len(mail.outbox) == 2
    assert ticket_answer_email_send(answer_id=first.pk) is False


def test_an_empty_answer_is_refused_and_nothing_is_sent(client, ticket, support_user):
    client.force_login(support_user)
    mail.outbox.clear()
    response = client.post(answer_url(ticket), {"message": "   "}, follow=True)
    assert "The answer was not sent" in response.content.decode()
    assert not TicketAnswer.objects.exists()
    assert mail.outbox == []
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.OPEN


def test_a_customer_never_sees_another_customers_tickets_or_answers(
    client, ticket, support_user, failed_order, django_capture_on_commit_callbacks
):
    # Given an answer to one customer's ticket
    with django_capture_on_commit_callbacks(execute=True):
        ticket_answer(ticket=ticket, actor=support_user, message=ANSWER)
    # When another customer opens their own order's page
    other = failed_order.customer.user
    client.force_login(other)
    own = client.get(reverse("portal:order_detail", kwargs={"order_id": failed_order.pk}))
    # Then neither the first customer's message nor its answer is there
    assert own.status_code == 200
    assert ANSWER not in own.content.decode()
    assert "When will my line be live?" not in own.content.decode()
    # ... and the first customer's order page and support's queue stay closed to them
    mine = reverse("portal:order_detail", kwargs={"order_id": ticket.order_id})
    assert client.get(mine).status_code == 404
    assert client.get(reverse("support:queue")).status_code == 403
    assert client.post(answer_url(ticket), {"message": "hijack"}).status_code == 403
