"""What the served OpenAPI document says of the TMF622 endpoints beside their resources (which
are tmf.productorder.serializers, the same serializers that validate the bodies): the error
answers, the query parameters and the operations' descriptions."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from tmf.docs import error_responses

ERRORS = error_responses(
    {
        400: "Invalid request (every problem listed)",
        401: "No or unknown bearer token",
        403: "The client's scopes do not allow this",
        404: "No such resource",
        405: "Method not allowed",
        409: "Conflict (duplicate order, idempotency key reused, order not in a state for this)",
    }
)


FIELDS_PARAMETER = [
    OpenApiParameter(
        "fields",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Comma-separated first-level attributes to return (id, href, orderDate, "
        "state, relatedParty and productOrderItem always come: a selection is still a valid "
        "ProductOrder).",
    )
]
LIST_PARAMETERS = [
    *FIELDS_PARAMETER,
    OpenApiParameter("offset", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Default 0."),
    OpenApiParameter(
        "limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Default 100, at most 1000."
    ),
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description='Page on from a previous page: the value in its Link rel="next" URL '
        "(an opaque key of that page's last row). As fast as the first page however deep; "
        "offset, when also given, skips rows after the cursor. X-Total-Count is exact up to "
        "10,000 rows, PostgreSQL's estimate beyond.",
    ),
]
ORDER_FILTER_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=text)
    for name, text in {
        "id": "Order ID (any spelling; a,b for either).",
        "state": "TMF state, e.g. inProgress or acknowledged,pending.",
        "externalId": "The caller's reference.",
        "orderDate": "A day (2026-11-30) or instant; also orderDate.gte / .gt / .lte / .lt.",
        "completionDate": "As orderDate.",
        "relatedParty.id": "The customer's id.",
        "productOrderItem.productOffering.id": "The offering (plan code).",
    }.items()
]

CREATE_DESCRIPTION = """
The internet access line and its add-ons (a static IP, a managed router), each an item with its
own `id`, action `add`, `quantity` 1 and `productOffering.id` (a TMF620 offering). An add-on
names the line in `productOrderItemRelationship` (`[{"id": "1", "relationshipType":
"reliesOn"}]`). The line carries the service address as its `product.place` (role
`installationAddress`, GeographicAddress attributes streetNr, streetName, locality, city,
postcode, country). A combination that cannot be ordered (an add-on without a line, two lines,
an add-on relying on an unknown item or on another add-on, a router model that does not suit the
address's network) is a 400 naming each item and its rule; every answer gives each item's
`state` and `itemPrice`, and the order's `orderTotalPrice`. `relatedParty` names the customer:
`id` of an existing customer, or a new customer's `name` with `contactMedium` (an `email`
medium with `characteristic.emailAddress`, a `phone`/`mobile` medium with
`characteristic.phoneNumber`).
A new customer whose e-mail address is an existing customer's orders as that customer; a phone
number alone never does (households share numbers): it is a new customer. The customer's name
is at most 120 characters, the street line (streetNr, streetName and streetType) 120.
`requestedStartDate` on a later day holds the order (state `pending`) until then. The address is
checked with the same eligibility rules as the sales form. The answer's `id` is the shared order
ID; `Location` equals `href`. Send `Idempotency-Key` to make retries safe.

