"""Changing orders through TMF622: PATCH (what the ordering party may still change), DELETE (a
closed order leaves the API, never the ISP's records) and cancelProductOrder."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from orders import order_id
from orders.models import Order, OrderEvent
from orders.states import EventSource, OrderStatus
from provisioning.models import ExceptionCase
from tests.factories import PlanFactory
from tests.tmf.product_order_bodies import CANCELS, ORDERS, ids, item, order_body, row_counts
from tmf.models import CancelProductOrder

pytestmark = pytest.mark.django_db


def _day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


@pytest.fixture
def place(api_all, plan, manual_area, django_capture_on_commit_callbacks):
    """POST an order through the API (after-commit work runs); returns its representation."""

    def make(*, postcode: str | None = None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_all.post(
                ORDERS,
                order_body(postcode=postcode or manual_area.postcode, **extra),
                format="json",
            )
        assert response.status_code == 201, response.json()
        return response.json()

    return make


@pytest.fixture
def pending(place):
    return place(requestedStartDate=_day(10).isoformat())


@pytest.fixture
def acknowledged(api_all, plan, manual_area):
    """An order just received: its after-commit activation has not run."""
    return api_all.post(ORDERS, order_body(postcode=manual_area.postcode), format="json").json()


@pytest.fixture
def completed(place, serviceable_area):
    order = place(postcode=serviceable_area.postcode)
    assert order["state"] == "acknowledged"
    return order


def _events(order_repr, kind):
    return list(OrderEvent.objects.filter(order_id=order_repr["id"], kind=kind))


# --- PATCH --------------------------------------------------------------------------------------
def test_patch_external_id_is_recorded_on_the_timeline_as_the_client(api_all, place):
    order = place(externalId="crm-1")

    response = api_all.patch(order["href"], {"externalId": "crm-1-renumbered"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["externalId"] == "crm-1-renumbered"
    assert api_all.get(ORDERS, {"externalId": "crm-1-renumbered"}).json()[0]["id"] == order["id"]
    [edit] = _events(order, OrderEvent.Kind.ORDER_EDITED)
    assert edit.actor == api_all.client_row.user
    assert edit.source == EventSource.API
    assert edit.data["changes"]["external_id"] == {"before": "crm-1", "after": "crm-1-renumbered"}


def test_patch_takes_merge_patch_json(api_all, place):
    order = place()

    response = api_all.patch(
        order["href"],
        '{"externalId": "via-merge-patch"}',
        content_type="application/merge-patch+json",
    )

    assert response.status_code == 200, response.json()
    assert Order.objects.get(pk=order["id"]).external_id == "via-merge-patch"


def test_patch_note_is_added_to_the_timeline(api_all, place):
    order = place()

    response = api_all.patch(
        order["href"],
        {"note": [{"text": "Customer asks for a morning appointment."}, {"text": "Dog on site."}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    notes = _events(order, OrderEvent.Kind.NOTE)
    assert [note.reason for note in notes] == [
        "Customer asks for a morning appointment.",
        "Dog on site.",
    ]
    assert {(note.actor, note.source) for note in notes} == {
        (api_all.client_row.user, EventSource.API)
    }


def test_patch_note_without_text_is_refused(api_all, place):
    order = place()

    response = api_all.patch(order["href"], {"note": [{"author": "crm"}]}, format="json")

    assert response.status_code == 400
    assert "note[0].text" in response.json()["fieldErrors"]
    assert not _events(order, OrderEvent.Kind.NOTE)


def test_patch_requested_start_date_of_a_pending_order_moves_it(api_all, pending):
    later = _day(20)

    response = api_all.patch(
        pending["href"], {"requestedStartDate": later.isoformat()}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "pending"
    assert response.json()["requestedStartDate"].startswith(later.isoformat())
    assert Order.objects.get(pk=pending["id"]).requested_activation_date == later


def test_patch_a_later_requested_start_date_holds_a_received_order(api_all, acknowledged):
    response = api_all.patch(
        acknowledged["href"], {"requestedStartDate": _day(7).isoformat()}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "pending"
    assert Order.objects.get(pk=acknowledged["id"]).status == OrderStatus.SCHEDULED


def test_patch_requested_start_date_into_the_past_is_refused(api_all, pending):
    response = api_all.patch(
        pending["href"], {"requestedStartDate": _day(-1).isoformat()}, format="json"
    )

    assert response.status_code == 400
    assert "requestedStartDate" in response.json()["fieldErrors"]
    assert Order.objects.get(pk=pending["id"]).requested_activation_date == _day(10)


def test_patch_state_is_refused_pointing_to_cancel_product_order(api_all, pending):
    response = api_all.patch(pending["href"], {"state": "cancelled"}, format="json")

    assert response.status_code == 400
    assert "cancelProductOrder" in response.json()["fieldErrors"]["state"]
    assert Order.objects.get(pk=pending["id"]).status == OrderStatus.SCHEDULED


def test_patch_another_offering_changes_the_plan_and_one_not_sold_is_refused(api_all, pending):
    # Given a pending order (before its point of no return), another plan on sale and one
    # no longer sold
    PlanFactory(code="fibre-100", download_mbps=100)
    PlanFactory(code="fibre-old", download_mbps=50, is_active=False)
    old = [{**item(pending), "productOffering": {"id": "fibre-old"}}]
    items = [{**item(pending), "productOffering": {"id": "fibre-100"}}]

    # When the items name the one no longer sold, the patch is refused naming it
    refused = api_all.patch(pending["href"], {"productOrderItem": old}, format="json")
    assert refused.status_code == 400
    assert "productOrderItem[0].productOffering.id" in refused.json()["fieldErrors"]

    # When they name the other plan, the order has it (tmf.productorder.amend)
    response = api_all.patch(pending["href"], {"productOrderItem": items}, format="json")
    assert response.status_code == 200, response.json()
    assert Order.objects.get(pk=pending["id"]).plan.code == "fibre-100"


def test_patch_lists_every_refused_attribute_and_changes_nothing(api_all, pending):
    response = api_all.patch(
        pending["href"],
        {"externalId": "changed", "state": "completed", "category": "business", "note": "hi"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {"state", "category", "note"}
    assert Order.objects.get(pk=pending["id"]).external_id == ""


def test_patch_with_the_whole_representation_echoed_back_is_accepted(api_all, pending):
    # A client that GETs, edits one attribute and sends everything back.
    current = api_all.get(pending["href"]).json()
    current["externalId"] = "crm-77"

    response = api_all.patch(pending["href"], current, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["externalId"] == "crm-77"
    assert response.json()["state"] == "pending"
    [edit] = _events(pending, OrderEvent.Kind.ORDER_EDITED)
    assert set(edit.data["changes"]) == {"external_id"}


def test_patch_requested_start_date_of_a_completed_order_is_a_conflict(api_all, completed):
    response = api_all.patch(
        completed["href"], {"requestedStartDate": _day(5).isoformat()}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "CONFLICT"
    assert "before activation starts" in response.json()["message"]


def test_patch_unknown_order_is_a_404(api_all, plan):
    response = api_all.patch(f"{ORDERS}/nope", {"externalId": "x"}, format="json")

    assert response.status_code == 404


# --- DELETE ---------------------------------------------------------------------------------------
def test_delete_of_an_open_order_is_refused(api_all, place):
    order = place()

    response = api_all.delete(order["href"])

    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "ORDER_OPEN"
    assert "cancelProductOrder" in error["message"]
    assert api_all.get(order["href"]).status_code == 200


def test_delete_of_a_completed_order_hides_it_from_the_api_only(api_all, completed):
    history = OrderEvent.objects.filter(order_id=completed["id"]).count()

    response = api_all.delete(completed["href"])

    assert response.status_code == 204
    assert api_all.get(completed["href"]).status_code == 404
    assert completed["id"] not in ids(api_all.get(ORDERS).json())
    assert api_all.get(ORDERS, {"id": completed["id"]}).json() == []
    assert api_all.delete(completed["href"]).status_code == 404
    # The ISP's record of the order and its history stay.
    order = Order.objects.get(pk=completed["id"])
    assert order.status == OrderStatus.COMPLETED
    assert order.events.count() == history


def test_delete_of_a_cancelled_order_is_allowed(api_all, acknowledged):
    api_all.post(CANCELS, {"productOrder": {"id": acknowledged["id"]}}, format="json")

    response = api_all.delete(acknowledged["href"])

    assert response.status_code == 204
    assert api_all.get(acknowledged["href"]).status_code == 404


def test_a_deleted_order_is_gone_for_every_client(api_all, api_reader, completed):
    api_all.delete(completed["href"])

    assert api_reader.get(completed["href"]).status_code == 404


# --- cancelProductOrder -----------------------------------------------------------------------
@pytest.mark.parametrize("which", ["acknowledged", "pending"])
def test_cancel_an_order_that_has_not_started(api_all, request, which):
    order = request.getfixturevalue(which)
    assert order["state"] == which

    response = api_all.post(
        CANCELS,
        {"productOrder": {"id": order["id"]}, "cancellationReason": "Customer moved house."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    cancel = response.json()
    assert cancel["state"] == "done"
    assert cancel["productOrder"]["id"] == order["id"]
    assert response["Location"] == cancel["href"]
    fetched = api_all.get(order["href"]).json()
    assert fetched["state"] == "cancelled"
    assert fetched["cancellationReason"] == "Customer moved house."
    assert fetched["cancellationDate"].endswith("Z")
    stored = Order.objects.get(pk=order["id"])
    assert stored.status == OrderStatus.CANCELLED
    event = stored.events.get(to_status=OrderStatus.CANCELLED)
    assert (event.actor, event.source) == (api_all.client_row.user, EventSource.API)


def test_cancel_an_order_waiting_for_manual_provisioning(api_all, place):
    order = place()
    assert order["state"] == "acknowledged"
    assert api_all.get(order["href"]).json()["state"] == "inProgress"

    response = api_all.post(CANCELS, {"productOrder": {"id": order["id"]}}, format="json")

    assert response.status_code == 201
    assert api_all.get(order["href"]).json()["state"] == "cancelled"


def test_cancel_a_held_order_closes_its_exception_case(
    api_all, place, faulty_area, django_capture_on_commit_callbacks
):
    order = place(postcode=faulty_area.postcode)
    assert api_all.get(order["href"]).json()["state"] == "held"

    with django_capture_on_commit_callbacks(execute=True):
        response = api_all.post(CANCELS, {"productOrder": {"id": order["id"]}}, format="json")

    assert response.status_code == 201, response.json()
    assert api_all.get(order["href"]).json()["state"] == "cancelled"
    [case] = ExceptionCase.objects.filter(order_id=order["id"])
    assert case.state == ExceptionCase.State.RESOLVED
    assert case.resolution == ExceptionCase.Resolution.OVERRIDE_CANCELLED
    # closed once, naming the client that cancelled, on the order's timeline
    closing = OrderEvent.objects.filter(order_id=order["id"], kind="exception_resolved")
    assert closing.count() == 1
    assert closing.get().source == "api"
    assert closing.get().actor.username == f"api:{api_all.client_row.name}"


def test_cancellation_requests_are_listed_and_retrievable(api_all, acknowledged, pending):
    first = api_all.post(CANCELS, {"productOrder": {"id": acknowledged["id"]}}, format="json")
    second = api_all.post(CANCELS, {"productOrder": {"id": pending["id"]}}, format="json")

    listed = api_all.get(CANCELS)
    assert listed.status_code == 200
    assert {entry["productOrder"]["id"] for entry in listed.json()} == {
        acknowledged["id"],
        pending["id"],
    }
    assert listed["X-Total-Count"] == "2"
    by_order = api_all.get(CANCELS, {"productOrder.id": pending["id"].lower()}).json()
    assert ids(by_order) == [second.json()["id"]]
    fetched = api_all.get(first["Location"])
    assert fetched.status_code == 200
    assert fetched.json() == first.json()
    assert api_all.get(f"{CANCELS}/no-such-request").status_code == 404


def test_cancel_a_completed_order_is_a_conflict(api_all, completed):
    before = CancelProductOrder.objects.count()

    response = api_all.post(CANCELS, {"productOrder": {"id": completed["id"]}}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "NOT_CANCELLABLE"
    assert completed["id"] in response.json()["message"]
    assert CancelProductOrder.objects.count() == before
    assert api_all.get(completed["href"]).json()["state"] == "completed"


def test_cancel_twice_is_a_conflict(api_all, acknowledged):
    api_all.post(CANCELS, {"productOrder": {"id": acknowledged["id"]}}, format="json")

    again = api_all.post(CANCELS, {"productOrder": {"id": acknowledged["id"]}}, format="json")

    assert again.status_code == 409
    assert CancelProductOrder.objects.count() == 1


@pytest.mark.parametrize(
    ("ref", "path", "status"),
    [
        ({"id": "ABCDEFGHJK"}, "productOrder.id", 404),  # not a valid order ID
        ({"id": "unknown"}, "productOrder.id", 404),
        ({"id": 7}, "productOrder.id", 400),
        ({}, "productOrder.id", 400),
        ("ABCDEFGHJK", "productOrder", 400),
        (None, "productOrder", 400),
    ],
)
def test_cancel_of_no_known_order_is_refused_naming_the_order_reference(
    api_all, plan, ref, path, status
):
    before = row_counts()

    response = api_all.post(CANCELS, {"productOrder": ref}, format="json")

    assert response.status_code == status
    assert set(response.json()["fieldErrors"]) == {path}
    assert row_counts() == before
    assert not CancelProductOrder.objects.exists()


def test_cancel_of_a_well_formed_id_of_no_order_is_a_404_as_its_get(api_all, plan):
    unused = order_id.generate()

    response = api_all.post(CANCELS, {"productOrder": {"id": unused}}, format="json")

    assert response.status_code == 404
    assert api_all.get(f"{ORDERS}/{unused}").status_code == 404
    assert unused in response.json()["fieldErrors"]["productOrder.id"]


def test_cancel_of_an_order_deleted_from_the_api_is_a_404_as_its_get_and_patch(api_all, completed):
    # Given a closed order the client deleted from the API
    assert api_all.delete(completed["href"]).status_code == 204

    # When the client asks to cancel it
    response = api_all.post(CANCELS, {"productOrder": {"id": completed["id"]}}, format="json")

    # Then the answer is the 404 that GET and PATCH give for it, naming the reference
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert set(response.json()["fieldErrors"]) == {"productOrder.id"}
    assert api_all.get(completed["href"]).status_code == 404
    assert api_all.patch(completed["href"], {"externalId": "x"}, format="json").status_code == 404
    assert not CancelProductOrder.objects.exists()


def test_cancel_with_todays_requested_cancellation_date_keeps_it(api_all, acknowledged):
    today = timezone.localdate().isoformat()

    response = api_all.post(
        CANCELS,
        {"productOrder": {"id": acknowledged["id"]}, "requestedCancellationDate": today},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["requestedCancellationDate"].startswith(today)
    assert response.json()["effectiveCancellationDate"].endswith("Z")


def test_a_patch_that_changes_the_order_tells_the_hub_which_attributes_changed(
    api_all, pending, django_capture_on_commit_callbacks
):
    # Given a listener on the ordering hub (events stay in the delivery log here)
    from tmf.models import EventDelivery

    hub = api_all.post(
        f"{ORDERS.rsplit('/', 1)[0]}/hub", {"callback": "http://127.0.0.1:9/x"}, format="json"
    )
    assert hub.status_code == 201
    # When the CRM changes its reference and the requested date, then sends them unchanged
    later = _day(20).isoformat()
    with django_capture_on_commit_callbacks(execute=False):
        changed = api_all.patch(
            pending["href"], {"externalId": "CRM-9", "requestedStartDate": later}, format="json"
        )
        unchanged = api_all.patch(pending["href"], {"externalId": "CRM-9"}, format="json")
    assert (changed.status_code, unchanged.status_code) == (200, 200)
    # Then one attribute-change event names both attributes, with the order as it now is
    [event] = [
        json.loads(d.body)
        for d in EventDelivery.objects.filter(event_type="ProductOrderAttributeValueChangeEvent")
    ]
    assert event["fieldPath"] == "externalId,requestedStartDate"
    assert event["event"]["productOrder"]["externalId"] == "CRM-9"
    assert event["event"]["productOrder"]["requestedStartDate"].startswith(later)


def test_patch_note_over_its_limit_is_refused_not_cut(api_all, place):
    # Given an order, and a note longer than the 2,000 characters a note may have
    order = place()
    before = OrderEvent.objects.filter(order_id=order["id"]).count()

    # When it is patched in, then it is refused naming the note (nothing is cut and kept)
    response = api_all.patch(order["href"], {"note": [{"text": "n" * 2001}]}, format="json")

    assert response.status_code == 400
    assert response.json()["fieldErrors"] == {"note[0].text": "At most 2000 characters."}
    assert OrderEvent.objects.filter(order_id=order["id"]).count() == before


def test_patch_with_more_notes_than_one_update_takes_is_refused(api_all, place):
    order = place()

    response = api_all.patch(order["href"], {"note": [{"text": "n"}] * 21}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {"note"}
