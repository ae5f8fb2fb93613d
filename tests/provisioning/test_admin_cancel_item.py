"""Cancelling an add-on that cannot be delivered from its exception case, in the admin
(provisioning/admin.py, ExceptionCaseAdmin.cancel_item_view): the lead drops a held add-on and
the order completes as partial; errors show next to the fields; only leads may
(orders.override_order), and the case's owner without it is told so."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from orders.models import Order
from orders.states import ItemState, OrderStatus
from provisioning.models import ExceptionCase
from provisioning.services import exception_case_assign
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def lead(lead_user: User) -> User:
    assert lead_user.is_staff  # the exception queue is in the admin
    return lead_user


@pytest.fixture
def lead_client(client: Client, lead: User) -> Client:
    client.force_login(lead)
    return client


@pytest.fixture
def held_static_ip(django_capture_on_commit_callbacks, plan, serviceable_area, lead, settings):
    """A line with a static IP and a router whose address pool is empty: the static IP is held,
    the order in 'exception' with one open case (owned by the lead) naming allocate_address."""
    settings.NETWORK_SIMULATOR_RULES = [
        {"when": {}, "step": "allocate_address", "error": "ADDRESS_POOL_EXHAUSTED"}
    ]
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan,
            add_ons=(StaticIpOfferingFactory(name="Static IP"), RouterOfferingFactory()),
            area=serviceable_area,
        ).order
    return ExceptionCase.objects.select_related("order", "task").get(order=order)


def _cancel_item_url(case: ExceptionCase) -> str:
    return reverse("admin:provisioning_exceptioncase_cancel_item", args=[case.pk])


def test_lead_cancels_a_held_add_on_from_its_case_and_the_order_completes_as_partial(
    lead_client: Client,
    lead: User,
    held_static_ip: ExceptionCase,
    django_capture_on_commit_callbacks,
) -> None:
    # given a case naming the static IP's failed task
    case = held_static_ip
    assert case.task.key == "2.allocate_address"
    static_ip = case.order.items.get(item_id="2")

    # when the lead opens the case
    page = lead_client.get(
        reverse("admin:provisioning_exceptioncase_change", args=[case.pk])
    ).content.decode()

    # then it offers to cancel that add-on (and only that one), next to retry and override
    form = page[page.index('id="case-cancel-item"') :]
    form = form[: form.index("</form>")]
    assert "Item 2: Static IP" in form and "Item 3" not in form
    assert "Allocate static IPv4 address (2.allocate_address) of item 2, Static IP: failed" in page

    # when they cancel it with a reason
    with django_capture_on_commit_callbacks(execute=True):
        done = lead_client.post(
            _cancel_item_url(case),
            {"item": static_ip.pk, "reason": "No static addresses left at this exchange."},
            follow=True,
        )

    # then the case is resolved, the order completes without it, and the lead is told so
    assert any("item 2 (Static IP) cancelled" in m for m in _messages(done))
    case.refresh_from_db()
    assert (case.state, case.resolution, case.resolved_by) == (
        ExceptionCase.State.RESOLVED,
        ExceptionCase.Resolution.ITEM_CANCELLED,
        lead,
    )
    assert Order.objects.get(pk=case.order_id).status == OrderStatus.PARTIAL
    assert "No static addresses left" in case.resolution_note


def test_cancel_add_on_without_a_reason_shows_the_errors_next_to_the_fields(
    lead_client: Client, held_static_ip: ExceptionCase
) -> None:
    case = held_static_ip
    line = case.order.items.get(item_id="1")

    # when the lead sends the form empty, or names the line instead of an add-on
    blank = lead_client.post(_cancel_item_url(case), {"item": "", "reason": ""})
    wrong = lead_client.post(_cancel_item_url(case), {"item": line.pk, "reason": "x"})

    # then the form comes back with each error on its field, and nothing changed
    assert blank.status_code == 200
    assert blank.context["form"].errors == {
        "item": ["Choose the add-on to cancel."],
        "reason": ["A reason is required."],
    }
    assert wrong.context["form"].errors == {"item": ["That is not a held add-on of this order."]}
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.OPEN


def test_provisioning_staff_owning_the_case_may_not_cancel_an_add_on(
    client: Client, provisioning_user: User, held_static_ip: ExceptionCase
) -> None:
    # given the case handed to a provisioning engineer (who works it, but is no lead)
    case = held_static_ip
    exception_case_assign(case, owner=provisioning_user, acting_user=case.owner)
    provisioning_user.is_staff = True
    provisioning_user.save(update_fields=["is_staff"])
    client.force_login(provisioning_user)
    static_ip = case.order.items.get(item_id="2")

    # when they open the case, then they may retry but are told only a lead may cancel
    page = client.get(
        reverse("admin:provisioning_exceptioncase_change", args=[case.pk])
    ).content.decode()
    assert reverse("admin:provisioning_exceptioncase_retry", args=[case.pk]) in page
    assert 'id="case-cancel-item"' not in page
    assert "Only a provisioning lead may cancel it from the case." in page

    # when they post the cancellation anyway
    response = client.post(
        _cancel_item_url(case), {"item": static_ip.pk, "reason": "Gone."}, follow=True
    )

    # then they are refused with a clear message and the item and the case are untouched
    assert any(
        f"You may not cancel an item of order {case.order.display_id}: ask a provisioning lead."
        in m
        for m in _messages(response)
    )
    static_ip.refresh_from_db()
    case.refresh_from_db()
    assert static_ip.state == ItemState.HELD
    assert case.state == ExceptionCase.State.OPEN
