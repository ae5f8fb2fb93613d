"""TMF622 Product Ordering v4: productOrder and cancelProductOrder.

Thin views: read the body (tmf.productorder.parsing), call one service of ``orders``, answer
with the ProductOrder representation. Orders come only through ``orders.access`` (a client
with ``read`` sees every order), minus the ones a client deleted through this API.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders import order_id
from orders.access import restrict_by_order, restrict_orders
from orders.models import Order
from orders.services import (
    DuplicateOrder,
    NotServiceable,
    OrderConflict,
    OrderError,
    order_amend,
    order_cancel,
    order_submit,
)
from orders.states import CANCELLABLE_STATES, TMF_STATE, EventSource, OrderStatus
from orders.system_actors import audit_actor
from tmf.auth import client_of
from tmf.common import (
    TmfView,
    apply_filters,
    exact,
    list_response,
    parse_when,
    requested_fields,
    select_fields,
    timestamp,
)
from tmf.errors import Problems, TmfError, bad_request, not_found
from tmf.hub.publish import publish_event
from tmf.models import CancelProductOrder, DeletedProductOrder, HubApi, IdempotencyRecord, TaskState
from tmf.productorder import docs
from tmf.productorder.parsing import (
    MAX_EXTERNAL_ID,
    customer_pk_of,
    parse_create,
    parse_start_date,
)
from tmf.productorder.representation import (
    ALWAYS,
    cancellation_representation,
    product_order_representation,
    with_cancellation_reason,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY = 200
MAX_NOTE = 2000
MAX_NOTES = 20
CLOSED_STATES = (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REJECTED)
# Where order_submit's field names point in a TMF622 body.
_FIELD_PATHS = {
    "postcode": "productOrderItem[0].product.place[0].postcode",
    "plan": "productOrderItem[0].productOffering.id",
    "requested_activation_date": "requestedStartDate",
}


def _states_for(values: list[str]) -> list[str]:
    wanted = set(values)
    unknown = wanted - set(TMF_STATE.values())
    if unknown:
        raise bad_request(
            f"Unknown state {', '.join(sorted(unknown))}. States: "
            f"{', '.join(sorted(set(TMF_STATE.values())))}.",
            state="Unknown state.",
        )
    return [internal for internal, tmf in TMF_STATE.items() if tmf in wanted]


def _canonical_ids(values: list[str]) -> list[str]:
    # An ID that cannot be valid names no order: it filters to nothing (it is not an error).
    return [order_id.normalize(v) for v in values if order_id.is_valid(v)]


def _customer_ids(values: list[str]) -> list[int]:
    return [pk for pk in map(customer_pk_of, values) if pk is not None]


ORDER_FILTERS = {
    "id": exact("pk", _canonical_ids),
    "state": exact("status", _states_for),
    "externalId": exact("external_id"),
    "orderDate": timestamp("submitted_at"),
    "completionDate": timestamp("completed_at"),
    "relatedParty.id": exact("customer_id", _customer_ids),
    "productOrderItem.productOffering.id": exact("plan__code"),
}


def product_orders(request: Request) -> QuerySet[Order]:
    """The orders this client may see through the API."""
    # NOT EXISTS, not LEFT JOIN ... IS NULL: PostgreSQL then walks the orders' index and
    # probes the deletions per row, so a page stops after its rows (the outer-join form made it
    # hash-join every order and sort them all), and its row estimates stay right.
    deleted = DeletedProductOrder.objects.filter(order_id=OuterRef("pk"))
    # service_area: the expected completion date depends on it (orders.selectors).
    queryset = Order.objects.select_related("plan", "customer", "service_area").filter(
        ~Exists(deleted)
    )
    return restrict_orders(with_cancellation_reason(queryset), request.user)  # type: ignore[arg-type]


def product_order_find(request: Request, text: str) -> Order | None:
    """The order ``text`` names (any spelling of its ID), if this client may see it."""
    if not order_id.is_valid(text):
        return None
    return product_orders(request).filter(pk=order_id.normalize(text)).first()


def product_order_get(request: Request, text: str) -> Order:
    order = product_order_find(request, text)
    if order is None:
        raise not_found(f"No product order '{text}'.")
    return order


def _fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _created(request: Request, order: Order, **headers: str) -> Response:
    representation = product_order_representation(order, request)
    return Response(
        representation,
        status=status.HTTP_201_CREATED,
        headers={"Location": representation["href"], **headers},
    )


def _order_error(exc: OrderError) -> TmfError:
    fields = {_FIELD_PATHS.get(name, name): text for name, text in exc.field_errors.items()}
    code = "NOT_SERVICEABLE" if isinstance(exc, NotServiceable) else "INVALID_VALUE"
    reason = "Not serviceable" if isinstance(exc, NotServiceable) else "Invalid request"
    return TmfError(400, code, reason, exc.message, field_errors=fields)


class ProductOrderList(TmfView):
    required_scopes = {"GET": "read", "POST": "create"}

    @extend_schema(
        operation_id="listProductOrder",
        summary="List or find product orders",
        parameters=docs.LIST_PARAMETERS + docs.ORDER_FILTER_PARAMETERS,
        responses={200: docs.ProductOrderDoc(many=True), **docs.ERRORS},
        tags=["productOrder"],
    )
    def get(self, request: Request) -> Response:
        queryset = apply_filters(request, product_orders(request), ORDER_FILTERS)
        queryset = queryset.order_by("-submitted_at", "-pk")
        return list_response(
            request,
            queryset,
            lambda order: product_order_representation(order, request),
            always=ALWAYS,
        )

    @extend_schema(
        operation_id="createProductOrder",
        summary="Place a product order",
        description=docs.CREATE_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Same key and body: the first order again. Same key, other body: 409.",
            )
        ],
        request=docs.ProductOrderCreateDoc,
        responses={201: docs.ProductOrderDoc, **docs.ERRORS},
        tags=["productOrder"],
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        body = self.body_object(request)
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip() or None
        if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
            raise bad_request(
                f"{IDEMPOTENCY_HEADER} is at most {MAX_IDEMPOTENCY_KEY} characters.",
                **{IDEMPOTENCY_HEADER: "Too long."},
            )
        fingerprint = _fingerprint(body)
        if key is not None:
            replay = self._replay(request, client, key, fingerprint)
            if replay is not None:
                return replay
        draft, problems = parse_create(body)
        if draft is None:
            raise problems.error("Invalid product order")
        try:
            with audit_actor(client.user), transaction.atomic():
                submission = order_submit(
                    customer=draft.customer,
                    plan=draft.plan,
                    requested_activation_date=draft.requested_start,
                    channel=EventSource.API,
                    submitted_by=client.user,
                    idempotency_key=_order_key(client, key) if key else None,
                    external_id=draft.external_id,
                )
                # The loser of a race with its twin (same key) gets the twin's order from
                # order_submit: it answers as a replay, like a retry that came later.
                replayed = not submission.created
                if key is not None:
                    record, made = IdempotencyRecord.objects.get_or_create(
                        client=client,
                        key=key,
                        defaults={"request_hash": fingerprint, "order": submission.order},
                    )
                    if not made and record.request_hash != fingerprint:
                        raise _key_reused(key)
                    replayed = replayed or not made
        except DuplicateOrder as exc:
            # The existing order's ID only for a client that may read orders.
            which = f"open order {exc.existing.pk}" if client.has_scope("read") else "an open order"
            raise TmfError(
                409,
                "DUPLICATE_ORDER",
                "Duplicate order",
                f"The customer already has {which} for this offering at this address.",
            ) from exc
        except OrderError as exc:
            raise _order_error(exc) from exc
        except IntegrityError:
            # A twin request with the same key committed first: answer as it was answered.
            if key is not None:
                replay = self._replay(request, client, key, fingerprint)
                if replay is not None:
                    return replay
            raise
        if replayed:
            return _created(request, submission.order, **{REPLAYED_HEADER: "true"})
        return _created(request, submission.order)

    def _replay(self, request: Request, client: Any, key: str, fingerprint: str) -> Response | None:
        record = (
            IdempotencyRecord.objects.filter(client=client, key=key)
            .select_related("order__plan", "order__customer")
            .first()
        )
        if record is None:
            return None
        if record.request_hash != fingerprint:
            raise _key_reused(key)
        return _created(request, record.order, **{REPLAYED_HEADER: "true"})


def _order_key(client: Any, key: str) -> str:
    """The order's own idempotency key for a client's key: the key itself where it fits the
    order's column with its prefix, else its SHA-256 (a 200-character key must not overflow)."""
    prefix = f"tmf622:{client.pk}:"
    room = Order._meta.get_field("idempotency_key").max_length or 200
    if len(prefix) + len(key) <= room:
        return prefix + key
    return f"{prefix}sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _key_reused(key: str) -> TmfError:
    return TmfError(
        409,
        "IDEMPOTENCY_KEY_REUSED",
        "Idempotency key reused",
        f"{IDEMPOTENCY_HEADER} '{key}' was used with a different request body. Use a new key "
        "for a new order.",
    )


