"""A managed router's serial number, entered on its order item by staff before dispatch (from
the label on the box they send): the ACS pre-registers the router by it
(provisioning.adapters.acs), and it becomes the router's ``cpeSerial`` in the installed base.

It is the item's own characteristic (``OrderItem.characteristic_values["serialNumber"]``), not
the offering's: every router of one model has the same offering and a serial of its own.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.db import transaction

from orders import events
from orders.errors import OrderError
from orders.models import OrderItem, ProductKind
from orders.services import order_lock
from orders.states import EventSource, ItemState

SERIAL_NUMBER = "serialNumber"
# What TR-069 allows a DeviceId.SerialNumber (up to 64 characters), less what no label has.
_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
_SETTLED = (ItemState.COMPLETED, ItemState.CANCELLED, ItemState.REJECTED, ItemState.REMOVED)


class SerialRefused(OrderError):
    pass


def router_serial(item: OrderItem) -> str:
    return str((item.characteristic_values or {}).get(SERIAL_NUMBER) or "")


def order_item_serial_set(
    item: OrderItem | int, *, serial: str, actor: User | None, source: EventSource
) -> OrderItem:
    """Record ``serial`` as the router's on its item, with a note on the order, in one
    transaction with the order locked. Refuses (``SerialRefused``, fit to show) a serial that
    cannot be one, an item that is not a managed router, and one already delivered or taken
    off the order (a replacement router is a change to the live product, not an edit)."""
    serial = serial.strip()
    if not _SERIAL.fullmatch(serial):
        raise SerialRefused(
            "A router serial number is 1 to 64 letters, digits and . _ : / - (as printed on "
            "the router's label), starting with a letter or digit.",
            field_errors={"serial": "Enter the serial number as printed on the router's label."},
        )
    item_pk = item.pk if isinstance(item, OrderItem) else item
    with transaction.atomic():
        order_pk = OrderItem.objects.values_list("order_id", flat=True).get(pk=item_pk)
        order = order_lock(order_pk)
        locked = OrderItem.objects.select_related("offering__specification").get(pk=item_pk)
        if locked.offering.kind != ProductKind.ROUTER:
            raise SerialRefused(
                f"Item {locked.item_id} of order {order.display_id} is a "
                f"{locked.offering.name}, not a managed router: it has no serial number."
            )
        if locked.state in _SETTLED:
            raise SerialRefused(
                f"The router of order {order.display_id} (item {locked.item_id}) is "
                f"{locked.get_state_display().lower()}: its serial can no longer be changed."
            )
        before = router_serial(locked)
        if before == serial:
            return locked
        locked.characteristic_values = {
            **(locked.characteristic_values or {}),
            SERIAL_NUMBER: serial,
        }
        locked.save(update_fields=["characteristic_values"])
        change = f"changed from {before} to {serial}" if before else f"entered: {serial}"
        events.note(
            order=order,
            actor=actor,
            source=source,
            text=f"Router serial number of item {locked.item_id} {change}.",
        )
        return locked
