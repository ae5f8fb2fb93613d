"""The customer's router pre-registered in GenieACS (task type ``register_cpe``).

A router is known to the ACS only once it has called in, which it does when the customer plugs
it in. So the pre-registration leaves in GenieACS what the router needs, waiting for it keyed
by its serial number: a *preset* named ``oa-<order id>-<item id>`` whose precondition matches
the serial (``_deviceId._SerialNumber``) and which sets the WAN PPPoE username and password
(the same ones FreeRADIUS is given, provisioning.adapters.credentials) and tags the router with
the preset's name. A router that has called in before is tagged now and asked to call in again
(a connection request), so it takes the configuration at once.

The serial is the item's ``serialNumber`` characteristic, entered by staff before dispatch
(orders.router_serials.order_item_serial_set, or on the exception case: provisioning.cpe).
Without one the task fails as CPE_REJECTED (not transient): the exception case says what to
enter, and a retry after it is entered succeeds.

The same serial waited for by another order's preset is refused (CPE_REJECTED) unless that order
is the same customer's (a move home takes the router along): the newer order's preset then
weighs more, so GenieACS applies it last and its credentials win.

Undoing (a cancelled order, a ceased router) deletes the preset and takes the tag off any
router that has it; both succeed when already gone. What the ACS holds for our orders is its
``oa-`` presets, read back by name (``lookup``, ``holdings``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import unquote

from django.conf import settings

from orders.fulfilment import TaskType
from orders.installed_base import product_origin
from orders.models import Order
from orders.order_id import LENGTH as ORDER_ID_LENGTH
from provisioning.adapters.acs.nbi import AcsTrouble, GenieAcsClient
from provisioning.adapters.base import NetworkHolding, TaskRequest, TaskResult
from provisioning.adapters.credentials import subscriber_credentials
from provisioning.models import ReasonCode

PRESET_PREFIX = "oa-"
SERIAL_CHARACTERISTIC = "serialNumber"
SERIAL_PARAMETER = "_deviceId._SerialNumber"
# GenieACS groups presets in channels: a fault in one channel holds back only that channel's
# presets on the router, so ours never stall the operator's own ("default") ones.
PRESET_CHANNEL = "oa-provisioning"
# How many order IDs one device or preset search names (a GET's URL must stay well under the
# 16 KiB header limit of GenieACS's Node.js server).
_LOOKUP_BATCH = 200

# Where a router keeps its WAN PPPoE credentials, by data model.
PPPOE_PATHS: dict[str, tuple[str, str]] = {
    "tr098": (
        "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Username",
        "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Password",
    ),
    "tr181": ("Device.PPP.Interface.1.Username", "Device.PPP.Interface.1.Password"),
}

_KEEP = re.compile(r"[A-Za-z0-9_-]")
_NAME = re.compile(rf"^{re.escape(PRESET_PREFIX)}([0-9A-Z]{{{ORDER_ID_LENGTH}}})-(.+)$")
_EXPRESSION_SERIAL = re.compile(r'SerialNumber\s*=\s*"((?:[^"\\]|\\.)*)"')


def preset_name(order_id: str, item_id: str) -> str:
    """The preset (and tag) of one order's router item. GenieACS takes only ``[A-Za-z0-9_-]``
    and %-escapes in a preset's or tag's name, so other characters of the item id are escaped;
    the order ID has a fixed length, which makes the name read back unambiguously."""
    escaped = "".join(
        char if _KEEP.fullmatch(char) else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in item_id
    )
    return f"{PRESET_PREFIX}{order_id}-{escaped}"


def preset_key(name: str) -> tuple[str, str] | None:
    """(order id, item id) of a preset named by ``preset_name``; None for anyone else's."""
    match = _NAME.match(name)
    if match is None:
        return None
    return match.group(1), unquote(match.group(2))


def _serial_of(preset: dict[str, Any]) -> str:
    """The serial a preset waits for: we write the precondition as a MongoDB-style JSON query;
    GenieACS's UI may save it back in its expression syntax (``DeviceID.SerialNumber = "..."``)."""
    precondition = preset.get("precondition") or ""
    try:
        query = json.loads(precondition)
    except (TypeError, ValueError):
        match = _EXPRESSION_SERIAL.search(str(precondition))
        return json.loads(f'"{match.group(1)}"') if match else ""
    value = query.get(SERIAL_PARAMETER, "") if isinstance(query, dict) else ""
    return value if isinstance(value, str) else ""


