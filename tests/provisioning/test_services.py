"""Fulfilment and the exception queue (provisioning/services.py, provisioning/scheduler.py):
US-03, US-06 and DESIGN invariants 5 and 7, for a one-line order (multi-item plans:
tests/provisioning/test_scheduler.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from billing.models import BillingAccount
from orders.models import Order, OrderEvent
from orders.outbox import RetryLater
from orders.roles import Role
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from provisioning.adapters import TaskRequest, TaskResult
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskAttempt, TaskState
from provisioning.scheduler import task_run
from provisioning.services import (
    CaseError,
    exception_case_assign,
    exception_case_resolve_override,
    exception_case_retry,
    fulfilment_start,
)
from tests.factories import UserFactory, submit_order

pytestmark = pytest.mark.django_db


class ExplodingAdapter:
    """A network adapter with a defect: it raises instead of reporting a failed task."""

    def execute(self, request: TaskRequest) -> TaskResult:
        raise KeyError("vlan_id")


@pytest.fixture
def place(django_capture_on_commit_callbacks, plan):
    """Submit an order and let its after-commit work run; returns the fresh order."""

    def place_in(area, **overrides) -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            order = submit_order(plan=plan, area=area, **overrides).order
        return Order.objects.get(pk=order.pk)

    return place_in


@pytest.fixture
def run_committed(django_capture_on_commit_callbacks):
    """Call a service and let the work it queues run, as after a real commit."""

    def run(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = service(*args, **kwargs)
        return result

    return run


def status_path(order: Order) -> list[str]:
    return list(
        order.events.filter(kind=OrderEvent.Kind.STATUS_CHANGED)
        .order_by("created_at", "id")
        .values_list("to_status", flat=True)
    )


ACCESS_TASKS = ["1.reserve_port", "1.create_subscriber", "1.apply_speed_profile", "1.activate_line"]


def tasks_of(order: Order) -> list[tuple[str, str, int]]:
    """(key, state, attempts) of each task of the order's plan, in plan order."""
    return list(order.tasks.order_by("pk").values_list("key", "state", "attempts"))


def attempts_of(order: Order, key: str) -> list[tuple[str, str]]:
    """(trigger, outcome) of each attempt at one task."""
    return list(
        TaskAttempt.objects.filter(task__order=order, task__key=key)
        .order_by("number")
        .values_list("trigger", "outcome")
    )


# --- US-03: provisioning automation ---------------------------------------------------------
def test_us03_eligible_order_activates_without_manual_intervention(place, serviceable_area):
    # Given technical eligibility checks pass
    # When order processing begins
    order = place(serviceable_area)
    # Then activation completes without manual intervention
    assert order.status == OrderStatus.COMPLETED
    assert status_path(order) == [
        OrderStatus.SUBMITTED,
        OrderStatus.PROVISIONING,
        OrderStatus.ACTIVATED,
        OrderStatus.COMPLETED,
    ]
    after_intake = order.events.exclude(to_status=OrderStatus.SUBMITTED)
    assert not after_intake.filter(actor__isnull=False).exists()
    assert set(after_intake.values_list("source", flat=True)) <= {
        EventSource.PROVISIONING,
        EventSource.BILLING,
    }
    assert tasks_of(order) == [(key, TaskState.DONE, 1) for key in ACCESS_TASKS]
    for key in ACCESS_TASKS:
        assert attempts_of(order, key) == [("initial", "succeeded")]
    assert all(order.tasks.values_list("network_reference", flat=True))
    assert not ExceptionCase.objects.exists()
    assert BillingAccount.objects.filter(order=order).exists()


def test_order_in_an_area_without_automation_waits_for_the_team_with_manual_tasks(
    place, manual_area
):
    order = place(manual_area)
    assert order.status == OrderStatus.AWAITING_MANUAL
    routed = order.events.get(to_status=OrderStatus.AWAITING_MANUAL)
    assert routed.reason_code == "MANUAL_AREA"
    # Its plan is for people: the first task waits in the manual pool, nothing went to the network
    assert set(order.tasks.values_list("mode", flat=True)) == {"manual"}
    assert tasks_of(order)[0] == ("1.reserve_port", TaskState.READY, 0)
    assert not TaskAttempt.objects.filter(order=order).exists()
    assert not ExceptionCase.objects.exists()


