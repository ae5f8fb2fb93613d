"""Customer contacts: a customer writes to support about their own order (support tickets per
order), support sees it on the order's end-to-end view, the customer's tracking never does."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from orders.models import OrderEvent
from support.models import SupportTicket
from support.services import MAX_OPEN_TICKETS_PER_ORDER, TicketRefused, ticket_open

pytestmark = pytest.mark.django_db

MESSAGE = "The engineer never came on Tuesday, please call me after 5pm."


@pytest.fixture
def customer_client(client, customer_user):
    client.force_login(customer_user)
    return client


def contact_url(order) -> str:
    return reverse("portal:order_contact", kwargs={"order_id": order.pk})


def test_customer_contact_is_stored_recorded_and_shown_to_support(
    customer_client, customer_user, customer_manual_order, support_user
):
    # given the customer on their own order's page
    # when they send a message about the activation date
    response = customer_client.post(
        contact_url(customer_manual_order), {"subject": "activation_date", "message": MESSAGE}
    )
    # then they are sent back to the order page, told we got it
    detail_url = reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    assert response.status_code == 302
    assert response.url == detail_url
    page = customer_client.get(detail_url).content.decode()
    assert (
        f"We got your message about order {customer_manual_order.display_id}; "
        "we&#x27;ll reply by e-mail." in page
    )
    # and the page lists their ticket (subject, status), without echoing the text elsewhere
    assert "When will my service be activated?" in page
    # and one open ticket is stored for the order's customer, by that user
    ticket = SupportTicket.objects.get(order=customer_manual_order)
    assert ticket.customer == customer_manual_order.customer
    assert ticket.created_by == customer_user
    assert ticket.status == SupportTicket.Status.OPEN
    assert ticket.message == MESSAGE
    # and the order's staff timeline records the contact, with its actor
    event = OrderEvent.objects.get(
        order=customer_manual_order, kind=OrderEvent.Kind.CUSTOMER_CONTACT
    )
    assert event.actor == customer_user
    assert MESSAGE not in event.reason
    # and support sees the contact on the order's end-to-end view
    support = Client()
    support.force_login(support_user)
    support_page = support.get(
        reverse("support:order", kwargs={"order_id": customer_manual_order.pk})
    ).content.decode()
    assert "Customer contacts" in support_page
    assert "The engineer never came on Tuesday" in support_page
    assert "Customer contact: When will my service be activated?." in support_page


def test_contact_without_a_message_shows_the_error_and_stores_nothing(
    customer_client, customer_manual_order
):
    # given the customer's own order
    # when they send the form with a subject but no message
    response = customer_client.post(
        contact_url(customer_manual_order), {"subject": "billing", "message": "   "}
    )
    # then the page comes back with the error next to the message field
    assert response.status_code == 200
    assert response.context["contact_form"].errors["message"] == ["This field is required."]
    assert 'id="id_message_error"' in response.content.decode()
    # and nothing is stored or recorded
    assert not SupportTicket.objects.exists()
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.CUSTOMER_CONTACT).exists()


def test_customer_cannot_contact_support_about_another_customers_order(
    customer_client, failed_order
):
    # given an order that belongs to another customer
    # when the signed-in customer posts a message about it
    response = customer_client.post(
        contact_url(failed_order), {"subject": "other", "message": "Hi"}
    )
    # then it looks like no such order, and nothing is stored
    assert response.status_code == 404
    assert not SupportTicket.objects.exists()
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.CUSTOMER_CONTACT).exists()


def test_contact_url_takes_posts_only(customer_client, customer_manual_order):
    # given the customer's own order, when they open the contact URL itself
    response = customer_client.get(contact_url(customer_manual_order))
    # then it is not a page
    assert response.status_code == 405


def test_the_sixth_open_ticket_about_an_order_is_refused(
    customer_client, customer_user, customer_manual_order
):
    # given the order already has the most open tickets allowed
    for n in range(MAX_OPEN_TICKETS_PER_ORDER):
        ticket_open(
            order=customer_manual_order,
            customer_user=customer_user,
            subject="other",
            message=f"message {n}",
        )
    # when the service is asked for one more
    with pytest.raises(TicketRefused, match="open messages about this order"):
        ticket_open(
            order=customer_manual_order, customer_user=customer_user, subject="other", message="x"
        )
    # and when the customer posts one more from the page
    response = customer_client.post(
        contact_url(customer_manual_order), {"subject": "other", "message": "one more"}
    )
    # then the page says why, and no sixth ticket or event is written
    assert response.status_code == 200
    assert "Please wait for our reply" in response.content.decode()
    assert SupportTicket.objects.filter(order=customer_manual_order).count() == 5
    assert (
        OrderEvent.objects.filter(kind=OrderEvent.Kind.CUSTOMER_CONTACT).count()
        == MAX_OPEN_TICKETS_PER_ORDER
    )


def test_an_answered_ticket_no_longer_counts_towards_the_limit(
    customer_user, customer_manual_order
):
    # given five tickets of which one was answered
    tickets = [
        ticket_open(
            order=customer_manual_order, customer_user=customer_user, subject="other", message="m"
        )
        for _ in range(MAX_OPEN_TICKETS_PER_ORDER)
    ]
    SupportTicket.objects.filter(pk=tickets[0].pk).update(status=SupportTicket.Status.ANSWERED)
    # when the customer writes again, then it is accepted
    ticket_open(
        order=customer_manual_order, customer_user=customer_user, subject="other", message="m"
    )
    assert SupportTicket.objects.filter(order=customer_manual_order).count() == 6


def test_the_message_text_never_reaches_the_customer_tracking(
    customer_client, customer_manual_order
):
    # given the customer sent a message about their order
    customer_client.post(
        contact_url(customer_manual_order), {"subject": "not_working", "message": MESSAGE}
    )
    assert SupportTicket.objects.filter(order=customer_manual_order).exists()
    # when the customer's page polls its live tracking fragment
    live = customer_client.get(
        reverse("portal:order_live", kwargs={"order_id": customer_manual_order.pk}),
        {"since": 0},
    )
    # then the fragment has the status timeline but not the message, nor the staff event
    assert live.status_code == 200
    fragment = live.content.decode()
    assert "We received your order." in fragment
    assert "engineer never came" not in fragment
    assert "Customer contact" not in fragment
    # and tracking by order ID + postcode without an account does not show it either
    cache.clear()  # the tracking limiter counts in the cache, which outlives the test database
    anonymous = Client()
    tracked = anonymous.post(
        "/track/",
        {"order_id": customer_manual_order.pk, "postcode": customer_manual_order.customer.postcode},
    )
    assert tracked.status_code == 200
    page = tracked.content.decode()
    assert customer_manual_order.display_id in page
    assert "engineer never came" not in page
    assert "Customer contact" not in page


def test_support_marks_a_customer_contact_answered_and_it_is_audited(
    client, support_user, customer_manual_order, customer_user
):
    # Given a customer wrote about their order
    ticket = ticket_open(
        order=customer_manual_order,
        customer_user=customer_user,
        subject="other",
        message="Is an engineer coming?",
    )
    # When support marks it answered from the order view
    client.force_login(support_user)
    url = reverse("support:ticket_status", kwargs={"ticket_id": ticket.pk})
    response = client.post(url, {"status": "answered"})
    # Then it is answered, the agent is back on the order, and the change names the agent
    assert response.status_code == 302
    assert response.url == reverse("support:order", kwargs={"order_id": customer_manual_order.pk})
    ticket.refresh_from_db()
    assert ticket.status == "answered"
    change = LogEntry.objects.get_for_object(ticket).filter(action=LogEntry.Action.UPDATE).get()
    assert change.actor == support_user
    # ... and a customer may not change tickets, not even their own
    client.force_login(customer_user)
    assert client.post(url, {"status": "closed"}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "answered"
