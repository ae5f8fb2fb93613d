"""TMF622 productOrderMilestone (v5's, on the v4 API as an extension): what an integrator reads
to know where an order stands against its due dates and whether it can still be changed."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from orders import order_id
from orders.models.milestones import MilestoneKind, OrderMilestone
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.provisioning.running import run_ready
from tests.tmf.product_order_bodies import ORDERS, order_body
from tests.tmf.schema import assert_each_valid, assert_valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(api_all, plan, serviceable_area):
    response = api_all.post(ORDERS, order_body(postcode=serviceable_area.postcode), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _by_name(order: dict) -> dict[str, dict]:
    return {m["name"]: m for m in order["productOrderMilestone"]}


def test_an_order_carries_its_milestones_due_from_submission(api_all, placed):
    order = api_all.get(placed["href"]).json()

    milestones = _by_name(order)
    assert_each_valid("TMF622v5", "ProductOrderMilestone", order["productOrderMilestone"])
    assert {"Order accepted", "Provisioning started", "Billing started", "Order completed"} <= set(
        milestones
    )
    line = next(m for m in order["productOrderMilestone"] if m["name"].startswith("Item 1"))
    assert line["productOrderItem"][0]["productOrderItemId"] == "1"
    assert line["productOrderItem"][0]["productOrderId"] == order["id"]
    # Automatic area: the line is due a day after submission, by default.
    submitted = datetime.datetime.fromisoformat(order["orderDate"])
    due = datetime.datetime.fromisoformat(line["milestoneDate"])
    assert due - submitted == datetime.timedelta(hours=24)
    assert line["status"] == "Yet-To-Reach"


def test_the_point_of_no_return_is_reached_when_activating_the_line_starts(api_all, placed):
    # Before the plan reaches it, the order can still be changed
    before = _by_name(api_all.get(placed["href"]).json())["Point of no return"]
    assert before["status"] == "Yet-To-Reach" and "milestoneDate" not in before
    assert "can be cancelled or amended" in before["message"]

    # When activating the line starts
    pk = order_id.normalize(placed["id"])
    fulfilment_start(pk)
    run_ready(pk, until="1.activate_line")
    started = timezone.now()
    FulfilmentTask.objects.filter(order_id=pk, is_ponr=True).update(
        state=TaskState.RUNNING, started_at=started
    )

    # Then the milestone is completed, dated when it started, and says what it means
    order = api_all.get(placed["href"]).json()
    ponr = _by_name(order)["Point of no return"]
    assert_valid("TMF622v5", "ProductOrderMilestone", ponr)
    assert ponr["status"] == "Completed"
    assert datetime.datetime.fromisoformat(ponr["milestoneDate"]) == started.replace(
        microsecond=started.microsecond // 1000 * 1000
    )
    assert "can no longer be cancelled or amended" in ponr["message"]
    # and accepted / provisioning started are met by then
    assert _by_name(order)["Order accepted"]["status"] == "Completed"


def test_a_milestone_past_its_due_date_is_violated_and_a_patch_sending_it_back_is_accepted(
    api_all, placed
):
    read = api_all.get(placed["href"]).json()
    pk = order_id.normalize(placed["id"])
    OrderMilestone.objects.filter(order_id=pk, kind=MilestoneKind.ACCEPTED).update(
        due_at=timezone.now() - datetime.timedelta(minutes=5), met_at=None
    )

    accepted = _by_name(api_all.get(placed["href"]).json())["Order accepted"]
    assert accepted["status"] == "Violated"
    assert accepted["message"].startswith("Not met; was due")

    # The representation read before the milestone moved, sent back with a new reference
    body = {key: value for key, value in read.items() if key not in ("id", "href")}
    body["externalId"] = "CRM-42"
    response = api_all.patch(placed["href"], body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["externalId"] == "CRM-42"


def test_a_list_reads_the_milestones_of_its_page_without_a_query_per_order(
    api_all, plan, serviceable_area, django_assert_max_num_queries
):
    def page_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = api_all.get(ORDERS)
        assert response.status_code == 200
        assert all("productOrderMilestone" in order for order in response.json())
        return len(captured)

    for _ in range(2):
        api_all.post(ORDERS, order_body(postcode=serviceable_area.postcode), format="json")
    two = page_queries()
    for _ in range(4):
        api_all.post(ORDERS, order_body(postcode=serviceable_area.postcode), format="json")
    assert page_queries() == two