Add-ons for a customer's live line (a static IP or a router for a line already in service): name
the line as an item with action `noChange` and its installed-base product by reference,
`product.id` (the TMF637 product id; `productOffering`, optional there, must be the line's), and
the add-ons as `add` items relying on it; `relatedParty` is the line's customer, and no place is
needed (the order goes at the line's address):

    {"relatedParty": [{"id": "42", "role": "Customer"}],
     "productOrderItem": [
       {"id": "1", "action": "noChange", "product": {"id": "<TMF637 product id>"}},
       {"id": "2", "action": "add", "productOffering": {"id": "static-ip"},
        "productOrderItemRelationship": [{"id": "1", "relationshipType": "reliesOn"}]}]}

The answer shows item 1 `completed`, at no price, its `product` with the line's `id` and
`href`; only the add-ons are priced (`orderTotalPrice`), delivered and billed (on the line's
bill), and each add-on's TMF637 product `reliesOn` the line. Refused with a 400 naming the item:
no `product.id`, a product that is not a line of the installed base, another offering than the
line's, a `place` on the line, a line not active or not this customer's, an add-on the line has
already, an order that adds nothing.

Changes to a live line are orders too, each with its own ID, naming the installed-base products
by `product.id` (TMF637), with `relatedParty` the line's customer by `id` and no place:

- a plan change (upgrade or downgrade): one item `{"id": "1", "action": "modify", "product":
  {"id": "<line>"}, "productOffering": {"id": "<new offering>"}}`; the new plan must be on sale
  at the line's address;
- a suspension / resumption: `{"id": "1", "action": "modify", "product": {"id": "<line>",
  "status": "suspended"}}` / `... "status": "active"` (TMF622 ProductStatusType values);
- a cease: `{"id": "1", "action": "delete", "product": {"id": "<line>"}}` and one
  `{"action": "delete", "product": {"id": "<add-on>"}}` item per add-on in service on the line,
  each `productOrderItemRelationship` `[{"id": "1", "relationshipType": "reliesOn"}]`;
- one add-on taken off: item 1 the line with action `noChange`, item 2 the add-on's `delete`
  relying on it.

The answer's items keep their action; each `product` names the live product (`id`, `href` to
TMF637, and on a suspension or resumption the `status` asked for); a plan change's
`productOffering` is the new offering and its `itemPrice` the new monthly price, every other
change is at no price. Once the order completes, TMF637 shows the product on its new offering,
`suspended`, `active` again, or `terminated` with its `terminationDate`, and its hub publishes
`ProductAttributeValueChangeEvent` (a plan change) or `ProductStateChangeEvent`. Refused with a
400 naming the item: a product that is not a line (or an add-on) in service, a line of another
customer, a modify that names neither a new plan nor a status (or both), a change the line's
state does not allow (only a suspended line resumes, only an active one changes or is
suspended, a ceased one is not ceased again), a cease that leaves out one of the line's add-ons
(the message names them), a plan the line is on already or not sold at its address. A line takes
one order at a time: while one is open, another is a 409 (naming the open order to a client
with `read`).
"""
READ_DESCRIPTION = """
Orders linked to another carry `orderRelationship` (TMF622 v5's OrderRelationship, on this v4
API as an extension: `id`, `href`, `relationshipType`, `@referredType` `ProductOrder`). A move
home is one customer request taken as two orders carried out together (TM Forum 5.3.5's
grouping of order actions), and each names the other:

- `movesTo` on the cease of the old line: it names the new line's order at the new address,
  which it waits for (the cease stays `pending` until that line is live, then runs that day);
- `movesFrom` on the new line's order: it names the cease of the line at the old address.

Cancelling either order cancels both (until the new line's point of no return). Orders of
their own have no `orderRelationship`.
"""
PATCH_DESCRIPTION = """
Merge patch. Changeable: `externalId`; `requestedStartDate` while the order has not started
(acknowledged or pending); `note` (each note is added to the order's timeline);
`productOrderItem`, the full item list the order should have, as in a create: the internet
access item keeps its `id` (another `productOffering.id` changes the plan), each add-on
`reliesOn` it (one left out is taken off, a new one is added; an item already taken off sent
back is ignored). Items can change until the plan's point of no return (activating the line):
after it the answer is 409 `PONR`; a closed or cancelling order, and an order about a live
line (add-ons for it, a plan change, a suspension or a cease: cancel it and order again), is
409 `NOT_AMENDABLE`; a combination that cannot be ordered is a 400 naming the item
(`productOrderItem[i]`); a task of what changes running on the network at that moment is a 409
`CONFLICT` (try again in a moment). The order is re-priced (`orderTotalPrice`) and the hub told
(ProductOrderAttributeValueChangeEvent, `fieldPath` naming what changed). Attributes sent
back unchanged are accepted; any other change is a 400 naming it. To cancel, POST
cancelProductOrder.
"""
DELETE_DESCRIPTION = """
Removes a completed, partial, cancelled or rejected order from this API (list and retrieve no
longer return it). The order and its history stay with the ISP's staff. An open order is a 409.
"""
CANCEL_DESCRIPTION = """
Cancels an open order before its point of no return (for an internet line: activating it). An
acknowledged, pending, manual or held order can always be cancelled; an order in progress until
its point of no return has started, after which the answer is 409 with code `PONR` and the task
and time in the message. Live or closed orders answer 409 `NOT_CANCELLABLE`.

When nothing was done on the network the order is cancelled at once and the cancelProductOrder
is `done`. Otherwise what was done is undone first, in reverse order: the cancelProductOrder is
`inProgress` and the order `pendingCancellation` until every undo is done; then the order is
`cancelled` and the request `done` (a CancelProductOrderStateChangeEvent on the hub).

A `requestedCancellationDate` on a later day than today schedules the cancellation for that
instant: the answer is 201 with the request `acknowledged`, and the order goes on as it is until
then. On the date the request becomes `inProgress` and the order is cancelled as above (`done`
at once, or when every undo is done). If by then the order can no longer be cancelled (past its
point of no return, live or closed) it is left alone and the request is `terminatedWithError`;
the same if the ISP's staff withdraw the cancellation before its date. Each move is a
CancelProductOrderStateChangeEvent whose `description` says why. An order takes one scheduled
cancellation at a time: another is 409 `NOT_CANCELLABLE` naming its date. Today or an earlier
instant cancels now.
"""
