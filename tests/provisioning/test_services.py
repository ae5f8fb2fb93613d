"""Activation and the exception queue (provisioning/services.py): US-03, US-06 and DESIGN
invariants 5 and 7."""

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
from provisioning.adapters import ActivationRequest, StepResult
from provisioning.models import (
    ACTIVATION_PLAN,
    ExceptionCase,
    ProvisioningJob,
    ProvisioningStep,
    ReasonCode,
    StepName,
)
from provisioning.services import (
    CaseError,
    activation_attempt_run,
    exception_case_assign,
    exception_case_resolve_override,
    exception_case_retry,
    fulfilment_start,
)
from tests.factories import UserFactory, submit_order

pytestmark = pytest.mark.django_db


class ExplodingAdapter:
    """A network adapter with a defect: it raises instead of reporting a failed step."""

    def execute(self, step: StepName, request: ActivationRequest) -> StepResult:
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


def steps_of(job: ProvisioningJob) -> list[tuple[str, str]]:
    return list(job.steps.order_by("id").values_list("name", "status"))


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
    job = order.provisioning_jobs.get()
    assert (job.attempt, job.trigger, job.status) == (
        1,
        ProvisioningJob.Trigger.INITIAL,
        ProvisioningJob.Status.SUCCEEDED,
    )
    assert steps_of(job) == [(step, ProvisioningStep.Status.SUCCEEDED) for step in ACTIVATION_PLAN]
    assert all(job.steps.values_list("network_reference", flat=True))
    assert not ExceptionCase.objects.exists()
    assert BillingAccount.objects.filter(order=order).exists()


def test_order_in_an_area_without_automation_waits_for_the_team_with_no_job(place, manual_area):
    order = place(manual_area)
    assert order.status == OrderStatus.AWAITING_MANUAL
    routed = order.events.get(to_status=OrderStatus.AWAITING_MANUAL)
    assert routed.reason_code == "MANUAL_AREA"
    assert not order.provisioning_jobs.exists()
    assert not ExceptionCase.objects.exists()


def test_transient_failure_is_retried_automatically_and_done_steps_are_skipped(place, flaky_area):
    # Given an exchange that times out on the first attempt only
    order = place(flaky_area)
    # Then the automatic retry activates the line, with no case and no person involved
    assert order.status == OrderStatus.COMPLETED
    first, second = order.provisioning_jobs.order_by("attempt")
    assert (first.status, first.error_code, first.transient) == (
        ProvisioningJob.Status.FAILED,
        ReasonCode.NETWORK_TIMEOUT,
        True,
    )
    assert (second.trigger, second.status) == (
        ProvisioningJob.Trigger.AUTO_RETRY,
        ProvisioningJob.Status.SUCCEEDED,
    )
    assert steps_of(first) == [
        (StepName.RESERVE_PORT, ProvisioningStep.Status.SUCCEEDED),
        (StepName.SUBSCRIBER_PROFILE, ProvisioningStep.Status.FAILED),
    ]
    # ... and the port reserved on attempt 1 is not reserved again on attempt 2
    assert steps_of(second) == [
        (StepName.RESERVE_PORT, ProvisioningStep.Status.SKIPPED),
        (StepName.SUBSCRIBER_PROFILE, ProvisioningStep.Status.SUCCEEDED),
        (StepName.SPEED_PROFILE, ProvisioningStep.Status.SUCCEEDED),
        (StepName.ACTIVATE_LINE, ProvisioningStep.Status.SUCCEEDED),
    ]
    attempts = order.events.filter(kind=OrderEvent.Kind.ACTIVATION_ATTEMPT).order_by("id")
    assert [e.data["succeeded"] for e in attempts] == [False, True]
    assert attempts[0].data["will_retry"] is True
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
    assert opened.data == {"case": case.pk}
    # ... a permanent failure is not retried automatically
    assert order.provisioning_jobs.count() == 1
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
    jobs = order.provisioning_jobs.order_by("attempt")
    assert [j.trigger for j in jobs] == [
        ProvisioningJob.Trigger.INITIAL,
        ProvisioningJob.Trigger.AUTO_RETRY,
        ProvisioningJob.Trigger.AUTO_RETRY,
    ]
    assert order.status == OrderStatus.EXCEPTION
    case = ExceptionCase.objects.get()
    assert (case.reason_code, case.failure_count, case.owner) == (
        ReasonCode.NETWORK_TIMEOUT,
        1,
        lead_user,
    )
    assert order.events.filter(to_status=OrderStatus.EXCEPTION).count() == 1
    # ... and steps done on attempt 1 were not redone on the retries
    for retry in jobs[1:]:
        assert steps_of(retry)[:3] == [
            (step, ProvisioningStep.Status.SKIPPED) for step in ACTIVATION_PLAN[:3]
        ]


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
    assert order.provisioning_jobs.count() == 1


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
    retry = order.provisioning_jobs.get(attempt=2)
    assert (retry.trigger, retry.requested_by) == (ProvisioningJob.Trigger.MANUAL_RETRY, lead_user)
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
    assert order.provisioning_jobs.count() == 2


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
    before = (order.status, order.events.count(), order.provisioning_jobs.count())
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
    assert (order.status, order.events.count(), order.provisioning_jobs.count()) == before
    assert (case.resolution, case.resolved_by) == (
        ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        other_lead,
    )


