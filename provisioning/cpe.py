"""The exception case of a router that could not be pre-registered because its serial number
was not known: the person working the case enters the serial and the registration is tried
again, in one step (provisioning.adapters.acs explains why the serial is needed)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from orders.fulfilment import TaskType
from orders.router_serials import order_item_serial_set
from orders.states import EventSource
from provisioning.models import ExceptionCase
from provisioning.services import CaseError, _lock_case, _require_case_worker, exception_case_retry


def case_needs_router_serial(case: ExceptionCase) -> bool:
    """The case is about registering a router (whatever the ACS said: a missing serial, or one
    mistyped so that it is another order's), so entering its serial may resolve it."""
    task = case.task
    return task is not None and task.task_type == TaskType.REGISTER_CPE and not task.undo


def exception_case_router_serial_enter(
    case: ExceptionCase | int,
    *,
    serial: str,
    acting_user: User,
    source: EventSource = EventSource.ADMIN,
) -> ExceptionCase:
    """Record the router's serial on the case's router item (a note on the order) and retry the
    case, in one transaction: both happen or neither. Refuses (``CaseError`` or
    ``orders.router_serials.SerialRefused``, fit to show) a case that is not open, one the person
    may not work, one that is not about a router's registration, and a serial that cannot be."""
    with transaction.atomic():
        locked = _lock_case(case, expect=(ExceptionCase.State.OPEN,))
        _require_case_worker(acting_user, locked)
        if not case_needs_router_serial(locked):
            raise CaseError(
                f"Case {locked.pk} is not about registering a router: it has no serial to enter."
            )
        assert locked.task is not None
        order_item_serial_set(locked.task.item_id, serial=serial, actor=acting_user, source=source)
        return exception_case_retry(locked, acting_user=acting_user, source=source)
