"""The milestones card: the sales order page, support's order view and the lead's case show
the order's milestones, its jeopardies with who they were escalated to, and whether the point
of no return has passed."""

from __future__ import annotations

import datetime
import html

import pytest
from django.db.models import F
from django.urls import reverse

from orders.jeopardy import jeopardy_scan
from orders.models import Order, OrderMilestone
from provisioning.models import ExceptionCase
from tests.factories import submit_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def late(plan, serviceable_area, lead_user, django_capture_on_commit_callbacks) -> Order:
    order = Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)
    # Time moves on: it was taken 61 minutes ago
    ago = datetime.timedelta(minutes=61)
    OrderMilestone.objects.filter(order=order).update(
        anchor_at=F("anchor_at") - ago, due_at=F("due_at") - ago
    )
    with django_capture_on_commit_callbacks(execute=True):
        jeopardy_scan()
    return order


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("who", "url_name"), [("sales_user", "orders:detail"), ("support_user", "support:order")]
)
def test_the_order_pages_show_milestones_jeopardies_and_the_point_of_no_return(
    request, client, late, who, url_name
):
    client.force_login(request.getfixturevalue(who))
    page = _page(client, reverse(url_name, kwargs={"order_id": late.pk}))

    assert 'data-testid="milestones"' in page
    assert 'data-testid="milestone-accepted"' in page and "Violated" in page
    assert "Late</span> Order accepted" in page
    assert "late to Lee Lead (provisioning lead on duty)" in page
    assert "Point of no return not reached" in page


def test_the_leads_case_shows_the_milestones(
    client, plan, faulty_area, lead_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area).order
    case = ExceptionCase.objects.get(order=order)
    client.force_login(lead_user)
    page = _page(client, reverse("admin:provisioning_exceptioncase_change", args=[case.pk]))
    assert 'id="case-milestones"' in page
    assert 'data-testid="milestone-accepted"' in page
    # No port at the exchange: the plan stopped before activating the line
    assert "Point of no return not reached" in page
