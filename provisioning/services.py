"""Activation and the exception queue. Network calls happen outside database transactions;
every state change around them is atomic and re-checked, so a task may run twice safely."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from orders import events as order_events
from orders import services as order_services
from orders.eligibility import EligibilityDecision, technical_eligibility
from orders.models import Order, OrderEvent
from orders.outbox import RetryLater, outbox_enqueue
from orders.outbox.work import outbox_work_done
from orders.roles import Role
from orders.states import EventSource, OrderStatus
from provisioning.adapters import ActivationRequest, StepResult, get_adapter
from provisioning.models import (
    ACTIVATION_PLAN,
    ExceptionCase,
    ProvisioningJob,
    ProvisioningStep,
    ReasonCode,
)

logger = logging.getLogger(__name__)

ACTIVATION_TASK = "provisioning.activation_attempt"
FULFIL_TASK = "provisioning.fulfil_order"


class CaseError(order_services.OrderError):
    """The exception case cannot take this action now; ``message`` says why."""


# Who may work an exception case (assign, retry, resolve). Provisioning leads hold the model
# permission ``work_exceptioncase`` and work every case. The case's owner holds the object
# permission ``change_exceptioncase`` on it (django-guardian, granted when the case is routed or
# assigned to them, revoked when it is handed to someone else), so provisioning staff work only
# the cases they own. Resolving by override also needs the order-level right it amounts to:
# confirming a manual activation (``orders.activate_manually``) or cancelling the order
# (``orders.override_order``, the leads' privilege, DESIGN invariant 7).
WORK_PERMISSION = "provisioning.work_exceptioncase"
OWNER_PERMISSION = "provisioning.change_exceptioncase"
RESOLUTION_PERMISSION = {
    ExceptionCase.Resolution.OVERRIDE_ACTIVATED: "orders.activate_manually",
    ExceptionCase.Resolution.OVERRIDE_CANCELLED: "orders.override_order",
}


def exception_case_may_work(user: User | None, case: ExceptionCase) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm(WORK_PERMISSION) or user.has_perm(OWNER_PERMISSION, case)


def _require_case_worker(user: User | None, case: ExceptionCase) -> None:
    if not exception_case_may_work(user, case):
        owner = case.owner.get_username() if case.owner is not None else "nobody"
        raise CaseError(
            f"You cannot work case {case.pk}: it is owned by {owner}, and only its owner or a "
            "provisioning lead may act on it."
        )


def _hand_case_to(case: ExceptionCase, *, owner: User | None, previous: User | None) -> None:
    """Move the owner's object permission along with the case."""
    if previous is not None and (owner is None or previous.pk != owner.pk):
        remove_perm(OWNER_PERMISSION, previous, case)
    if owner is not None:
        assign_perm(OWNER_PERMISSION, owner, case)


def _new_job(
    order: Order,
    *,
    trigger: str,
    requested_by: User | None = None,
    countdown: float = 0,
) -> ProvisioningJob:
    last = order.provisioning_jobs.order_by("-attempt").values_list("attempt", flat=True).first()
    job = ProvisioningJob.objects.create(
        order=order,
        attempt=(last or 0) + 1,
        trigger=trigger,
        requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
    )
    outbox_enqueue(ACTIVATION_TASK, order=order, countdown=countdown, job_id=job.pk)
    return job


def fulfilment_start(order_id: str) -> ProvisioningJob | None:
    """Run the technical eligibility checks on a submitted order and route it: automatic
    activation (job queued), the manual pool, or rejection. Does nothing unless 'submitted'."""
    with transaction.atomic():
        order = order_services.order_lock(order_id)
        if order.status != OrderStatus.SUBMITTED:
            return None
        result = technical_eligibility(order)
        if result.decision == EligibilityDecision.REJECT:
            order_services.order_reject(
                order,
                reason_code=result.reason_code,
                reason=result.reason,
                source=EventSource.PROVISIONING,
            )
            return None
        if result.decision == EligibilityDecision.MANUAL:
            order_services.order_route_to_manual(
                order,
                reason_code=result.reason_code,
                reason=result.reason,
                source=EventSource.PROVISIONING,
            )
            return None
        order_services.order_start_provisioning(
            order,
            source=EventSource.PROVISIONING,
            reason="Technical eligibility checks passed; automatic activation started.",
        )
        return _new_job(order, trigger=ProvisioningJob.Trigger.INITIAL)