def test_transient_failure_is_retried_automatically_and_done_tasks_are_not_redone(
    place, flaky_area
):
    # Given an exchange that times out on the first attempt only
    order = place(flaky_area)
    # Then the automatic retry of that task activates the line, with no case and no person
    assert order.status == OrderStatus.COMPLETED
    first, second = TaskAttempt.objects.filter(task__order=order, task__key="1.create_subscriber")
    assert (first.outcome, first.error_code, first.transient) == (
        "failed",
        ReasonCode.NETWORK_TIMEOUT,
        True,
    )
    assert (second.trigger, second.outcome) == (TaskAttempt.Trigger.AUTO_RETRY, "succeeded")
    # ... and the port reserved before is not reserved again
    assert tasks_of(order) == [
        ("1.reserve_port", TaskState.DONE, 1),
        ("1.create_subscriber", TaskState.DONE, 2),
        ("1.apply_speed_profile", TaskState.DONE, 1),
        ("1.activate_line", TaskState.DONE, 1),
    ]
    failures = order.events.filter(kind=OrderEvent.Kind.TASK_FAILED)
    assert [(e.data["task"], e.data["will_retry"]) for e in failures] == [
        ("1.create_subscriber", True)
    ]
    assert not ExceptionCase.objects.exists()


# --- US-06: exception handling ----------------------------------------------------------------
def test_us06_failed_activation_opens_an_exception_case_with_reason_code_and_owner(
    place, faulty_area, lead_user
):
    # Given provisioning fails (no free port at the exchange)
    # When the failure event is captured
    order = place(faulty_area)
    # Then an exception case is created with reason code and owner
    case = ExceptionCase.objects.get()
    assert case.order_id == order.pk
    assert case.reason_code == ReasonCode.PORT_UNAVAILABLE
    assert case.owner == lead_user
    assert case.state == ExceptionCase.State.OPEN
    assert case.failure_count == 1
    assert "Faultybridge" in case.reason_detail
    # ... the order is held, and its history says why
    assert order.status == OrderStatus.EXCEPTION
    held = order.events.get(to_status=OrderStatus.EXCEPTION)
    assert held.reason_code == ReasonCode.PORT_UNAVAILABLE
    opened = order.events.get(kind=OrderEvent.Kind.EXCEPTION_OPENED)
    assert opened.data == {"case": case.pk, "task": "1.reserve_port"}
    # ... the case names the task, which is failed; the rest of the plan waits
    assert case.task.key == "1.reserve_port"
    assert tasks_of(order)[0] == ("1.reserve_port", TaskState.FAILED, 1)
    assert {state for _, state, _ in tasks_of(order)[1:]} == {TaskState.WAITING}
    assert order.items.get().state == "held"
    assert not BillingAccount.objects.exists()


def test_us06_new_cases_go_to_the_least_loaded_provisioning_lead(place, faulty_area, lead_user):
    # Given two provisioning leads (and a plain provisioning user, who is not a case owner)
    other_lead = UserFactory(role=Role.PROVISIONING_LEAD)
    UserFactory(role=Role.PROVISIONING)
    # When four activations fail
    for n in range(4):
        place(faulty_area, email=f"fail{n}@example.com")
    # Then each lead owns two cases
    owners = list(ExceptionCase.objects.order_by("id").values_list("owner_id", flat=True))
    assert sorted(owners) == sorted([lead_user.pk, other_lead.pk] * 2)
    assert owners[0] != owners[1]


def test_us06_transient_failure_that_never_clears_ends_in_one_case_not_one_per_attempt(
    place, settings, serviceable_area, lead_user
):
    # Given a network that times out on every attempt
    settings.NETWORK_SIMULATOR_RULES = [
        {"when": {}, "step": "activate_line", "error": "NETWORK_TIMEOUT", "transient": True}
    ]
    settings.PROVISIONING_MAX_AUTO_ATTEMPTS = 3
    order = place(serviceable_area)
    # Then it is tried the allowed number of times, then held in exactly one case
    assert attempts_of(order, "1.activate_line") == [
        ("initial", "failed"),
        ("auto_retry", "failed"),
        ("auto_retry", "failed"),
    ]
    assert order.status == OrderStatus.EXCEPTION
    case = ExceptionCase.objects.get()
    assert (case.reason_code, case.failure_count, case.owner) == (
        ReasonCode.NETWORK_TIMEOUT,
        1,
        lead_user,
    )
    assert order.events.filter(to_status=OrderStatus.EXCEPTION).count() == 1
    # ... and the tasks done before were not redone on the retries
    assert [attempts for _, _, attempts in tasks_of(order)] == [1, 1, 1, 3]


