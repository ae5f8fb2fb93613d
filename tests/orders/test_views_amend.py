"""Changing an order from the staff pages: "Change this order" from the sales order page and
support's order view (orders/views_amend.py)."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.states import ItemState, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    StaticIpOfferingFactory,
    UserFactory,
    submit_order,
)
from tests.provisioning.running import run_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def gigabit(db):
    return PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)


@pytest.fixture
def router(db):
    return RouterOfferingFactory()


@pytest.fixture
def submitted(plan, serviceable_area):
    order = submit_order(plan=plan, area=serviceable_area).order
    assert order.status == OrderStatus.SUBMITTED
    return order


def amend_url(order, **query):
    url = reverse("orders:amend", kwargs={"order_id": order.pk})
    return url + ("?from=" + query["came_from"] if query else "")


def text(response):
    return html.unescape(response.content.decode())


def post(client, order, *, plan, add_ons=(), date="", version=None, **query):
    data = {
        "plan": plan.pk,
        "add_ons": [a.pk for a in add_ons],
        "requested_activation_date": date,
        "expected_version": order.version if version is None else version,
    }
    return client.post(amend_url(order, **query), data, follow=True)


def test_a_rep_upgrades_the_plan_and_adds_a_router_and_sees_the_new_totals(
    client, sales_user, submitted, gigabit, router
):
    # Given a sales rep on the page of an order just taken, which offers to change it
    client.force_login(sales_user)
    detail = text(client.get(reverse("orders:detail", kwargs={"order_id": submitted.pk})))
    assert "Change this order" in detail
    page = text(client.get(amend_url(submitted)))
    assert 'data-testid="current-monthly">35.00 GBP<' in page
    assert "Fibre 900" in page and router.name in page

    # When they choose Fibre 900 and tick the router
    response = post(client, submitted, plan=gigabit, add_ons=[router])

    # Then they are back on the order page with the new plan and totals and the change on
    # the timeline under their name
    page = text(response)
    assert response.redirect_chain[-1][0] == reverse(
        "orders:detail", kwargs={"order_id": submitted.pk}
    )
    assert f"Order {submitted.display_id} changed." in page
    new_monthly = gigabit.monthly_price + router.monthly_price
    assert f'data-testid="order-total-monthly">{new_monthly} GBP<' in page
    assert "Fibre 900 (" in page
    submitted.refresh_from_db()
    assert submitted.plan == gigabit
    event = OrderEvent.objects.get(order=submitted, kind=OrderEvent.Kind.ORDER_EDITED)
    assert event.actor == sales_user
    assert event.data["changes"]["plan"] == {"before": "Fibre 500", "after": "Fibre 900"}


def test_the_page_shows_the_new_totals_of_what_is_chosen_when_it_is_refused(
    client, sales_user, submitted, plan
):
    # Given an order with a static IP already, and a second static IP on sale
    ip = StaticIpOfferingFactory()
    other_ip = StaticIpOfferingFactory(code="static-ip-2", name="Static IP block")
    client.force_login(sales_user)

    # When the rep ticks two static IPs (one line takes one)
    response = post(client, submitted, plan=plan, add_ons=[ip, other_ip])

    # Then the page says why next to the add-on, and nothing is changed
    page = text(response)
    assert 'data-testid="amend-errors"' in page
    assert 'class="add-on has-error"' in page
    submitted.refresh_from_db()
    assert submitted.monthly_price.to_eng_string() == "35.00"
    assert not OrderEvent.objects.filter(order=submitted, kind=OrderEvent.Kind.ORDER_EDITED)


def test_a_rep_changes_the_requested_date(client, sales_user, submitted, plan):
    client.force_login(sales_user)
    later = timezone.localdate() + datetime.timedelta(days=20)

    # When the rep moves the activation date, leaving the items as they are
    response = post(client, submitted, plan=plan, date=later.isoformat())

    # Then the order is held until that day
    assert f"Order {submitted.display_id} changed." in text(response)
    submitted.refresh_from_db()
    assert submitted.requested_activation_date == later
    assert submitted.status == OrderStatus.SCHEDULED


def test_a_page_shown_before_someone_else_changed_the_order_is_a_conflict(
    client, sales_user, submitted, gigabit
):
    client.force_login(sales_user)
    response = post(client, submitted, plan=gigabit, version=submitted.version - 1 or 99)
    assert "changed while you were looking at it" in text(response)
    submitted.refresh_from_db()
    assert submitted.plan.code == "fibre-500"


def test_past_the_point_of_no_return_the_card_and_the_page_say_why(
    client, support_user, plan, serviceable_area, gigabit
):
    # Given an order whose line is being switched on
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    FulfilmentTask.objects.filter(order=order, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    order = Order.objects.get(pk=order.pk)
    client.force_login(support_user)

    # Then support's order view says why instead of offering the change
    view = text(client.get(reverse("support:order", kwargs={"order_id": order.pk})))
    assert 'data-testid="amend-card-refusal"' in view
    assert "can no longer be changed" in view
    # ... and a posted change is refused with the same reason, nothing written
    response = post(client, order, plan=gigabit, came_from="support")
    page = text(response)
    assert 'data-testid="amend-refusal"' in page
    assert "can no longer be changed" in page
    assert order.items.get(item_id="1").offering == plan


def test_support_changes_an_order_from_the_order_view_and_goes_back_to_it(
    client, support_user, submitted, gigabit
):
    client.force_login(support_user)
    view = text(client.get(reverse("support:order", kwargs={"order_id": submitted.pk})))
    assert amend_url(submitted, came_from="support") in view

    response = post(client, submitted, plan=gigabit, came_from="support")

    assert response.redirect_chain[-1][0] == reverse(
        "support:order", kwargs={"order_id": submitted.pk}
    )
    submitted.refresh_from_db()
    assert submitted.plan == gigabit


def test_a_user_without_the_permission_is_forbidden_and_an_unknown_order_not_found(
    client, provisioning_user, sales_user, submitted
):
    client.force_login(provisioning_user)
    assert client.get(amend_url(submitted)).status_code == 403
    assert "Change this order" not in text(
        client.get(reverse("orders:detail", kwargs={"order_id": submitted.pk}))
    )
    client.force_login(sales_user)
    missing = reverse("orders:amend", kwargs={"order_id": "NOSUCH"})
    assert client.get(missing).status_code == 404


def test_an_order_the_rep_may_not_see_is_not_found(client, submitted):
    # A sales user stripped of the view permission on orders sees no order to change
    from django.contrib.auth.models import Permission

    user = UserFactory(username="no-view")
    user.user_permissions.add(Permission.objects.get(codename="add_order"))
    client.force_login(user)
    assert client.get(amend_url(submitted)).status_code == 404


def test_a_removed_add_on_leaves_the_order(client, sales_user, plan, serviceable_area):
    ip = StaticIpOfferingFactory()
    order = submit_order(plan=plan, add_ons=(ip,), area=serviceable_area).order
    client.force_login(sales_user)

    post(client, order, plan=plan, add_ons=[])

    assert order.items.get(item_id="2").state == ItemState.REMOVED


def test_a_change_racing_a_running_task_says_to_try_again_and_changes_nothing(
    client, sales_user, plan, serviceable_area
):
    # Given an order with a static IP whose binding is on the network at this moment
    ip = StaticIpOfferingFactory()
    order = submit_order(plan=plan, add_ons=(ip,), area=serviceable_area).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    FulfilmentTask.objects.filter(order=order, key="2.bind_address").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    order = Order.objects.get(pk=order.pk)
    client.force_login(sales_user)

    # When the rep takes the static IP off
    page = text(post(client, order, plan=plan, add_ons=[]))

    # Then the page says what is running, and the static IP stays on the order
    assert 'data-testid="amend-error"' in page
    assert "is running on the network" in page
    assert order.items.get(item_id="2").state != ItemState.REMOVED
