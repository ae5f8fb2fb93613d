"""Manual overrides (orders/overrides.py, billing_waive_start): only privileged roles, a reason
every time, in the timeline and the audit log with actor and reason (DESIGN invariant 7), and a
clear conflict instead of a silent overwrite when two people act at once (invariant 9)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingAccount
from billing.services import billing_account_start, billing_waive_start
from billing.tasks import start_billing
from orders.models import Order, OrderEvent, ServiceArea
from orders.overrides import (
    order_edit_payload,
    order_force_status,
    order_rerun_activation,
)
from orders.services import (
    NotServiceable,
    OrderConflict,
    OrderError,
    order_confirm_manual_activation,
)
from orders.states import EventSource, OrderStatus
from provisioning.models import ExceptionCase, TaskAttempt
from tests.factories import OrderFactory, PlanFactory, submit_order

pytestmark = pytest.mark.django_db

REASON = "Customer called: moving house next week."


@pytest.fixture
def manual_order(django_capture_on_commit_callbacks, plan, manual_area) -> Order:
    """Waiting in the manual provisioning pool."""
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area).order
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_MANUAL
    return order


@pytest.fixture
def failed_order(django_capture_on_commit_callbacks, plan, faulty_area, lead_user) -> Order:
    """Activation failed at Faultybridge: 'exception' with one open case (the lead's)."""
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area).order
    order.refresh_from_db()
    assert order.status == OrderStatus.EXCEPTION
    return order


@pytest.fixture
def activated_order(plan) -> Order:
    """Activated, its billing not started yet (the billing worker has not run)."""
    return OrderFactory(plan=plan, status=OrderStatus.ACTIVATED, activated_at=timezone.now())


def _snapshot(order: Order) -> tuple[Any, ...]:
    fresh = Order.objects.get(pk=order.pk)
    return (fresh.status, fresh.version, fresh.plan_id, fresh.events.count())


# Each override called as the admin calls it, on an order in a state it applies to.
Override = Callable[[Order, Any, str, int], Any]
OVERRIDES: dict[str, Override] = {
    "force status": lambda order, actor, reason, version: order_force_status(
        order,
        to_status=OrderStatus.CANCELLED,
        actor=actor,
        reason=reason,
        expected_version=version,
    ),
    "edit order": lambda order, actor, reason, version: order_edit_payload(
        order,
        actor=actor,
        reason=reason,
        changes={"service_address_line1": "2 New Street"},
        expected_version=version,
    ),
    "re-run activation": lambda order, actor, reason, version: order_rerun_activation(
        order, actor=actor, reason=reason, expected_version=version
    ),
    "waive billing start": lambda order, actor, reason, version: billing_waive_start(
        order, actor=actor, reason=reason, expected_version=version
    ),
}


# --- who may override, and why -------------------------------------------------------------------
@pytest.mark.parametrize("override", sorted(OVERRIDES))
@pytest.mark.parametrize(
    "role", ["sales_user", "support_user", "provisioning_user", "billing_user", "customer_user"]
)
def test_overrides_are_refused_to_roles_without_the_privilege(
    request, manual_order, override: str, role: str
) -> None:
    # given an order in the manual pool and someone who is not a provisioning lead
    person = request.getfixturevalue(role)
    before = _snapshot(manual_order)
    # when they try the override, then it is refused and nothing changes
    with pytest.raises(PermissionDenied):
        OVERRIDES[override](manual_order, person, REASON, manual_order.version)
    assert _snapshot(manual_order) == before


@pytest.mark.parametrize("override", sorted(OVERRIDES))
def test_overrides_need_a_reason(manual_order, lead_user, override: str) -> None:
    before = _snapshot(manual_order)
    with pytest.raises(OrderError, match="A reason is required"):
        OVERRIDES[override](manual_order, lead_user, "   ", manual_order.version)
    assert _snapshot(manual_order) == before


