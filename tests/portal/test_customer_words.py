"""Every reason code has customer words (notices.customer_words): what happened and what
happens next, never the code or internal detail; the customer's page and /track/ use them."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from notices.customer_words import WORDS, customer_words
from orders.eligibility import EligibilityReason
from orders.errors import CancellationRefused
from orders.events import OVERRIDE_REASON_CODE
from orders.jeopardy import jeopardy_reason_code
from orders.models.jeopardy import JeopardyLevel
from provisioning.models import ReasonCode

EVERY_CODE = [
    *ReasonCode.values,
    *EligibilityReason.values,
    CancellationRefused.PONR,
    CancellationRefused.CLOSED,
    CancellationRefused.CANCELLING,
    CancellationRefused.SCHEDULED,
    "LIVE",
    OVERRIDE_REASON_CODE,
    *(jeopardy_reason_code(level) for level in JeopardyLevel.values),
]


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_reason_code_has_customer_words_without_internal_detail(code):
    words = customer_words(code)
    assert words is not None, f"{code} has no customer words"
    text = f"{words.happened} {words.next}"
    assert words.happened.endswith(".") and words.next.endswith(".")
    for other_code in WORDS:  # codes are upper case: the words never spell one
        assert other_code not in text, (code, other_code)
    for internal in ("Faultybridge", "exchange", "task", "adapter", "worker", "exception"):
        assert internal not in text.lower(), (code, internal)


@pytest.mark.django_db
def test_a_failed_activation_is_explained_on_the_customers_page_and_on_track(client, failed_order):
    # On /track/, with the order ID and postcode
    response = client.post(
        reverse("track_order"),
        {"order_id": failed_order.display_id, "postcode": failed_order.service_postcode},
    )
    page = html.unescape(response.content.decode())
    assert 'data-testid="situation"' in page
    assert "There is no free connection for your line in your area" in page
    assert "PORT_UNAVAILABLE" not in page and "Faultybridge" not in page