def _request_for(order: Order, job: ProvisioningJob) -> ActivationRequest:
    area = order.service_area
    return ActivationRequest(
        order_id=order.pk,
        attempt=job.attempt,
        postcode=order.service_postcode,
        address=order.service_address,
        exchange=area.exchange,
        technology=area.technology,
        plan_code=order.plan.code,
        download_mbps=order.plan.download_mbps,
        upload_mbps=order.plan.upload_mbps,
    )


def activation_attempt_run(job_id: int) -> ProvisioningJob:
    """Carry out one pending attempt: the plan's steps not yet done, then record the outcome.
    A job that is no longer pending (already run) is left alone; one left running by a worker
    that died fails as WORKER_LOST (see ``_attempt_lost``)."""
    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=job_id)
        worker_lost = job.status == ProvisioningJob.Status.RUNNING and _attempt_lost(job)
        if job.status != ProvisioningJob.Status.PENDING and not worker_lost:
            return job
        order = Order.objects.select_related("plan", "service_area").get(pk=job.order_id)
        if order.status != OrderStatus.PROVISIONING:
            # Cancelled or overridden while the job waited: nothing to do.
            job.status = ProvisioningJob.Status.FAILED
            job.error_message = f"Not run: order was {order.status} when the attempt came up."
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error_message", "finished_at"])
            return job
        if worker_lost:
            outcome = StepResult.failure(
                ReasonCode.WORKER_LOST,
                "The attempt did not finish; its worker stopped.",
                transient=True,
            )
        else:
            job.status = ProvisioningJob.Status.RUNNING
            job.started_at = timezone.now()
            job.save(update_fields=["status", "started_at"])
    if worker_lost:
        # A transient failure like any other: retried, or routed to the exception queue.
        return _attempt_finish(job.pk, outcome)

    done = set(
        ProvisioningStep.objects.filter(
            job__order_id=order.pk, status=ProvisioningStep.Status.SUCCEEDED
        ).values_list("name", flat=True)
    )
    adapter = get_adapter()
    request = _request_for(order, job)
    outcome = StepResult.success("")
    for step in ACTIVATION_PLAN:
        started = timezone.now()
        if step in done:
            ProvisioningStep.objects.create(
                job=job,
                name=step,
                started_at=started,
                finished_at=started,
                status=ProvisioningStep.Status.SKIPPED,
            )
            continue
        try:
            result = adapter.execute(step, request)
        except Exception as exc:  # a defect in the adapter must still end somewhere
            logger.exception("network adapter raised on order %s step %s", order.pk, step)
            result = StepResult.failure(
                ReasonCode.ADAPTER_ERROR, f"{type(exc).__name__}: {exc}", transient=False
            )
        ProvisioningStep.objects.create(
            job=job,
            name=step,
            started_at=started,
            finished_at=timezone.now(),
            status=ProvisioningStep.Status.SUCCEEDED
            if result.ok
            else ProvisioningStep.Status.FAILED,
            network_reference=result.network_reference,
            error_code=result.error_code,
            error_message=result.error_message,
        )
        if not result.ok:
            outcome = result
            break
    return _attempt_finish(job.pk, outcome)


def _attempt_lost(job: ProvisioningJob) -> bool:
    """The attempt's message came again while the job is marked running. Within the lease a
    worker may still be on it: come back when the lease is over (raises ``RetryLater``).
    After it, its worker died (Celery's time limit would have stopped it by then): True."""
    assert job.started_at is not None
    over = job.started_at + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    now = timezone.now()
    if now < over:
        raise RetryLater((over - now).total_seconds(), f"attempt {job.attempt} is running")
    return True