@pytest.mark.parametrize("override", sorted(OVERRIDES))
def test_a_stale_version_gets_the_conflict_message_and_changes_nothing(
    manual_order, lead_user, override: str
) -> None:
    # given a lead looked at the order, and it changed since (someone edited it)
    seen = manual_order.version
    order_edit_payload(
        manual_order,
        actor=lead_user,
        reason="Typo in the city.",
        changes={"service_city": "Inverness"},
        expected_version=seen,
    )
    before = _snapshot(manual_order)
    # when the lead acts on what they saw
    with pytest.raises(OrderConflict) as conflict:
        OVERRIDES[override](manual_order, lead_user, REASON, seen)
    # then they read why, and the order is exactly as the other change left it
    message = conflict.value.message
    assert f"Order {manual_order.display_id} changed while you were looking at it" in message
    assert "order edited by Lee Lead" in message
    assert message.endswith("Reload and try again.")
    assert _snapshot(manual_order) == before


@pytest.mark.parametrize("override", sorted(OVERRIDES))
def test_each_override_is_in_the_timeline_and_the_audit_log_with_actor_and_reason(
    manual_order, lead_user, override: str, django_capture_on_commit_callbacks
) -> None:
    # given a lead overrides an order
    with django_capture_on_commit_callbacks(execute=True):
        OVERRIDES[override](manual_order, lead_user, REASON, manual_order.version)
    # then the order's history has the override with who and why
    event = OrderEvent.objects.filter(order=manual_order, reason=REASON).get()
    assert (event.actor, event.source, event.reason_code) == (
        lead_user,
        EventSource.ADMIN,
        "MANUAL_OVERRIDE",
    )
    # and the audit log names the lead, with the reason
    entries = LogEntry.objects.get_for_object(manual_order).filter(actor=lead_user)
    assert any((e.additional_data or {}).get("reason") == REASON for e in entries)
    # and the order's version moved on, so anyone still looking at the old one is stopped
    assert Order.objects.get(pk=manual_order.pk).version > manual_order.version


# --- force a status ------------------------------------------------------------------------------
def test_forcing_a_move_outside_the_allowed_table_is_refused(failed_order, lead_user) -> None:
    before = _snapshot(failed_order)
    with pytest.raises(OrderError, match="cannot be forced to awaiting manual provisioning"):
        order_force_status(
            failed_order,
            to_status=OrderStatus.AWAITING_MANUAL,
            actor=lead_user,
            reason=REASON,
            expected_version=failed_order.version,
        )
    assert _snapshot(failed_order) == before


def test_a_completed_order_cannot_be_forced_anywhere(lead_user, plan) -> None:
    done = OrderFactory(plan=plan, status=OrderStatus.COMPLETED)
    with pytest.raises(OrderError, match="allowed from here: nothing"):
        order_force_status(
            done,
            to_status=OrderStatus.CANCELLED,
            actor=lead_user,
            reason=REASON,
            expected_version=done.version,
        )
    assert Order.objects.get(pk=done.pk).status == OrderStatus.COMPLETED


def test_forcing_activation_out_of_exception_starts_billing_and_closes_the_case(
    failed_order, lead_user, django_capture_on_commit_callbacks
) -> None:
    # given a failed activation that the team finished by hand
    # when the lead forces the order to 'activated'
    with django_capture_on_commit_callbacks(execute=True):
        order_force_status(
            failed_order,
            to_status=OrderStatus.ACTIVATED,
            actor=lead_user,
            reason="Port freed by the field team; line tested.",
            expected_version=failed_order.version,
        )
    # then billing starts from it like from any activation, and the order completes
    order = Order.objects.get(pk=failed_order.pk)
    assert order.status == OrderStatus.COMPLETED
    assert BillingAccount.objects.get(order=order).monthly_price == order.monthly_price
    # and the exception case is closed by the override, with the lead's reason
    case = ExceptionCase.objects.get(order=order)
    assert case.state == ExceptionCase.State.RESOLVED
    assert case.resolution == ExceptionCase.Resolution.OVERRIDE_ACTIVATED
    assert (case.resolved_by, case.resolution_note) == (
        lead_user,
        "Port freed by the field team; line tested.",
    )


