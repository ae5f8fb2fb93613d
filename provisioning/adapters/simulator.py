"""A network simulator with configurable latency and deterministic failure rules.

Rules come from settings.NETWORK_SIMULATOR_RULES (JSON in the environment; ``[]`` is a network
that never fails) or, when that is not set, DEFAULT_RULES.
Each rule is a dict:

    {"when": {"exchange": "Faultybridge"},     # match on any TaskRequest fields: exchange,
                                               #   postcode, postcode_prefix, plan_code,
                                               #   offering_code, technology
     "step": "reserve_port",                   # which task type fails (default: reserve_port)
     "error": "PORT_UNAVAILABLE",              # a provisioning.models.ReasonCode
     "transient": false,                       # may a retry succeed?
     "fail_attempts": 2,                       # fail only the task's first N attempts
                                               #   (default: all)
     "undo": false}                            # true: the rule fails undoing the task (a
                                               #   cancelled order's compensation) instead

The first matching rule wins. The same request always gives the same outcome, and a task done
twice gives the same reference and identifiers (the port, the subscriber, the address, the CPE
serial are derived from the order, item and task). What the simulated network holds is kept in
SimulatedNetworkRecord until the task is undone.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from orders.fulfilment import TaskType
from orders.installed_base import product_origin
from provisioning.adapters.base import NetworkHolding, TaskRequest, TaskResult
from provisioning.models import ReasonCode, SimulatedNetworkRecord

# Task names the rules knew before plans were per item.
_LEGACY_STEP = {
    "subscriber_profile": TaskType.CREATE_SUBSCRIBER,
    "speed_profile": TaskType.APPLY_SPEED_PROFILE,
}

DEFAULT_RULES: list[dict[str, Any]] = [
    # A full exchange: no free ports until someone frees one. Ends in the exception queue.
    {
        "when": {"exchange": "Faultybridge"},
        "step": "reserve_port",
        "error": "PORT_UNAVAILABLE",
        "transient": False,
    },
    # A flaky element manager: the first attempt times out, the automatic retry succeeds.
    {
        "when": {"exchange": "Flakeyford"},
        "step": "create_subscriber",
        "error": "NETWORK_TIMEOUT",
        "transient": True,
        "fail_attempts": 1,
    },
    # An exhausted static address pool: the line can be delivered, its static IP cannot.
    {
        "when": {"exchange": "Poolham"},
        "step": "allocate_address",
        "error": "ADDRESS_POOL_EXHAUSTED",
        "transient": False,
    },
]

_MESSAGES = {
    ReasonCode.PORT_UNAVAILABLE: "No free access port at exchange {exchange}.",
    ReasonCode.PROFILE_REJECTED: "Subscriber profile rejected by the AAA server.",
    ReasonCode.SPEED_PROFILE_FAILED: "Speed profile {plan_code} not applied.",
    ReasonCode.LINE_TEST_FAILED: "Line test at {postcode} failed.",
    ReasonCode.NETWORK_TIMEOUT: "Element manager at {exchange} did not answer in time.",
    ReasonCode.ADDRESS_POOL_EXHAUSTED: "No free static IPv4 address in the pool for {exchange}.",
    ReasonCode.ADDRESS_BIND_FAILED: "Address could not be bound to the subscriber.",
    ReasonCode.CPE_REJECTED: "The router management system rejected the CPE.",
}


def _matches(when: dict[str, Any], request: TaskRequest) -> bool:
    for key, expected in when.items():
        if key == "postcode_prefix":
            if not request.postcode.startswith(str(expected).replace(" ", "").upper()):
                return False
        elif key == "postcode":
            if request.postcode != str(expected).replace(" ", "").upper():
                return False
        elif str(getattr(request, key, None)) != str(expected):
            return False
    return True


class SimulatedNetworkAdapter:
    def __init__(
        self, *, rules: list[dict[str, Any]] | None = None, latency_ms: int | None = None
    ) -> None:
        if rules is None:
            rules = settings.NETWORK_SIMULATOR_RULES
        # An empty list is a choice (a network that never fails); only "not set" means default.
        self.rules = DEFAULT_RULES if rules is None else rules
        self.latency_ms = (
            settings.NETWORK_SIMULATOR_LATENCY_MS if latency_ms is None else latency_ms
        )

    def execute(self, request: TaskRequest) -> TaskResult:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        for rule in self.rules:
            if not _matches(rule.get("when", {}), request):
                continue
            step = rule.get("step", TaskType.RESERVE_PORT)
            if _LEGACY_STEP.get(step, step) != request.task_type:
                continue
            if bool(rule.get("undo", False)) != request.undo:
                continue  # a rule is about doing the task, or (``"undo": true``) undoing it
            fail_attempts = rule.get("fail_attempts")
            if fail_attempts is not None and request.attempt > int(fail_attempts):
                continue
            code = ReasonCode(rule.get("error", ReasonCode.NETWORK_TIMEOUT))
            fields = {**request.__dict__, "plan_code": request.plan_code}
            message = _MESSAGES.get(code, code.label).format(**fields)
            return TaskResult.failure(code, message, transient=bool(rule.get("transient")))
        if request.undo:
            return _undone(request)
        missing = _NEEDS.get(request.task_type, "")
        if missing and not request.identifiers.get(missing):
            # As a network would: an address is bound to a subscriber it knows.
            return TaskResult.failure(
                ReasonCode.ADDRESS_BIND_FAILED,
                f"No {missing} to bind the address to (order {request.order_id}).",
                transient=False,
            )
        result = _done(request)
        _hold(request, result)
        return result

    def lookup(self, order_ids: Collection[str]) -> list[NetworkHolding]:
        """What the simulated network holds for these orders (one query, by its unique key)."""
        if not order_ids:
            return []
        held = SimulatedNetworkRecord.objects.filter(
            order_ref__in=list(order_ids), undone_at__isnull=True
        ).order_by("order_ref", "item_ref", "task_type")
        return [_holding(record) for record in held]

    def holdings(
        self,
        *,
        task_type: str | None = None,
        after: tuple[str, str, str] | None = None,
        limit: int = 1000,
    ) -> list[NetworkHolding]:
        """A page of what the simulated network holds, by its unique key (one index range)."""
        held = SimulatedNetworkRecord.objects.filter(undone_at__isnull=True)
        if task_type is not None:
            held = held.filter(task_type=task_type)
        if after is not None:
            order_ref, item_ref, after_type = after
            held = held.filter(order_ref__gte=order_ref).filter(
                Q(order_ref__gt=order_ref)
                | Q(order_ref=order_ref, item_ref__gt=item_ref)
                | Q(order_ref=order_ref, item_ref=item_ref, task_type__gt=after_type)
            )
        held = held.order_by("order_ref", "item_ref", "task_type")[:limit]
        return [_holding(record) for record in held]


def _holding(record: SimulatedNetworkRecord) -> NetworkHolding:
    return NetworkHolding(
        order_id=record.order_ref,
        item_id=record.item_ref,
        task_type=record.task_type,
        reference=record.reference,
        identifiers=dict(record.identifiers),
        since=record.done_at,
    )


# What a task needs the network to know already (an identifier an earlier task, or the live line
# the item goes on, recorded).
_NEEDS: dict[str, str] = {TaskType.BIND_ADDRESS: "subscriber"}


def _digest(request: TaskRequest, salt: str = "") -> str:
    text = f"{request.order_id}:{request.item_id}:{request.task_type}{salt}"
    return hashlib.sha256(text.encode()).hexdigest()


def _done(request: TaskRequest) -> TaskResult:
    """What the simulated network answers for a task that succeeds: the same every time."""
    digest = _digest(request)
    reference = f"{request.task_type.upper()}-{digest[:8].upper()}"
    number = int(digest[:8], 16)
    task = request.task_type
    if task == TaskType.RESERVE_PORT:
        port = f"{request.exchange[:4].upper()}-{number % 16 + 1}/{number % 48 + 1}"
        return TaskResult.success(reference, port=port)
    if task == TaskType.CREATE_SUBSCRIBER:
        return TaskResult.success(reference, subscriber=f"sub-{request.order_id.lower()}")
    if task == TaskType.ALLOCATE_ADDRESS:
        network = ("198.51.100", "203.0.113")[number % 2]
        return TaskResult.success(reference, ipv4Address=f"{network}.{number % 254 + 1}")
    if task == TaskType.REGISTER_CPE:
        return TaskResult.success(reference, cpeSerial=f"CPE{digest[8:18].upper()}")
    return TaskResult.success(reference)


def _hold(request: TaskRequest, result: TaskResult) -> None:
    """The simulated network now holds what the task made (again, if it was undone)."""
    SimulatedNetworkRecord.objects.update_or_create(
        order_ref=request.order_id,
        item_ref=request.item_id,
        task_type=request.task_type,
        defaults={
            "reference": result.network_reference,
            "identifiers": dict(result.identifiers),
            "done_at": timezone.now(),
            "undone_at": None,
        },
    )


def _undone(request: TaskRequest) -> TaskResult:
    """Take back what the task made; nothing held is nothing to take back (idempotent). For a
    live product (a cease) it is what the order that delivered it made."""
    order_ref, item_ref = request.order_id, request.item_id
    if request.product_id:
        origin = product_origin(request.product_id)
        if origin is not None:
            order_ref, item_ref = origin
    SimulatedNetworkRecord.objects.filter(
        order_ref=order_ref,
        item_ref=item_ref,
        task_type=request.task_type,
        undone_at__isnull=True,
    ).update(undone_at=timezone.now())
    return TaskResult.success(f"UNDO-{request.task_type.upper()}-{_digest(request)[:8].upper()}")
