"""The staff page "Change this line" (orders.views_changes): a plan change, a suspension, a
resumption, a cease and an add-on taken off, each taken as an order of its own about the line;
refusals next to the field, nothing written; who may do what."""

from __future__ import annotations

import datetime
import html
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from inventory.models import Product, ProductStatus
from orders.models import Order, OrderEvent
from orders.states import EventSource, ItemAction, ItemChange, OrderStatus
from tests.factories import PlanFactory, StaticIpOfferingFactory, UserFactory, submit_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def gigabit(db):
    return PlanFactory(
        code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("45.00")
    )


def page_url(line: Product) -> str:
    return reverse("orders:line_change", kwargs={"product_id": line.pk})


def text(response) -> str:
    return html.unescape(response.content.decode())


def post(client, line: Product, change: str, **fields):
    data = {"change": change, f"{change}-submission_token": str(uuid.uuid4())}
    data.update({f"{change}-{key}": value for key, value in fields.items()})
    return client.post(page_url(line), data)


def orders_about(line: Product):
    return Order.objects.filter(product_ref=line.pk)


def test_a_rep_changes_the_plan_and_lands_on_the_change_order(
    client, sales_user, live_line, gigabit, django_capture_on_commit_callbacks
):
    # Given the rep on Jane's Fibre 500 "Change this line" page
    client.force_login(sales_user)
    page = text(client.get(page_url(live_line)))
    # Then the faster plan is offered with its price and the monthly difference
    assert "Fibre 900 (900 Mbps): 45.00 GBP a month (+10.00 GBP a month)" in page

    # When the rep chooses Fibre 900 and submits
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, live_line, "plan", offering=gigabit.pk)

    # Then a change order of its own is taken about the line, and the rep lands on it
    order = orders_about(live_line).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", kwargs={"order_id": order.pk})
    assert order.submitted_by == sales_user
    item = order.items.get()
    assert (item.action, item.change) == (ItemAction.MODIFY, ItemChange.PLAN)
    # ... whose page reads as the change
    detail = text(client.get(response["Location"]))
    assert "Speed change to Fibre 900" in detail and "from Fibre 500" in detail
    # ... linked to the product it changed, and the order that delivered it
    assert f"Change to Fibre 900, ordered {order.submitted_at:%-d %b %Y}" in detail
    assert reverse("orders:detail", kwargs={"order_id": live_line.order_id}) in detail
    live_line.refresh_from_db()
    assert live_line.offering == gigabit


def test_the_line_plan_is_not_offered_and_a_plan_the_address_cannot_take_is_refused(
    client, sales_user, live_line
):
    # Given a 2 Gbps plan the address (up to 1000 Mbps) cannot take
    too_fast = PlanFactory(name="Fibre 2000", download_mbps=2000)
    client.force_login(sales_user)
    page = text(client.get(page_url(live_line)))
    assert "Fibre 2000" not in page
    assert "Fibre 500 (500 Mbps):" not in page

    # When it is posted anyway
    response = post(client, live_line, "plan", offering=too_fast.pk)

    # Then the refusal is next to the plan field and nothing is written
    assert response.status_code == 200
    assert "not available at this address" in text(response)
    assert not orders_about(live_line).exists()


def test_a_second_change_while_one_is_open_links_to_the_open_order(
    client, sales_user, live_line, gigabit
):
    # Given a suspension in flight (taken, not run)
    client.force_login(sales_user)
    post(client, live_line, "suspend", reason="Customer abroad for three months.")
    open_order = orders_about(live_line).get()
    assert open_order.status not in (OrderStatus.COMPLETED,)
    # ... with its reason on the order's history
    note = open_order.events.get(kind=OrderEvent.Kind.NOTE)
    assert note.reason == "Suspension: Customer abroad for three months."

    # When the rep asks for a plan change too
    response = post(client, live_line, "plan", offering=gigabit.pk)

    # Then it is refused with a link to the open order, and nothing more is written
    page = text(response)
    assert "a line takes one order at a time" in page
    assert reverse("orders:detail", kwargs={"order_id": open_order.pk}) in page
    assert orders_about(live_line).count() == 1


def test_a_suspension_needs_a_reason(client, sales_user, live_line):
    client.force_login(sales_user)
    response = post(client, live_line, "suspend", reason="")
    assert "Say why the line is suspended." in text(response)
    assert not orders_about(live_line).exists()


def test_support_suspends_and_resumes_a_line(
    client, support_user, live_line, django_capture_on_commit_callbacks
):
    # Given support (who may cancel orders, not take them)
    client.force_login(support_user)
    page = text(client.get(page_url(live_line)))
    assert "Suspend the line" in page and "Change the plan" not in page

    # When they suspend the line
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, live_line, "suspend", reason="Non-payment.")
    assert response.status_code == 302
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.SUSPENDED

    # Then the page offers a resumption, which lifts the bar
    page = text(client.get(page_url(live_line)))
    assert "Resume the line" in page and "Suspend the line" not in page
    with django_capture_on_commit_callbacks(execute=True):
        post(client, live_line, "resume")
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.ACTIVE
    # ... and a second resumption of the active line is not offered
    assert post(client, live_line, "resume").status_code == 400


