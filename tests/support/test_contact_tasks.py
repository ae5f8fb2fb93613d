"""Contact-the-customer tasks: an order that went late past its promised date, that needs
details, or lost an add-on lands on support's "Contact the customer" worklist once; an agent
takes it, records the contact and its outcome, and the order's timeline says so."""

from __future__ import annotations

import datetime
import html

import pytest
from django.db.models import F
from django.urls import reverse

from orders.jeopardy import jeopardy_scan
from orders.models import Order, OrderEvent, OrderMilestone
from provisioning.models import ExceptionCase
from provisioning.services import exception_case_cancel_item
from support.contact_models import ContactTask
from tests.factories import RouterOfferingFactory, submit_order

pytestmark = pytest.mark.django_db
CONTACTS = reverse("support:contacts")


def _late(order: Order, capture) -> None:
    ago = datetime.timedelta(hours=2)
    OrderMilestone.objects.filter(order=order).update(
        anchor_at=F("anchor_at") - ago, due_at=F("due_at") - ago
    )
    with capture(execute=True):
        jeopardy_scan()


def test_a_late_order_lands_once_on_the_contact_worklist_and_is_recorded(
    client, plan, serviceable_area, lead_user, support_user, django_capture_on_commit_callbacks
):
    order = Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)
    _late(order, django_capture_on_commit_callbacks)
    _late(order, django_capture_on_commit_callbacks)  # later scans: still one task

    [task] = ContactTask.objects.filter(order=order)
    assert task.reason == ContactTask.Reason.DELAYED and "is late" in task.detail
    client.force_login(support_user)
    page = html.unescape(client.get(CONTACTS).content.decode())
    assert f'data-testid="contact-{task.pk}"' in page and order.display_id in page

    # An empty record is refused with the problem beside each field, and nothing is written
    record = reverse("support:contact_record", args=[task.pk])
    refused = client.post(record, {f"task{task.pk}-outcome": "", f"task{task.pk}-note": ""})
    assert refused.status_code == 400
    text = html.unescape(refused.content.decode())
    assert "Say how the contact went." in text and "Say what you told the customer" in text
    task.refresh_from_db()
    assert task.done_at is None

    # Taken and recorded
    assert client.post(reverse("support:contact_take", args=[task.pk])).status_code == 302
    done = client.post(
        record,
        {f"task{task.pk}-outcome": "reached", f"task{task.pk}-note": "Gave the new date."},
    )
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.done_at and task.taken_by == support_user and task.outcome == "reached"
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.CUSTOMER_CONTACT)
    assert "spoke to the customer" in event.reason and "Gave the new date." in event.reason
    assert f'data-testid="contact-{task.pk}"' not in client.get(CONTACTS).content.decode()


def test_a_contact_taken_by_one_agent_is_refused_to_another(
    client, plan, serviceable_area, lead_user, support_user, django_capture_on_commit_callbacks
):
    from orders.roles import Role
    from tests.factories import UserFactory

    order = Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)
    _late(order, django_capture_on_commit_callbacks)
    task = ContactTask.objects.get(order=order)
    client.force_login(support_user)
    client.post(reverse("support:contact_take", args=[task.pk]))

    other = UserFactory(role=Role.SUPPORT)
    client.force_login(other)
    response = client.post(reverse("support:contact_take", args=[task.pk]), follow=True)
    assert "Sue Support has taken this contact." in html.unescape(response.content.decode())
    task.refresh_from_db()
    assert task.taken_by == support_user


def test_an_add_on_cancelled_by_the_lead_is_a_contact_to_make(
    plan, faulty_area, lead_user, django_capture_on_commit_callbacks
):
    router = RouterOfferingFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, add_ons=(router,), area=faulty_area).order
    case = ExceptionCase.objects.get(order=order)
    held = order.items.get(offering=router)
    held.state = "held"
    held.save(update_fields=["state"])
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_cancel_item(case, item=held, acting_user=lead_user, reason="Out of stock.")

    task = ContactTask.objects.get(order=order)
    assert task.reason == ContactTask.Reason.ADD_ON_CANCELLED
    assert "Out of stock." in task.detail


def test_customers_and_sales_do_not_get_the_contact_worklist(client, customer_user, sales_user):
    for user in (customer_user, sales_user):
        client.force_login(user)
        assert client.get(CONTACTS).status_code == 403
