"""Done when (issue 13), against a real FreeRADIUS and the NAS simulator: an activated order's
subscriber signs in with its plan's speed, wrong credentials do not, one session at a time; a
static IP add-on's address comes back as Framed-IP-Address; the password is in none of our
records."""

from __future__ import annotations

import json

import pytest

from orders.models import OrderEvent
from provisioning.models import FulfilmentTask, TaskAttempt
from tests.factories import PlanFactory
from tests.radius.ordering import activate, password_of, username_of

pytestmark = pytest.mark.django_db


def test_an_activated_orders_subscriber_gets_access_accept_with_the_plans_speed(
    radius, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a 500/100 plan ordered and activated through the fulfilment tasks
    plan = PlanFactory(code="fibre-500", download_mbps=500, upload_mbps=100)
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)

    # When the customer's router dials with the line's credentials
    dial = radius.nas.dial(username_of(order), password_of(order))

    # Then FreeRADIUS accepts it with the plan's speed for MikroTik and WISPr NASes
    assert dial.accepted
    assert dial.attributes["Mikrotik-Rate-Limit"] == "100M/500M"
    assert dial.attributes["WISPr-Bandwidth-Max-Down"] == 500_000_000
    assert dial.attributes["WISPr-Bandwidth-Max-Up"] == 100_000_000
    assert dial.attributes["Acct-Interim-Interval"] == 300
    # ... its session is open in radacct, as the NAS reported it
    assert radius.query("SELECT username FROM radacct WHERE acctstoptime IS NULL") == [
        (username_of(order),)
    ]
    # ... and the subscriber's task recorded its name, the group membership its plan
    task = FulfilmentTask.objects.get(order=order, key="1.create_subscriber")
    assert task.result == {"subscriber": username_of(order)}
    assert radius.query("SELECT groupname FROM radusergroup") == [("plan-fibre-500",)]


def test_the_password_is_in_no_task_result_attempt_or_event(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level("DEBUG")
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    password = password_of(order)
    # It is in RADIUS (FreeRADIUS needs it) ...
    assert radius.query("SELECT value FROM radcheck WHERE attribute = 'Cleartext-Password'") == [
        (password,)
    ]
    # ... and nowhere of ours
    records = [
        *FulfilmentTask.objects.filter(order=order).values(),
        *TaskAttempt.objects.filter(order_id=order.pk).values(),
        *OrderEvent.objects.filter(order=order).values(),
    ]
    assert records
    assert password not in json.dumps(records, default=str)
    assert password not in caplog.text


def test_wrong_credentials_and_an_unknown_subscriber_get_access_reject(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)

    assert not radius.nas.dial(username_of(order), "not-the-password").accepted
    assert not radius.nas.dial("sub-nosuchorder", password_of(order)).accepted
    assert radius.query("SELECT count(*) FROM radacct") == [(0,)]


def test_one_session_at_a_time(radius, plan, serviceable_area, django_capture_on_commit_callbacks):
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    assert radius.nas.dial(username_of(order), password_of(order)).accepted

    # A second router with the same credentials while the first session is open is refused
    assert not radius.nas.dial(username_of(order), password_of(order)).accepted


def test_a_static_ip_add_ons_address_comes_back_as_framed_ip_address(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a line ordered with a static IP: allocate_address recorded an address
    order = activate(
        django_capture_on_commit_callbacks, plan=plan, area=serviceable_area, static_ip=True
    )
    allocated = FulfilmentTask.objects.get(order=order, task_type="allocate_address").result[
        "ipv4Address"
    ]

    # When the router dials
    dial = radius.nas.dial(username_of(order), password_of(order))

    # Then it is given that address, and radacct shows the session on it
    assert dial.accepted and dial.attributes["Framed-IP-Address"] == allocated
    assert radius.query("SELECT host(framedipaddress) FROM radacct") == [(allocated,)]
