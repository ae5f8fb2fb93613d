"""Static IPv4 addresses from our own pools (the addressing app): the adapter for the
``allocate_address`` task and its undo. Route the task to it::

    PROVISIONING_NETWORK_ADAPTER=provisioning.adapters.routed.RoutedNetworkAdapter
    PROVISIONING_TASK_ADAPTERS='{"allocate_address":
                                 "provisioning.adapters.addresses.StaticAddressAdapter"}'

The address is answered as the ``ipv4Address`` identifier, as the simulator does: the
``bind_address`` task (RADIUS: Framed-IP-Address) reads it from there.
"""

from __future__ import annotations

from collections.abc import Collection

from addressing import selectors
from addressing.models import AddressAssignment
from addressing.services import AllocationBusy, PoolExhausted, address_allocate, address_release
from orders.fulfilment import TaskType
from orders.installed_base import product_origin
from orders.models import OrderItem, ServiceArea, normalize_postcode
from provisioning.adapters.base import NetworkHolding, TaskRequest, TaskResult
from provisioning.models import ReasonCode

ADDRESS = "ipv4Address"


class StaticAddressAdapter:
    def execute(self, request: TaskRequest) -> TaskResult:
        """Allocate (idempotent: a retry answers the same address and reference) or release
        (idempotent: nothing held is nothing to release). No pool for the area, or a full one,
        is ADDRESS_POOL_EXHAUSTED: not transient, a person adds or frees addresses. Losing every
        race for an address (AllocationBusy) is a transient NETWORK_TIMEOUT: retried."""
        if request.task_type != TaskType.ALLOCATE_ADDRESS:
            return TaskResult.failure(
                ReasonCode.ADAPTER_ERROR,
                f"The static address pools do not do {request.task_type}: route only "
                "allocate_address to StaticAddressAdapter.",
                transient=False,
            )
        order_ref, item_ref = _holder(request)
        if request.undo:
            released = address_release(order_ref=order_ref, item_ref=item_ref)
            reference = f"UNDO-{released.reference}" if released is not None else "UNDO-IPAM"
            return TaskResult.success(reference)
        area = ServiceArea.objects.filter(postcode=normalize_postcode(request.postcode)).first()
        item = OrderItem.objects.filter(order_id=order_ref, item_id=item_ref).first()
        try:
            held = address_allocate(area, order_ref=order_ref, item_ref=item_ref, order_item=item)
        except PoolExhausted as exhausted:
            return TaskResult.failure(
                ReasonCode.ADDRESS_POOL_EXHAUSTED, str(exhausted), transient=False
            )
        except AllocationBusy as busy:
            return TaskResult.failure(ReasonCode.NETWORK_TIMEOUT, str(busy), transient=True)
        return TaskResult.success(held.reference, **{ADDRESS: held.address})

    def lookup(self, order_ids: Collection[str]) -> list[NetworkHolding]:
        """The addresses held by these orders' items (one query)."""
        return [_holding(held) for held in selectors.held_for_orders(order_ids)]

    def holdings(
        self,
        *,
        task_type: str | None = None,
        after: tuple[str, str, str] | None = None,
        limit: int = 1000,
    ) -> list[NetworkHolding]:
        """A page of the addresses held, in (order, item) order: every holding's task type is
        allocate_address, so the key after ``after`` is found on (order, item) alone."""
        if task_type is not None and task_type != TaskType.ALLOCATE_ADDRESS:
            return []
        start: tuple[str, str] | None = None
        including = False
        if after is not None:
            order_ref, item_ref, after_type = after
            start = (order_ref, item_ref)
            # The same (order, item) comes after ``after`` if its task type sorts after.
            including = after_type < TaskType.ALLOCATE_ADDRESS
        page = selectors.held_page(after=start, including=including, limit=limit)
        return [_holding(held) for held in page]


def _holder(request: TaskRequest) -> tuple[str, str]:
    """The (order, item) that holds the address: for a live product (a cease, an add-on taken
    off), the order item that delivered it."""
    if request.product_id:
        origin = product_origin(request.product_id)
        if origin is not None:
            return origin
    return request.order_id, request.item_id


def _holding(held: AddressAssignment) -> NetworkHolding:
    return NetworkHolding(
        order_id=held.order_ref,
        item_id=held.item_ref,
        task_type=TaskType.ALLOCATE_ADDRESS,
        reference=held.reference,
        identifiers={ADDRESS: held.address},
        since=held.assigned_at,
    )
