"""The sweepers (DESIGN invariant 3, 'with a sweeper for stuck work'): work the broker accepted
and then lost is queued again, so no order is left stuck."""

from __future__ import annotations

import datetime

import pytest
from celery import current_app
from django.utils import timezone

from billing.models import BillingAccount
from billing.services import billing_recover_stuck_work
from orders.models import Order
from orders.states import OrderStatus
from provisioning.models import ProvisioningJob
from provisioning.services import provisioning_recover_stuck_work
from tests.factories import submit_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def lossy_broker(monkeypatch):
    """A broker that accepts the named tasks and then loses them."""

    def lose(*names: str) -> list[str]:
        lost: list[str] = []
        for name in names:
            task = current_app.tasks[name]
            monkeypatch.setattr(
                task, "apply_async", lambda *a, _n=name, **k: lost.append(_n), raising=True
            )
        return lost

    return lose


def later(seconds: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def test_a_submitted_order_whose_message_was_lost_is_picked_up_again(
    plan, serviceable_area, lossy_broker, monkeypatch, django_capture_on_commit_callbacks, settings
):
    # Given the broker lost the order's fulfilment message after accepting it
    lost = lossy_broker("provisioning.fulfil_order")
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    assert lost == ["provisioning.fulfil_order"]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
    # When the sweeper runs before the order counts as stuck, nothing happens
    assert provisioning_recover_stuck_work()["requeued_orders"] == 0
    # When it runs after, with the broker healthy again
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        counts = provisioning_recover_stuck_work(now=later(settings.STUCK_WORK_AFTER_SECONDS + 1))
    # Then the order is activated and billed, once
    assert counts["requeued_orders"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert BillingAccount.objects.filter(order=order).count() == 1


def test_an_attempt_whose_message_was_lost_is_queued_again(
    plan, serviceable_area, lossy_broker, monkeypatch, django_capture_on_commit_callbacks, settings
):
    lost = lossy_broker("provisioning.activation_attempt")
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    assert lost == ["provisioning.activation_attempt"]
    job = ProvisioningJob.objects.get(order=order)
    assert job.status == ProvisioningJob.Status.PENDING
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        counts = provisioning_recover_stuck_work(now=later(settings.STUCK_WORK_AFTER_SECONDS + 1))
    assert counts["requeued_jobs"] == 1
    job.refresh_from_db()
    assert job.status == ProvisioningJob.Status.SUCCEEDED
    assert ProvisioningJob.objects.filter(order=order).count() == 1  # the same attempt, run once
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_an_activated_order_whose_billing_message_was_lost_gets_its_bill(
    plan, serviceable_area, lossy_broker, monkeypatch, django_capture_on_commit_callbacks, settings
):
    lost = lossy_broker("billing.start_billing")
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    assert lost == ["billing.start_billing"]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACTIVATED
    assert billing_recover_stuck_work() == 0  # not stuck yet
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert billing_recover_stuck_work(now=later(settings.STUCK_WORK_AFTER_SECONDS + 1)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    account = BillingAccount.objects.get(order=order)
    assert account.start_date == order.activation_date


def test_the_sweepers_leave_orders_that_are_moving_alone(
    plan, serviceable_area, manual_area, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area)  # completed
        submit_order(plan=plan, area=manual_area)  # waits for people, not for a worker
    future = later(settings.STUCK_WORK_AFTER_SECONDS * 10)
    assert provisioning_recover_stuck_work(now=future) == {
        "reaped_jobs": 0,
        "requeued_jobs": 0,
        "requeued_orders": 0,
    }
    assert billing_recover_stuck_work(now=future) == 0