def test_us06_adapter_defect_ends_as_an_adapter_error_case(
    place, settings, serviceable_area, lead_user
):
    settings.PROVISIONING_NETWORK_ADAPTER = f"{__name__}.ExplodingAdapter"
    order = place(serviceable_area)
    assert order.status == OrderStatus.EXCEPTION
    case = ExceptionCase.objects.get()
    assert case.reason_code == ReasonCode.ADAPTER_ERROR
    assert "KeyError" in case.reason_detail
    assert case.owner == lead_user
    # A defect is not transient: no automatic retry
    assert TaskAttempt.objects.filter(order=order).count() == 1


def test_case_with_no_provisioning_lead_falls_back_to_a_superuser(place, faulty_area):
    admin = UserFactory(is_superuser=True, is_staff=True)
    place(faulty_area)
    assert ExceptionCase.objects.get().owner == admin


# --- working a case ---------------------------------------------------------------------------
@pytest.fixture
def failed(place, faulty_area, lead_user) -> tuple[Order, ExceptionCase]:
    """An order held after a permanent failure, and its open case (owned by lead_user)."""
    order = place(faulty_area)
    return order, ExceptionCase.objects.get(order=order)


def test_retry_after_the_network_is_fixed_completes_the_order_and_resolves_the_case(
    failed, settings, lead_user, run_committed
):
    order, case = failed
    # Given the exchange has a free port again
    settings.NETWORK_SIMULATOR_RULES = []
    # When the lead retries from the case
    run_committed(exception_case_retry, case, acting_user=lead_user)
    # Then the order activates and bills, and the case is resolved with a trace
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert (case.state, case.resolution) == (
        ExceptionCase.State.RESOLVED,
        ExceptionCase.Resolution.RETRY_SUCCEEDED,
    )
    assert case.resolved_by == lead_user
    retry = TaskAttempt.objects.get(task__order=order, task__key="1.reserve_port", number=2)
    assert (retry.trigger, retry.requested_by) == (TaskAttempt.Trigger.MANUAL_RETRY, lead_user)
    restarted = order.events.get(from_status=OrderStatus.EXCEPTION)
    assert (restarted.to_status, restarted.actor) == (OrderStatus.PROVISIONING, lead_user)
    assert order.events.filter(kind=OrderEvent.Kind.EXCEPTION_RESOLVED).count() == 1


def test_retry_that_fails_again_reopens_the_same_case(failed, lead_user, run_committed):
    order, case = failed
    # When the lead retries but the exchange is still full
    run_committed(exception_case_retry, case, acting_user=lead_user)
    # Then the same case is open again, counting both failures; no second case
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.status == OrderStatus.EXCEPTION
    assert ExceptionCase.objects.get().pk == case.pk
    assert (case.state, case.failure_count) == (ExceptionCase.State.OPEN, 2)
    assert attempts_of(order, "1.reserve_port") == [
        ("initial", "failed"),
        ("manual_retry", "failed"),
    ]


def test_a_case_can_only_be_assigned_to_provisioning_staff(failed, lead_user, support_user):
    order, case = failed
    staff = UserFactory(username="prov-staff", role=Role.PROVISIONING)
    # Assigning to provisioning staff works and leaves a trace on the order
    exception_case_assign(case, owner=staff, acting_user=lead_user)
    case.refresh_from_db()
    assert case.owner == staff
    assert order.events.filter(kind=OrderEvent.Kind.EXCEPTION_ASSIGNED, actor=lead_user).exists()
    # Someone outside the provisioning teams cannot own the case
    with pytest.raises(CaseError) as refused:
        exception_case_assign(case, owner=support_user, acting_user=lead_user)
    assert "owner" in refused.value.field_errors
    case.refresh_from_db()
    assert case.owner == staff


