"""The sales rep's order form (orders/forms.py): what the rep can tell the customer before
submitting."""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from orders.forms import OrderEntryForm
from tests.factories import PlanFactory, RouterOfferingFactory, StaticIpOfferingFactory

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


@pytest.fixture
def static_ip(db):
    return StaticIpOfferingFactory(name="Static IP", monthly_price=Decimal("5.00"))


@pytest.fixture
def router(db):
    # Full fibre only (the factory's default technologies).
    return RouterOfferingFactory(
        name="Fibre router", monthly_price=Decimal("3.00"), one_time_price=Decimal("49.00")
    )


def entry(plan, *, add_ons=(), postcode="SW1A 1AA", **overrides):
    data = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "07700 900123",
        "address_line1": "1 High Street",
        "city": "London",
        "postcode": postcode,
        "plan": str(plan.pk) if plan is not None else "",
        "add_ons": [str(a.pk) for a in add_ons],
        "submission_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return QueryDict(urlencode(data, doseq=True))


def test_each_add_on_choice_shows_its_monthly_price_and_one_time_charge(plan, static_ip, router):
    # When the order form is drawn
    choices = [str(choice.choice_label) for choice in OrderEntryForm()["add_ons"]]
    # Then each add-on says what it costs a month and what is due now; plans are not add-ons
    assert choices == [
        "Fibre router · 3.00 GBP a month · 49.00 GBP due now",
        "Static IP · 5.00 GBP a month · nothing due today",
    ]
    assert [str(c.choice_label) for c in OrderEntryForm()["plan"]] == [
        "Fibre 500 (500 Mbps) · 35.00 GBP a month · nothing due today"
    ]


def test_the_totals_add_up_the_line_and_the_add_ons_ticked(plan, static_ip, router):
    # Given a plan with a static IP and a router ticked (another field still wrong)
    form = OrderEntryForm(entry(plan, add_ons=(static_ip, router), phone=""))
    # When the prices are summed up for the rep
    prices = form.price_summary()
    # Then each item has its prices, and the totals are per month and due now
    assert [(p.label, p.monthly, p.once) for p in prices.lines] == [
        ("Fibre 500 (500 Mbps)", Decimal("35.00"), Decimal("0.00")),
        ("Fibre router", Decimal("3.00"), Decimal("49.00")),
        ("Static IP", Decimal("5.00"), Decimal("0.00")),
    ]
    assert (prices.monthly, prices.once) == (Decimal("43.00"), Decimal("49.00"))


def test_nothing_chosen_costs_nothing(plan):
    prices = OrderEntryForm().price_summary()
    assert (prices.lines, str(prices.monthly), str(prices.once)) == ([], "0.00", "0.00")


def test_an_add_on_without_its_line_is_refused_next_to_the_add_on(serviceable_area, static_ip):
    # Given a crafted form: a static IP ticked, no plan
    form = OrderEntryForm(entry(None, add_ons=(static_ip,)))
    # Then the form refuses it, next to the static IP, in words a rep understands
    assert not form.is_valid()
    assert form.add_on_errors == {
        str(static_ip.pk): "An order needs an internet access item: add-ons are sold with a line."
    }
    assert form.errors["add_ons"] == [
        "Static IP: An order needs an internet access item: add-ons are sold with a line."
    ]
    assert form.errors["plan"] == ["This field is required."]
    assert not form.non_field_errors()


def test_an_add_on_that_does_not_suit_the_address_is_refused_next_to_it(
    plan, static_ip, router, slow_area
):
    # Given a copper (FTTC) address, a slow plan, a static IP and a full-fibre router
    basic = PlanFactory(name="Basic 50", download_mbps=50)
    form = OrderEntryForm(entry(basic, add_ons=(static_ip, router), postcode=slow_area.postcode))
    # Then only the router is refused, next to it
    assert not form.is_valid()
    assert set(form.errors) == {"add_ons"}
    assert form.add_on_errors == {
        str(router.pk): "Fibre router does not suit the network at this address "
        "(Fibre to the cabinet (FTTC))."
    }


def test_a_line_with_add_ons_that_suit_the_address_is_accepted(
    plan, static_ip, router, serviceable_area
):
    form = OrderEntryForm(entry(plan, add_ons=(static_ip, router)))
    assert form.is_valid(), form.errors
    # ... and the add-ons go to the order in the form's order (items 2, 3), whatever the
    # order they were posted in
    assert form.chosen_add_ons() == [router, static_ip]
    assert [(i.item_id, i.offering, i.relies_on) for i in form.item_requests()] == [
        ("1", plan, None),
        ("2", router, "1"),
        ("3", static_ip, "1"),
    ]