def test_forcing_cancel_out_of_exception_closes_the_case(failed_order, lead_user) -> None:
    order_force_status(
        failed_order,
        to_status=OrderStatus.CANCELLED,
        actor=lead_user,
        reason="Customer withdrew.",
        expected_version=failed_order.version,
    )
    assert Order.objects.get(pk=failed_order.pk).status == OrderStatus.CANCELLED
    case = ExceptionCase.objects.get(order=failed_order)
    assert (case.state, case.resolution) == (
        ExceptionCase.State.RESOLVED,
        ExceptionCase.Resolution.OVERRIDE_CANCELLED,
    )


def test_forcing_submitted_runs_the_eligibility_checks_again(
    manual_order, manual_area, lead_user, django_capture_on_commit_callbacks
) -> None:
    # given the manual area was automated since the order went to the manual pool
    ServiceArea.objects.filter(pk=manual_area.pk).update(auto_provisioning=True)
    # when the lead sends the order back to 'submitted'
    with django_capture_on_commit_callbacks(execute=True):
        order_force_status(
            manual_order,
            to_status=OrderStatus.SUBMITTED,
            actor=lead_user,
            reason="Inverness exchange is automated now.",
            expected_version=manual_order.version,
        )
    # then it goes the automatic way to the end
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.COMPLETED


# --- edit a submitted order's payload ------------------------------------------------------------
def test_edit_records_before_and_after_and_keeps_the_locked_price(manual_order, lead_user) -> None:
    # given the catalog price went up after the order was taken
    plan = manual_order.plan
    type(plan).objects.filter(pk=plan.pk).update(monthly_price="99.00")
    # when the lead corrects the address
    order_edit_payload(
        manual_order,
        actor=lead_user,
        reason="House number was wrong.",
        changes={"service_address_line1": "12 Acacia Avenue", "plan": plan},
        expected_version=manual_order.version,
    )
    # then the order has the new address and still the price it was ordered at
    order = Order.objects.get(pk=manual_order.pk)
    assert order.service_address_line1 == "12 Acacia Avenue"
    assert order.monthly_price == manual_order.monthly_price
    # and the event shows what changed, from what to what (the unchanged plan is not listed)
    event = order.events.get(kind=OrderEvent.Kind.ORDER_EDITED)
    assert event.data["changes"] == {
        "service_address_line1": {
            "before": manual_order.service_address_line1,
            "after": "12 Acacia Avenue",
        }
    }
    assert (event.actor, event.reason) == (lead_user, "House number was wrong.")
    assert order.status == OrderStatus.AWAITING_MANUAL


def test_a_new_plan_is_charged_at_its_current_price(manual_order, lead_user) -> None:
    faster = PlanFactory(name="Fibre 900", download_mbps=900, monthly_price="55.00")
    order_edit_payload(
        manual_order,
        actor=lead_user,
        reason="Customer upgraded before activation.",
        changes={"plan": faster},
        expected_version=manual_order.version,
    )
    order = Order.objects.get(pk=manual_order.pk)
    assert (order.plan, str(order.monthly_price)) == (faster, "55.00")
    changes = order.events.get(kind=OrderEvent.Kind.ORDER_EDITED).data["changes"]
    assert changes["monthly_price"] == {"before": "35.00", "after": "55.00"}


def test_edit_to_an_address_we_cannot_serve_is_refused(manual_order, lead_user) -> None:
    before = _snapshot(manual_order)
    with pytest.raises(NotServiceable) as refused:
        order_edit_payload(
            manual_order,
            actor=lead_user,
            reason="Customer moved.",
            changes={"service_postcode": "ZZ9 9ZZ"},
            expected_version=manual_order.version,
        )
    assert "service_postcode" in refused.value.field_errors
    assert _snapshot(manual_order) == before


def test_edit_refused_once_activation_started(activated_order, lead_user) -> None:
    with pytest.raises(OrderConflict, match="only until activation starts"):
        order_edit_payload(
            activated_order,
            actor=lead_user,
            reason=REASON,
            changes={"service_city": "Elsewhere"},
            expected_version=activated_order.version,
        )


