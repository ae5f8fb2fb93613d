"""The GenieACS adapter (provisioning/adapters/acs) against the fake NBI: the preset that waits
for the router by its serial, the router's first contact, idempotence, undo, errors, and what
the ACS holds for our orders."""

from __future__ import annotations

import json
import logging

import pytest

from orders.fulfilment import TaskType
from provisioning.adapters.acs import GenieAcsAdapter, preset_key, preset_name
from provisioning.adapters.base import TaskRequest
from provisioning.adapters.credentials import subscriber_credentials
from provisioning.models import ReasonCode

# The adapter reads who an order's customer is (a serial another order waits for).
pytestmark = pytest.mark.django_db

ORDER = "K7QM3XPA9Z"
TR098_USER = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Username"
TR098_PASSWORD = (
    "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Password"
)


def request(
    *, order_id: str = ORDER, item_id: str = "3", serial: str | None = "SN0042", **fields
) -> TaskRequest:
    characteristics = {"model": "Fritz!Box 5590 Fiber"}
    if serial is not None:
        characteristics["serialNumber"] = serial
    defaults = dict(
        order_id=order_id,
        item_id=item_id,
        task_type=TaskType.REGISTER_CPE,
        attempt=1,
        postcode="SW1A1AA",
        address="1 Test Street",
        exchange="Westminster",
        technology="fttp",
        offering_code="router-1",
        plan_code="fibre-500",
        characteristics=characteristics,
    )
    return TaskRequest(**{**defaults, **fields})


def test_pre_registration_leaves_a_preset_waiting_for_the_router_by_its_serial(acs):
    result = GenieAcsAdapter().execute(request())

    assert result.ok, result.error_message
    name = preset_name(ORDER, "3")
    assert result.identifiers == {"cpeSerial": "SN0042", "acsPreset": name}
    preset = acs.presets[name]
    assert json.loads(preset["precondition"]) == {"_deviceId._SerialNumber": "SN0042"}
    # nothing is sent to a router that has not called in yet: no device, no task
    assert acs.devices == {}
    assert not [c for c in acs.calls if "/tasks" in c.path]


def test_the_routers_first_contact_gives_it_the_subscribers_pppoe_credentials(acs):
    GenieAcsAdapter().execute(request())

    acs.inform("SN0042")

    expected = subscriber_credentials(request())
    assert acs.parameter("SN0042", TR098_USER) == expected.username == f"sub-{ORDER.lower()}"
    assert acs.parameter("SN0042", TR098_PASSWORD) == expected.password
    device = next(iter(acs.devices.values()))
    assert preset_name(ORDER, "3") in device["_tags"]
    # another router calling in is given nothing of this subscriber's
    other = acs.inform("SN9999")
    assert other["parameters"] == {} and other["_tags"] == []


def test_a_tr181_router_is_configured_on_its_own_data_models_paths(acs, settings):
    settings.GENIEACS_DATA_MODEL = "tr181"
    GenieAcsAdapter().execute(request())

    acs.inform("SN0042", oui="D8C678", product_class="Device2")

    assert acs.parameter("SN0042", "Device.PPP.Interface.1.Username") == f"sub-{ORDER.lower()}"
    assert acs.parameter("SN0042", TR098_USER) is None


def test_a_router_that_called_in_before_is_tagged_and_asked_to_call_in_now(acs):
    acs.inform("SN0042")  # it contacted the ACS before the order (a replacement, a re-use)

    result = GenieAcsAdapter().execute(request())

    assert result.ok
    device = next(iter(acs.devices.values()))
    assert preset_name(ORDER, "3") in device["_tags"]
    assert acs.parameter("SN0042", TR098_USER) == f"sub-{ORDER.lower()}"
    assert [c.query for c in acs.calls if c.path.endswith("/tasks")] == [
        {"connection_request": [""], "timeout": ["3000"]}
    ]


def test_a_known_router_that_does_not_answer_the_connection_request_takes_it_later(acs):
    acs.inform("SN0042", online=False)

    result = GenieAcsAdapter().execute(request())

    assert result.ok  # the preset waits for its next periodic inform
    assert acs.parameter("SN0042", TR098_USER) is None
    acs.inform("SN0042")
    assert acs.parameter("SN0042", TR098_USER) == f"sub-{ORDER.lower()}"


def test_running_it_again_is_the_same_state(acs):
    adapter = GenieAcsAdapter()
    first = adapter.execute(request())
    presets = json.loads(json.dumps(acs.presets))

    again = adapter.execute(request(attempt=2))

    assert again == first
    assert acs.presets == presets


def test_undo_removes_the_preset_and_the_tag_and_succeeds_when_they_are_gone(acs):
    adapter = GenieAcsAdapter()
    done = adapter.execute(request())
    acs.inform("SN0042")

    undone = adapter.execute(request(undo=True, identifiers=dict(done.identifiers)))
    again = adapter.execute(request(undo=True, identifiers=dict(done.identifiers)))

    assert undone.ok and again.ok
    assert acs.presets == {}
    assert next(iter(acs.devices.values()))["_tags"] == []
    assert adapter.lookup([ORDER]) == []


