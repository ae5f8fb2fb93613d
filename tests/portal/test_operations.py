"""The operations manager's page and the escalation panel: critical jeopardies land with the
manager, worst first; what was escalated to a person is on their worklist until they take it."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import F
from django.urls import reverse

from orders.jeopardy import jeopardy_scan
from orders.models import Escalation, Order, OrderMilestone
from orders.states import OrderStatus
from tests.factories import submit_order

pytestmark = pytest.mark.django_db
MINUTE = datetime.timedelta(minutes=1)
OPERATIONS = reverse("portal:operations_home")


def late_order(plan, area, minutes: int, capture) -> Order:
    order = Order.objects.get(pk=submit_order(plan=plan, area=area).order.pk)
    with capture(execute=True):
        jeopardy_scan(now=order.submitted_at + minutes * MINUTE)
    return order


def test_the_operations_manager_lands_on_the_jeopardies_worst_first(
    client, plan, serviceable_area, lead_user, ops_manager_user, django_capture_on_commit_callbacks
):
    critical = late_order(plan, serviceable_area, 100, django_capture_on_commit_callbacks)
    at_risk = late_order(plan, serviceable_area, 50, django_capture_on_commit_callbacks)

    client.force_login(ops_manager_user)
    landing = client.get(reverse("portal:home"))
    assert landing.status_code == 302 and landing.url == OPERATIONS
    page = client.get(OPERATIONS).content.decode()

    # Both orders are listed, the critical one first, with the counts by level
    assert page.index(critical.display_id) < page.index(at_risk.display_id)
    assert 'data-testid="level-critical">1<' in page
    assert 'data-testid="level-at_risk">1<' in page
    # and the critical one was escalated to the manager, who takes it from the page
    escalation = Escalation.objects.get(order=critical, to=ops_manager_user)
    assert f'data-testid="escalation-{escalation.pk}"' in page
    taken = client.post(
        reverse("portal:escalation_take", args=[escalation.pk]), {"next": OPERATIONS}
    )
    assert taken.status_code == 302 and taken.url == OPERATIONS
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is not None
    assert (
        f'data-testid="escalation-{escalation.pk}"' not in client.get(OPERATIONS).content.decode()
    )


def test_the_lead_sees_what_was_escalated_to_them_on_the_exception_queue(
    client, plan, serviceable_area, lead_user, django_capture_on_commit_callbacks
):
    order = late_order(plan, serviceable_area, 61, django_capture_on_commit_callbacks)
    client.force_login(lead_user)
    page = client.get(reverse("portal:lead_home")).content.decode()
    assert 'data-testid="escalations"' in page
    assert order.display_id in page and "Provisioning lead on duty" in page


def test_nobody_takes_an_escalation_brought_to_someone_else(
    client, plan, serviceable_area, lead_user, support_user, django_capture_on_commit_callbacks
):
    order = late_order(plan, serviceable_area, 61, django_capture_on_commit_callbacks)
    escalation = Escalation.objects.filter(order=order).first()
    client.force_login(support_user)
    response = client.post(reverse("portal:escalation_take", args=[escalation.pk]))
    assert response.status_code == 404
    escalation.refresh_from_db()
    assert escalation.acknowledged_at is None


def test_other_roles_do_not_get_the_operations_page(client, sales_user, customer_user):
    for user in (sales_user, customer_user):
        client.force_login(user)
        assert client.get(OPERATIONS).status_code == 403


def test_the_provisioning_worklist_puts_its_orders_in_jeopardy_first(
    client, plan, manual_area, provisioning_user, lead_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        waiting = submit_order(plan=plan, area=manual_area).order
        on_time = submit_order(plan=plan, area=manual_area).order
    assert Order.objects.get(pk=waiting.pk).status == OrderStatus.AWAITING_MANUAL
    # Three days and more have gone by for one of them
    ago = datetime.timedelta(hours=80)
    OrderMilestone.objects.filter(order=waiting).update(
        anchor_at=F("anchor_at") - ago, due_at=F("due_at") - ago
    )
    with django_capture_on_commit_callbacks(execute=True):
        jeopardy_scan()

    client.force_login(provisioning_user)
    page = client.get(reverse("portal:provisioning_home")).content.decode()
    assert 'data-testid="worklist-jeopardies"' in page
    assert f'data-testid="worklist-jeopardy-{waiting.pk}"' in page
    assert f'data-testid="worklist-jeopardy-{on_time.pk}"' not in page
    # ahead of the pool that lists both
    assert page.index("worklist-jeopardies") < page.index('data-testid="task-pool"')
