"""Publishing a notification to the listeners of an API's ``/hub``.

``publish_event`` runs inside the transaction that caused the event: it writes one
``EventDelivery`` per matching listener and an outbox message per delivery, so nothing is sent
unless that transaction commits, and nothing committed is lost if the broker is down at that
moment (DESIGN invariant 3). The send itself is ``tmf.hub.delivery``.

The envelope is TMF v4's::

    {"eventId": "<uuid4>", "eventTime": "...Z", "timeOcurred": "...Z",   # sic, as the specs
     "eventType": "ProductOrderStateChangeEvent", "title": "...", "description": "...",
     "domain": "productOrderingManagement",
     "event": {"productOrder": {...}}, "fieldPath": "..."}                # fieldPath if given

It is serialized once; every listener gets (and every retry and replay resends) exactly those
bytes, signed with the listener's own secret: ``X-Signature-256: sha256=<hex HMAC-SHA256>``.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from orders.models import Order
from orders.outbox import outbox_enqueue
from tmf.common import iso
from tmf.hub.query import InvalidQuery, parse_query
from tmf.models import ApiClient, EventDelivery, HubSubscription, Scope

DELIVER_TASK = "tmf.deliver_event"
SIGNATURE_HEADER = "X-Signature-256"


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature-256`` value for ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """What a listener does with the header (constant-time comparison)."""
    return hmac.compare_digest(signature(secret, body), header or "")


def event_title(event_type: str) -> str:
    """'ProductOrderStateChangeEvent' -> 'Product order state change'."""
    name = event_type.removesuffix("Event")
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name) or [name]
    text = " ".join(word if word.isupper() and len(word) > 1 else word.lower() for word in words)
    return text[:1].upper() + text[1:]


def event_envelope(
    *,
    api: str,
    event_type: str,
    resource_name: str,
    resource: dict[str, Any],
    description: str = "",
    field_path: str | None = None,
    occurred_at: datetime.datetime | None = None,
    v5: bool = False,
) -> dict[str, Any]:
    """The notification's body. ``v5``: an event only TMF622 v5 defines (milestones, jeopardy
    alerts), in v5's shape: with its ``@type`` and v5's spelling ``timeOccurred``."""
    moment = iso(occurred_at or timezone.now())
    envelope: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "eventTime": moment,
        "timeOcurred": moment,
        "eventType": event_type,
        "title": event_title(event_type),
    }
    if description:
        envelope["description"] = description
    envelope["domain"] = api
    envelope["event"] = {resource_name: resource}
    if field_path:
        envelope["fieldPath"] = field_path
    if v5:
        envelope["timeOccurred"] = moment
        envelope["@type"] = event_type
    return envelope


def encode_body(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


# Events carry the resources themselves (orders with their customer and address), so a
# listener's client needs the read scope as well as subscribe.
EVENT_SCOPES = (Scope.SUBSCRIBE, Scope.READ)


def may_receive_events(client: ApiClient) -> bool:
    return all(client.has_scope(scope) for scope in EVENT_SCOPES)


def live_subscriptions(api: str) -> list[HubSubscription]:
    """The listeners of ``api`` whose client may still receive events: a client deactivated,
    or without the subscribe or read scope any more, gets nothing (its listeners stay
    registered)."""
    listeners = (
        HubSubscription.objects.filter(api=api, deleted_at__isnull=True, client__is_active=True)
        .select_related("client")
        .order_by("created_at", "id")
    )
    return [listener for listener in listeners if may_receive_events(listener.client)]


def hub_has_listeners(api: str) -> bool:
    """Cheap check before building a resource representation nobody would receive."""
    return HubSubscription.objects.filter(api=api, deleted_at__isnull=True).exists()


def publish_event(
    *,
    api: str,
    event_type: str,
    resource_name: str,
    resource: dict[str, Any],
    order: Order | None = None,
    description: str = "",
    field_path: str | None = None,
    occurred_at: datetime.datetime | None = None,
    v5: bool = False,
) -> list[EventDelivery]:
    """Queue the notification for every live listener of ``api`` whose query matches.

    Must run inside the causing transaction (as ``outbox_enqueue``): the deliveries and their
    outbox messages commit or roll back with it. Works for any event type and resource name;
    ``occurred_at`` (default now) is the event's ``eventTime``/``timeOcurred``. Returns the
    deliveries made (none when nobody listens).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish_event must run inside the transaction that causes the event")
    envelope = event_envelope(
        api=api,
        event_type=event_type,
        resource_name=resource_name,
        resource=resource,
        description=description,
        field_path=field_path,
        occurred_at=occurred_at,
        v5=v5,
    )
    body: str | None = None
    deliveries: list[EventDelivery] = []
    for subscription in live_subscriptions(api):
        try:
            query = parse_query(subscription.query)
            wanted = query.matches(envelope)
            # v5's own events go only to listeners that name them: a v4 listener registered
            # for everything is not sent event types its API does not define.
            if v5 and not query.names_event_type(event_type):
                wanted = False
        except InvalidQuery:
            # Checked at registration; a row edited by hand since then gets everything
            # rather than nothing (a listener that is sent too much notices, one sent
            # nothing does not).
            wanted = not v5
        if not wanted:
            continue
        if body is None:
            body = encode_body(envelope)
        delivery = EventDelivery.objects.create(
            subscription=subscription,
            event_id=envelope["eventId"],
            event_type=event_type,
            order=order,
            body=body,
        )
        outbox_enqueue(DELIVER_TASK, order=order, delivery_id=delivery.pk)
        deliveries.append(delivery)
    return deliveries
