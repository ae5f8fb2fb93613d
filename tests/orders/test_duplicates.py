"""Duplicate data entry counted where it is caught (the duplicate-entry KPI): a refused second
order, a repeated submission answered with the first order, an existing customer matched
instead of entered again. Each is one row, whatever the channel and its transactions."""

from __future__ import annotations

import pytest

from orders.errors import DuplicateOrder
from orders.models import DuplicateEntry, DuplicateKind
from orders.states import EventSource
from tests.factories import submit_order

pytestmark = pytest.mark.django_db


def counted() -> list[tuple[str, str, str]]:
    return list(DuplicateEntry.objects.order_by("id").values_list("kind", "order_id", "channel"))


def test_a_new_customer_is_no_duplicate_entry(plan, manual_area):
    submit_order(plan=plan, area=manual_area)

    assert counted() == []


def test_an_existing_customer_found_by_e_mail_is_counted_as_matched(plan, manual_area):
    # Given a customer with an order
    submit_order(plan=plan, area=manual_area, email="ann@example.com")
    # When a second order for another address is taken with her e-mail address
    second = submit_order(
        plan=plan, area=manual_area, email="ANN@example.com ", address_line1="2 Other Road"
    )
    # Then her record was reused, and that is counted once against the new order
    assert second.created and not second.customer_created
    assert counted() == [(DuplicateKind.CUSTOMER_MATCHED, second.order.pk, "sales_portal")]


def test_a_repeated_submission_is_counted_as_replayed(plan, manual_area):
    first = submit_order(plan=plan, area=manual_area, idempotency_key="form:1")
    again = submit_order(plan=plan, area=manual_area, idempotency_key="form:1")

    assert not again.created and again.order == first.order
    assert counted() == [(DuplicateKind.REPLAYED, first.order.pk, "sales_portal")]


def test_a_refused_duplicate_order_is_counted_once_though_its_attempt_rolled_back(
    plan, manual_area
):
    first = submit_order(plan=plan, area=manual_area, email="bob@example.com")
    DuplicateEntry.objects.all().delete()

    with pytest.raises(DuplicateOrder):
        submit_order(
            plan=plan,
            area=manual_area,
            email="bob@example.com",
            address_line1=first.order.service_address_line1,
            channel=EventSource.STAFF_PORTAL,
        )

    assert counted() == [(DuplicateKind.REFUSED, first.order.pk, "staff_portal")]