def test_bringing_a_scheduled_date_forward_to_today_releases_the_order(
    plan, serviceable_area, lead_user, django_capture_on_commit_callbacks
) -> None:
    # given an order scheduled for next month
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan,
            area=serviceable_area,
            requested_activation_date=timezone.localdate() + datetime.timedelta(days=30),
        ).order
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    # when the lead moves the date to today
    with django_capture_on_commit_callbacks(execute=True):
        order_edit_payload(
            order,
            actor=lead_user,
            reason="Customer wants it now.",
            changes={"requested_activation_date": timezone.localdate()},
            expected_version=order.version,
        )
    # then the order is released and activated at once
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


# --- re-run activation ---------------------------------------------------------------------------
def test_rerun_from_the_exception_queue_after_the_network_is_fixed_resolves_the_case(
    failed_order, faulty_area, lead_user, django_capture_on_commit_callbacks
) -> None:
    # given the exchange was fixed
    ServiceArea.objects.filter(pk=faulty_area.pk).update(exchange="Fixedbridge")
    # when the lead re-runs activation from the order
    with django_capture_on_commit_callbacks(execute=True):
        order_rerun_activation(failed_order, actor=lead_user, reason="Port added at the exchange.")
    # then a new attempt, requested by the lead, activates the line and billing completes it
    order = Order.objects.get(pk=failed_order.pk)
    assert order.status == OrderStatus.COMPLETED
    last = order.task_attempts.order_by("-started_at", "-pk").first()
    assert (last.task.key, last.number) == ("1.activate_line", 1)
    retried = order.task_attempts.get(task__key="1.reserve_port", number=2)
    assert (retried.trigger, retried.requested_by) == (TaskAttempt.Trigger.MANUAL_RETRY, lead_user)
    # and the case is resolved by that retry
    case = ExceptionCase.objects.get(order=order)
    assert case.resolution == ExceptionCase.Resolution.RETRY_SUCCEEDED


def test_rerun_from_the_manual_pool_queues_an_attempt(
    manual_order, lead_user, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order_rerun_activation(manual_order, actor=lead_user, reason="Automate this one.")
    order = Order.objects.get(pk=manual_order.pk)
    first = order.task_attempts.get(task__key="1.reserve_port")
    assert (first.trigger, first.requested_by) == (TaskAttempt.Trigger.MANUAL_RETRY, lead_user)
    assert set(order.tasks.values_list("mode", flat=True)) == {"automatic"}
    assert order.status == OrderStatus.COMPLETED


def test_rerun_refused_for_an_order_that_is_not_held(activated_order, lead_user) -> None:
    with pytest.raises(OrderConflict, match="only from the manual pool or an exception"):
        order_rerun_activation(activated_order, actor=lead_user, reason=REASON)


# --- waive the billing start ---------------------------------------------------------------------
def test_waived_activated_order_completes_without_a_bill_even_if_billing_runs_later(
    activated_order, lead_user
) -> None:
    # given an activated order whose billing has not started
    # when the lead waives the billing start
    billing_waive_start(
        activated_order, actor=lead_user, reason="Goodwill: six months free after the outage."
    )
    # then the order is complete, with no billing account, and says why
    order = Order.objects.get(pk=activated_order.pk)
    assert order.status == OrderStatus.COMPLETED
    waived = order.events.get(kind=OrderEvent.Kind.BILLING_WAIVED)
    assert (waived.actor, waived.reason) == (
        lead_user,
        "Goodwill: six months free after the outage.",
    )
    # and when the billing worker's message (queued at activation) arrives afterwards
    start_billing.apply(kwargs={"order_id": order.pk})
    assert billing_account_start(order.pk) is None
    # then still no billing account
    assert not BillingAccount.objects.filter(order=order).exists()


def test_waiving_before_activation_completes_the_order_without_a_bill_when_it_activates(
    manual_order, lead_user, provisioning_user, django_capture_on_commit_callbacks
) -> None:
    # given the lead waived billing while the order waits for the team
    billing_waive_start(manual_order, actor=lead_user, reason="Staff line: never billed.")
    # when the team confirms the line is live
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            manual_order,
            actor=provisioning_user,
            reason="Engineer activated it.",
            source=EventSource.ADMIN,
        )
    # then the billing worker completes the order without opening an account
    order = Order.objects.get(pk=manual_order.pk)
    assert order.status == OrderStatus.COMPLETED
    assert not BillingAccount.objects.filter(order=order).exists()
    assert "billing waived by lead-user" in order.events.last().reason


