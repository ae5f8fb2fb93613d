"""The audit trail (django-auditlog): every change names its actor, a person or the system
component for worker writes (orders/system_actors.py); entries are read-only everywhere."""

from __future__ import annotations

import pytest
from auditlog.context import set_extra_data
from auditlog.models import LogEntry
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from django.urls import reverse

from billing.models import BillingAccount
from orders.models import Order
from orders.overrides import order_force_status
from orders.states import OrderStatus
from orders.system_actors import SystemComponent, acting_as_system, audit_actor, system_user
from provisioning.models import ExceptionCase
from tests.factories import UserFactory, submit_order

pytestmark = pytest.mark.django_db


def _status_entry(order: Order, to_status: str) -> LogEntry:
    """The audit entry of the order's change into ``to_status``."""
    for entry in LogEntry.objects.get_for_object(order).select_related("actor"):
        change = (entry.changes_dict or {}).get("status")
        if change and change[1] == to_status:
            return entry
    raise AssertionError(f"no audit entry for {order} -> {to_status}")


def test_worker_writes_name_the_system_component(
    plan, serviceable_area, sales_user, django_capture_on_commit_callbacks
) -> None:
    # given a sales rep takes an order and the workers carry it to completion
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, submitted_by=sales_user).order
    # then each write names who made it: provisioning moved the order, billing opened the bill
    assert _status_entry(order, "provisioning").actor.username == "system:provisioning"
    assert _status_entry(order, "activated").actor.username == "system:provisioning"
    assert _status_entry(order, "completed").actor.username == "system:billing"
    account = BillingAccount.objects.get(order=order)
    entry = LogEntry.objects.get_for_object(account).get()
    assert entry.actor.username == "system:billing"


def test_the_exception_case_a_worker_opens_names_the_provisioning_worker(
    plan, faulty_area, lead_user, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area).order
    case = ExceptionCase.objects.get(order=order)
    created = LogEntry.objects.get_for_object(case).get(action=LogEntry.Action.CREATE)
    assert created.actor.username == "system:provisioning"


def test_system_users_cannot_sign_in() -> None:
    for component in SystemComponent:
        user = system_user(component)
        assert not user.is_active
        assert not user.has_usable_password()
        # even with a password set by mistake, an inactive user does not authenticate
        user.set_password("guessable")
        user.save(update_fields=["password"])
        assert (
            ModelBackend().authenticate(None, username=user.username, password="guessable") is None
        )


def test_an_override_through_the_admin_names_the_lead(
    client: Client, plan, manual_area, lead_user, django_capture_on_commit_callbacks
) -> None:
    # given an order waiting in the manual pool
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area).order
    order.refresh_from_db()
    # when the lead cancels it from the order's admin page
    client.force_login(lead_user)
    url = reverse("admin:orders_order_override", args=[order.pk, "force-status"])
    reason = "Duplicate of an order taken by phone."
    client.post(url, {"to_status": "cancelled", "reason": reason, "version": order.version})
    # then the audit entry of the change names the lead and carries the reason
    entry = _status_entry(order, OrderStatus.CANCELLED)
    assert entry.actor == lead_user
    assert entry.additional_data == {"override": "force_status", "reason": reason}


def test_a_service_called_outside_a_request_names_the_person(lead_user, plan, manual_area):
    # given no web request (a shell, a management command)
    order = submit_order(plan=plan, area=manual_area).order
    # when a lead overrides through the service
    order_force_status(
        order,
        to_status=OrderStatus.CANCELLED,
        actor=lead_user,
        reason="Cleaning up a test order.",
        expected_version=order.version,
    )
    # then the audit log names the lead
    assert _status_entry(order, OrderStatus.CANCELLED).actor == lead_user


def test_a_worker_inside_a_request_does_not_take_over_the_requests_actor(
    client: Client, customer_account, lead_user, plan
) -> None:
    # given a request whose middleware names the signed-in person, and a worker task that runs
    # inside it (as eager tasks do at a request's commit)
    order = submit_order(plan=plan).order
    with set_extra_data(context_data={"actor": lead_user}):
        with acting_as_system(SystemComponent.BILLING):
            order.customer.name = "Written by the worker"
            order.customer.save()
        # then after the task the request's own writes still name the person
        order.customer.name = "Written by the lead"
        order.customer.save()
        # and a service's own audit_actor keeps the request's person too
        with audit_actor(UserFactory()):
            order.customer.city = "Written under the request"
            order.customer.save()
    entries = LogEntry.objects.get_for_object(order.customer).order_by("pk")
    actors = [e.actor.username for e in entries if e.action == LogEntry.Action.UPDATE]
    assert actors == ["system:billing", lead_user.username, lead_user.username]


def test_user_changes_are_logged_without_the_password_hash(django_user_model) -> None:
    # given a user changes their name and password
    user = UserFactory(first_name="Old")
    user.first_name = "New"
    user.set_password("a-new-secret-password")
    user.save()
    # then the audit entry has the name change and nothing of the password
    entry = LogEntry.objects.get_for_object(user).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["first_name"] == ["Old", "New"]
    assert "password" not in entry.changes_dict
    assert user.password not in str(entry.changes)


# --- read-only, superusers included -------------------------------------------------------------
@pytest.fixture
def an_entry(plan) -> LogEntry:
    order = submit_order(plan=plan).order
    return LogEntry.objects.get_for_object(order).first()


@pytest.fixture
def superuser_client(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_superuser_cannot_change_an_audit_entry(superuser_client: Client, an_entry) -> None:
    url = reverse("admin:auditlog_logentry_change", args=[an_entry.pk])
    page = superuser_client.get(url)
    # the entry can be read, with nothing to save
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False
    assert superuser_client.post(url, {"action": "1"}).status_code == 403
    assert LogEntry.objects.get(pk=an_entry.pk).changes == an_entry.changes


def test_a_superuser_cannot_delete_an_audit_entry(superuser_client: Client, an_entry) -> None:
    delete = reverse("admin:auditlog_logentry_delete", args=[an_entry.pk])
    assert superuser_client.get(delete).status_code == 403
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    # and the list offers no bulk delete
    changelist = superuser_client.get(reverse("admin:auditlog_logentry_changelist"))
    action_form = changelist.context["action_form"]
    assert action_form is None or "delete_selected" not in dict(
        action_form.fields["action"].choices
    )
    response = superuser_client.post(
        reverse("admin:auditlog_logentry_changelist"),
        {"action": "delete_selected", "_selected_action": [an_entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert LogEntry.objects.filter(pk=an_entry.pk).exists()


def test_nobody_can_add_an_audit_entry_by_hand(superuser_client: Client) -> None:
    url = reverse("admin:auditlog_logentry_add")
    assert superuser_client.get(url).status_code == 403
    assert superuser_client.post(url, {"action": "1"}).status_code == 403


def test_an_invited_customers_account_is_created_by_the_accounts_component(
    plan, serviceable_area, django_capture_on_commit_callbacks
) -> None:
    # Given a new customer's first order, whose invitation runs after commit
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="nia@example.com").order
    # Then the new sign-in and its link to the customer are audited as the accounts worker
    user = Order.objects.select_related("customer__user").get(pk=order.pk).customer.user
    created = LogEntry.objects.get_for_object(user).get(action=LogEntry.Action.CREATE)
    assert created.actor.username == SystemComponent.ACCOUNTS.value
    linked = LogEntry.objects.get_for_object(order.customer).filter(action=LogEntry.Action.UPDATE)
    assert [entry.actor.username for entry in linked] == [SystemComponent.ACCOUNTS.value]
