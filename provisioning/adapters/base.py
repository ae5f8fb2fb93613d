"""The network adapter interface: one call per fulfilment task, and what the network holds
(read by the cross-system reconciliation)."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TaskRequest:
    """Everything the network needs for one task of one order, keyed by the shared order ID.

    ``identifiers`` are what the order's tasks recorded so far, across its items (the port,
    the subscriber, the allocated address, the CPE serial): a later task refers to them.
    ``undo``: take back what the task did (a cancelled order's compensation: release the port,
    remove the subscriber, free the address, de-register the CPE); ``identifiers`` then hold
    what the task recorded.
    """

    order_id: str
    item_id: str
    task_type: str
    attempt: int
    postcode: str
    address: str
    exchange: str
    technology: str
    offering_code: str
    plan_code: str
    download_mbps: int | None = None
    upload_mbps: int | None = None
    characteristics: dict[str, Any] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)
    undo: bool = False
    # A change to a live product (a plan change, a suspension, a cease): its id in the installed
    # base; the network knows it by ``identifiers``.
    product_id: str = ""

    # The simulator's rules match on these names too (``step`` was a task's old name).
    @property
    def step(self) -> str:
        return self.task_type


@dataclass(frozen=True)
class TaskResult:
    ok: bool
    network_reference: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    error_code: str = ""
    error_message: str = ""
    transient: bool = False

    @classmethod
    def success(cls, reference: str, **identifiers: str) -> TaskResult:
        return cls(ok=True, network_reference=reference, identifiers=identifiers)

    @classmethod
    def failure(cls, code: str, message: str, *, transient: bool) -> TaskResult:
        return cls(ok=False, error_code=code, error_message=message, transient=transient)


@dataclass(frozen=True)
class NetworkHolding:
    """One thing the network holds now: what one task of one order's item made there (a port,
    a subscriber, an address, a registered router...), by the shared order ID and item ID."""

    order_id: str
    item_id: str
    task_type: str
    reference: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    since: datetime.datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.order_id, self.item_id, self.task_type)


class NetworkAdapter(Protocol):
    def execute(self, request: TaskRequest) -> TaskResult:
        """Carry out ``request.task_type`` for ``request.order_id`` and item.

        Must be idempotent per (order_id, item_id, task_type): doing a task that is already
        done returns success with the same reference and identifiers, and undoing one that is
        not done (or undone already) succeeds and changes nothing. Network trouble is a
        failed TaskResult (``transient`` when a retry may succeed); an exception means a defect
        in the adapter (recorded as ADAPTER_ERROR, not retried).
        """
        ...

    def lookup(self, order_ids: Collection[str]) -> list[NetworkHolding]:
        """What the network holds now for the orders ``order_ids`` (a bounded batch, the
        caller's chunk): nothing that was undone. Read-only."""
        ...

    def holdings(
        self,
        *,
        task_type: str | None = None,
        after: tuple[str, str, str] | None = None,
        limit: int = 1000,
    ) -> list[NetworkHolding]:
        """One page of everything the network holds (of ``task_type`` only, if given), in
        (order_id, item_id, task_type) order, the first ``limit`` after the key ``after``:
        a listing the caller pages through. Read-only."""
        ...
