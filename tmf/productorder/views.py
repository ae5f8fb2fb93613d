"""TMF622 Product Ordering v4: productOrder and cancelProductOrder.

Thin views: validate the body with its serializer (tmf.productorder.serializers, which the
OpenAPI document shows too), call one service (tmf.productorder.services), answer with the
ProductOrder representation. Orders come only through ``orders.access`` (a client with ``read``
sees every order), minus the ones a client deleted through this API.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError
from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders import order_id
from orders.access import restrict_by_order, restrict_orders
from orders.errors import CancellationRefused
from orders.items import ItemsInvalid
from orders.models import DuplicateKind, Order, OrderItem
from orders.selectors import with_activation_estimate
from orders.services import (
    DuplicateOrder,
    NotServiceable,
    OrderConflict,
    OrderError,
    duplicate_entry_record,
)
from orders.states import TMF_STATE, EventSource, OrderStatus
from tmf.auth import client_of
from tmf.common import (
    TmfView,
    apply_filters,
    exact,
    list_response,
    requested_fields,
    select_fields,
    timestamp,
)
from tmf.errors import TmfError, bad_request, not_found, validation_error
from tmf.models import CancelProductOrder, DeletedProductOrder, IdempotencyRecord
from tmf.productorder import amend, docs
from tmf.productorder import serializers as resources
from tmf.productorder.changes import ChangeOrder, is_change_order
from tmf.productorder.milestones import with_milestones
from tmf.productorder.parties import customer_pk_of
from tmf.productorder.representation import (
    ALWAYS,
    cancellation_representation,
    product_order_representation,
    with_cancellation_reason,
    with_items,
    with_order_relationships,
)
from tmf.productorder.serializers import OrderDraft, item_pairs
from tmf.productorder.services import (
    IdempotencyKeyReused,
    OrderStillOpen,
    product_order_cancel,
    product_order_delete,
    product_order_place,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY = 200


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


def _with_offering(queryset: QuerySet[Order], values: list[str], op: str | None) -> QuerySet[Order]:
    """Orders with an item of any of these offerings (the line's or an add-on's)."""
    if op is not None:
        raise bad_request(f"'{op}' does not apply to this attribute.")
    items = OrderItem.objects.filter(order=OuterRef("pk"), offering__code__in=values)
    return queryset.filter(Exists(items))


ORDER_FILTERS = {
    "id": exact("pk", _canonical_ids),
    "state": exact("status", _states_for),
    "externalId": exact("external_id"),
    "orderDate": timestamp("submitted_at"),
    "completionDate": timestamp("completed_at"),
    "relatedParty.id": exact("customer_id", _customer_ids),
    "productOrderItem.productOffering.id": _with_offering,
}


def product_orders(request: Request) -> QuerySet[Order]:
    """The orders this client may see through the API."""
    # NOT EXISTS, not LEFT JOIN ... IS NULL: PostgreSQL then walks the orders' index and
    # probes the deletions per row, so a page stops after its rows (the outer-join form made it
    # hash-join every order and sort them all), and its row estimates stay right.
    deleted = DeletedProductOrder.objects.filter(order_id=OuterRef("pk"))
    # service_area and with_activation_estimate: the expected completion date depends on them
    # (orders.selectors.activation_estimate).
    queryset = Order.objects.select_related("plan", "customer", "service_area").filter(
        ~Exists(deleted)
    )
    queryset = with_activation_estimate(
        with_milestones(with_items(with_order_relationships(with_cancellation_reason(queryset))))
    )
    return restrict_orders(queryset, request.user)  # type: ignore[arg-type]


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


def _order_error(exc: OrderError, draft: OrderDraft | None = None) -> TmfError:
    """A refusal of orders.services as the TMF error, each field at its path in the body."""
    if isinstance(exc, ItemsInvalid):
        fields = {
            draft.path_of(item_id) if draft else "productOrderItem": message
            for item_id, message in exc.item_errors.items()
        }
        return TmfError(400, "INVALID_VALUE", "Invalid items", exc.message, field_errors=fields)
    line = draft.line_path if draft else "productOrderItem[0]"
    paths = {
        "postcode": f"{line}.product.place[0].postcode",
        "plan": f"{line}.productOffering.id",
        "requested_activation_date": "requestedStartDate",
    }
    fields = {paths.get(name, name): text for name, text in exc.field_errors.items()}
    code = "NOT_SERVICEABLE" if isinstance(exc, NotServiceable) else "INVALID_VALUE"
    reason = "Not serviceable" if isinstance(exc, NotServiceable) else "Invalid request"
    return TmfError(400, code, reason, exc.message, field_errors=fields)


def _valid(serializer: Any, reason: str) -> Any:
    """The serializer's validated data, or the 400 listing every problem."""
    if not serializer.is_valid():
        raise validation_error(serializer.errors, reason)
    return serializer.validated_data


