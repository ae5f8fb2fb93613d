"""The ``/hub`` of each API (TMF630 event subscription), with the ``subscribe`` scope:

- ``POST /hub`` {callback, query?, secret?} registers a listener: 201 {id, callback, query,
  secret?} with ``Location``. Deliveries are signed with HMAC-SHA256 over the body
  (``X-Signature-256: sha256=<hex>``): with the ``secret`` given (16 to 128 characters), or one
  made here and returned in this answer only (never again);
- ``GET /hub`` lists the client's listeners on this API; ``GET /hub/{id}`` shows one;
- ``DELETE /hub/{id}`` unregisters it (204): no more events; its deliveries stay in the log.

The query language is described in ``tmf.hub.query``.
"""

from __future__ import annotations

from typing import Any

from django.urls import re_path, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tmf.auth import client_of
from tmf.common import TmfView, absolute, list_response
from tmf.errors import TmfError, not_found
from tmf.hub.publish import may_receive_events
from tmf.hub.subscriptions import (
    RegistrationError,
    subscription_get,
    subscription_register,
    subscription_unregister,
    subscriptions_of,
)
from tmf.models import HubSubscription

TAG = "events subscription"
ALWAYS = ("id", "callback")


class EventSubscriptionInputDoc(serializers.Serializer):
    callback = serializers.URLField(help_text="Absolute http(s) URL the events are POSTed to.")
    query = serializers.CharField(
        required=False,
        help_text=(
            "Which events: eventType=A,B and dotted paths into the event, e.g. "
            "eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed. "
            "Empty: every event of this API."
        ),
    )
    secret = serializers.CharField(
        required=False,
        min_length=16,
        help_text=(
            "HMAC-SHA256 key for X-Signature-256; made for you (and returned once) if absent."
        ),
    )


class EventSubscriptionDoc(serializers.Serializer):
    id = serializers.CharField()
    callback = serializers.CharField()
    query = serializers.CharField()
    secret = serializers.CharField(
        required=False, help_text="Only in the 201 answer, and only when it was made for you."
    )


class HubErrorDoc(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField(required=False)
    status = serializers.CharField(required=False)


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    texts = {
        400: "Invalid callback, query or secret",
        401: "No or unknown bearer token",
        403: "The client does not have the 'subscribe' scope",
        404: "No such listener (of this client, on this API)",
    }
    return {code: OpenApiResponse(HubErrorDoc, description=texts[code]) for code in codes}


def subscription_representation(subscription: HubSubscription) -> dict[str, Any]:
    return {"id": subscription.pk, "callback": subscription.callback, "query": subscription.query}


class HubView(TmfView):
    """Base: which API's hub (set by ``hub_urls``)."""

    api: str = ""
    required_scopes = {"GET": "subscribe", "POST": "subscribe", "DELETE": "subscribe"}

    def detail_path(self, request: Request, subscription_id: str) -> str:
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        name = f"{namespace}:hub-detail" if namespace else "hub-detail"
        return reverse(name, kwargs={"subscription_id": subscription_id})


REGISTER_DESCRIPTION = (
    "Registers a callback for this API's events. Each notification is POSTed as JSON with "
    "`X-Signature-256: sha256=<hex HMAC-SHA256 of the body>` keyed with the listener's secret, "
    "and `X-Event-Id`, `X-Event-Type`, `X-Delivery-Attempt`. Answer 2xx to accept it; anything "
    "else is retried with exponential backoff. Delivery is at least once: deduplicate on "
    "`X-Event-Id`. Give `secret` (16+ characters) or take the one in this answer: it is not "
    "shown again. `query` selects events: `eventType=A,B` and dotted paths into the "
    "notification (`event.productOrder.state=completed`); several attributes AND, commas OR."
)


class HubList(HubView):
    """Register a listener; list this client's listeners on this API."""

    @extend_schema(
        summary="Register a listener",
        description=REGISTER_DESCRIPTION,
        request=EventSubscriptionInputDoc,
        responses={201: EventSubscriptionDoc, **_errors(400, 401, 403)},
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        if not may_receive_events(client):
            raise TmfError(
                403,
                "FORBIDDEN",
                "Not allowed",
                "Events carry the resources themselves: a listener's client needs the 'read' "
                "scope as well as 'subscribe'.",
            )
        body = self.body_object(request)
        try:
            registration = subscription_register(client=client, api=self.api, body=body)
        except RegistrationError as exc:
            raise TmfError(
                400, "INVALID_VALUE", "Invalid request", str(exc), field_errors=exc.field_errors
            ) from None
        subscription = registration.subscription
        representation = subscription_representation(subscription)
        if registration.generated_secret:
            representation["secret"] = registration.generated_secret
        location = absolute(request, self.detail_path(request, subscription.pk))
        return Response(
            representation, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(
        summary="List this client's listeners",
        description="This client's registered listeners on this API (secrets are not shown).",
        responses={200: EventSubscriptionDoc(many=True), **_errors(401, 403)},
        tags=[TAG],
    )
    def get(self, request: Request) -> Response:
        client = client_of(request)
        listeners = subscriptions_of(client, self.api).order_by("created_at", "id")
        return list_response(request, listeners, subscription_representation, always=ALWAYS)


class HubDetail(HubView):
    """One of this client's listeners."""

    @extend_schema(
        summary="Show a listener",
        description="A listener of this client on this API; others' are 404.",
        responses={200: EventSubscriptionDoc, **_errors(401, 403, 404)},
        tags=[TAG],
    )
    def get(self, request: Request, subscription_id: str) -> Response:
        subscription = subscription_get(client_of(request), self.api, subscription_id)
        if subscription is None:
            raise not_found(f"No listener {subscription_id}.")
        return Response(subscription_representation(subscription))

    @extend_schema(
        summary="Unregister a listener",
        description=(
            "No more events are sent to it, pending retries included; its deliveries stay in "
            "the operator's log."
        ),
        responses={204: None, **_errors(401, 403, 404)},
        tags=[TAG],
    )
    def delete(self, request: Request, subscription_id: str) -> Response:
        if not subscription_unregister(client_of(request), self.api, subscription_id):
            raise not_found(f"No listener {subscription_id}.")
        return Response(status=status.HTTP_204_NO_CONTENT)


def hub_urls(api: str) -> list[Any]:
    """The ``/hub`` routes of one API, for its URL module (inside its namespace)."""
    return [
        re_path(r"^hub/?$", HubList.as_view(api=api), name="hub"),
        re_path(
            r"^hub/(?P<subscription_id>[^/]+)/?$",
            HubDetail.as_view(api=api),
            name="hub-detail",
        ),
    ]