def _orders(order_ids: Collection[str]) -> dict[str, tuple[int, int]]:
    """(customer id, submission time in seconds) of each of these orders that we have."""
    rows = Order.objects.filter(pk__in=set(order_ids)).values_list(
        "pk", "customer_id", "submitted_at"
    )
    return {pk: (customer_id, int(submitted.timestamp())) for pk, customer_id, submitted in rows}


def _precondition(serial: str) -> str:
    return json.dumps({SERIAL_PARAMETER: serial}, separators=(",", ":"))


class GenieAcsAdapter:
    """``register_cpe`` (and its undo) against one GenieACS (settings.GENIEACS_*)."""

    def __init__(self, *, client: GenieAcsClient | None = None) -> None:
        self.client = client or GenieAcsClient(
            settings.GENIEACS_URL,
            username=settings.GENIEACS_USERNAME,
            password=settings.GENIEACS_PASSWORD,
            timeout=settings.GENIEACS_TIMEOUT_SECONDS,
        )
        username_path, password_path = PPPOE_PATHS[settings.GENIEACS_DATA_MODEL]
        self.username_path = settings.GENIEACS_PPPOE_USERNAME_PATH or username_path
        self.password_path = settings.GENIEACS_PPPOE_PASSWORD_PATH or password_path
        self.connection_request = settings.GENIEACS_CONNECTION_REQUEST

    # --- the task -----------------------------------------------------------------------------
    def execute(self, request: TaskRequest) -> TaskResult:
        """Pre-register (or, ``undo``, de-register) the router of ``request``'s item. Idempotent:
        the same preset is written again, a preset or tag already gone is nothing to remove.
        Trouble with the ACS is a failed result, never an exception."""
        if request.task_type != TaskType.REGISTER_CPE:
            return TaskResult.failure(
                ReasonCode.CPE_REJECTED,
                f"The ACS adapter does only {TaskType.REGISTER_CPE}, not {request.task_type}: "
                "check PROVISIONING_TASK_ADAPTERS.",
                transient=False,
            )
        try:
            return self._undo(request) if request.undo else self._register(request)
        except AcsTrouble as trouble:
            return TaskResult.failure(
                trouble.code,
                f"Router of order {request.order_id} item {request.item_id}: {trouble.message}",
                transient=trouble.transient,
            )

    def _register(self, request: TaskRequest) -> TaskResult:
        serial = str(request.characteristics.get(SERIAL_CHARACTERISTIC) or "").strip()
        if not serial:
            return TaskResult.failure(
                ReasonCode.CPE_REJECTED,
                f"No serial number for the router of order {request.order_id} (item "
                f"{request.item_id}): enter the router's serial number (on the label under the "
                "router) on the order's router item before dispatch, then retry this task.",
                transient=False,
            )
        name = preset_name(request.order_id, request.item_id)
        precondition = _precondition(serial)
        others = [
            key
            for other in self.client.presets_find(
                {"precondition": precondition}, projection=("_id",)
            )
            if other.get("_id") != name and (key := preset_key(str(other.get("_id")))) is not None
        ]
        ours = _orders([request.order_id, *(order_id for order_id, _ in others)])
        mine = ours.get(request.order_id)
        weight = mine[1] if mine is not None else 0
        # Another customer's router, or one we know nothing of: most likely a mistyped serial.
        strangers = [
            (order_id, item_id)
            for order_id, item_id in others
            if mine is None or order_id not in ours or ours[order_id][0] != mine[0]
        ]
        if strangers:
            order_id, item_id = strangers[0]
            return TaskResult.failure(
                ReasonCode.CPE_REJECTED,
                f"Router serial {serial} is already registered for order {order_id} item "
                f"{item_id}, not this customer's: check the serial entered for order "
                f"{request.order_id} item {request.item_id}, then retry.",
                transient=False,
            )
        credentials = subscriber_credentials(request)
        preset = {
            # The customer's router carried over to a newer order (a move, a new line) is
            # waited for by both orders' presets until the older one's line is ceased: GenieACS
            # applies a higher weight later, so the newer order's credentials win.
            "weight": weight,
            "channel": PRESET_CHANNEL,
            "events": {},
            "precondition": precondition,
            "configurations": [
                {"type": "value", "name": self.username_path, "value": credentials.username},
                {"type": "value", "name": self.password_path, "value": credentials.password},
                {"type": "add_tag", "tag": name},
            ],
        }
        self.client.preset_put(name, preset, secrets=(credentials.password,))
        # A router that has called in before: mark it as ours now and have it call in again to
        # take its configuration; one that has not takes it on its first contact.
        for device in self.client.devices_find({SERIAL_PARAMETER: serial}, limit=10):
            device_id = str(device.get("_id") or "")
            if device_id and self.client.tag_add(device_id, name) and self.connection_request:
                self.client.connection_request(device_id)
        return TaskResult.success(_reference(name), cpeSerial=serial, acsPreset=name)

    def _undo(self, request: TaskRequest) -> TaskResult:
        name = request.identifiers.get("acsPreset") or self._delivered_name(request)
        self.client.preset_delete(name)
        for device in self.client.devices_find({"_tags": name}, limit=10):
            device_id = str(device.get("_id") or "")
            if device_id:
                self.client.tag_remove(device_id, name)
        return TaskResult.success(f"UNDO-{_reference(name)}")

    @staticmethod
    def _delivered_name(request: TaskRequest) -> str:
        """The preset of the order that delivered the router: for a live product (a cease) that
        is the product's original order and item, else this order's own item."""
        order_id, item_id = request.order_id, request.item_id
        if request.product_id:
            origin = product_origin(request.product_id)
            if origin is not None:
                order_id, item_id = origin
        return preset_name(order_id, item_id)

    # --- what the ACS holds -------------------------------------------------------------------
    def lookup(self, order_ids: Collection[str]) -> list[NetworkHolding]:
        """Our presets for these orders (one search per batch of order IDs). Read-only."""
        ids = sorted({order_id for order_id in order_ids if re.fullmatch(r"[0-9A-Z]+", order_id)})
        found: list[NetworkHolding] = []
        for start in range(0, len(ids), _LOOKUP_BATCH):
            batch = ids[start : start + _LOOKUP_BATCH]
            pattern = f"^{re.escape(PRESET_PREFIX)}({'|'.join(batch)})-"
            presets = self.client.presets_find(
                {"_id": {"$regex": pattern}}, projection=("_id", "precondition")
            )
            found.extend(_holdings(presets))
        return sorted(found, key=lambda holding: holding.key)

    def holdings(
        self,
        *,
        task_type: str | None = None,
        after: tuple[str, str, str] | None = None,
        limit: int = 1000,
    ) -> list[NetworkHolding]:
        """One page of our presets by name, which is (order id, item id) order for item ids of
        letters, digits, ``-`` and ``_`` (the system's own are digits). Read-only."""
        if task_type is not None and task_type != TaskType.REGISTER_CPE:
            return []
        condition: dict[str, Any] = {"$regex": f"^{re.escape(PRESET_PREFIX)}"}
        if after is not None:
            order_id, item_id, after_type = after
            # This item's own preset comes after the key if its task type sorts after the key's.
            bound = "$gte" if TaskType.REGISTER_CPE.value > after_type else "$gt"
            condition[bound] = preset_name(order_id, item_id)
        presets = self.client.presets_find(
            {"_id": condition}, projection=("_id", "precondition"), limit=limit
        )
        page = sorted(_holdings(presets), key=lambda holding: holding.key)
        if after is not None:
            page = [holding for holding in page if holding.key > after]
        return page[:limit]


def _reference(name: str) -> str:
    return f"GENIEACS-{name}"


def _holdings(presets: list[dict[str, Any]]) -> list[NetworkHolding]:
    held = []
    for preset in presets:
        name = str(preset.get("_id") or "")
        key = preset_key(name)
        if key is None:
            continue  # an ``oa-`` preset someone else named
        held.append(
            NetworkHolding(
                order_id=key[0],
                item_id=key[1],
                task_type=TaskType.REGISTER_CPE,
                reference=_reference(name),
                identifiers={"cpeSerial": _serial_of(preset), "acsPreset": name},
            )
        )
    return held