# --- idempotent tasks and the reaper ----------------------------------------------------------
def test_fulfilment_start_twice_does_nothing_the_second_time(plan, serviceable_area, run_committed):
    order = submit_order(plan=plan, area=serviceable_area).order  # its own dispatch never runs
    job = run_committed(fulfilment_start, order.pk)
    order.refresh_from_db()
    assert job is not None
    assert order.status == OrderStatus.COMPLETED
    events = order.events.count()
    # When the same message is delivered again
    assert run_committed(fulfilment_start, order.pk) is None
    # Then no new attempt, no new history
    assert order.provisioning_jobs.count() == 1
    assert order.events.count() == events


def test_activation_attempt_run_twice_does_nothing_the_second_time(
    plan, serviceable_area, run_committed
):
    order = submit_order(plan=plan, area=serviceable_area).order
    job = fulfilment_start(order.pk)  # queued, not yet run
    assert job.status == ProvisioningJob.Status.PENDING
    run_committed(activation_attempt_run, job.pk)
    job.refresh_from_db()
    assert job.status == ProvisioningJob.Status.SUCCEEDED
    steps, events = job.steps.count(), order.events.count()
    # When the task is delivered a second time
    again = run_committed(activation_attempt_run, job.pk)
    # Then the job is left as it was and the network is not asked again
    assert again.status == ProvisioningJob.Status.SUCCEEDED
    assert (job.steps.count(), order.events.count()) == (steps, events)
    assert BillingAccount.objects.filter(order=order).count() == 1


def test_attempt_that_comes_up_after_the_order_was_cancelled_is_not_run(
    plan, manual_area, lead_user, run_committed
):
    # Given a job queued for an order that is then cancelled (a stale message)
    order = submit_order(plan=plan, area=manual_area).order
    job = ProvisioningJob.objects.create(
        order=order, attempt=1, trigger=ProvisioningJob.Trigger.INITIAL
    )
    order_cancel(order, actor=lead_user, reason="Customer cancelled.", source=EventSource.ADMIN)
    # When the attempt comes up
    run_committed(activation_attempt_run, job.pk)
    # Then the network is not touched and the order stays cancelled
    job.refresh_from_db()
    order.refresh_from_db()
    assert job.status == ProvisioningJob.Status.FAILED
    assert not job.steps.exists()
    assert order.status == OrderStatus.CANCELLED


def test_job_left_running_by_a_dead_worker_fails_as_worker_lost_when_its_message_comes_again(
    plan, serviceable_area, settings, run_committed
):
    # Given an attempt that started an hour ago and whose worker died
    settings.OUTBOX_LEASE_SECONDS = 150
    order = submit_order(plan=plan, area=serviceable_area).order
    job = fulfilment_start(order.pk)
    ProvisioningJob.objects.filter(pk=job.pk).update(
        status=ProvisioningJob.Status.RUNNING,
        started_at=timezone.now() - datetime.timedelta(hours=1),
    )
    fresh = ProvisioningJob.objects.create(
        order=submit_order(plan=plan, area=serviceable_area).order,
        attempt=1,
        trigger=ProvisioningJob.Trigger.INITIAL,
        status=ProvisioningJob.Status.RUNNING,
        started_at=timezone.now(),
    )
    # When the outbox's recovery hands its message over again
    run_committed(activation_attempt_run, job.pk)
    # Then the stalled attempt is failed as WORKER_LOST and retried automatically
    job.refresh_from_db()
    order.refresh_from_db()
    assert (job.status, job.error_code, job.transient) == (
        ProvisioningJob.Status.FAILED,
        ReasonCode.WORKER_LOST,
        True,
    )
    retry = order.provisioning_jobs.get(attempt=2)
    assert (retry.trigger, retry.status) == (
        ProvisioningJob.Trigger.AUTO_RETRY,
        ProvisioningJob.Status.SUCCEEDED,
    )
    assert order.status == OrderStatus.COMPLETED
    # ... while a copy of the message of an attempt still within its lease is put off until
    # the lease is over, and the attempt is left to its worker
    with pytest.raises(RetryLater) as later:
        run_committed(activation_attempt_run, fresh.pk)
    assert 140 < later.value.seconds <= 150
    fresh.refresh_from_db()
    assert fresh.status == ProvisioningJob.Status.RUNNING