class ProductOrderDetail(TmfView):
    required_scopes = {"GET": "read", "PATCH": "create", "DELETE": "cancel"}

    @extend_schema(
        operation_id="retrieveProductOrder",
        summary="Retrieve a product order by its ID (the shared order ID)",
        parameters=docs.FIELDS_PARAMETER,
        responses={200: docs.ProductOrderDoc, **docs.ERRORS},
        tags=["productOrder"],
    )
    def get(self, request: Request, order_id: str) -> Response:
        order = product_order_get(request, order_id)
        return Response(
            select_fields(
                product_order_representation(order, request), requested_fields(request), ALWAYS
            )
        )

    @extend_schema(
        operation_id="patchProductOrder",
        summary="Update a product order (merge patch)",
        description=docs.PATCH_DESCRIPTION,
        request=docs.ProductOrderUpdateDoc,
        responses={200: docs.ProductOrderDoc, **docs.ERRORS},
        tags=["productOrder"],
    )
    def patch(self, request: Request, order_id: str) -> Response:
        client = client_of(request)
        order = product_order_get(request, order_id)
        body = self.body_object(request)
        current = product_order_representation(order, request)
        problems = Problems()
        changes: dict[str, Any] = {}
        for key, value in body.items():
            if key == "externalId":
                if value is not None and not isinstance(value, str):
                    problems.add(key, "Must be a string.")
                elif value is not None and len(value) > MAX_EXTERNAL_ID:
                    problems.add(key, f"At most {MAX_EXTERNAL_ID} characters.")
                else:
                    changes["external_id"] = (value or "").strip()
            elif key == "requestedStartDate":
                if iso_equal(value, current.get(key)):
                    continue
                changes["requested_activation_date"] = parse_start_date(value, key, problems)
            elif key == "note":
                notes = []
                if not isinstance(value, list):
                    problems.add(key, "Must be an array of notes.")
                elif len(value) > MAX_NOTES:
                    problems.add(key, f"At most {MAX_NOTES} notes in one update.")
                else:
                    for index, note in enumerate(value):
                        text = note.get("text") if isinstance(note, dict) else None
                        if not isinstance(text, str) or not text.strip():
                            problems.add(f"note[{index}].text", "Required (a string).")
                        elif len(text.strip()) > MAX_NOTE:
                            problems.add(f"note[{index}].text", f"At most {MAX_NOTE} characters.")
                        else:
                            notes.append(text.strip())
                changes["notes"] = tuple(notes)
            elif key.startswith("@"):
                continue
            elif key == "productOrderItem":
                if not _same_items(value, order):
                    problems.add(
                        key,
                        "The items cannot change after ordering: cancel the order "
                        "(cancelProductOrder) and place a new one.",
                    )
            elif key in current and value == current[key]:
                continue
            elif key == "state":
                problems.add(
                    key,
                    "The state follows the order's progress; to cancel, POST cancelProductOrder.",
                )
            else:
                problems.add(key, "Cannot be changed.")
        if problems:
            raise problems.error("Invalid update")
        if changes:
            wire_names = {
                "external_id": "externalId",
                "requested_activation_date": "requestedStartDate",
            }
            try:
                with audit_actor(client.user), transaction.atomic():
                    amendment = order_amend(
                        order,
                        actor=client.user,
                        source=EventSource.API,
                        **changes,
                    )
                    order = amendment.order
                    changed = [wire_names[name] for name in amendment.changed]
                    if changed:
                        publish_event(
                            api=HubApi.PRODUCT_ORDERING,
                            event_type="ProductOrderAttributeValueChangeEvent",
                            resource_name="productOrder",
                            resource=product_order_representation(order),
                            order=order,
                            description=f"Product order {order.pk}: {', '.join(changed)} changed.",
                            field_path=",".join(changed),
                        )
            except OrderConflict as exc:
                raise TmfError(409, "CONFLICT", "Conflict", exc.message) from exc
            except OrderError as exc:
                raise _order_error(exc) from exc
            order = product_order_get(request, order.pk)
        return Response(product_order_representation(order, request))

    @extend_schema(
        operation_id="deleteProductOrder",
        summary="Delete a closed product order from the API",
        description=docs.DELETE_DESCRIPTION,
        responses={204: None, **docs.ERRORS},
        tags=["productOrder"],
    )
    def delete(self, request: Request, order_id: str) -> Response:
        client = client_of(request)
        order = product_order_get(request, order_id)
        if order.status not in CLOSED_STATES:
            raise TmfError(
                409,
                "ORDER_OPEN",
                "Order still open",
                f"Order {order.pk} is {_state_words(order)}: only a completed, "
                "cancelled or rejected order can be deleted. To stop it, POST cancelProductOrder.",
            )
        with audit_actor(client.user), transaction.atomic():
            _, made = DeletedProductOrder.objects.get_or_create(
                order=order, defaults={"client": client}
            )
            if made:
                publish_event(
                    api=HubApi.PRODUCT_ORDERING,
                    event_type="ProductOrderDeleteEvent",
                    resource_name="productOrder",
                    resource=product_order_representation(order),
                    order=order,
                    description=f"Product order {order.pk} deleted by {client.name}.",
                )
        return Response(status=status.HTTP_204_NO_CONTENT)


