"""Starting fulfilment (technical eligibility, then the order's plan) and the exception queue.
The tasks themselves are run and sequenced by provisioning.scheduler."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from orders import events as order_events
from orders import services as order_services
from orders.eligibility import EligibilityDecision, technical_eligibility
from orders.models import Order, OrderEvent, OrderItem
from orders.roles import Role
from orders.states import EventSource, ItemState, OrderStatus
from provisioning import scheduler
from provisioning.models import ExceptionCase, FulfilmentTask, TaskState

logger = logging.getLogger(__name__)

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


def fulfilment_start(order_id: str) -> list[FulfilmentTask]:
    """Run the technical eligibility checks on a submitted order and route it: its plan starts
    on the network, or in the manual pool (people do its tasks), or the order is rejected. Does
    nothing unless 'submitted'. Returns the plan's tasks."""
    with transaction.atomic():
        order = order_services.order_lock(order_id)
        if order.status != OrderStatus.SUBMITTED:
            return []
        result = technical_eligibility(order)
        if result.decision == EligibilityDecision.REJECT:
            order_services.order_reject(
                order,
                reason_code=result.reason_code,
                reason=result.reason,
                source=EventSource.PROVISIONING,
            )
            return []
        if result.decision == EligibilityDecision.MANUAL:
            order = order_services.order_route_to_manual(
                order,
                reason_code=result.reason_code,
                reason=result.reason,
                source=EventSource.PROVISIONING,
            )
            return scheduler.plan_create(order, manual=True)
        order = order_services.order_start_provisioning(
            order,
            source=EventSource.PROVISIONING,
            reason="Technical eligibility checks passed; automatic fulfilment started.",
        )
        return scheduler.plan_create(order)


def exception_case_for_task(order: Order, task: FulfilmentTask) -> ExceptionCase | None:
    """A task failed for good: hold the order (if it was provisioning) and open, or re-open,
    its one exception case naming the task and its reason code. In the task's transaction."""
    if order.status == OrderStatus.PROVISIONING:
        order_services.order_hold(
            order,
            reason_code=task.error_code,
            reason=f"{task.label} ({task.key}) failed: {task.error_message}",
        )
    elif order.status not in (OrderStatus.EXCEPTION, OrderStatus.CANCELLING):
        return None
    # A cancelled order whose undo failed stays cancelling (it is not reported cancelled while
    # the network still holds something of it); the case names the undo.
    return exception_case_open(
        order,
        reason_code=task.error_code,
        detail=f"{task.label} ({task.key}): {task.error_message}",
        task=task,
    )


def exception_case_follow_task_done(
    order: Order, tasks: list[FulfilmentTask], *, actor: User | None
) -> None:
    """A task succeeded: a case retrying the order's failures closes once none is left."""
    if any(task.state == TaskState.FAILED for task in tasks):
        return
    case = order.exception_cases.filter(state=ExceptionCase.State.RETRYING).first()
    if case is not None:
        _case_close(
            case,
            resolution=ExceptionCase.Resolution.RETRY_SUCCEEDED,
            actor=actor,
            note="Every failed task succeeded on its retry.",
        )


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


def exception_case_open(
    order: Order, *, reason_code: str, detail: str, task: FulfilmentTask | None = None
) -> ExceptionCase:
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
        case.task = task or case.task
        case.failure_count += 1
        case.save(
            update_fields=[
                "state",
                "reason_code",
                "reason_detail",
                "task",
                "failure_count",
                "updated_at",
            ]
        )
        text = f"Retry failed; case {case.pk} is open again ({reason_code})."
    else:
        owner = exception_case_owner_for(reason_code)
        case = ExceptionCase.objects.create(
            order=order,
            reason_code=reason_code,
            reason_detail=detail,
            owner=owner,
            task=task,
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
        data={"case": case.pk, "task": task.key if task is not None else ""},
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
    locked = (
        ExceptionCase.objects.select_for_update(of=("self",)).select_related("order").get(pk=pk)
    )
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
    """Send the case's failed tasks to the network again; tasks already done are not redone.
    The case stays active (retrying) until they succeed (resolved) or one fails (open again)."""
    with transaction.atomic():
        locked = _lock_case(case, expect=(ExceptionCase.State.OPEN,))
        _require_case_worker(acting_user, locked)
        if locked.order.status == OrderStatus.CANCELLING:  # an undo failed: try it again
            order = order_services.order_lock(locked.order_id)
        else:
            order = order_services.order_start_provisioning(
                locked.order,
                source=source,
                actor=acting_user,
                reason=f"Retry requested from exception case {locked.pk}.",
                expected_status=OrderStatus.EXCEPTION,
            )
        locked.state = ExceptionCase.State.RETRYING
        locked.save(update_fields=["state", "updated_at"])
        scheduler.plan_resume(order, requested_by=acting_user)
        return locked


def exception_case_cancel_item(
    case: ExceptionCase | int,
    *,
    item: OrderItem | int,
    acting_user: User,
    reason: str,
    source: EventSource = EventSource.ADMIN,
) -> ExceptionCase:
    """An add-on that cannot be delivered is dropped from the order: the item is cancelled, the
    case resolved, and the order goes on with the rest (it completes as partial, and only what
    was delivered is billed). Needs the right to override the order (a lead's) and a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError(
            "A reason is required to cancel an item.",
            field_errors={"reason": "A reason is required."},
        )
    with transaction.atomic():
        locked = _lock_case(case, expect=(ExceptionCase.State.OPEN,))
        _require_case_worker(acting_user, locked)
        if not acting_user.has_perm("orders.override_order"):
            raise CaseError(
                f"You may not cancel an item of order {locked.order.display_id}: ask a "
                "provisioning lead."
            )
        order = order_services.order_lock(locked.order_id)
        item_pk = item.pk if isinstance(item, OrderItem) else item
        target = OrderItem.objects.filter(order=order, pk=item_pk).first()
        if target is None:
            raise CaseError("That item is not on this order.", field_errors={"item": "Unknown."})
        if target.state != ItemState.HELD:
            raise CaseError(
                f"Item {target.item_id} is {target.get_state_display().lower()}; only an item "
                "whose fulfilment failed can be cancelled from its case."
            )
        _case_close(
            locked,
            resolution=ExceptionCase.Resolution.ITEM_CANCELLED,
            actor=acting_user,
            note=f"Item {target.item_id} ({target.offering.name}) cancelled: {reason}",
            source=source,
        )
        order = order_services.order_start_provisioning(
            order,
            source=source,
            actor=acting_user,
            reason=f"Item {target.item_id} cancelled from case {locked.pk}: {reason}",
            expected_status=OrderStatus.EXCEPTION,
        )
        scheduler.item_cancel(order, target, actor=acting_user, reason=reason)
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
        if FulfilmentTask.objects.filter(order=order).exists():
            scheduler.plan_resume(order, requested_by=event.actor, manual=False)
        else:  # forced out of 'submitted' before it was planned
            scheduler.plan_create(order)
        return
    if event.to_status == OrderStatus.AWAITING_MANUAL:  # people take the plan over
        scheduler.plan_create(order, manual=True)
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
