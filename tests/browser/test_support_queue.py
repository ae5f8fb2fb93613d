"""In a real browser: support finds a customer's message in its queue of open tickets, answers
it from the order view, and the customer reads the answer on their order page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from support.services import ticket_open
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = "An engineer will visit on Thursday between 8am and 1pm."


def test_support_answers_an_open_ticket_from_its_queue_and_the_customer_reads_it(
    open_page, support_user, customer_user, customer_manual_order
):
    # Given a customer's message about their order
    order = customer_manual_order
    ticket_open(
        order=order,
        customer_user=customer_user,
        subject="activation_date",
        message="When will my line be live?",
    )
    mail.outbox.clear()
    # When support opens its queue from the navigation
    agent = open_page()
    sign_in(agent, support_user.username)
    agent.get_by_role("navigation").get_by_role("link", name="Open tickets").click()
    row = agent.get_by_test_id("queue-row")
    # Then the ticket is there with the order's state
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Awaiting manual provisioning")
    # When the agent opens the order and answers
    row.get_by_role("link", name=order.display_id).click()
    expect(agent).to_have_url(re.compile(rf"/support/orders/{order.pk}/"))
    agent.get_by_label("Answer the customer").fill(ANSWER)
    agent.get_by_role("button", name="Send answer").click()
    # Then the order view shows the answer, and the queue is empty again
    expect(agent.get_by_test_id("ticket-answer")).to_contain_text(ANSWER)
    agent.get_by_role("navigation").get_by_role("link", name="Open tickets").click()
    expect(agent.get_by_test_id("ticket-queue")).to_contain_text("No open tickets")
    # ... the customer got it by e-mail, once
    assert [m.to for m in mail.outbox] == [[order.customer.email]]
    # ... and reads it on their order page
    customer = open_page()
    sign_in(customer, customer_user.username)
    customer.goto(f"/my/orders/{order.pk}/")
    expect(customer.get_by_test_id("my-ticket-answer")).to_contain_text(ANSWER)
