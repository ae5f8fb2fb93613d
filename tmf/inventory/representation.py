"""A product of the installed base as a TMF637 v4 Product, the one shape used by responses and
hub events alike.

- ``id`` is the product's UUID; ``status`` its ProductStatusType; ``startDate`` when its order
  item completed. A product is one simple offering (``isBundle`` false) the customer knows they
  have (``isCustomerVisible`` true).
- ``productOffering`` and ``productSpecification`` point into TMF620 (the plan code, the
  specification code and version); ``productCharacteristic`` are the values as delivered
  (speeds and technology, a router's model); ``productPrice`` the prices as ordered: the
  monthly recurring charge, and the one-time charge where there was one.
- An add-on ``reliesOn`` the line it is on (``productRelationship``, the relationship type the
  TMF637 ProductRelationship definition documents for "an option on an already owned access
  product"), whether it was ordered with the line or later, for the live line (a TMF622 order
  whose noChange item names the line: its ``productOrderItem`` is that later order's); the
  customer is the ``relatedParty`` with role Customer and the id TMF622 gives
  customers; the order item it came from is ``productOrderItem`` (the shared order ID as
  ``productOrderId``); the service address is the ``place``, as TMF622 shows an item's
  product place.

Where the network identifiers go: ``realizingResource``. What fulfilment recorded (the access
port, the RADIUS subscriber, the static IPv4 address, the router's serial) are the network
resources that realize the product, not characteristics of it: characteristics are what was
sold and stay as sold, while a port or an address can be swapped by maintenance without the
product changing, and TMF637 models exactly that link as ``realizingResource`` (ResourceRef,
with ``value`` "a public key that identifies the resource"). Each is a ResourceRef whose
``name`` is the identifier's kind (``port``, ``subscriber``, ``ipv4Address``, ``cpeSerial``),
whose ``id`` and ``value`` are the identifier, and whose ``@referredType`` says whether it is a
physical resource (port, router) or a logical one (subscriber account, address). There is no
TMF639 resource inventory here to point an ``href`` at, so none is given. The router's serial is
also its ``productSerialNumber``, the attribute TMF637 names for "a tangible product, e.g. a
broadband router".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from rest_framework.request import Request

from inventory.models import Product
from tmf.catalog.representation import offering_ref, specification_ref
from tmf.common import absolute, drop_empty, iso
from tmf.productorder.representation import place_value

# Attributes every representation carries, whatever ``fields=`` asks for.
ALWAYS = ("id", "href", "@type")
RELIES_ON = "reliesOn"
CUSTOMER_ROLE = "Customer"
# The network identifiers fulfilment records (provisioning.scheduler), in the order shown, and
# the kind of resource each names.
RESOURCES = (
    ("port", "PhysicalResource"),
    ("subscriber", "LogicalResource"),
    ("ipv4Address", "LogicalResource"),
    ("cpeSerial", "PhysicalResource"),
)
SERIAL_NUMBER = "cpeSerial"


def product_path(product_id: object) -> str:
    return reverse("tmf637:product-detail", args=[str(product_id)])


def _value_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    return "string"


def _characteristics(product: Product) -> list[dict[str, Any]]:
    return [
        {"name": name, "valueType": _value_type(value), "value": value, "@type": "Characteristic"}
        for name, value in (product.characteristics or {}).items()
    ]


def _price(name: str, price_type: str, amount: Decimal, currency: str) -> dict[str, Any]:
    return {
        "name": name,
        "priceType": price_type,
        "price": {
            "taxIncludedAmount": {"unit": currency, "value": float(amount)},
            "@type": "Price",
        },
        "@type": "ProductPrice",
    }


def _prices(product: Product) -> list[dict[str, Any]]:
    monthly = _price("Monthly charge", "recurring", product.recurring_price, product.currency)
    monthly["recurringChargePeriod"] = "month"
    prices = [monthly]
    if product.one_time_price:
        prices.append(
            _price("One-time charge", "oneTime", product.one_time_price, product.currency)
        )
    return prices


def _relationships(product: Product, request: Request | None) -> list[dict[str, Any]]:
    parent = product.parent
    if parent is None:
        return []
    return [
        {
            "relationshipType": RELIES_ON,
            "product": {
                "id": str(parent.pk),
                "href": absolute(request, product_path(parent.pk)),
                "name": parent.name,
                "@referredType": "Product",
            },
            "@type": "ProductRelationship",
        }
    ]


def _resources(product: Product) -> list[dict[str, Any]]:
    identifiers = product.network_identifiers or {}
    return [
        {
            "id": str(identifiers[name]),
            "name": name,
            "value": str(identifiers[name]),
            "@referredType": referred_type,
        }
        for name, referred_type in RESOURCES
        if identifiers.get(name)
    ]


def product_representation(product: Product, request: Request | None = None) -> dict[str, Any]:
    """``product`` as a TMF637 Product. Pass products from ``tmf.inventory.selectors`` (their
    customer, order, item, offering, specification and parent read in the same query)."""
    order = product.order
    customer = product.customer
    specification = product.specification
    representation = {
        "id": str(product.pk),
        "href": absolute(request, product_path(product.pk)),
        "name": product.name,
        "description": f"{product.name} at {product.service_address}",
        "isBundle": False,
        "isCustomerVisible": True,
        "status": product.status,
        "orderDate": iso(order.submitted_at),
        "startDate": iso(product.start_date),
        "terminationDate": iso(product.termination_date),
        "productSerialNumber": (product.network_identifiers or {}).get(SERIAL_NUMBER),
        "productOffering": offering_ref(product.offering, request),
        "productSpecification": specification_ref(specification, request),
        "productCharacteristic": _characteristics(product),
        "productPrice": _prices(product),
        "productRelationship": _relationships(product, request),
        "relatedParty": [
            {
                "id": str(customer.pk),
                "name": customer.name,
                "role": CUSTOMER_ROLE,
                "@referredType": "Individual",
            }
        ],
        "productOrderItem": [
            {
                "orderItemId": product.order_item.item_id,
                "orderItemAction": product.order_item.action,
                "productOrderId": order.pk,
                "productOrderHref": absolute(
                    request, reverse("tmf622:product-order-detail", args=[order.pk])
                ),
                "@referredType": "ProductOrder",
            }
        ],
        "place": [place_value(order)],
        "realizingResource": _resources(product),
        "@type": "Product",
    }
    return drop_empty(representation)
