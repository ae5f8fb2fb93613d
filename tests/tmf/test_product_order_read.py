"""Reading orders through TMF622: the list (newest first, paged, filtered, trimmed with fields=)
and retrieving one order by its shared ID."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from orders import order_id
from orders.models import Order
from tests.tmf.product_order_bodies import ORDERS, ids, order_body

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture
def three_orders(
    api_writer, plan, manual_area, serviceable_area, django_capture_on_commit_callbacks
):
    """Three orders on three days: an open one (Nov 1), a completed one (Nov 2), and a pending
    one (Nov 3, the newest), each for its own customer. Returned oldest first."""
    bodies = [
        order_body(postcode=manual_area.postcode, externalId="crm-1"),
        order_body(postcode=serviceable_area.postcode, externalId="crm-2"),
        order_body(
            postcode=manual_area.postcode,
            externalId="crm-3",
            requestedStartDate=(timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        ),
    ]
    orders = []
    for day, body in enumerate(bodies, start=1):
        with django_capture_on_commit_callbacks(execute=True):
            created = api_writer.post(ORDERS, body, format="json").json()
        Order.objects.filter(pk=created["id"]).update(
            submitted_at=datetime.datetime(2026, 11, day, 12, 0, tzinfo=UTC)
        )
        orders.append(Order.objects.get(pk=created["id"]))
    assert [o.get_status_display() for o in orders] == [
        "Awaiting manual provisioning",
        "Completed",
        "Scheduled",
    ]
    return orders


def test_list_is_newest_first(api_reader, three_orders):
    response = api_reader.get(ORDERS)

    assert response.status_code == 200
    assert ids(response.json()) == [o.pk for o in reversed(three_orders)]
    assert response.json()[0]["orderDate"] == "2026-11-03T12:00:00.000Z"


def test_list_pages_with_offset_limit_and_counts(api_reader, three_orders):
    page = api_reader.get(ORDERS, {"offset": 1, "limit": 1})

    assert ids(page.json()) == [three_orders[1].pk]
    assert page["X-Total-Count"] == "3"
    assert page["X-Result-Count"] == "1"

    past_the_end = api_reader.get(ORDERS, {"offset": 5})
    assert past_the_end.json() == []
    assert (past_the_end["X-Total-Count"], past_the_end["X-Result-Count"]) == ("3", "0")


@pytest.mark.parametrize(
    "params", [{"offset": "-1"}, {"limit": "ten"}, {"limit": "-5"}, {"offset": "1.5"}]
)
def test_bad_offset_or_limit_is_a_400_naming_it(api_reader, three_orders, params):
    response = api_reader.get(ORDERS, params)

    assert response.status_code == 400
    [name] = params
    assert name in response.json()["fieldErrors"]


@pytest.mark.parametrize(
    "params",
    [
        {"orderDate": "last tuesday"},
        {"orderDate.gte": "2026-13-40"},
        {"completionDate.lt": "0001-01-01T00:00:00+14:00"},
        {"orderDate.gt": "2026-11-01,2026-11-02"},
        {"state.gt": "completed"},
    ],
)
def test_a_filter_value_we_cannot_read_is_a_400_naming_the_parameter(
    api_reader, three_orders, params
):
    # When a list is asked with a filter whose value (or operator) makes no sense for it
    response = api_reader.get(ORDERS, params)

    # Then the 400 names that query parameter, as it names a body's attributes
    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == set(params)


def test_fields_keeps_the_asked_attributes_and_the_identifying_ones(api_reader, three_orders):
    listed = api_reader.get(ORDERS, {"fields": "state"}).json()

    assert set(listed[0]) == {
        "id",
        "href",
        "orderDate",
        "state",
        "relatedParty",
        "productOrderItem",
        "@type",
    }

    one = api_reader.get(f"{ORDERS}/{three_orders[0].pk}", {"fields": "externalId"}).json()
    assert one["externalId"] == "crm-1"
    assert "description" not in one


@pytest.mark.parametrize(
    "spelling",
    [
        lambda pk: pk,
        lambda pk: order_id.display(pk).lower(),  # as read out on the phone: k7qm3-xpa9z
        lambda pk: f" {pk[:5]} {pk[5:]} ",
    ],
    ids=["canonical", "lower-case-with-dash", "spaced"],
)
def test_filter_by_id_in_any_spelling(api_reader, three_orders, spelling):
    wanted = three_orders[1].pk

    listed = api_reader.get(ORDERS, {"id": spelling(wanted)}).json()

    assert ids(listed) == [wanted]


def test_filter_by_an_id_that_cannot_exist_finds_nothing(api_reader, three_orders):
    mistyped = three_orders[0].pk[:-1] + ("0" if three_orders[0].pk[-1] != "0" else "1")

    response = api_reader.get(ORDERS, {"id": mistyped})

    assert response.status_code == 200
    assert response.json() == []


def test_filter_by_tmf_state_with_comma_as_or(api_reader, three_orders):
    open_order, completed, pending = three_orders

    assert ids(api_reader.get(ORDERS, {"state": "completed"}).json()) == [completed.pk]
    assert ids(api_reader.get(ORDERS, {"state": "inProgress"}).json()) == [open_order.pk]
    assert ids(api_reader.get(ORDERS, {"state": "pending,inProgress"}).json()) == [
        pending.pk,
        open_order.pk,
    ]


def test_unknown_state_value_is_a_400(api_reader, three_orders):
    response = api_reader.get(ORDERS, {"state": "awaiting_manual"})

    assert response.status_code == 400
    error = response.json()
    assert "state" in error["fieldErrors"]
    assert "inProgress" in error["message"]  # the states it could have used


def test_filter_by_external_id(api_reader, three_orders):
    listed = api_reader.get(ORDERS, {"externalId": "crm-2,crm-3"}).json()

    assert ids(listed) == [three_orders[2].pk, three_orders[1].pk]


def test_filter_by_order_date_day_and_range(api_reader, three_orders):
    first, second, third = three_orders

    assert ids(api_reader.get(ORDERS, {"orderDate": "2026-11-02"}).json()) == [second.pk]
    assert ids(api_reader.get(ORDERS, {"orderDate.gte": "2026-11-02"}).json()) == [
        third.pk,
        second.pk,
    ]
    assert ids(api_reader.get(ORDERS, {"orderDate.lt": "2026-11-02"}).json()) == [first.pk]
    # A day as an upper bound includes that day.
    assert ids(api_reader.get(ORDERS, {"orderDate.lte": "2026-11-02"}).json()) == [
        second.pk,
        first.pk,
    ]
    assert ids(api_reader.get(ORDERS, {"orderDate.gt": "2026-11-02"}).json()) == [third.pk]
    assert ids(
        api_reader.get(ORDERS, {"orderDate.gte": "2026-11-02", "orderDate.lt": "2026-11-03"}).json()
    ) == [second.pk]
    assert ids(api_reader.get(ORDERS, {"orderDate": "2026-11-02T12:00:00Z"}).json()) == [second.pk]


def test_the_order_date_an_order_shows_finds_that_order_again(api_writer, plan, serviceable_area):
    # Given an order placed now: the database keeps microseconds, the API shows milliseconds
    body = order_body(postcode=serviceable_area.postcode, offering=plan.code)
    created = api_writer.post(ORDERS, body, format="json").json()
    shown = created["orderDate"]
    assert shown.endswith("Z") and len(shown.split(".")[1]) == 4  # e.g. 12:34:56.789Z
    # When a client filters on the value it read (as conformance tooling does)
    # Then the order is found, and the operators treat the value as that whole millisecond
    assert ids(api_writer.get(ORDERS, {"orderDate": shown}).json()) == [created["id"]]
    assert ids(api_writer.get(ORDERS, {"orderDate.lte": shown}).json()) == [created["id"]]
    assert ids(api_writer.get(ORDERS, {"orderDate.gte": shown}).json()) == [created["id"]]
    assert ids(api_writer.get(ORDERS, {"orderDate.lt": shown}).json()) == []
    assert ids(api_writer.get(ORDERS, {"orderDate.gt": shown}).json()) == []


@pytest.mark.parametrize(
    "params",
    [
        {"orderDate": "yesterday"},
        {"orderDate": "2026-13-01"},
        {"orderDate.gte": "2026-11-02T25:00:00Z"},
        {"completionDate.lt": "2026-02-30"},
        {"orderDate.gte": "2026-11-01,2026-11-02"},
    ],
)
def test_bad_order_date_is_a_400(api_reader, three_orders, params):
    response = api_reader.get(ORDERS, params)

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_VALUE"
    assert "_at" not in response.json()["message"]  # no internal column names


def test_filter_by_related_party_id(api_writer, api_reader, three_orders, manual_area):
    customer = three_orders[0].customer
    another = api_writer.post(
        ORDERS,
        order_body(
            postcode=manual_area.postcode,
            street="2 Other Road",
            party={"id": str(customer.pk), "role": "Customer"},
        ),
        format="json",
    ).json()

    listed = api_reader.get(ORDERS, {"relatedParty.id": str(customer.pk)}).json()

    assert ids(listed) == [another["id"], three_orders[0].pk]
    for nobody in ("not-a-customer", "²", "99999999999999999999999"):
        response = api_reader.get(ORDERS, {"relatedParty.id": nobody})
        assert (response.status_code, response.json()) == (200, [])


def test_filters_combine_with_and(api_reader, three_orders):
    completed = three_orders[1]

    both = api_reader.get(ORDERS, {"state": "inProgress,completed", "externalId": "crm-2"})
    none = api_reader.get(ORDERS, {"state": "inProgress", "externalId": "crm-2"})

    assert ids(both.json()) == [completed.pk]
    assert none.json() == []
    assert none["X-Total-Count"] == "0"


def test_filters_and_paging_count_the_filtered_orders(api_reader, three_orders):
    response = api_reader.get(ORDERS, {"state": "inProgress,pending", "limit": 1})

    assert response["X-Total-Count"] == "2"
    assert ids(response.json()) == [three_orders[2].pk]


@pytest.mark.parametrize("param", ["customerName", "state.gte", "foo.bar"])
def test_unknown_filter_attribute_is_a_400(api_reader, three_orders, param):
    # A client that believes it filtered would otherwise act on every order.
    response = api_reader.get(ORDERS, {param: "x"})

    assert response.status_code == 400


# --- one order ----------------------------------------------------------------------------------
def test_retrieve_by_id_in_any_spelling(api_reader, three_orders):
    order = three_orders[0]

    fetched = api_reader.get(f"{ORDERS}/{order_id.display(order.pk).lower()}")

    assert fetched.status_code == 200
    assert fetched.json()["id"] == order.pk
    assert fetched.json()["href"].endswith(f"/productOrder/{order.pk}")


@pytest.mark.parametrize("text", ["unknown", "ABCDEFGHJK", "12345"])
def test_retrieve_unknown_or_invalid_id_is_a_tmf_404(api_reader, three_orders, text):
    response = api_reader.get(f"{ORDERS}/{text}")

    assert response.status_code == 404
    error = response.json()
    assert (error["code"], error["status"], error["@type"]) == ("NOT_FOUND", "404", "Error")


def test_retrieve_a_well_formed_id_of_no_order_is_a_404(api_reader, three_orders):
    unused = order_id.generate()

    assert api_reader.get(f"{ORDERS}/{unused}").status_code == 404


def test_representation_carries_what_billing_needs(api_reader, three_orders):
    fetched = api_reader.get(f"{ORDERS}/{three_orders[1].pk}").json()

    [price] = fetched["orderTotalPrice"]
    assert price["priceType"] == "recurring"
    assert price["price"]["taxIncludedAmount"] == {"unit": "GBP", "value": 35.0}
    assert fetched["productOrderItem"][0]["productOffering"]["id"] == "fibre-500"
    assert fetched["completionDate"] >= fetched["orderDate"]