def test_undo_of_a_task_never_done_finds_the_preset_by_its_order_and_item(acs):
    adapter = GenieAcsAdapter()
    adapter.execute(request())

    assert adapter.execute(request(undo=True)).ok  # a compensation: no identifiers recorded
    assert acs.presets == {}


def test_a_missing_serial_is_rejected_saying_what_to_enter(acs):
    result = GenieAcsAdapter().execute(request(serial=None))

    assert not result.ok and not result.transient
    assert result.error_code == ReasonCode.CPE_REJECTED
    assert "enter the router's serial number" in result.error_message
    assert acs.calls == []  # nothing half-made in the ACS


def test_a_serial_registered_for_another_order_is_rejected(acs):
    adapter = GenieAcsAdapter()
    adapter.execute(request(order_id="AAAAAAAAAA"))

    result = adapter.execute(request())

    assert result.error_code == ReasonCode.CPE_REJECTED and not result.transient
    assert "already registered for order AAAAAAAAAA item 3" in result.error_message
    assert set(acs.presets) == {preset_name("AAAAAAAAAA", "3")}


def test_an_unreachable_acs_is_a_transient_timeout(settings, unreachable_url):
    settings.GENIEACS_URL = unreachable_url

    result = GenieAcsAdapter().execute(request())

    assert not result.ok and result.transient
    assert result.error_code == ReasonCode.NETWORK_TIMEOUT
    assert "could not be reached" in result.error_message


def test_a_5xx_is_transient_and_a_4xx_is_not(acs):
    acs.fail_next(503)
    busy = GenieAcsAdapter().execute(request())
    acs.fail_next(400)
    refused = GenieAcsAdapter().execute(request())

    assert (busy.error_code, busy.transient) == (ReasonCode.NETWORK_TIMEOUT, True)
    assert (refused.error_code, refused.transient) == (ReasonCode.CPE_REJECTED, False)
    assert GenieAcsAdapter().execute(request()).ok  # and once the ACS is fine again, it works


def test_basic_auth_is_sent_and_wrong_credentials_are_not_retried(acs, settings):
    acs.username, acs.password = "oa", "s3cret"
    settings.GENIEACS_USERNAME, settings.GENIEACS_PASSWORD = "oa", "wrong"
    refused = GenieAcsAdapter().execute(request())
    settings.GENIEACS_PASSWORD = "s3cret"
    accepted = GenieAcsAdapter().execute(request())

    assert refused.error_code == ReasonCode.CPE_REJECTED and not refused.transient
    assert "GENIEACS_USERNAME" in refused.error_message and "wrong" not in refused.error_message
    assert accepted.ok


def test_a_refusal_quoting_the_request_never_repeats_the_password(acs, monkeypatch):
    password = subscriber_credentials(request()).password

    def echo(method, name, body):  # a server whose error text quotes what it was sent
        return 400, b"SyntaxError: bad preset " + body

    monkeypatch.setattr(acs, "_preset", echo)
    result = GenieAcsAdapter().execute(request())

    assert result.error_code == ReasonCode.CPE_REJECTED
    assert "bad preset" in result.error_message
    assert password not in result.error_message


def test_the_password_is_in_no_log_line(acs, caplog):
    password = subscriber_credentials(request()).password
    with caplog.at_level(logging.DEBUG):
        adapter = GenieAcsAdapter()
        adapter.execute(request())
        acs.inform("SN0042")
        adapter.execute(request(undo=True))

    assert caplog.records  # urllib3 logged its requests
    assert password not in caplog.text


def test_item_ids_the_acs_cannot_spell_are_escaped_and_read_back(acs):
    name = preset_name(ORDER, "router/1.a")

    assert GenieAcsAdapter().execute(request(item_id="router/1.a")).ok
    assert name in acs.presets and "/" not in name and "." not in name
    assert preset_key(name) == (ORDER, "router/1.a")


def test_lookup_and_holdings_list_what_the_acs_holds_for_our_orders(acs):
    adapter = GenieAcsAdapter()
    orders = ["AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC"]
    for number, order_id in enumerate(orders):
        adapter.execute(request(order_id=order_id, serial=f"SN{number}"))
    acs.presets["inform-interval"] = {"_id": "inform-interval", "precondition": "{}"}

    found = adapter.lookup(["BBBBBBBBBB", "ZZZZZZZZZZ"])
    first = adapter.holdings(limit=2)
    rest = adapter.holdings(after=first[-1].key, limit=2)

    assert [(h.key, h.identifiers["cpeSerial"]) for h in found] == [
        (("BBBBBBBBBB", "3", "register_cpe"), "SN1")
    ]
    assert [h.order_id for h in first] == orders[:2]
    assert [h.order_id for h in rest] == orders[2:]
    assert adapter.holdings(task_type=TaskType.CREATE_SUBSCRIBER) == []
    # a key just before this item's own task type still lists the item
    assert adapter.holdings(after=("CCCCCCCCCC", "3", "allocate_address"))[0].order_id == orders[2]