def iso_equal(value: Any, current: Any) -> bool:
    return isinstance(value, str) and value == current


def _same_items(value: Any, order: Order) -> bool:
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        return False
    offering = value[0].get("productOffering")
    return isinstance(offering, dict) and offering.get("id") == order.plan.code


# --- cancelProductOrder ---------------------------------------------------------------------
CANCEL_ALWAYS = ("id", "href", "state", "productOrder", "@type")
CANCEL_FILTERS = {
    "id": exact("pk"),
    "state": exact("state"),
    "productOrder.id": exact("order_id", _canonical_ids),
}


class CancelProductOrderList(TmfView):
    required_scopes = {"GET": "read", "POST": "cancel"}

    @extend_schema(
        operation_id="listCancelProductOrder",
        summary="List cancellation requests",
        parameters=docs.LIST_PARAMETERS,
        responses={200: docs.CancelProductOrderDoc(many=True), **docs.ERRORS},
        tags=["cancelProductOrder"],
    )
    def get(self, request: Request) -> Response:
        # Restricted like the orders (orders.access), without a subquery of every visible
        # order: requests on orders deleted through the API are left out.
        deleted = DeletedProductOrder.objects.filter(order_id=OuterRef("order_id"))
        queryset = restrict_by_order(
            CancelProductOrder.objects.filter(~Exists(deleted)), request.user
        )
        queryset = apply_filters(request, queryset, CANCEL_FILTERS).order_by("-created_at", "pk")
        return list_response(
            request,
            queryset,
            lambda cancel: cancellation_representation(cancel, request),
            always=CANCEL_ALWAYS,
        )

    @extend_schema(
        operation_id="createCancelProductOrder",
        summary="Cancel a product order",
        description=docs.CANCEL_DESCRIPTION,
        request=docs.CancelProductOrderCreateDoc,
        responses={201: docs.CancelProductOrderDoc, **docs.ERRORS},
        tags=["cancelProductOrder"],
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        body = self.body_object(request)
        problems = Problems()
        ref = body.get("productOrder")
        ref_id = ref.get("id") if isinstance(ref, dict) else None
        if not isinstance(ref, dict):
            problems.add("productOrder", 'Required: {"id": <the order ID>}.')
        elif not isinstance(ref_id, str) or not ref_id:
            problems.add("productOrder.id", "Required (a string).")
        reason = body.get("cancellationReason")
        if reason is not None and not isinstance(reason, str):
            problems.add("cancellationReason", "Must be a string.")
        reason_text = (reason or "").strip() if isinstance(reason, str) else ""
        requested = body.get("requestedCancellationDate")
        requested_at = None
        if requested is not None:
            day = parse_start_date(requested, "requestedCancellationDate", problems)
            if day is not None and day > timezone.localdate():
                problems.add(
                    "requestedCancellationDate",
                    "Cancellation takes effect when requested; send the request on the day.",
                )
            if day is not None:
                requested_at = parse_when(requested)
        if problems or not isinstance(ref_id, str):
            raise problems.error("Invalid cancellation request")
        order = product_order_find(request, ref_id)
        if order is None:
            # As GET and PATCH answer for it (TMF622 v5 lists 404 for this create as well).
            raise not_found(f"No product order '{ref_id}'.", field="productOrder.id")
        if order.status not in CANCELLABLE_STATES:
            raise _not_cancellable(order)
        reason_text = reason_text or f"Cancelled through the API by {client.name}."
        try:
            with audit_actor(client.user), transaction.atomic():
                cancelled = order_cancel(
                    order,
                    actor=client.user,
                    reason=reason_text,
                    source=EventSource.API,
                    expected_status=order.status,
                )
                cancel = CancelProductOrder.objects.create(
                    order=cancelled,
                    client=client,
                    cancellation_reason=reason_text,
                    requested_cancellation_date=requested_at,
                    effective_cancellation_date=cancelled.closed_at or timezone.now(),
                    state=TaskState.DONE,
                )
                publish_event(
                    api=HubApi.PRODUCT_ORDERING,
                    event_type="CancelProductOrderCreateEvent",
                    resource_name="cancelProductOrder",
                    resource=cancellation_representation(cancel),
                    order=cancelled,
                    description=f"Cancellation of product order {cancelled.pk}.",
                )
        except OrderConflict as exc:
            order.refresh_from_db()
            raise _not_cancellable(order) from exc
        representation = cancellation_representation(cancel, request)
        return Response(
            representation,
            status=status.HTTP_201_CREATED,
            headers={"Location": representation["href"]},
        )


def _state_words(order: Order) -> str:
    tmf_state = TMF_STATE[OrderStatus(order.status)]
    internal = order.get_status_display().lower()
    if internal.replace(" ", "") == tmf_state.lower():
        return tmf_state
    return f"{tmf_state} ({internal})"


def _not_cancellable(order: Order) -> TmfError:
    return TmfError(
        409,
        "NOT_CANCELLABLE",
        "Order cannot be cancelled",
        f"Order {order.pk} is {_state_words(order)}: it can be cancelled only before "
        "activation starts.",
    )


class CancelProductOrderDetail(TmfView):
    required_scopes = {"GET": "read"}

    @extend_schema(
        operation_id="retrieveCancelProductOrder",
        summary="Retrieve a cancellation request",
        parameters=docs.FIELDS_PARAMETER,
        responses={200: docs.CancelProductOrderDoc, **docs.ERRORS},
        tags=["cancelProductOrder"],
    )
    def get(self, request: Request, cancel_id: str) -> Response:
        visible = product_orders(request)
        cancel = (
            CancelProductOrder.objects.filter(pk=cancel_id, order__in=visible.values("pk"))
            .select_related("order")
            .first()
        )
        if cancel is None:
            raise not_found(f"No cancellation request '{cancel_id}'.")
        return Response(
            select_fields(
                cancellation_representation(cancel, request),
                requested_fields(request),
                CANCEL_ALWAYS,
            )
        )
