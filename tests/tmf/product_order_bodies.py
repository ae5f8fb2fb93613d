"""TMF622 request bodies as a CRM would send them, and small readers of the answers, shared by
the test_product_order_*.py modules."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from orders.models import Customer, Order, OrderEvent
from tests.tmf.conftest import TMF622

ORDERS = f"{TMF622}/productOrder"
CANCELS = f"{TMF622}/cancelProductOrder"

_people = itertools.count(1)


def new_customer_party(
    *, name: str | None = None, email: str | None = None, phone: str | None = None
) -> dict[str, Any]:
    """A relatedParty entry for a customer we do not know yet (TMF632 contactMedium)."""
    n = next(_people)
    return {
        "role": "Customer",
        "name": name or f"Ada Lovelace {n}",
        "@referredType": "Individual",
        "contactMedium": [
            {
                "mediumType": "email",
                "characteristic": {"emailAddress": email or f"ada{n}@example.com"},
            },
            {
                "mediumType": "mobile",
                "characteristic": {"phoneNumber": phone or f"07700{900000 + n:06d}"},
            },
        ],
    }


def existing_customer_party(customer: Customer) -> dict[str, Any]:
    return {"id": str(customer.pk), "role": "Customer", "@referredType": "Individual"}


def order_body(
    *,
    postcode: str,
    offering: str = "fibre-500",
    party: dict[str, Any] | None = None,
    street: str = "10 Downing Street",
    locality: str = "",
    city: str = "London",
    **extra: Any,
) -> dict[str, Any]:
    """A ProductOrder_Create for one new connection at ``postcode``; ``extra`` adds top-level
    attributes (externalId, requestedStartDate, ...)."""
    place: dict[str, Any] = {
        "role": "installationAddress",
        "streetName": street,
        "city": city,
        "postcode": postcode,
        "country": "GB",
        "@type": "GeographicAddress",
    }
    if locality:
        place["locality"] = locality
    return {
        "@type": "ProductOrder",
        "relatedParty": [party if party is not None else new_customer_party()],
        "productOrderItem": [
            {
                "id": "1",
                "action": "add",
                "quantity": 1,
                "productOffering": {"id": offering},
                "product": {"place": [place]},
                "@type": "ProductOrderItem",
            }
        ],
        **extra,
    }


def with_changes(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out.update(changes)
    return out


def item(body: dict[str, Any]) -> dict[str, Any]:
    return body["productOrderItem"][0]


def place(representation: dict[str, Any]) -> dict[str, Any]:
    return representation["productOrderItem"][0]["product"]["place"][0]


def row_counts() -> tuple[int, int, int]:
    """(orders, customers, order events): what a refused request must leave untouched."""
    return Order.objects.count(), Customer.objects.count(), OrderEvent.objects.count()


def ids(listing: list[dict[str, Any]]) -> list[str]:
    return [entry["id"] for entry in listing]


def post_refused(caller: Any, body: Any, *, status: int = 400, **kwargs: Any) -> dict[str, Any]:
    """POST a create that must be refused with ``status``: checks the TMF error body and that
    nothing was written (no order, customer or event), and returns the error."""
    before = row_counts()
    if "content_type" not in kwargs:
        kwargs.setdefault("format", "json")
    response = caller.post(ORDERS, body, **kwargs)
    assert response.status_code == status, response.content
    assert row_counts() == before, "a refused create must write nothing"
    error = response.json()
    assert error["@type"] == "Error"
    assert error["status"] == str(status)
    return error


def add_on_item(item_id: str, offering: str, *, relies_on: str | None = "1") -> dict[str, Any]:
    """A productOrderItem for an add-on relying on the item ``relies_on`` (None: on none)."""
    entry: dict[str, Any] = {
        "id": item_id,
        "action": "add",
        "quantity": 1,
        "productOffering": {"id": offering},
        "@type": "ProductOrderItem",
    }
    if relies_on is not None:
        entry["productOrderItemRelationship"] = [{"id": relies_on, "relationshipType": "reliesOn"}]
    return entry


def multi_item_body(*, postcode: str, add_ons: tuple[str, ...], **body: Any) -> dict[str, Any]:
    """``order_body``'s line (item "1") and an add-on per offering code, items "2", "3"...,
    each relying on the line."""
    out = order_body(postcode=postcode, **body)
    out["productOrderItem"] += [add_on_item(str(n), code) for n, code in enumerate(add_ons, 2)]
    return out


def items_by_id(representation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in representation["productOrderItem"]}


def live_line_body(
    product_id: str, customer: Customer, add_ons: tuple[str, ...], **body: Any
) -> dict[str, Any]:
    """A ProductOrder_Create for add-ons on ``customer``'s live line ``product_id`` (a TMF637
    product): the line as item "1" (action noChange, the product by reference), an add-on per
    offering code, items "2", "3"..., each relying on it; no place (the line has its own)."""
    return {
        "@type": "ProductOrder",
        "relatedParty": [existing_customer_party(customer)],
        "productOrderItem": [
            {
                "id": "1",
                "action": "noChange",
                "product": {"id": product_id, "@type": "Product", "@referredType": "Product"},
                "@type": "ProductOrderItem",
            },
            *(add_on_item(str(n), code) for n, code in enumerate(add_ons, 2)),
        ],
        **body,
    }
