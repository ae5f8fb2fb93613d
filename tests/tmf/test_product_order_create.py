"""TMF622 createProductOrder as a CRM integrator sees it: what a 201 carries, where the order
lands in the ISP's own records, how it proceeds, and how a refused body is explained (every
problem at once, nothing half-written)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from orders import order_id
from orders.models import Customer, Order, OrderEvent, Plan
from orders.states import EventSource
from tests.factories import CustomerFactory
from tests.tmf.product_order_bodies import (
    ORDERS,
    existing_customer_party,
    item,
    new_customer_party,
    order_body,
    place,
    post_refused,
    row_counts,
    with_changes,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _day(offset: int) -> str:
    return (TODAY() + datetime.timedelta(days=offset)).isoformat()


# --- a placed order -----------------------------------------------------------------------------
def test_create_answers_201_with_the_shared_order_id_and_location_equal_to_href(
    api_writer, plan, manual_area
):
    response = api_writer.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert order_id.is_valid(body["id"])
    assert response["Location"] == body["href"]
    assert body["href"].endswith(f"/productOrder/{body['id']}")
    assert body["@type"] == "ProductOrder"
    assert body["orderDate"].endswith("Z")
    assert body["state"] == "acknowledged"  # activation runs after commit


def test_created_order_is_the_same_order_the_staff_pages_show(
    api_writer, plan, manual_area, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_writer.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")

    order = Order.objects.get(pk=response.json()["id"])
    assert order.channel == EventSource.API
    assert order.submitted_by == api_writer.client_row.user
    assert order.submitted_by.username == "api:writer"
    submitted = order.events.get(kind=OrderEvent.Kind.STATUS_CHANGED, from_status="")
    assert submitted.source == EventSource.API
    assert submitted.actor == api_writer.client_row.user
    assert order.plan == plan
    assert order.service_postcode == "IV11AA"


def test_service_address_round_trips_through_the_item_place(api_writer, plan, manual_area):
    body = order_body(
        postcode="iv1 1aa", street="Flat 2, 7 Castle Street", locality="Crown", city="Inverness"
    )

    created = api_writer.post(ORDERS, body, format="json").json()
    fetched = api_writer.get(created["href"]).json()

    for representation in (created, fetched):
        address = place(representation)
        assert address["role"] == "installationAddress"
        assert address["@type"] == "GeographicAddress"
        assert address["streetName"] == "Flat 2, 7 Castle Street"
        assert address["locality"] == "Crown"
        assert address["city"] == "Inverness"
        assert address["postcode"] == "IV1 1AA"  # as written on an envelope
        assert address["country"] == "GB"
        assert item(representation)["productOffering"]["id"] == "fibre-500"


def test_street_number_name_and_type_make_the_street_line(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    item(body)["product"]["place"][0].update(
        {"streetNr": "7", "streetName": "Castle", "streetType": "Street"}
    )

    created = api_writer.post(ORDERS, body, format="json").json()

    assert place(created)["streetName"] == "7 Castle Street"
    assert Order.objects.get(pk=created["id"]).service_address_line1 == "7 Castle Street"


def test_a_name_longer_than_the_limit_is_refused_naming_the_field_and_the_limit(
    api_writer, plan, manual_area
):
    party = new_customer_party(name="N" * 5000)

    error = post_refused(api_writer, order_body(postcode=manual_area.postcode, party=party))

    assert "120 characters" in error["fieldErrors"]["relatedParty[0].name"]


def test_a_street_line_longer_than_the_limit_is_refused_not_cut(api_writer, plan, manual_area):
    # Given a street number, name and type that fit one by one but not together
    body = order_body(postcode=manual_area.postcode)
    item(body)["product"]["place"][0].update(
        {"streetNr": "12", "streetName": "S" * 115, "streetType": "Street"}
    )

    # When it is sent, then it is refused with the limit, instead of stored cut at 120
    error = post_refused(api_writer, body)

    message = error["fieldErrors"]["productOrderItem[0].product.place[0].streetName"]
    assert "at most 120 characters" in message


def test_external_id_is_kept_and_filterable(api_writer, plan, manual_area):
    created = api_writer.post(
        ORDERS, order_body(postcode=manual_area.postcode, externalId="CRM-4711"), format="json"
    ).json()
    api_writer.post(
        ORDERS, order_body(postcode=manual_area.postcode, externalId="CRM-4712"), format="json"
    )

    assert created["externalId"] == "CRM-4711"
    found = api_writer.get(ORDERS, {"externalId": "CRM-4711"}).json()
    assert [entry["id"] for entry in found] == [created["id"]]


def test_related_party_names_the_new_customer(api_writer, plan, manual_area):
    party = new_customer_party(
        name="Grace Hopper", email="Grace@Example.com", phone="+44 7700 900111"
    )

    created = api_writer.post(
        ORDERS, order_body(postcode=manual_area.postcode, party=party), format="json"
    ).json()

    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.phone) == (
        "Grace Hopper",
        "grace@example.com",
        "07700900111",
    )
    assert created["relatedParty"] == [
        {
            "id": str(customer.pk),
            "name": "Grace Hopper",
            "role": "Customer",
            "@referredType": "Individual",
        }
    ]


def test_existing_customer_by_id_orders_for_that_customer(api_writer, plan, manual_area):
    customer = CustomerFactory(name="Known Customer")

    created = api_writer.post(
        ORDERS,
        order_body(postcode=manual_area.postcode, party=existing_customer_party(customer)),
        format="json",
    ).json()

    assert Customer.objects.count() == 1
    assert Order.objects.get(pk=created["id"]).customer == customer
    assert created["relatedParty"][0]["id"] == str(customer.pk)
    assert created["relatedParty"][0]["name"] == "Known Customer"


def test_new_customer_with_an_existing_customers_email_reuses_that_customer(
    api_writer, plan, manual_area
):
    customer = CustomerFactory(email="repeat@example.com")
    party = new_customer_party(name="R. Peat", email="REPEAT@example.com")

    created = api_writer.post(
        ORDERS, order_body(postcode=manual_area.postcode, party=party), format="json"
    ).json()

    assert Customer.objects.count() == 1
    assert created["relatedParty"][0]["id"] == str(customer.pk)


def test_a_new_customer_sharing_an_existing_customers_phone_is_a_new_customer(
    api_writer, plan, manual_area
):
    # Given a customer, and an order from a CRM for someone else with the same phone number
    jane = CustomerFactory(name="Jane Doe", email="jane@example.com", phone="07700900123")
    party = new_customer_party(name="John Doe", email="john@example.com", phone="+447700900123")

    # When it is placed
    created = api_writer.post(
        ORDERS, order_body(postcode=manual_area.postcode, party=party), format="json"
    )

    # Then the order is the new customer's, with the details sent, and not Jane's
    assert created.status_code == 201, created.json()
    john = Customer.objects.get(pk=created.json()["relatedParty"][0]["id"])
    assert (john.name, john.email) == ("John Doe", "john@example.com")
    assert not jane.orders.exists()


# --- what happens next (after commit) -------------------------------------------------------------
def _place_and_fetch(caller, capture, body):
    with capture(execute=True):
        response = caller.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    return caller.get(response["Location"]).json()


def test_order_at_an_automated_address_activates_and_completes(
    api_writer, plan, serviceable_area, django_capture_on_commit_callbacks
):
    fetched = _place_and_fetch(
        api_writer,
        django_capture_on_commit_callbacks,
        order_body(postcode=serviceable_area.postcode),
    )

    assert fetched["state"] == "completed"
    assert fetched["completionDate"].endswith("Z")
    assert item(fetched)["state"] == "completed"


def test_order_at_a_manual_address_is_in_progress(
    api_writer, plan, manual_area, django_capture_on_commit_callbacks
):
    fetched = _place_and_fetch(
        api_writer, django_capture_on_commit_callbacks, order_body(postcode=manual_area.postcode)
    )

    assert fetched["state"] == "inProgress"
    assert "completionDate" not in fetched


def test_order_whose_activation_fails_is_held(
    api_writer, plan, faulty_area, django_capture_on_commit_callbacks
):
    fetched = _place_and_fetch(
        api_writer, django_capture_on_commit_callbacks, order_body(postcode=faulty_area.postcode)
    )

    assert fetched["state"] == "held"


def test_future_requested_start_date_holds_the_order_as_pending_until_released(
    api_writer, plan, serviceable_area, django_capture_on_commit_callbacks
):
    later = _day(10)
    fetched = _place_and_fetch(
        api_writer,
        django_capture_on_commit_callbacks,
        order_body(postcode=serviceable_area.postcode, requestedStartDate=later),
    )
    assert fetched["state"] == "pending"
    assert fetched["requestedStartDate"].startswith(later)

    with django_capture_on_commit_callbacks(execute=True):
        patched = api_writer.patch(fetched["href"], {"requestedStartDate": _day(0)}, format="json")

    assert patched.status_code == 200, patched.json()
    assert api_writer.get(fetched["href"]).json()["state"] == "completed"


def test_requested_start_date_as_date_time_is_read_as_that_day(api_writer, plan, manual_area):
    later = TODAY() + datetime.timedelta(days=3)
    created = api_writer.post(
        ORDERS,
        order_body(postcode=manual_area.postcode, requestedStartDate=f"{later}T09:00:00Z"),
        format="json",
    ).json()

    assert created["state"] == "pending"
    assert Order.objects.get(pk=created["id"]).requested_activation_date == later


def test_past_requested_start_date_is_refused_naming_it(api_writer, plan, manual_area):
    before = row_counts()

    response = api_writer.post(
        ORDERS,
        order_body(postcode=manual_area.postcode, requestedStartDate=_day(-1)),
        format="json",
    )

    assert response.status_code == 400
    assert "requestedStartDate" in response.json()["fieldErrors"]
    assert row_counts() == before


def test_past_requested_start_date_is_listed_with_the_bodys_other_problems(
    api_writer, plan, manual_area
):
    body = order_body(
        postcode=manual_area.postcode, offering="gold-9000", requestedStartDate=_day(-1)
    )

    response = api_writer.post(ORDERS, body, format="json")

    assert set(response.json()["fieldErrors"]) == {
        "requestedStartDate",
        "productOrderItem[0].productOffering.id",
    }


# --- refused bodies: every problem, nothing written ----------------------------------------------
def test_malformed_json_is_a_400_tmf_error(api_writer, plan, manual_area):
    error = post_refused(api_writer, '{"productOrderItem": [', content_type="application/json")

    assert error["code"] == "MALFORMED_BODY"
    assert set(error["fieldErrors"]) == {"body"}


@pytest.mark.parametrize("body", [[], "an order", 42])
def test_a_body_that_is_not_an_object_is_refused(api_writer, plan, body):
    error = post_refused(api_writer, body)

    assert error["code"] == "MALFORMED_BODY"
    assert "object" in error["message"]


def test_every_problem_of_a_body_is_listed_with_its_path(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode, offering="no-such-offering")
    body.update(
        {
            "id": "ABCDE12345",
            "state": "completed",
            "externalId": 4711,
            "requestedStartDate": "next tuesday",
            "relatedParty": [{"role": "Customer", "name": "No Contact"}],
        }
    )
    item(body)["action"] = "modify"
    item(body)["quantity"] = "1"
    item(body)["product"]["place"][0]["city"] = ["London"]

    error = post_refused(api_writer, body)

    assert error["code"] == "INVALID_VALUE"
    assert set(error["fieldErrors"]) == {
        "id",
        "state",
        "externalId",
        "requestedStartDate",
        "relatedParty[0]",
        "productOrderItem[0].action",
        "productOrderItem[0].quantity",
        "productOrderItem[0].productOffering.id",
        "productOrderItem[0].product.place[0].city",
    }
    # The message repeats them, so a log line alone tells the whole story.
    for path in error["fieldErrors"]:
        assert path in error["message"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"productOrderItem": "one"}, "productOrderItem"),
        ({"productOrderItem": []}, "productOrderItem"),
        ({"relatedParty": {"id": "1"}}, "relatedParty"),
        ({"relatedParty": []}, "relatedParty"),
        ({"externalId": ["a"]}, "externalId"),
        ({"requestedStartDate": 20261130}, "requestedStartDate"),
    ],
)
def test_wrong_types_and_missing_parts_are_named(api_writer, plan, manual_area, change, path):
    error = post_refused(
        api_writer, with_changes(order_body(postcode=manual_area.postcode), **change)
    )

    assert path in error["fieldErrors"]


def test_missing_item_is_refused(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    del body["productOrderItem"]

    error = post_refused(api_writer, body)

    assert "productOrderItem" in error["fieldErrors"]


def test_two_internet_access_lines_are_refused_naming_the_second(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    body["productOrderItem"].append({**item(body), "id": "2"})

    error = post_refused(api_writer, body)

    assert error["fieldErrors"] == {
        "productOrderItem[1]": "An order holds one internet access line."
    }
    assert "Item 2: An order holds one internet access line." in error["message"]


def test_action_other_than_add_is_refused(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    item(body)["action"] = "modify"

    error = post_refused(api_writer, body)

    assert "'add'" in error["fieldErrors"]["productOrderItem[0].action"]


def test_missing_address_is_refused(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    del item(body)["product"]["place"]

    error = post_refused(api_writer, body)

    assert "productOrderItem[0].product.place" in error["fieldErrors"]


@pytest.mark.parametrize(
    ("empty", "paths"),
    [
        ({"product": {}}, {"productOrderItem[0].product.place"}),
        (
            {"product": {"place": [{}]}},
            {
                "productOrderItem[0].product.place[0].postcode",
                "productOrderItem[0].product.place[0].streetName",
                "productOrderItem[0].product.place[0].city",
            },
        ),
    ],
)
def test_empty_objects_are_refused_naming_what_they_lack(
    api_writer, plan, manual_area, empty, paths
):
    body = order_body(postcode=manual_area.postcode)
    item(body).update(empty)

    error = post_refused(api_writer, body)

    assert set(error["fieldErrors"]) == paths


def test_an_empty_item_is_refused_naming_what_it_lacks(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    body["productOrderItem"] = [{}]

    error = post_refused(api_writer, body)

    assert {
        "productOrderItem[0].id",
        "productOrderItem[0].action",
        "productOrderItem[0].productOffering",
        "productOrderItem[0].product",
    } <= set(error["fieldErrors"])


def test_unknown_offering_is_refused(api_writer, plan, manual_area):
    error = post_refused(
        api_writer, order_body(postcode=manual_area.postcode, offering="gold-9000")
    )

    assert error["fieldErrors"] == {
        "productOrderItem[0].productOffering.id": "Item 1: No product offering 'gold-9000'."
    }


def test_retired_offering_is_refused(api_writer, plan, manual_area):
    Plan.objects.filter(pk=plan.pk).update(is_active=False)

    error = post_refused(api_writer, order_body(postcode=manual_area.postcode))

    assert "no longer sold" in error["fieldErrors"]["productOrderItem[0].productOffering.id"]


def test_unserviceable_postcode_is_refused_as_not_serviceable(api_writer, plan):
    error = post_refused(api_writer, order_body(postcode="ZZ9 9ZZ"))

    assert error["code"] == "NOT_SERVICEABLE"
    assert "productOrderItem[0].product.place[0].postcode" in error["fieldErrors"]


def test_offering_faster_than_the_address_allows_is_refused(api_writer, plan, slow_area):
    error = post_refused(api_writer, order_body(postcode=slow_area.postcode))

    assert error["code"] == "NOT_SERVICEABLE"
    assert "productOrderItem[0].productOffering.id" in error["fieldErrors"]
    assert "Fibre 500" in error["message"]


def test_unknown_customer_id_is_refused(api_writer, plan, manual_area):
    party = {"id": "987654", "role": "Customer"}

    error = post_refused(api_writer, order_body(postcode=manual_area.postcode, party=party))

    assert error["fieldErrors"] == {"relatedParty[0].id": "No customer with id '987654'."}


@pytest.mark.parametrize("party_id", ["²", "99999999999999999999999", "cust-7"])
def test_customer_ids_that_name_no_customer_are_a_400_not_a_crash(
    api_writer, plan, manual_area, party_id
):
    party = {"id": party_id, "role": "Customer"}

    error = post_refused(api_writer, order_body(postcode=manual_area.postcode, party=party))

    assert error["fieldErrors"] == {"relatedParty[0].id": f"No customer with id '{party_id}'."}


@pytest.mark.parametrize("phone", ["call me", "123", "+4477009001234567890"])
def test_a_new_customer_needs_a_phone_number_we_could_call(api_writer, plan, manual_area, phone):
    party = new_customer_party(phone=phone)

    error = post_refused(api_writer, order_body(postcode=manual_area.postcode, party=party))

    assert set(error["fieldErrors"]) == {
        "relatedParty[0].contactMedium[1].characteristic.phoneNumber"
    }


@pytest.mark.parametrize(
    "server_set",
    [{"id": "ABCDE12345"}, {"state": "acknowledged"}, {"orderDate": "2026-01-01T00:00:00Z"}],
)
def test_server_set_attributes_are_refused_in_a_create(api_writer, plan, manual_area, server_set):
    error = post_refused(api_writer, order_body(postcode=manual_area.postcode, **server_set))

    [name] = server_set
    assert "Set by the server" in error["fieldErrors"][name]


def test_a_refused_new_customer_is_not_created(api_writer, plan):
    # Serviceability is checked after the body is read: the customer must not survive the 400.
    post_refused(api_writer, order_body(postcode="ZZ9 9ZZ", party=new_customer_party()))

    assert not Customer.objects.exists()


# --- malformed parts, each named ------------------------------------------------------------
@pytest.mark.parametrize("meta", [["ProductOrder"], None, {"name": "ProductOrder"}, 7])
@pytest.mark.parametrize("where", ["@type", "@baseType", "@schemaLocation"])
def test_a_meta_attribute_that_is_not_text_is_refused_naming_it(
    api_writer, plan, manual_area, where, meta
):
    # Given an otherwise orderable body whose @type (or @baseType, ...) is a list, null, ...
    body = with_changes(order_body(postcode=manual_area.postcode), **{where: meta})

    # When it is posted, then it is a 400 naming that attribute, and no order is made
    error = post_refused(api_writer, body)
    assert error["fieldErrors"] == {where: "Must be a string."}


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("productOrderItem[0].@type", lambda body: item(body).update({"@type": None})),
        (
            "productOrderItem[0].productOffering.@referredType",
            lambda body: item(body)["productOffering"].update({"@referredType": ["x"]}),
        ),
        (
            "productOrderItem[0].product.place[0].@type",
            lambda body: place({"productOrderItem": [item(body)]}).update({"@type": "G" * 121}),
        ),
        (
            "relatedParty[0].@referredType",
            lambda body: body["relatedParty"][0].update({"@referredType": {"a": 1}}),
        ),
    ],
)
def test_a_nested_meta_attribute_that_is_malformed_is_refused_naming_it(
    api_writer, plan, manual_area, path, change
):
    # Given a body with a malformed meta attribute deep inside
    body = order_body(postcode=manual_area.postcode)
    change(body)

    # When it is posted, then the 400 names that attribute
    error = post_refused(api_writer, body)
    assert set(error["fieldErrors"]) == {path}


def test_a_junk_customer_id_beside_new_customer_details_is_refused_naming_it(
    api_writer, plan, manual_area
):
    # Given a new customer's name and contactMedium, and beside them a 100 KB id
    party = {**new_customer_party(), "id": "x" * 100_000}

    # When the order is posted, then the id is refused (not dropped for the details)
    error = post_refused(api_writer, order_body(postcode=manual_area.postcode, party=party))
    assert error["fieldErrors"] == {"relatedParty[0].id": "At most 100 characters."}


def test_a_create_sent_as_merge_patch_is_a_415_naming_the_content_type(
    api_writer, plan, manual_area
):
    # Given a valid create body labelled as a JSON merge patch (a PATCH format)
    body = json.dumps(order_body(postcode=manual_area.postcode))

    # When it is posted, then it is refused as the wrong media type, naming the header
    error = post_refused(api_writer, body, status=415, content_type="application/merge-patch+json")
    assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert set(error["fieldErrors"]) == {"Content-Type"}
    assert "application/json" in error["fieldErrors"]["Content-Type"]


def test_a_street_line_over_its_limit_is_refused_not_cut(api_writer, plan, manual_area):
    # Given a street number, name and type that together pass the 120 characters kept
    body = order_body(postcode=manual_area.postcode, street="S" * 112)
    place({"productOrderItem": [item(body)]}).update({"streetNr": "1234", "streetType": "Road"})

    # When it is posted, then it is refused naming the street and its limit (nothing cut)
    error = post_refused(api_writer, body)
    assert set(error["fieldErrors"]) == {"productOrderItem[0].product.place[0].streetName"}
    assert "120" in error["message"]


def test_a_body_over_the_upload_limit_is_a_413_before_it_is_read(
    api_writer, plan, manual_area, settings
):
    # Given a limit of 2 KB on request bodies and a create padded past it
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = order_body(postcode=manual_area.postcode, description="x" * 4096)

    # When it is posted, then it is refused as too large, naming the body
    error = post_refused(api_writer, body, status=413)
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert set(error["fieldErrors"]) == {"body"}
