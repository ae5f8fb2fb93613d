"""The orders' items and fulfilment in `make bench-scale`'s dataset (scripts.bench_scale_data):
items, the plan's tasks and their attempts, exception cases naming their task, billing charges
per delivered item and the installed base, each with what the services would have written.

One order in three holds three items (the line, a static IP, a router); the others the line
alone. Tasks come from the standard specifications' plans decomposed by orders.fulfilment,
so keys, dependencies and points of no return are the real ones; their states follow the
order's status as the scheduler leaves them (a manual order's first tasks in the pool, a held
one's failed task, a live one's every task done, one in twenty with an automatic retry of its
subscriber). Identifiers (row ids, product UUIDs) are computed from the order's index, so
each table is one COPY in one pass and rows of different tables agree without lookups.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

STATIC_IP_PRICE = Decimal("5.00")
ROUTER_PRICE, ROUTER_FEE = Decimal("4.00"), Decimal("49.00")
TASK_COLUMNS = [
    "id",
    "order_id",
    "item_id",
    "key",
    "task_type",
    "mode",
    "is_ponr",
    "depends_on",
    "state",
    "attempts",
    "created_at",
    "ready_at",
    "started_at",
    "finished_at",
    "state_changed_at",
    "network_reference",
    "result",
    "error_code",
    "error_message",
    "note",
    "undo",
]
ATTEMPT_COLUMNS = [
    "task_id",
    "order_id",
    "number",
    "trigger",
    "worker",
    "outcome",
    "started_at",
    "finished_at",
    "network_reference",
    "error_code",
    "error_message",
    "transient",
]
ITEM_COLUMNS = [
    "id",
    "order_id",
    "item_id",
    "position",
    "offering_id",
    "action",
    "quantity",
    "parent_id",
    "recurring_price",
    "one_time_price",
    "currency",
    "state",
    "state_changed_at",
    "network_identifiers",
    "characteristic_values",
    "completed_at",
    "change",
]
CHARGE_COLUMNS = [
    "account_id",
    "item_id",
    "offering_id",
    "recurring_price",
    "one_time_price",
    "currency",
    "start_date",
    "first_period_end",
    "first_period_amount",
]
PRODUCT_COLUMNS = [
    "id",
    "customer_id",
    "order_id",
    "order_item_id",
    "offering_id",
    "specification_id",
    "parent_id",
    "name",
    "status",
    "start_date",
    "characteristics",
    "network_identifiers",
    "recurring_price",
    "one_time_price",
    "currency",
    "service_address",
    "created_at",
    "updated_at",
]
ITEM_STATE = {
    "completed": "completed",
    "activated": "completed",
    "cancelled": "cancelled",
    "rejected": "rejected",
    "exception": "held",
    "provisioning": "in_progress",
    "awaiting_manual": "in_progress",
}
PLANNED = ("provisioning", "exception", "awaiting_manual", "activated", "completed")


@dataclass
class _Item:
    item_id: str
    parent_item_id: str | None
    plan: Sequence[Mapping[str, Any]]
    parent_in_service: bool = False


@dataclass(frozen=True)
class Shape:
    """An order's items (1 or 3) and its decomposed plan."""

    items: int
    drafts: list[Any]  # orders.fulfilment.TaskDraft


def shapes() -> dict[int, Shape]:
    from orders.catalogue import STANDARD_SPECIFICATIONS
    from orders.fulfilment import decompose

    line, ip, router = (
        STANDARD_SPECIFICATIONS[code]["fulfilment_plan"]
        for code in ("internet-access", "static-ipv4", "managed-router")
    )
    one = [_Item("1", None, line)]
    three = [*one, _Item("2", "1", ip), _Item("3", "1", router)]
    return {1: Shape(1, decompose(one)), 3: Shape(3, decompose(three))}