def test_override_requires_a_reason(failed, lead_user):
    order, case = failed
    with pytest.raises(CaseError) as refused:
        exception_case_resolve_override(
            case,
            acting_user=lead_user,
            resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
            reason="  ",
        )
    assert "reason" in refused.value.field_errors
    case.refresh_from_db()
    order.refresh_from_db()
    assert (case.state, order.status) == (ExceptionCase.State.OPEN, OrderStatus.EXCEPTION)


def test_override_activated_bills_the_order_and_records_who_and_why(
    failed, lead_user, run_committed
):
    order, case = failed
    # When the lead confirms the engineer activated the line by hand
    run_committed(
        exception_case_resolve_override,
        case,
        acting_user=lead_user,
        resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
        reason="Engineer freed port 14 and activated on site.",
    )
    # Then the order is activated (by the lead, with the reason) and then billed and completed
    order.refresh_from_db()
    case.refresh_from_db()
    assert status_path(order)[-3:] == [
        OrderStatus.EXCEPTION,
        OrderStatus.ACTIVATED,
        OrderStatus.COMPLETED,
    ]
    activated = order.events.get(to_status=OrderStatus.ACTIVATED)
    assert activated.actor == lead_user
    assert activated.reason == "Engineer freed port 14 and activated on site."
    assert activated.reason_code == "MANUAL_OVERRIDE"
    assert BillingAccount.objects.filter(order=order).count() == 1
    assert (case.state, case.resolution, case.resolved_by) == (
        ExceptionCase.State.RESOLVED,
        ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
        lead_user,
    )
    assert case.resolution_note == "Engineer freed port 14 and activated on site."


def test_override_cancelled_cancels_the_order(failed, lead_user, run_committed):
    order, case = failed
    run_committed(
        exception_case_resolve_override,
        case,
        acting_user=lead_user,
        resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        reason="Customer withdrew: no port for 8 weeks.",
    )
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    cancelled = order.events.get(to_status=OrderStatus.CANCELLED)
    assert (cancelled.actor, cancelled.reason) == (
        lead_user,
        "Customer withdrew: no port for 8 weeks.",
    )
    assert case.resolution == ExceptionCase.Resolution.OVERRIDE_CANCELLED
    assert not BillingAccount.objects.exists()
    # the case is closed once, not once by the cancellation and again by the override
    assert order.events.filter(kind=OrderEvent.Kind.EXCEPTION_RESOLVED).count() == 1


def test_cancelling_a_held_order_by_any_path_closes_its_case(failed, sales_user, run_committed):
    # Given an order held in exception with its open case
    order, case = failed
    # When the order is cancelled outside the case (the sales rep, at the customer's request)
    run_committed(
        order_cancel,
        order,
        actor=sales_user,
        reason="Customer no longer wants the line.",
        source=EventSource.SALES_PORTAL,
    )
    # Then the case leaves the exception queue, resolved by that cancellation, naming who and why
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.RESOLVED
    assert case.resolution == ExceptionCase.Resolution.OVERRIDE_CANCELLED
    assert case.resolved_by == sales_user
    assert case.resolution_note == "Customer no longer wants the line."
    closing = order.events.get(kind=OrderEvent.Kind.EXCEPTION_RESOLVED)
    assert closing.source == EventSource.SALES_PORTAL


@pytest.mark.parametrize("second_action", ["retry", "override"])
def test_acting_on_a_case_someone_already_resolved_is_refused_and_changes_nothing(
    failed, lead_user, run_committed, second_action
):
    order, case = failed
    other_lead = UserFactory(role=Role.PROVISIONING_LEAD)
    # Given one lead resolved the case while another had it open
    run_committed(
        exception_case_resolve_override,
        case.pk,
        acting_user=other_lead,
        resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        reason="Duplicate of another order.",
    )
    order.refresh_from_db()
    before = (order.status, order.events.count(), TaskAttempt.objects.count())
    # When the first lead acts on their stale view
    with pytest.raises(CaseError, match="someone acted on it first"):
        if second_action == "retry":
            exception_case_retry(case, acting_user=lead_user)
        else:
            exception_case_resolve_override(
                case,
                acting_user=lead_user,
                resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
                reason="Activated by hand.",
            )
    # Then nothing changed
    order.refresh_from_db()
    case.refresh_from_db()
    assert (order.status, order.events.count(), TaskAttempt.objects.count()) == before
    assert (case.resolution, case.resolved_by) == (
        ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        other_lead,
    )