def _auto_attempts_in_series(order: Order) -> int:
    """Attempts since the last one a person (or the first submission) started."""
    count = 0
    for trigger in order.provisioning_jobs.order_by("-attempt").values_list("trigger", flat=True):
        count += 1
        if trigger != ProvisioningJob.Trigger.AUTO_RETRY:
            break
    return count


def _attempt_finish(job_id: int, outcome: StepResult) -> ProvisioningJob:
    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=job_id)
        if job.status != ProvisioningJob.Status.RUNNING:
            return job  # the reaper gave up on it meanwhile; its decision stands
        order = order_services.order_lock(job.order_id)
        outbox_work_done()  # the outcome and the message's completion commit together
        job.finished_at = timezone.now()
        if outcome.ok:
            job.status = ProvisioningJob.Status.SUCCEEDED
            job.save(update_fields=["status", "finished_at"])
            order_events.activation_attempt(order=order, attempt=job.attempt, succeeded=True)
            order_services.order_activate(order)
            case = order.exception_cases.filter(state=ExceptionCase.State.RETRYING).first()
            if case is not None:
                _case_close(
                    case,
                    resolution=ExceptionCase.Resolution.RETRY_SUCCEEDED,
                    actor=job.requested_by,
                    note=f"Attempt {job.attempt} succeeded.",
                )
            return job
        job.status = ProvisioningJob.Status.FAILED
        job.error_code = outcome.error_code
        job.error_message = outcome.error_message
        job.transient = outcome.transient
        job.save(
            update_fields=["status", "finished_at", "error_code", "error_message", "transient"]
        )
        _route_failure(order, job)
        return job


def _route_failure(order: Order, job: ProvisioningJob) -> None:
    """Retry a transient failure automatically while the budget lasts; otherwise hold the order
    and open (or re-open) its one exception case."""
    will_retry = (
        job.transient
        and _auto_attempts_in_series(order) < settings.PROVISIONING_MAX_AUTO_ATTEMPTS
        and order.status == OrderStatus.PROVISIONING
    )
    order_events.activation_attempt(
        order=order,
        attempt=job.attempt,
        succeeded=False,
        error_code=job.error_code,
        error_message=job.error_message,
        will_retry=will_retry,
    )
    if will_retry:
        backoff = settings.PROVISIONING_RETRY_BACKOFF_SECONDS * 2 ** (
            _auto_attempts_in_series(order) - 1
        )
        _new_job(order, trigger=ProvisioningJob.Trigger.AUTO_RETRY, countdown=backoff)
        return
    if order.status != OrderStatus.PROVISIONING:
        return
    order_services.order_hold(order, reason_code=job.error_code, reason=job.error_message)
    exception_case_open(order, reason_code=job.error_code, detail=job.error_message)


def exception_case_owner_for(reason_code: str) -> User | None:
    """Route a new case to the provisioning lead with the fewest active cases (then the oldest
    account), falling back to a superuser so that no case is left without an owner."""
    user_model = get_user_model()
    active_states = [ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING]
    leads = (
        user_model.objects.filter(is_active=True, groups__name=Role.PROVISIONING_LEAD)
        .annotate(
            load=Count(
                "owned_exception_cases", filter=Q(owned_exception_cases__state__in=active_states)
            )
        )
        .order_by("load", "date_joined", "pk")
    )
    owner: User | None = leads.first()
    if owner is None:
        owner = user_model.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    return owner