class Fulfilment:
    """Rows for order ``j`` of the dataset; ``minutes(j, m)`` is m minutes after it was taken."""

    def __init__(
        self,
        *,
        ids: list[str],
        statuses: list[str],
        minutes: Callable[[int, int], datetime.datetime],
        plan_of: Callable[[int], Any],
        static_ip: Any,
        router: Any,
    ) -> None:
        self.ids, self.statuses, self.minutes, self.plan_of = ids, statuses, minutes, plan_of
        self.static_ip, self.router = static_ip, router
        self.shapes = shapes()
        n = len(ids)
        self.item_base = [0] * n
        self.task_base = [0] * n
        items = tasks = 0
        for j in range(n):
            self.item_base[j], self.task_base[j] = items, tasks
            shape = self.shape(j)
            items += shape.items
            tasks += len(shape.drafts) if statuses[j] in PLANNED else 0
        self.n_items, self.n_tasks = items, tasks

    def shape(self, j: int) -> Shape:
        return self.shapes[3 if j % 3 == 0 else 1]

    def offerings(self, j: int) -> list[Any]:
        line = self.plan_of(j)
        return [line, self.static_ip, self.router][: self.shape(j).items]

    def totals(self, j: int) -> tuple[Decimal, Decimal]:
        offerings = self.offerings(j)
        return (
            sum((o.monthly_price for o in offerings), Decimal("0.00")),
            sum((o.one_time_price for o in offerings), Decimal("0.00")),
        )

    def _failing_key(self, j: int) -> str:
        return "2.allocate_address" if self.shape(j).items == 3 else "1.reserve_port"

    def task_id(self, j: int, key: str) -> int:
        keys = [draft.key for draft in self.shape(j).drafts]
        return self.task_base[j] + keys.index(key) + 1

    # --- identifiers as the simulator gives them ------------------------------------------------
    def _identifiers(self, j: int, task_type: str) -> dict[str, str]:
        order = self.ids[j]
        return {
            "reserve_port": {"port": f"BENC-{j % 16 + 1}/{j % 48 + 1}"},
            "create_subscriber": {"subscriber": f"sub-{order.lower()}"},
            "allocate_address": {"ipv4Address": f"198.51.{j // 254 % 256}.{j % 254 + 1}"},
            "register_cpe": {"cpeSerial": f"CPE{j:010d}"},
        }.get(task_type, {})

    def item_identifiers(self, j: int, item_id: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for draft in self.shape(j).drafts:
            if draft.item_id == item_id:
                found.update(self._identifiers(j, draft.task_type))
        return found

    # --- the plan's states ----------------------------------------------------------------------
    def _states(self, j: int) -> dict[str, str]:
        status, drafts = self.statuses[j], self.shape(j).drafts
        if status in ("activated", "completed"):
            return {d.key: "done" for d in drafts}
        if status == "exception":
            failing = self._failing_key(j)
            if failing == "1.reserve_port":
                return {d.key: "failed" if d.key == failing else "waiting" for d in drafts}
            held = {"2.allocate_address": "failed", "2.bind_address": "waiting"}
            return {d.key: held.get(d.key, "waiting" if d.is_ponr else "done") for d in drafts}
        if status == "provisioning":
            done = {"1.reserve_port", "3.register_cpe"}
            return {
                d.key: "done"
                if d.key in done
                else "ready"
                if d.key == "1.create_subscriber"
                else "waiting"
                for d in drafts
            }
        # awaiting_manual: what has no dependency waits in the pool for a person
        return {d.key: "waiting" if d.depends_on else "ready" for d in drafts}

    @staticmethod
    def _error_code(task_type: str) -> str:
        return "ADDRESS_POOL_EXHAUSTED" if task_type == "allocate_address" else "PORT_UNAVAILABLE"

    def _retried(self, j: int, key: str) -> bool:
        return key == "1.create_subscriber" and j % 20 == 7 and self.statuses[j] != "exception"

    def tasks(self) -> Iterator[tuple[Any, ...]]:
        for j, status in enumerate(self.statuses):
            if status not in PLANNED:
                continue
            states = self._states(j)
            for n, draft in enumerate(self.shape(j).drafts):
                state = states[draft.key]
                started = self.minutes(j, 2 + n)
                done = state == "done"
                failed = state == "failed"
                ran = done or failed
                code = self._error_code(draft.task_type)
                identifiers = self._identifiers(j, draft.task_type) if done else {}
                yield (
                    self.task_base[j] + n + 1,
                    self.ids[j],
                    self.item_base[j] + int(draft.item_id),
                    draft.key,
                    draft.task_type,
                    "manual" if status == "awaiting_manual" else "automatic",
                    draft.is_ponr,
                    json.dumps(draft.depends_on),
                    state,
                    (2 if self._retried(j, draft.key) else 1) if ran else 0,
                    self.minutes(j, 1),
                    self.minutes(j, 1 + n) if state != "waiting" else None,
                    started if ran else None,
                    self.minutes(j, 3 + n) if ran else None,
                    self.minutes(j, 3 + n) if ran else self.minutes(j, 1),
                    f"{draft.task_type.upper()}-{j:08X}" if done else "",
                    json.dumps(identifiers),
                    code if failed else "",
                    "No free static IPv4 address in the pool." if failed else "",
                    "",
                    False,
                )

    def attempts(self) -> Iterator[tuple[Any, ...]]:
        for j, status in enumerate(self.statuses):
            if status not in PLANNED:
                continue
            states = self._states(j)
            for n, draft in enumerate(self.shape(j).drafts):
                state = states[draft.key]
                if state not in ("done", "failed"):
                    continue
                task_id, order = self.task_base[j] + n + 1, self.ids[j]
                number = 1
                if self._retried(j, draft.key):
                    yield (
                        task_id, order, 1, "initial", "bench@worker", "failed",
                        self.minutes(j, 2 + n), self.minutes(j, 3 + n), "", "NETWORK_TIMEOUT",
                        "Timed out.", True,
                    )  # fmt: skip
                    number = 2
                failed = state == "failed"
                yield (
                    task_id,
                    order,
                    number,
                    "initial" if number == 1 else "auto_retry",
                    "bench@worker",
                    "failed" if failed else "succeeded",
                    self.minutes(j, 2 + n + 5 * (number - 1)),
                    self.minutes(j, 3 + n + 5 * (number - 1)),
                    "" if failed else f"{draft.task_type.upper()}-{j:08X}",
                    self._error_code(draft.task_type) if failed else "",
                    "The network said no." if failed else "",
                    False,
                )

    def items(self) -> Iterator[tuple[Any, ...]]:
        for j, status in enumerate(self.statuses):
            state = ITEM_STATE.get(status, "pending")
            for position, offering in enumerate(self.offerings(j), start=1):
                item_state = state
                if status == "exception" and self.shape(j).items == 3:
                    item_state = "held" if position == 2 else "in_progress"
                delivered = item_state == "completed"
                yield (
                    self.item_base[j] + position,
                    self.ids[j],
                    str(position),
                    position,
                    offering.pk,
                    "add",
                    1,
                    self.item_base[j] + 1 if position > 1 else None,
                    offering.monthly_price,
                    offering.one_time_price,
                    "GBP",
                    item_state,
                    self.minutes(j, 20 if delivered else 1),
                    json.dumps(self.item_identifiers(j, str(position)) if delivered else {}),
                    "{}",  # the item's own characteristics (a router's serial): none here
                    self.minutes(j, 20) if delivered else None,
                    "",
                )

    def cases(self, owners: list[int | None], lead: int) -> Iterator[tuple[Any, ...]]:
        for j, status in enumerate(self.statuses):
            if status == "exception":
                key = self._failing_key(j)
                code = "ADDRESS_POOL_EXHAUSTED" if key.startswith("2.") else "PORT_UNAVAILABLE"
                yield (
                    self.ids[j], code, "The network said no.", owners[j % len(owners)], "open",
                    1, self.minutes(j, 5), self.minutes(j, 5), None, None, "", "",
                    self.task_id(j, key),
                )  # fmt: skip
            elif status == "completed" and j % 50 == 3:
                yield (
                    self.ids[j], "PORT_UNAVAILABLE", "No free port.", lead, "resolved", 1,
                    self.minutes(j, 5), self.minutes(j, 20), self.minutes(j, 20), lead,
                    "retry_succeeded", "", self.task_id(j, "1.reserve_port"),
                )  # fmt: skip

    def charges(self, accounts: list[tuple[int, int, datetime.date]]) -> Iterator[tuple[Any, ...]]:
        """``accounts``: (account id, order index, start date) of the billed orders."""
        from billing.services import first_period

        for account_id, j, start in accounts:
            for position, offering in enumerate(self.offerings(j), start=1):
                end, amount = first_period(start, offering.monthly_price)
                yield (
                    account_id, self.item_base[j] + position, offering.pk,
                    offering.monthly_price, offering.one_time_price, "GBP", start, end, amount,
                )  # fmt: skip

    def product_id(self, j: int, position: int) -> uuid.UUID:
        return uuid.UUID(int=(0xBE7C << 112) | (j << 8) | position)

    def products(
        self, *, customer_of: Callable[[int], int], address_of: Callable[[int], str]
    ) -> Iterator[tuple[Any, ...]]:
        for j, status in enumerate(self.statuses):
            if status != "completed":
                continue
            for position, offering in enumerate(self.offerings(j), start=1):
                characteristics: dict[str, Any] = dict(offering.characteristic_values or {})
                if position == 1:
                    characteristics.update(
                        downloadSpeed=offering.download_mbps,
                        uploadSpeed=offering.upload_mbps,
                        technology="fttp",
                    )
                start = self.minutes(j, 20)
                yield (
                    self.product_id(j, position),
                    customer_of(j),
                    self.ids[j],
                    self.item_base[j] + position,
                    offering.pk,
                    offering.specification_id,
                    self.product_id(j, 1) if position > 1 else None,
                    offering.name,
                    "active",
                    start,
                    json.dumps(characteristics),
                    json.dumps(self.item_identifiers(j, str(position))),
                    offering.monthly_price,
                    offering.one_time_price,
                    "GBP",
                    address_of(j),
                    start,
                    start,
                )