# --- idempotent tasks and lost workers --------------------------------------------------------
def test_fulfilment_start_twice_does_nothing_the_second_time(plan, serviceable_area, run_committed):
    order = submit_order(plan=plan, area=serviceable_area).order  # its own dispatch never runs
    tasks = run_committed(fulfilment_start, order.pk)
    order.refresh_from_db()
    assert len(tasks) == 4
    assert order.status == OrderStatus.COMPLETED
    events = order.events.count()
    # When the same message is delivered again
    assert run_committed(fulfilment_start, order.pk) == []
    # Then no new task, no new attempt, no new history
    assert order.tasks.count() == 4
    assert TaskAttempt.objects.filter(order=order).count() == 4
    assert order.events.count() == events


def test_a_task_run_twice_does_nothing_the_second_time(plan, serviceable_area, run_committed):
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)  # planned; its first task queued, not yet run
    first = order.tasks.get(key="1.reserve_port")
    assert first.state == TaskState.READY
    run_committed(task_run, first.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    attempts, events = TaskAttempt.objects.count(), order.events.count()
    # When the task is delivered a second time
    again = run_committed(task_run, first.pk)
    # Then it is left as it was and the network is not asked again
    assert again.state == TaskState.DONE
    assert (TaskAttempt.objects.count(), order.events.count()) == (attempts, events)
    assert BillingAccount.objects.filter(order=order).count() == 1


def test_a_task_that_comes_up_after_the_order_was_cancelled_is_not_run(
    plan, manual_area, lead_user, run_committed
):
    # Given an order planned for people, then cancelled while its first task was ready
    order = submit_order(plan=plan, area=manual_area).order
    fulfilment_start(order.pk)
    ready = order.tasks.get(key="1.reserve_port")
    order_cancel(order, actor=lead_user, reason="Customer cancelled.", source=EventSource.ADMIN)
    # When a (stale) message for the task comes up
    run_committed(task_run, ready.pk)
    # Then the network is not touched and the order and its plan stay cancelled
    ready.refresh_from_db()
    order.refresh_from_db()
    assert ready.state == TaskState.CANCELLED
    assert not TaskAttempt.objects.filter(order=order).exists()
    assert order.status == OrderStatus.CANCELLED
    assert set(order.tasks.values_list("state", flat=True)) == {TaskState.CANCELLED}
    assert order.items.get().state == "cancelled"


def test_a_task_left_running_by_a_dead_worker_fails_as_worker_lost_when_its_message_comes_again(
    plan, serviceable_area, settings, run_committed
):
    # Given a task that started an hour ago and whose worker died
    settings.OUTBOX_LEASE_SECONDS = 150
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)
    stalled = order.tasks.get(key="1.reserve_port")
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    FulfilmentTask.objects.filter(pk=stalled.pk).update(
        state=TaskState.RUNNING, started_at=an_hour_ago, attempts=1
    )
    TaskAttempt.objects.create(
        task=stalled, order=order, number=1, trigger="initial", started_at=an_hour_ago
    )
    other = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(other.pk)
    fresh = other.tasks.get(key="1.reserve_port")
    FulfilmentTask.objects.filter(pk=fresh.pk).update(
        state=TaskState.RUNNING, started_at=timezone.now(), attempts=1
    )
    # When the outbox's recovery hands its message over again
    run_committed(task_run, stalled.pk)
    # Then the stalled attempt is failed as WORKER_LOST and the task retried automatically
    lost, retry = TaskAttempt.objects.filter(task=stalled).order_by("number")
    assert (lost.outcome, lost.error_code, lost.transient) == (
        "failed",
        ReasonCode.WORKER_LOST,
        True,
    )
    assert (retry.trigger, retry.outcome) == (TaskAttempt.Trigger.AUTO_RETRY, "succeeded")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    # ... while a copy of the message of a task still within its lease is put off until the
    # lease is over, and the task is left to its worker
    with pytest.raises(RetryLater) as later:
        run_committed(task_run, fresh.pk)
    assert 140 < later.value.seconds <= 150
    fresh.refresh_from_db()
    assert fresh.state == TaskState.RUNNING