def exception_case_open(order: Order, *, reason_code: str, detail: str) -> ExceptionCase:
    """The one active case for this order: a case already retrying goes back to open with the
    new reason; otherwise a new case opens with an owner. Call inside the order's transaction."""
    case = (
        order.exception_cases.select_for_update()
        .filter(state__in=[ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING])
        .first()
    )
    if case is not None:
        case.state = ExceptionCase.State.OPEN
        case.reason_code = reason_code
        case.reason_detail = detail
        case.failure_count += 1
        case.save(
            update_fields=["state", "reason_code", "reason_detail", "failure_count", "updated_at"]
        )
        text = f"Retry failed; case {case.pk} is open again ({reason_code})."
    else:
        owner = exception_case_owner_for(reason_code)
        case = ExceptionCase.objects.create(
            order=order,
            reason_code=reason_code,
            reason_detail=detail,
            owner=owner,
        )
        _hand_case_to(case, owner=owner, previous=None)
        text = f"Exception case {case.pk} opened ({reason_code}), owner {owner or 'unassigned'}."
        if owner is None:
            logger.error(
                "exception case %s for order %s has no owner: no provisioning lead "
                "or superuser exists",
                case.pk,
                order.pk,
            )
    order_events.exception_case_event(
        order=order,
        kind=OrderEvent.Kind.EXCEPTION_OPENED,
        actor=None,
        source=EventSource.PROVISIONING,
        reason=text,
        reason_code=reason_code,
        data={"case": case.pk},
    )
    return case


def _case_close(
    case: ExceptionCase,
    *,
    resolution: str,
    actor: User | None,
    note: str,
    source: EventSource | None = None,
) -> ExceptionCase:
    case.state = ExceptionCase.State.RESOLVED
    case.resolution = resolution
    case.resolution_note = note
    case.resolved_at = timezone.now()
    case.resolved_by = actor if actor and actor.is_authenticated else None
    case.save(
        update_fields=[
            "state",
            "resolution",
            "resolution_note",
            "resolved_at",
            "resolved_by",
            "updated_at",
        ]
    )
    order_events.exception_case_event(
        order=case.order,
        kind=OrderEvent.Kind.EXCEPTION_RESOLVED,
        actor=actor,
        source=source or (EventSource.ADMIN if actor else EventSource.PROVISIONING),
        reason=f"Case {case.pk} resolved: {case.get_resolution_display()}. {note}".strip(),
        data={"case": case.pk, "resolution": resolution},
    )
    return case


def _lock_case(case: ExceptionCase | int, *, expect: tuple[str, ...]) -> ExceptionCase:
    pk = case.pk if isinstance(case, ExceptionCase) else case
    locked = ExceptionCase.objects.select_for_update().select_related("order").get(pk=pk)
    if locked.state not in expect:
        raise CaseError(
            f"Case {locked.pk} is {locked.get_state_display().lower()} now; someone acted on it "
            "first. Reload to see its current state."
        )
    return locked


def exception_case_assign(
    case: ExceptionCase | int,
    *,
    owner: User,
    acting_user: User,
    source: EventSource = EventSource.ADMIN,
) -> ExceptionCase:
    teams = {Role.PROVISIONING, Role.PROVISIONING_LEAD}
    if not owner.is_active or not owner.groups.filter(name__in=teams).exists():
        raise CaseError(
            f"{owner} cannot own exception cases: only active provisioning staff and leads can.",
            field_errors={"owner": "Choose a member of the provisioning team."},
        )
    with transaction.atomic():
        locked = _lock_case(case, expect=(ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING))
        _require_case_worker(acting_user, locked)
        previous = locked.owner
        locked.owner = owner
        locked.save(update_fields=["owner", "updated_at"])
        _hand_case_to(locked, owner=owner, previous=previous)
        order_events.exception_case_event(
            order=locked.order,
            kind=OrderEvent.Kind.EXCEPTION_ASSIGNED,
            actor=acting_user,
            source=source,
            reason=f"Case {locked.pk} assigned to {owner} (was {previous or 'unassigned'}).",
            data={"case": locked.pk, "owner": owner.pk},
        )
        return locked


def exception_case_retry(
    case: ExceptionCase | int, *, acting_user: User, source: EventSource = EventSource.ADMIN
) -> ExceptionCase:
    """Re-run activation for the case's order. The case stays active (retrying) until the
    attempt succeeds (resolved) or fails (open again)."""
    with transaction.atomic():
        locked = _lock_case(case, expect=(ExceptionCase.State.OPEN,))
        _require_case_worker(acting_user, locked)
        order = order_services.order_start_provisioning(
            locked.order,
            source=source,
            actor=acting_user,
            reason=f"Retry requested from exception case {locked.pk}.",
            expected_status=OrderStatus.EXCEPTION,
        )
        locked.state = ExceptionCase.State.RETRYING
        locked.save(update_fields=["state", "updated_at"])
        _new_job(order, trigger=ProvisioningJob.Trigger.MANUAL_RETRY, requested_by=acting_user)
        return locked


