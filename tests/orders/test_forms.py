"""The sales rep's order form (orders/forms.py): what the rep can tell the customer before
submitting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.forms import OrderEntryForm
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_each_plan_choice_shows_its_monthly_price_and_what_is_due_today(plan):
    # Given two plans at different prices
    PlanFactory(name="Basic 50", download_mbps=50, monthly_price=Decimal("22.50"))
    # When the order form is drawn
    choices = {str(choice.choice_label) for choice in OrderEntryForm()["plan"]}
    # Then each choice says what it costs a month, and that nothing is charged today
    assert choices == {
        "Fibre 500 (500 Mbps) · 35.00 GBP a month · nothing due today",
        "Basic 50 (50 Mbps) · 22.50 GBP a month · nothing due today",
    }
    # ... and the field says when billing starts, as billing computes it (prorated first month)
    html = str(OrderEntryForm()["plan"].help_text)
    assert "Nothing is due today" in html
    assert "first bill covers only the days left in that month" in html