def test_waiving_is_refused_once_billing_started(completed_order, lead_user) -> None:
    with pytest.raises(OrderConflict, match="already started"):
        billing_waive_start(completed_order, actor=lead_user, reason=REASON)
    assert BillingAccount.objects.filter(order=completed_order).exists()


# --- the overrides in the admin ------------------------------------------------------------------
@pytest.fixture
def lead_client(client: Client, lead_user) -> Client:
    client.force_login(lead_user)
    return client


def _override_url(order: Order, kind: str) -> str:
    return reverse("admin:orders_order_override", args=[order.pk, kind])


def test_order_page_offers_overrides_to_the_lead_only(
    client: Client, manual_order, lead_user, provisioning_user
) -> None:
    page = reverse("admin:orders_order_change", args=[manual_order.pk])
    client.force_login(lead_user)
    offered = [o["label"] for o in client.get(page).context["order_overrides"]]
    assert offered == ["Force status", "Edit order", "Re-run activation", "Waive billing start"]
    # provisioning staff see the order but no override
    provisioning_user.is_staff = True
    provisioning_user.save(update_fields=["is_staff"])
    client.force_login(provisioning_user)
    response = client.get(page)
    assert response.status_code == 200
    assert "order_overrides" not in response.context
    assert client.get(_override_url(manual_order, "force-status")).status_code == 403


def test_admin_force_status_records_the_lead_and_the_reason(
    lead_client: Client, manual_order, lead_user
) -> None:
    # given the lead opens the override form from the order page
    form_page = lead_client.get(
        _override_url(manual_order, "force-status"), {"version": manual_order.version}
    )
    assert form_page.context["form"]["version"].value() == manual_order.version
    # when they submit it without a reason, the form says so and nothing changes
    response = lead_client.post(
        _override_url(manual_order, "force-status"),
        {"to_status": "cancelled", "reason": "", "version": manual_order.version},
    )
    assert response.status_code == 200
    assert "A reason is required." in response.content.decode()
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.AWAITING_MANUAL
    # when they submit it with a reason
    response = lead_client.post(
        _override_url(manual_order, "force-status"),
        {"to_status": "cancelled", "reason": REASON, "version": manual_order.version},
        follow=True,
    )
    # then the order is cancelled, the page says so, and the history and audit log name the lead
    assert f"Order {manual_order.display_id} is now cancelled." in [
        str(m) for m in response.context["messages"]
    ]
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.CANCELLED
    event = OrderEvent.objects.get(order=manual_order, to_status=OrderStatus.CANCELLED)
    assert (event.actor, event.reason) == (lead_user, REASON)
    entry = LogEntry.objects.get_for_object(manual_order).latest("timestamp")
    assert entry.actor == lead_user
    assert entry.additional_data == {"override": "force_status", "reason": REASON}


def test_admin_override_on_a_stale_page_shows_the_conflict_and_overwrites_nothing(
    lead_client: Client, manual_order, lead_user, django_user_model
) -> None:
    # given two leads opened the edit form at the same version
    seen = manual_order.version
    other_lead = django_user_model.objects.get(pk=lead_user.pk)
    # and the other lead's edit lands first
    order_edit_payload(
        manual_order,
        actor=other_lead,
        reason="Flat number added.",
        changes={"service_address_line2": "Flat 3"},
        expected_version=seen,
    )
    # when the first lead submits their own edit of the page they saw
    response = lead_client.post(
        _override_url(manual_order, "edit"),
        {
            "service_address_line1": manual_order.service_address_line1,
            "service_address_line2": "",
            "service_city": "Somewhere else",
            "service_postcode": manual_order.service_postcode,
            "plan": manual_order.plan_id,
            "requested_activation_date": "",
            "reason": REASON,
            "version": seen,
        },
        follow=True,
    )
    # then they are back on the order with the conflict message, and the first edit stands
    messages = [str(m) for m in response.context["messages"]]
    assert any("changed while you were looking at it" in m for m in messages)
    order = Order.objects.get(pk=manual_order.pk)
    assert (order.service_address_line2, order.service_city) == (
        "Flat 3",
        manual_order.service_city,
    )