class ProductOrderList(TmfView):
    required_scopes = {"GET": "read", "POST": "create"}

    @extend_schema(
        operation_id="listProductOrder",
        summary="List or find product orders",
        description=docs.READ_DESCRIPTION,
        parameters=docs.LIST_PARAMETERS + docs.ORDER_FILTER_PARAMETERS,
        responses={200: resources.ProductOrder(many=True), **docs.ERRORS},
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
        # A new line (with its add-ons, or add-ons for a live line) or a change to live
        # products: each described by the serializer that reads it.
        request=PolymorphicProxySerializer(
            component_name="ProductOrderCreate",
            serializers=[resources.ProductOrder, ChangeOrder],
            resource_type_field_name=None,
        ),
        responses={201: resources.ProductOrder, **docs.ERRORS},
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
        draft = _draft_of(body)
        try:
            placement = product_order_place(
                client=client, draft=draft, key=key, fingerprint=fingerprint
            )
        except IdempotencyKeyReused as exc:
            raise _key_reused(exc.key) from exc
        except DuplicateOrder as exc:
            if exc.existing.product_ref is not None:
                raise _line_busy(exc, draft, client.has_scope("read")) from exc
            # The existing order's ID only for a client that may read orders.
            which = f"open order {exc.existing.pk}" if client.has_scope("read") else "an open order"
            raise TmfError(
                409,
                "DUPLICATE_ORDER",
                "Duplicate order",
                f"The customer already has {which} for this offering at this address.",
            ) from exc
        except OrderError as exc:
            raise _order_error(exc, draft) from exc
        except IntegrityError:
            # A twin request with the same key committed first: answer as it was answered.
            if key is not None:
                replay = self._replay(request, client, key, fingerprint)
                if replay is not None:
                    return replay
            raise
        if placement.replayed:
            return _created(request, placement.order, **{REPLAYED_HEADER: "true"})
        return _created(request, placement.order)

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
        duplicate_entry_record(DuplicateKind.REPLAYED, order=record.order, channel=EventSource.API)
        return _created(request, record.order, **{REPLAYED_HEADER: "true"})


def _draft_of(body: dict[str, Any]) -> OrderDraft:
    """The create's body read: a change to live products (tmf.productorder.changes) or a new
    line with its add-ons."""
    if is_change_order(body):
        return _valid(ChangeOrder(data=body), "Invalid product order")
    return _valid(resources.ProductOrder(data=body), "Invalid product order")


def _line_busy(exc: DuplicateOrder, draft: OrderDraft, may_read: bool) -> TmfError:
    """A change to a line that has an order open: 409, naming the item that names the line
    (the open order's ID only for a client that may read orders)."""
    which = f"order {exc.existing.pk}" if may_read else "an order"
    message = f"The line already has {which} open: a line takes one order at a time."
    return TmfError(
        409,
        "DUPLICATE_ORDER",
        "Duplicate order",
        message,
        field_errors={f"{draft.line_path}.product.id": message},
    )


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
        description=docs.READ_DESCRIPTION,
        parameters=docs.FIELDS_PARAMETER,
        responses={200: resources.ProductOrder, **docs.ERRORS},
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
        request=resources.ProductOrderUpdate,
        responses={200: resources.ProductOrder, **docs.ERRORS},
        tags=["productOrder"],
    )
    def patch(self, request: Request, order_id: str) -> Response:
        client = client_of(request)
        order = product_order_get(request, order_id)
        body = self.body_object(request)
        current = product_order_representation(order, request)
        items = item_pairs(
            [(item["id"], item["productOffering"]["id"]) for item in current["productOrderItem"]]
        )
        changes = _valid(
            resources.ProductOrderUpdate(data=body, context={"current": current}), "Invalid update"
        )
        wanted = amend.items_in_patch(changes, items)  # other items: tmf.productorder.amend
        patch = amend.items_patch_read(wanted, order) if wanted is not None else None
        if changes or patch is not None:
            try:
                order = amend.product_order_patch(
                    client=client, order=order, items=patch, changes=changes
                )
            except OrderError as exc:
                mapped = amend.patch_error(exc, patch)
                if mapped is None:
                    raise _order_error(exc) from exc
                raise mapped from exc
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
        try:
            product_order_delete(client=client, order=order)
        except OrderStillOpen as exc:
            raise TmfError(
                409,
                "ORDER_OPEN",
                "Order still open",
                f"Order {order.pk} is {_state_words(order)}: only a completed (or partial), "
                "cancelled or rejected order can be deleted. To stop it, POST cancelProductOrder.",
            ) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        responses={200: resources.CancelProductOrder(many=True), **docs.ERRORS},
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
        request=resources.CancelProductOrder,
        responses={201: resources.CancelProductOrder, **docs.ERRORS},
        tags=["cancelProductOrder"],
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        body = self.body_object(request)
        wanted = _valid(resources.CancelProductOrder(data=body), "Invalid cancellation request")
        ref_id = wanted["productOrder"]["id"]
        order = product_order_find(request, ref_id)
        if order is None:
            # As GET and PATCH answer for it (TMF622 v5 lists 404 for this create as well).
            raise not_found(f"No product order '{ref_id}'.", field="productOrder.id")
        try:
            cancel = product_order_cancel(
                client=client,
                order=order,
                reason=wanted.get("cancellationReason") or "",
                requested_at=wanted.get("requestedCancellationDate"),
            )
        except CancellationRefused as exc:
            # Past the point of no return the code says so (PONR); closed or being cancelled
            # already, it is NOT_CANCELLABLE as before.
            if exc.reason_code == CancellationRefused.PONR:
                raise TmfError(409, "PONR", "Order cannot be cancelled", exc.message) from exc
            if exc.reason_code == CancellationRefused.SCHEDULED:
                raise TmfError(
                    409, "NOT_CANCELLABLE", "Order cannot be cancelled", exc.message
                ) from exc
            order.refresh_from_db()
            raise _not_cancellable(order) from exc
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
        f"Order {order.pk} is {_state_words(order)}: it can be cancelled only while it is "
        "open and before its point of no return.",
    )


class CancelProductOrderDetail(TmfView):
    required_scopes = {"GET": "read"}

    @extend_schema(
        operation_id="retrieveCancelProductOrder",
        summary="Retrieve a cancellation request",
        parameters=docs.FIELDS_PARAMETER,
        responses={200: resources.CancelProductOrder, **docs.ERRORS},
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
