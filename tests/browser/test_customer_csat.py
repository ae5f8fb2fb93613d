"""CSAT in a real browser: the customer answers the one question from their order page once
their new line is live, and the page then thanks them instead of asking again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.states import OrderStatus
from support.models import CsatChannel, CsatResponse
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_rates_us_from_their_order_page(
    page, place_order, plan, serviceable_area, customer_user
):
    # Given the customer's new line is live
    order = place_order(
        plan=plan, area=serviceable_area, email="rated@example.com", customer_user=customer_user
    )
    assert order.status == OrderStatus.COMPLETED
    sign_in(page, customer_user.username)
    page.get_by_role("link", name=re.compile(order.display_id)).click()
    question = page.get_by_test_id("csat")
    expect(question).to_contain_text("How did we do?")

    # When they send the form without a score, they are told what is missing, by the field
    with page.expect_navigation():
        question.get_by_role("button", name="Send my answer").click()
    expect(page.locator("#field-score .field-error")).to_have_text("Choose a score from 1 to 5.")
    assert not CsatResponse.objects.exists()

    # When they choose 4, write a comment and send it
    question = page.get_by_test_id("csat")
    question.get_by_label("4", exact=True).check()
    question.get_by_label("Anything you would like to tell us?").fill("Smooth, one day late.")
    with page.expect_navigation():
        question.get_by_role("button", name="Send my answer").click()

    # Then the page thanks them with their score, and asks no more
    expect(page.get_by_role("status")).to_contain_text("Thanks, you rated 4/5.")
    expect(page.get_by_test_id("csat-thanks")).to_have_text("Thanks, you rated 4/5.")
    expect(page.get_by_test_id("csat-comment")).to_have_text("Smooth, one day late.")
    expect(page.get_by_test_id("csat-form")).to_have_count(0)
    # ... and the answer is theirs, from the order page
    answer = CsatResponse.objects.get(order=order)
    assert (answer.score, answer.channel, answer.answered_by_id) == (
        4,
        CsatChannel.PORTAL,
        customer_user.pk,
    )
