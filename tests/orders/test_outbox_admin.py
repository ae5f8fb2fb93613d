"""The outbox in the Django admin (orders.admin): what is not done yet, what was given up, and
sending a given-up message again once its cause is fixed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OutboxMessage
from orders.states import OrderStatus
from tests.factories import submit_order

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_outboxmessage_changelist"


@pytest.fixture
def admin_client(client: Client, admin_user) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    return client


def _listed(client: Client, query: str) -> set[int]:
    response = client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    return {message.pk for message in response.context["cl"].result_list}


def test_the_admin_tells_work_not_done_and_given_up_from_work_done(
    admin_client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order whose work is all done, one whose fulfilment waits, one given up
    with django_capture_on_commit_callbacks(execute=True):
        done = submit_order(plan=plan, area=serviceable_area).order
    waiting = submit_order(plan=plan, area=serviceable_area).order
    given_up = submit_order(plan=plan, area=serviceable_area).order
    OutboxMessage.objects.filter(order=given_up).update(
        failed_at=timezone.now(), last_error="KeyError: 'plan'"
    )
    fulfil = "provisioning.fulfil_order"
    # Then each filter lists exactly its messages
    waiting_ids = set(OutboxMessage.objects.filter(order=waiting).values_list("pk", flat=True))
    failed_ids = set(OutboxMessage.objects.filter(order=given_up).values_list("pk", flat=True))
    done_ids = set(OutboxMessage.objects.filter(order=done).values_list("pk", flat=True))
    assert _listed(admin_client, "?state=open") == waiting_ids
    assert _listed(admin_client, "?state=waiting") == waiting_ids
    assert _listed(admin_client, "?state=failed") == failed_ids
    assert _listed(admin_client, "?state=completed") == done_ids
    # ... and the task filter offers the outbox's tasks and narrows to one of them
    response = admin_client.get(reverse(CHANGELIST))
    assert fulfil in response.content.decode()
    assert _listed(admin_client, f"?task={fulfil}") == set(
        OutboxMessage.objects.filter(task_name=fulfil).values_list("pk", flat=True)
    )


def test_a_given_up_message_is_sent_again_from_the_admin_once_its_cause_is_fixed(
    admin_client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order's fulfilment was given up after its tries
    order = submit_order(plan=plan, area=serviceable_area).order
    message = OutboxMessage.objects.get(order=order, task_name="provisioning.fulfil_order")
    OutboxMessage.objects.filter(pk=message.pk).update(
        failed_at=timezone.now(), attempts=8, last_error="KeyError: 'plan'"
    )
    # When a superuser sends it now
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(CHANGELIST),
            {"action": "send_now", "_selected_action": [message.pk], "index": "0"},
            follow=True,
        )
    # Then it runs with a fresh count of tries and the order goes through
    assert any("Sent 1 message" in str(m) for m in response.context["messages"])
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("completed", 1)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
