"""Support's worklist of open tickets (support.selectors.open_tickets_queue, support:queue):
oldest first, with each order's state, paged by a stable key, at a fixed cost."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.states import OrderStatus
from support.models import SupportTicket
from support.selectors import open_tickets_queue
from tests.factories import OrderFactory, SupportTicketFactory

pytestmark = pytest.mark.django_db

QUEUE = "/support/queue/"


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


def ticket_at(minutes_ago: int, **kwargs) -> SupportTicket:
    return SupportTicketFactory(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago), **kwargs
    )


def test_support_sees_open_tickets_oldest_first_with_the_orders_state(support_client):
    # Given three open tickets written at different times, and one already answered
    newest = ticket_at(5, order=OrderFactory(status=OrderStatus.PROVISIONING))
    oldest = ticket_at(180, order=OrderFactory(status=OrderStatus.EXCEPTION))
    middle = ticket_at(60)
    answered = ticket_at(300, status=SupportTicket.Status.ANSWERED)
    # When support opens its queue
    response = support_client.get(QUEUE)
    # Then the open tickets are listed oldest first, the answered one not at all
    assert response.status_code == 200
    assert [t.pk for t in response.context["tickets"]] == [oldest.pk, middle.pk, newest.pk]
    page = response.content.decode()
    assert answered.order.display_id not in page
    # ... each with its order's display ID, linking to the order view to answer from, the
    # order's state, and how long the customer has waited
    assert oldest.order.display_id in page
    assert f"{reverse('support:order', args=[oldest.order_id])}#ticket-{oldest.pk}" in page
    assert "Exception" in page
    assert "3\xa0hours" in page


def test_the_queue_pages_by_a_stable_key_without_skipping_or_repeating(support_user):
    # Given seven open tickets, two of them written at the very same instant
    same = timezone.now() - datetime.timedelta(hours=2)
    tickets = [ticket_at(100 - n) for n in range(5)]
    tickets[2:2] = [SupportTicketFactory(created_at=same), SupportTicketFactory(created_at=same)]
    expected = sorted(tickets, key=lambda t: (t.created_at, t.pk))
    # When support walks the queue three at a time, while a new ticket arrives meanwhile
    seen, key = [], None
    first = open_tickets_queue(support_user, after=None, limit=3)
    ticket_at(0)  # arrives after the first page was read: it belongs at the end
    seen += first.tickets
    key = first.next_key
    while key is not None:
        page = open_tickets_queue(support_user, after=key, limit=3)
        seen += page.tickets
        key = page.next_key
    # Then every ticket shows once, in order, the newcomer last
    assert [t.pk for t in seen][:7] == [t.pk for t in expected]
    assert len(seen) == 8


def test_the_queue_runs_the_same_queries_for_three_tickets_or_sixty(support_client):
    # Given three open tickets
    for n in range(3):
        ticket_at(n)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert support_client.get(QUEUE).status_code == 200
        return len(captured)

    few = queries()
    # When there are sixty (more than a page), on as many orders
    for n in range(57):
        ticket_at(10 + n)
    many = queries()
    # Then the page costs the same number of queries
    assert many == few
    assert few <= 6  # session, user, permissions (groups, user), the queue


def test_a_key_that_is_not_one_starts_the_queue_at_the_top(support_client):
    ticket = ticket_at(30)
    for junk in ("", "abc", "1.x", "9" * 40 + ".1", "9" * 18 + ".1", "-5.3"):
        response = support_client.get(QUEUE, {"after": junk})
        assert response.status_code == 200, junk
        assert [t.pk for t in response.context["tickets"]] == [ticket.pk], junk


def test_the_queue_is_reachable_from_supports_pages(support_client):
    # Given support on its landing page (order search), then the queue is one click away
    page = support_client.get(reverse("support:search")).content.decode()
    assert f'href="{QUEUE}"' in page


def test_customers_never_see_the_queue(client, customer_user):
    ticket_at(30)
    client.force_login(customer_user)
    assert client.get(QUEUE).status_code == 403