def exception_case_resolve_override(
    case: ExceptionCase | int,
    *,
    acting_user: User,
    resolution: str,
    reason: str,
) -> ExceptionCase:
    """Close the case by a person's decision: the line was activated by hand (billing then
    starts as for any activation) or the order is cancelled. The reason is mandatory; the
    person must be allowed to work the case and hold the order-level right the resolution
    amounts to (RESOLUTION_PERMISSION)."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError(
            "A reason is required to resolve by override.",
            field_errors={"reason": "A reason is required."},
        )
    with transaction.atomic():
        locked = _lock_case(case, expect=(ExceptionCase.State.OPEN,))
        _require_case_worker(acting_user, locked)
        needed = RESOLUTION_PERMISSION.get(resolution)  # type: ignore[call-overload]
        if needed is not None and not acting_user.has_perm(needed):
            raise CaseError(
                f"You may not resolve case {locked.pk} as "
                f"'{ExceptionCase.Resolution(resolution).label}': ask a provisioning lead."
            )
        if resolution == ExceptionCase.Resolution.OVERRIDE_ACTIVATED:
            order_services.order_confirm_manual_activation(
                locked.order,
                actor=acting_user,
                reason=reason,
                source=EventSource.ADMIN,
                expected_status=OrderStatus.EXCEPTION,
            )
        elif resolution == ExceptionCase.Resolution.OVERRIDE_CANCELLED:
            order_services.order_cancel(
                locked.order,
                actor=acting_user,
                reason=reason,
                source=EventSource.ADMIN,
                expected_status=OrderStatus.EXCEPTION,
            )
        else:
            raise CaseError(f"Unknown override resolution {resolution!r}.")
        locked.refresh_from_db()
        if locked.state == ExceptionCase.State.RESOLVED:
            return locked  # the cancellation closed it (exception_case_follow_cancellation)
        return _case_close(locked, resolution=resolution, actor=acting_user, note=reason)


def exception_case_follow_override(order: Order, event: OrderEvent) -> None:
    """A person overrode the order (orders.overrides); bring provisioning's records in line, in
    the override's transaction. Moved into 'provisioning': a new attempt is queued, requested by
    that person, and an open case goes to 'retrying' (as with the case's own retry). Moved out
    of 'exception' into 'activated': the active case closes as resolved by override, with the
    person's reason (DESIGN invariant 5). A move into 'cancelled' is followed like every
    cancellation (exception_case_follow_cancellation)."""
    case = (
        order.exception_cases.select_for_update()
        .filter(state__in=[ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING])
        .first()
    )
    if event.to_status == OrderStatus.PROVISIONING:
        if case is not None and case.state == ExceptionCase.State.OPEN:
            case.state = ExceptionCase.State.RETRYING
            case.save(update_fields=["state", "updated_at"])
        _new_job(order, trigger=ProvisioningJob.Trigger.MANUAL_RETRY, requested_by=event.actor)
        return
    if case is not None and event.to_status == OrderStatus.ACTIVATED:
        _case_close(
            case,
            resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
            actor=event.actor,
            note=event.reason,
        )


def exception_case_follow_cancellation(order: Order, event: OrderEvent) -> None:
    """The order was cancelled, by whatever path (customer, sales, support, the API, an
    override, the case's own resolution): its open or retrying case closes in the same
    transaction, as resolved by the cancellation, naming who cancelled and why (DESIGN
    invariant 5: no case stays open for an order nobody will activate)."""
    case = (
        order.exception_cases.select_for_update()
        .filter(state__in=[ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING])
        .first()
    )
    if case is not None:
        _case_close(
            case,
            resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
            actor=event.actor,
            note=event.reason or "Order cancelled.",
            source=EventSource(event.source),
        )