def test_a_cease_names_the_add_ons_ceased_with_it_and_needs_a_date_and_a_confirmation(
    client, sales_user, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a line with a static IP
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan,
            add_ons=(StaticIpOfferingFactory(name="Static IP"),),
            area=serviceable_area,
            email="kim@example.com",
        ).order
    line = Product.objects.get(order=order, parent__isnull=True)
    client.force_login(sales_user)
    assert "ceases its add-ons with it: Static IP" in text(client.get(page_url(line)))

    # When the rep asks for a cease yesterday, unconfirmed
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page = text(post(client, line, "cease", requested_date=yesterday.isoformat()))
    # Then both are refused next to their fields, nothing written
    assert "The cease date is today or later." in page
    assert "Tick to confirm the cease." in page
    assert not orders_about(line).exists()

    # When they confirm a cease in a month
    later = timezone.localdate() + datetime.timedelta(days=30)
    response = post(client, line, "cease", requested_date=later.isoformat(), confirm="on")

    # Then a cease order of the line and its add-on is scheduled for that date
    cease = orders_about(line).get()
    assert response.status_code == 302
    assert cease.status == OrderStatus.SCHEDULED
    assert cease.requested_activation_date == later
    assert sorted(cease.items.values_list("action", flat=True)) == [ItemAction.DELETE] * 2
    detail = text(client.get(response["Location"]))
    assert "Cease of the Fibre 500 line" in detail and "Removal of the Static IP" in detail


def test_a_rep_takes_an_add_on_off(
    client, sales_user, plan, serviceable_area, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan,
            add_ons=(StaticIpOfferingFactory(name="Static IP"),),
            area=serviceable_area,
            email="kim@example.com",
        ).order
    line = Product.objects.get(order=order, parent__isnull=True)
    static_ip = Product.objects.get(order=order, parent__isnull=False)
    client.force_login(sales_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, line, "remove", add_on=str(static_ip.pk))

    assert response.status_code == 302
    static_ip.refresh_from_db()
    assert static_ip.status == ProductStatus.TERMINATED


def test_permissions(client, live_line, gigabit, billing_user, support_user):
    # A role that may neither take nor cancel orders gets 403
    client.force_login(billing_user)
    assert client.get(page_url(live_line)).status_code == 403
    # Support may open the page but not change the plan (needs orders.add_order)
    client.force_login(support_user)
    assert post(client, live_line, "plan", offering=gigabit.pk).status_code == 403
    assert not orders_about(live_line).exists()
    # A customer may not use the staff page
    customer = UserFactory(username="someone")
    client.force_login(customer)
    assert client.get(page_url(live_line)).status_code == 403


def test_a_line_that_is_not_there_is_404(client, sales_user):
    client.force_login(sales_user)
    response = client.get(reverse("orders:line_change", kwargs={"product_id": uuid.uuid4()}))
    assert response.status_code == 404


def test_the_support_order_view_links_the_line_to_its_change_page_and_lists_its_changes(
    client, support_user, live_line, django_capture_on_commit_callbacks
):
    client.force_login(support_user)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, live_line, "suspend", reason="Non-payment.")
    suspension = orders_about(live_line).get()

    page = text(client.get(reverse("support:order", kwargs={"order_id": live_line.order_id})))

    assert page_url(live_line) in page
    assert f"{suspension.display_id}</a> Suspension of the Fibre 500 line (completed" in page
    assert suspension.events.filter(source=EventSource.SALES_PORTAL).exists()
    # ... and the suspension's own page names the line it is about
    page = text(client.get(reverse("support:order", kwargs={"order_id": suspension.pk})))
    assert "Change to Fibre 500, ordered" in page


def test_support_search_results_link_each_line_to_its_change_page(client, support_user, live_line):
    client.force_login(support_user)
    page = text(client.get(reverse("support:search"), {"q": "jane@example.com"}))
    assert f'href="{page_url(live_line)}" data-testid="change-line">Change this line' in page


def test_someone_who_may_order_but_not_see_the_customer_gets_404(client, live_line, gigabit):
    # Given a user allowed to take orders but not to see other people's customers
    user = UserFactory(username="partner")
    user.user_permissions.add(Permission.objects.get(codename="add_order"))
    client.force_login(user)

    # Then Jane's line is not there for them, and nothing is taken
    assert client.get(page_url(live_line)).status_code == 404
    assert post(client, live_line, "plan", offering=gigabit.pk).status_code == 404
    assert not orders_about(live_line).exists()


def test_a_double_submission_takes_one_order(client, sales_user, live_line, gigabit):
    client.force_login(sales_user)
    data = {
        "change": "plan",
        "plan-submission_token": str(uuid.uuid4()),
        "plan-offering": gigabit.pk,
    }

    first = client.post(page_url(live_line), data)
    second = client.post(page_url(live_line), data)

    assert first["Location"] == second["Location"]
    assert orders_about(live_line).count() == 1
