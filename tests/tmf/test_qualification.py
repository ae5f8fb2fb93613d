"""TMF679 Product Offering Qualification v4: a CRM asks whether offerings can be sold at an
address and gets the sales form's answer, kept for it alone."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.response import Response

from orders.cycle_times import cycle_times_refresh
from orders.forms import OrderEntryForm
from orders.models import Order, Plan, ServiceArea
from orders.selectors import add_working_days, estimated_activation_date
from orders.services import order_route_to_manual
from orders.states import EventSource
from tests.factories import PlanFactory, ServiceAreaFactory, activation_history, submit_order
from tests.tmf.conftest import TMF620, TMF622, TMF679, ApiCaller
from tests.tmf.schema import assert_each_valid, assert_valid
from tmf.common import iso
from tmf.models import ProductOfferingQualification

pytestmark = pytest.mark.django_db

QUALIFICATIONS = f"{TMF679}/productOfferingQualification"
UNSERVED = "ZZ9 9ZZ"  # a well-formed postcode with no ServiceArea row


def address(postcode: str, **extra: Any) -> dict[str, Any]:
    return {
        "role": "installationAddress",
        "streetNr": "10",
        "streetName": "Downing Street",
        "city": "London",
        "postcode": postcode,
        "country": "GB",
        "@type": "GeographicAddress",
        **extra,
    }


def ask(caller: ApiCaller, postcode: str | None = None, **body: Any) -> Response:
    if postcode is not None:
        body.setdefault("place", [address(postcode)])
    return caller.post(QUALIFICATIONS, body, format="json")


def asked(caller: ApiCaller, postcode: str, **body: Any) -> dict[str, Any]:
    response = ask(caller, postcode, **body)
    assert response.status_code == 201, response.content
    representation = response.json()
    assert_valid("TMF679", "ProductOfferingQualification", representation)
    return representation


def by_offering(qualification: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        item["productOffering"]["id"]: item
        for item in qualification["productOfferingQualificationItem"]
    }


def reason_codes(item: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in item.get("eligibilityUnavailabilityReason", [])]


def items(offerings: list[str]) -> list[dict[str, Any]]:
    return [
        {"id": str(number), "productOffering": {"id": code}}
        for number, code in enumerate(offerings, start=1)
    ]


def assert_error(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert_valid("TMF679", "Error", body)
    assert body["status"] == str(status)
    return body


@pytest.fixture
def slow_area(db: None) -> ServiceArea:
    """Copper up to 100 Mbps: too slow for fibre-500."""
    return ServiceAreaFactory(postcode="SL1 1AA", exchange="Slowbury", max_download_mbps=100)


@pytest.fixture
def basic_plan(db: None) -> Plan:
    return PlanFactory(code="fibre-80", name="Fibre 80", download_mbps=80)


# --- the answer -----------------------------------------------------------------------------
def test_an_automated_area_qualifies_every_offering_on_sale_for_today(
    plan: Plan, basic_plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    PlanFactory(code="retired-10", download_mbps=10, is_active=False)

    response = ask(api_writer, "sw1a 1aa")
    body = response.json()

    assert response.status_code == 201
    assert response["Location"] == body["href"]
    assert body["href"] == f"http://testserver{QUALIFICATIONS}/{body['id']}"
    assert_valid("TMF679", "ProductOfferingQualification", body)
    assert (body["state"], body["qualificationResult"]) == ("done", "qualified")
    assert body["instantSyncQualification"] is True
    assert body["place"][0]["postcode"] == "SW1A 1AA"
    # Items for what is on sale only, slowest first, each answered.
    assert list(by_offering(body)) == ["fibre-80", "fibre-500"]
    fibre = by_offering(body)["fibre-500"]
    assert (fibre["qualificationItemResult"], fibre["state"]) == ("qualified", "done")
    assert fibre["expectedActivationDate"] == iso(timezone.localdate())
    assert fibre["productOffering"]["name"] == "Fibre 500"
    assert "eligibilityUnavailabilityReason" not in fibre


def test_the_answer_is_kept_for_the_client_with_the_postcode_normalized(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    body = asked(api_writer, "sw1a  1aa")

    row = ProductOfferingQualification.objects.get(pk=body["id"])
    assert row.client == api_writer.client_row
    assert row.postcode == "SW1A1AA"
    assert row.qualification_result == "qualified"
    assert api_writer.get(body["href"]).json() == body


def test_a_manual_area_qualifies_with_the_manual_lead_time(
    plan: Plan, manual_area: ServiceArea, api_writer: ApiCaller, settings: Any
) -> None:
    settings.MANUAL_PROVISIONING_LEAD_DAYS = 4

    fibre = by_offering(asked(api_writer, "IV1 1AA"))["fibre-500"]

    assert fibre["qualificationItemResult"] == "qualified"
    expected = add_working_days(timezone.localdate(), 4)
    assert fibre["expectedActivationDate"] == iso(expected)


@pytest.mark.parametrize("area_name", ["manual_area", "serviceable_area"])
def test_the_qualified_date_is_the_date_an_order_taken_there_is_promised(
    plan: Plan, api_all: ApiCaller, request: pytest.FixtureRequest, area_name: str
) -> None:
    # Given an address, qualified through TMF679
    area: ServiceArea = request.getfixturevalue(area_name)
    qualified = by_offering(asked(api_all, area.postcode))["fibre-500"]["expectedActivationDate"]

    # When an order for it is taken there (its activation not started yet)
    order = submit_order(plan=plan, area=area).order
    received = estimated_activation_date(order)
    in_tmf622 = api_all.get(f"{TMF622}/productOrder/{order.pk}").json()["expectedCompletionDate"]

    # Then the order pages, the TMF622 order and the qualification promise the same day
    assert iso(received) == qualified
    assert in_tmf622 == qualified

    # ... and still once the order waits for the team where the network is not automated
    if not area.auto_provisioning:
        order_route_to_manual(
            order, reason_code="NOT_AUTOMATED", reason="Manual area.", source=EventSource.API
        )
        assert iso(estimated_activation_date(Order.objects.get(pk=order.pk))) == qualified


def test_the_qualified_date_follows_the_measured_cycle_time_as_the_order_does(
    plan: Plan, manual_area: ServiceArea, api_all: ApiCaller
) -> None:
    # Given 20 recent activations of the plan there, each live two working days after its day
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday() + 28)
    submitted = timezone.make_aware(datetime.datetime.combine(monday, datetime.time(10)))
    activation_history(area=manual_area, plan=plan, working_days=[2] * 20, submitted_at=submitted)
    cycle_times_refresh()

    # When the address is qualified, and an order taken there
    qualified = by_offering(asked(api_all, manual_area.postcode))["fibre-500"]
    order = submit_order(plan=plan, area=manual_area).order

    # Then both promise the measured two working days, not the standard lead time (three)
    assert qualified["expectedActivationDate"] == iso(add_working_days(today, 2))
    assert iso(estimated_activation_date(order)) == qualified["expectedActivationDate"]


def test_an_area_too_slow_for_the_plan_says_so_and_qualifies_the_plans_it_can_carry(
    plan: Plan, basic_plan: Plan, slow_area: ServiceArea, api_writer: ApiCaller
) -> None:
    body = asked(api_writer, "SL1 1AA")
    fibre, basic = by_offering(body)["fibre-500"], by_offering(body)["fibre-80"]

    assert body["qualificationResult"] == "qualified"
    assert basic["qualificationItemResult"] == "qualified"
    assert fibre["qualificationItemResult"] == "unqualified"
    assert "expectedActivationDate" not in fibre
    assert fibre["eligibilityUnavailabilityReason"] == [
        {
            "code": "SPEED_NOT_AVAILABLE",
            "label": "Fibre 500 (500 Mbps) is not available at SL1 1AA: "
            "the network there delivers up to 100 Mbps.",
            "@type": "EligibilityUnavailabilityReason",
        }
    ]


def test_a_postcode_we_do_not_serve_is_answered_unqualified_not_refused(
    plan: Plan, basic_plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    body = asked(api_writer, UNSERVED)

    assert body["qualificationResult"] == "unqualified"
    for item in body["productOfferingQualificationItem"]:
        assert item["qualificationItemResult"] == "unqualified"
        assert item["eligibilityUnavailabilityReason"] == [
            {
                "code": "NO_COVERAGE",
                "label": "We don't offer service at this postcode yet.",
                "@type": "EligibilityUnavailabilityReason",
            }
        ]


def test_an_area_with_no_capacity_left_is_no_coverage(plan: Plan, api_writer: ApiCaller) -> None:
    ServiceAreaFactory(postcode="DK1 1AA", max_download_mbps=0)

    fibre = by_offering(asked(api_writer, "DK1 1AA"))["fibre-500"]

    assert reason_codes(fibre) == ["NO_COVERAGE"]


@pytest.mark.parametrize("area", ["serviceable_area", "manual_area", "slow_area", None])
def test_the_answer_is_the_sales_forms_answer(
    plan: Plan, area: str | None, api_writer: ApiCaller, request: pytest.FixtureRequest
) -> None:
    postcode = request.getfixturevalue(area).postcode if area else UNSERVED
    form = OrderEntryForm(
        data={
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "07700900123",
            "address_line1": "1 Test Street",
            "city": "London",
            "postcode": postcode,
            "plan": plan.pk,
            "submission_token": "6f1c2a8e-2f4b-4a8e-9a57-3f0c1d2e4b5a",
        }
    )

    fibre = by_offering(asked(api_writer, postcode))["fibre-500"]

    assert (fibre["qualificationItemResult"] == "qualified") == form.is_valid(), form.errors
    if not form.is_valid():
        form_messages = [str(message) for messages in form.errors.values() for message in messages]
        assert fibre["eligibilityUnavailabilityReason"][0]["label"] in form_messages


def test_asked_items_are_answered_in_order_with_unknown_and_retired_offerings_unqualified(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    PlanFactory(code="copper-20", name="Copper 20", download_mbps=20, is_active=False)

    body = asked(
        api_writer,
        "SW1A 1AA",
        productOfferingQualificationItem=[
            {"id": "a", "productOffering": {"id": "nonexistent-9"}},
            {"id": "b", "productOffering": {"id": "copper-20"}},
            {"id": "c", "productOffering": {"id": "fibre-500"}, "action": "add"},
        ],
    )
    answers = body["productOfferingQualificationItem"]

    assert [item["id"] for item in answers] == ["a", "b", "c"]
    assert [item["qualificationItemResult"] for item in answers] == [
        "unqualified",
        "unqualified",
        "qualified",
    ]
    assert reason_codes(answers[0]) == ["UNKNOWN_OFFERING"]
    assert "nonexistent-9" in answers[0]["eligibilityUnavailabilityReason"][0]["label"]
    assert "href" not in answers[0]["productOffering"]
    assert reason_codes(answers[1]) == ["OFFERING_RETIRED"]
    assert answers[1]["eligibilityUnavailabilityReason"][0]["label"] == (
        "Copper 20 is no longer sold."
    )
    assert body["qualificationResult"] == "qualified"


def test_a_retired_offering_where_we_have_no_coverage_gives_both_reasons(
    api_writer: ApiCaller,
) -> None:
    PlanFactory(code="copper-20", download_mbps=20, is_active=False)

    body = asked(api_writer, UNSERVED, productOfferingQualificationItem=items(["copper-20"]))

    assert reason_codes(body["productOfferingQualificationItem"][0]) == [
        "OFFERING_RETIRED",
        "NO_COVERAGE",
    ]


def test_the_address_may_come_in_the_items_product_place(
    plan: Plan, slow_area: ServiceArea, api_writer: ApiCaller
) -> None:
    place = [address("sl1 1aa")]
    response = ask(
        api_writer,
        productOfferingQualificationItem=[
            {"id": "1", "productOffering": {"id": "fibre-500"}, "product": {"place": place}}
        ],
    )
    body = response.json()

    assert response.status_code == 201, body
    assert_valid("TMF679", "ProductOfferingQualification", body)
    item = body["productOfferingQualificationItem"][0]
    assert reason_codes(item) == ["SPEED_NOT_AVAILABLE"]
    assert item["product"]["place"][0]["postcode"] == "SL1 1AA"
    assert "place" not in body
    assert ProductOfferingQualification.objects.get(pk=body["id"]).postcode == "SL11AA"


def test_the_offering_link_leads_to_the_catalogue(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    fibre = by_offering(asked(api_writer, "SW1A 1AA"))["fibre-500"]

    offering = api_writer.get(fibre["productOffering"]["href"])

    assert (
        fibre["productOffering"]["href"] == f"http://testserver{TMF620}/productOffering/fibre-500"
    )
    assert offering.status_code == 200
    assert offering.json()["name"] == "Fibre 500"


def test_provide_only_available_leaves_out_what_cannot_be_sold(
    plan: Plan, basic_plan: Plan, slow_area: ServiceArea, api_writer: ApiCaller
) -> None:
    body = asked(api_writer, "SL1 1AA", provideOnlyAvailable=True)

    assert list(by_offering(body)) == ["fibre-80"]
    assert body["provideOnlyAvailable"] is True


def test_related_party_and_description_are_echoed(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    party = {"id": "crm-42", "name": "Ada", "role": "Prospect", "@referredType": "Individual"}

    body = asked(api_writer, "SW1A 1AA", relatedParty=[party], description="Walk-in prospect")

    assert body["relatedParty"] == [party]
    assert body["description"] == "Walk-in prospect"


def test_an_answer_stays_as_given_when_coverage_changes_later(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    body = asked(api_writer, "SW1A 1AA")
    serviceable_area.max_download_mbps = 0
    serviceable_area.save()

    again = api_writer.get(body["href"]).json()
    fresh = asked(api_writer, "SW1A 1AA")

    assert again["qualificationResult"] == "qualified"
    assert fresh["qualificationResult"] == "unqualified"


# --- bad requests ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, ["place"]),
        ({"place": [{"role": "installationAddress", "city": "London"}]}, ["place[0].postcode"]),
        ({"place": [{"role": "installationAddress", "id": "addr-1"}]}, ["place[0].postcode"]),
        ({"place": [address("SW1A 1AA", role=None)]}, ["place[0].role"]),
        ({"place": [address(12345)]}, ["place[0].postcode"]),
        ({"place": [address("NOT A POSTCODE")]}, ["place[0].postcode"]),
        ({"place": [address("SW1A")]}, ["place[0].postcode"]),
        ({"place": [address("75001", country="FR")]}, ["place[0].country"]),
        ({"place": address("SW1A 1AA")}, ["place"]),
        ({"place": ["SW1A 1AA"]}, ["place[0]"]),
        (
            {"place": [address("SW1A 1AA"), address("IV1 1AA")]},
            ["place[1].postcode"],
        ),
        (
            {
                "place": [address("SW1A 1AA")],
                "productOfferingQualificationItem": [
                    {"productOffering": {"id": "fibre-500"}},
                    {"id": "2", "productOffering": "fibre-500"},
                    {"id": "3"},
                    {"id": "4", "productOffering": {"id": "fibre-500"}, "action": "delete"},
                    {"id": "4", "productOffering": {"id": "fibre-500"}},
                    {"id": "6", "productOffering": {"id": 7}, "state": "done"},
                ],
            },
            [
                "productOfferingQualificationItem[0].id",
                "productOfferingQualificationItem[1].productOffering",
                "productOfferingQualificationItem[2].productOffering",
                "productOfferingQualificationItem[3].action",
                "productOfferingQualificationItem[4].id",
                "productOfferingQualificationItem[5].productOffering.id",
                "productOfferingQualificationItem[5].state",
            ],
        ),
        # Every problem at once, not the first one only.
        (
            {
                "productOfferingQualificationItem": {"id": "1"},
                "relatedParty": [{"name": "Ada"}],
                "provideOnlyAvailable": "yes",
                "state": "done",
            },
            [
                "place",
                "productOfferingQualificationItem",
                "relatedParty[0].id",
                "relatedParty[0].@referredType",
                "provideOnlyAvailable",
                "state",
            ],
        ),
    ],
)
def test_a_bad_request_is_a_400_naming_every_problem(
    plan: Plan,
    serviceable_area: ServiceArea,
    api_writer: ApiCaller,
    body: dict[str, Any],
    paths: list[str],
) -> None:
    body = json.loads(json.dumps(body))  # address(..., role=None) sends role: null
    response = api_writer.post(QUALIFICATIONS, body, format="json")

    error = assert_error(response, 400)
    assert sorted(error["fieldErrors"]) == sorted(paths)
    for path in paths:
        assert path in error["message"]
    assert not ProductOfferingQualification.objects.exists()


@pytest.mark.parametrize(
    ("payload", "content_type", "status"),
    [
        ('{"place": [', "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"SW1A 1AA"', "application/json", 400),
        ("place=SW1A1AA", "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_in_the_tmf_body(
    api_writer: ApiCaller, payload: str, content_type: str, status: int
) -> None:
    response = api_writer.post(QUALIFICATIONS, payload, content_type=content_type)

    assert_error(response, status)


# --- who may ask and read -------------------------------------------------------------------
def test_asking_needs_the_create_scope_and_a_token(
    plan: Plan, serviceable_area: ServiceArea, api_reader: ApiCaller, client: Any
) -> None:
    body = {"place": [address("SW1A 1AA")]}

    forbidden = assert_error(api_reader.post(QUALIFICATIONS, body, format="json"), 403)
    anonymous = client.post(QUALIFICATIONS, body, content_type="application/json")

    assert "create" in forbidden["message"]
    assert_error(anonymous, 401)
    assert not ProductOfferingQualification.objects.exists()


def test_reading_needs_the_read_scope(
    plan: Plan, serviceable_area: ServiceArea, make_api_client: Callable[..., ApiCaller]
) -> None:
    creator_only = make_api_client("create")
    body = asked(creator_only, "SW1A 1AA")

    assert_error(creator_only.get(QUALIFICATIONS), 403)
    assert_error(creator_only.get(body["href"]), 403)


def test_a_client_sees_only_its_own_qualifications(
    plan: Plan, serviceable_area: ServiceArea, make_api_client: Callable[..., ApiCaller]
) -> None:
    crm, shop = make_api_client("read", "create"), make_api_client("read", "create")
    mine = asked(crm, "SW1A 1AA")
    theirs = asked(shop, UNSERVED)

    listed = crm.get(QUALIFICATIONS)
    filtered = crm.get(f"{QUALIFICATIONS}?id={theirs['id']}")

    assert [entry["id"] for entry in listed.json()] == [mine["id"]]
    assert listed["X-Total-Count"] == "1"
    assert filtered.json() == []
    assert_error(crm.get(f"{QUALIFICATIONS}/{theirs['id']}"), 404)
    assert_error(crm.get(f"{QUALIFICATIONS}/no-such-id"), 404)


# --- list, filters, fields, methods ---------------------------------------------------------
@pytest.fixture
def three_answers(
    plan: Plan, serviceable_area: ServiceArea, manual_area: ServiceArea, api_writer: ApiCaller
) -> list[dict[str, Any]]:
    return [asked(api_writer, postcode) for postcode in ("SW1A 1AA", UNSERVED, "IV1 1AA")]


def test_the_list_pages_newest_first_with_counts(
    three_answers: list[dict[str, Any]], api_writer: ApiCaller
) -> None:
    newest_first = [answer["id"] for answer in reversed(three_answers)]

    everything = api_writer.get(QUALIFICATIONS)
    page = api_writer.get(f"{QUALIFICATIONS}?offset=1&limit=1")

    assert [entry["id"] for entry in everything.json()] == newest_first
    assert_each_valid("TMF679", "ProductOfferingQualification", everything.json())
    assert [entry["id"] for entry in page.json()] == newest_first[1:2]
    assert (page["X-Total-Count"], page["X-Result-Count"]) == ("3", "1")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("qualificationResult=qualified", [2, 0]),
        ("qualificationResult=unqualified", [1]),
        ("state=done", [2, 1, 0]),
        ("state=inProgress", []),
        ("postcode=sw1a1aa", [0]),
        ("postcode=ZZ9 9ZZ,IV1 1AA", [2, 1]),
        # AND
        ("qualificationResult=qualified&postcode=IV11AA", [2]),
        ("qualificationResult=unqualified&postcode=IV11AA", []),
        ("productOfferingQualificationDate.gte=2000-01-01&state=done", [2, 1, 0]),
    ],
)
def test_list_filters(
    three_answers: list[dict[str, Any]], api_writer: ApiCaller, query: str, expected: list[int]
) -> None:
    response = api_writer.get(f"{QUALIFICATIONS}?{query}")

    assert response.status_code == 200, response.content
    assert [entry["id"] for entry in response.json()] == [three_answers[i]["id"] for i in expected]


def test_an_unknown_filter_is_a_400(
    three_answers: list[dict[str, Any]], api_writer: ApiCaller
) -> None:
    error = assert_error(api_writer.get(f"{QUALIFICATIONS}?colour=red"), 400)

    assert "colour" in error["fieldErrors"]


def test_fields_selects_first_level_attributes(
    three_answers: list[dict[str, Any]], api_writer: ApiCaller
) -> None:
    first = three_answers[0]

    listed = api_writer.get(f"{QUALIFICATIONS}?fields=qualificationResult").json()
    one = api_writer.get(f"{first['href']}?fields=place").json()

    assert set(listed[0]) == {"id", "href", "state", "@type", "qualificationResult"}
    assert one == {
        "id": first["id"],
        "href": first["href"],
        "state": "done",
        "@type": "ProductOfferingQualification",
        "place": first["place"],
    }
    assert_valid("TMF679", "ProductOfferingQualification", one)


@pytest.mark.parametrize("method", ["patch", "delete", "put", "post"])
def test_an_answer_cannot_be_changed_or_deleted(
    three_answers: list[dict[str, Any]], api_writer: ApiCaller, method: str
) -> None:
    target = three_answers[0]

    response = getattr(api_writer, method)(target["href"], {"state": "inProgress"}, format="json")

    error = assert_error(response, 405)
    assert error["code"] == "METHOD_NOT_ALLOWED"
    assert "ask again" in error["message"]
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert ProductOfferingQualification.objects.get(pk=target["id"]).state == "done"


def test_expected_activation_dates_are_instants_at_midnight_utc(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    fibre = by_offering(asked(api_writer, "SW1A 1AA"))["fibre-500"]

    moment = datetime.datetime.fromisoformat(fibre["expectedActivationDate"])
    assert moment.date() == timezone.localdate()
    assert moment.utcoffset() == datetime.timedelta(0)


# --- malformed parts, each named (as TMF622's create) ---------------------------------------
def test_meta_attributes_that_are_not_text_are_refused_naming_each(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    # Given a request whose @type and @referredType attributes are null, lists or numbers
    entries = items([plan.code])
    entries[0]["@type"] = ["ProductOfferingQualificationItem"]
    entries[0]["productOffering"]["@referredType"] = 7
    body = {
        "@type": None,
        "place": [address(serviceable_area.postcode, **{"@type": None})],
        "productOfferingQualificationItem": entries,
        "relatedParty": [{"id": "42", "@referredType": "Individual", "@type": {"a": 1}}],
    }

    # When it is posted
    response = api_writer.post(QUALIFICATIONS, body, format="json")

    # Then the 400 names the top-level one (read first, before the body's parts)
    error = assert_error(response, 400)
    assert error["fieldErrors"] == {"@type": "Must be a string."}

    # ... and, the top level mended, every nested one
    response = api_writer.post(QUALIFICATIONS, {**body, "@type": "Q"}, format="json")
    error = assert_error(response, 400)
    assert sorted(error["fieldErrors"]) == [
        "place[0].@type",
        "productOfferingQualificationItem[0].@type",
        "productOfferingQualificationItem[0].productOffering.@referredType",
        "relatedParty[0].@type",
    ]
    assert not ProductOfferingQualification.objects.exists()


def test_a_request_sent_as_merge_patch_is_a_415_naming_the_content_type(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    # Given a valid request labelled as a JSON merge patch
    body = json.dumps({"place": [address(serviceable_area.postcode)]})

    # When it is posted, then it is refused as the wrong media type, naming the header
    response = api_writer.post(QUALIFICATIONS, body, content_type="application/merge-patch+json")

    error = assert_error(response, 415)
    assert set(error["fieldErrors"]) == {"Content-Type"}
    assert not ProductOfferingQualification.objects.exists()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"relatedParty": [{"id": "1", "@referredType": "Individual"}] * 21}, "relatedParty"),
        ({"place": [address("SW1A 1AA")] * 11}, "place"),
    ],
)
def test_lists_past_their_limit_are_refused_naming_them(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller, change, path
) -> None:
    # Given a request with more parties or places than one qualification keeps
    body = {"place": [address(serviceable_area.postcode)], **change}

    # When it is posted, then the list is named and nothing is kept
    error = assert_error(api_writer.post(QUALIFICATIONS, body, format="json"), 400)
    assert set(error["fieldErrors"]) == {path}
    assert not ProductOfferingQualification.objects.exists()
