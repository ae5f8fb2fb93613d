"""The one restriction path (orders/access.py) and object-level ownership (django-guardian): a
customer and their orders, an exception case and its owner (DESIGN invariant 8)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.http import Http404
from django.test import Client
from django.urls import reverse

from orders import order_id
from orders.access import (
    customers_visible_to,
    order_get_for_user,
    orders_visible_to,
    own_orders,
    restrict_by_order,
)
from orders.models import Order
from orders.roles import Role
from orders.services import OrderError, customer_link_user
from provisioning.models import ExceptionCase
from provisioning.services import (
    CaseError,
    exception_case_assign,
    exception_case_resolve_override,
    exception_case_retry,
)
from tests.factories import (
    CustomerFactory,
    ExceptionCaseFactory,
    OrderFactory,
    UserFactory,
    submit_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_customers(customer_user: User) -> tuple[Order, Order, User]:
    """customer_user's order, and another customer's order (with a sign-in of their own)."""
    mine = OrderFactory(customer=CustomerFactory(user=customer_user))
    other_user = UserFactory(role=Role.CUSTOMER)
    theirs = OrderFactory(customer=CustomerFactory(user=other_user))
    return mine, theirs, other_user


# --- customers and their orders -----------------------------------------------------------------
def test_a_customer_sees_exactly_their_own_orders(customer_user, two_customers) -> None:
    # given two customers with an order each
    mine, theirs, _ = two_customers
    # then the restriction gives the customer their order only, and their customer record only
    assert list(orders_visible_to(customer_user)) == [mine]
    assert list(customers_visible_to(customer_user)) == [mine.customer]
    # and the ownership is an object permission on that order, not on the other
    assert customer_user.has_perm("orders.view_order", mine)
    assert not customer_user.has_perm("orders.view_order", theirs)


def test_another_customers_order_is_missing_not_forbidden(customer_user, two_customers) -> None:
    # given another customer's order and an order ID that names nothing
    _, theirs, _ = two_customers
    # then both answer the same: no such order
    for text in (theirs.pk, order_id.generate(), "not an id"):
        with pytest.raises(Http404, match="No such order"):
            order_get_for_user(customer_user, text)


def test_staff_roles_see_every_order_and_anonymous_or_disabled_users_none(
    two_customers, sales_user, support_user, billing_user
) -> None:
    mine, theirs, other_user = two_customers
    for staff in (sales_user, support_user, billing_user):
        assert set(orders_visible_to(staff)) == {mine, theirs}
    assert not orders_visible_to(AnonymousUser()).exists()
    # a customer whose account was switched off sees nothing, even with the grants in place
    other_user.is_active = False
    other_user.save(update_fields=["is_active"])
    assert not orders_visible_to(other_user).exists()


def test_a_customer_who_is_also_staff_sees_only_their_own_orders_on_their_own_pages(
    customer_user, two_customers
) -> None:
    # given a customer who also works in support
    mine, _, _ = two_customers
    customer_user.groups.add(Group.objects.get(name=Role.SUPPORT))
    staff_view = User.objects.get(pk=customer_user.pk)
    # then the staff path shows all orders, the customer's own pages only theirs
    assert orders_visible_to(staff_view).count() == 2
    assert list(own_orders(staff_view)) == [mine]


def test_linking_a_sign_in_grants_the_customers_existing_and_later_orders(plan) -> None:
    # given a customer with an order, taken before they had a sign-in
    first = submit_order(plan=plan).order
    user = UserFactory()
    assert not orders_visible_to(user).exists()
    # when the sign-in is linked (as the invitation flow does)
    customer_link_user(first.customer, user)
    # then the customer sees that order, and joins the customer group
    assert list(orders_visible_to(user)) == [first]
    assert user.groups.filter(name=Role.CUSTOMER).exists()
    # and an order taken later for the same customer is theirs too
    later = submit_order(plan=plan, email=first.customer.email).order
    assert set(orders_visible_to(user)) == {first, later}


def test_relinking_a_customer_revokes_the_previous_sign_in(plan) -> None:
    # given a customer linked to one sign-in
    order = submit_order(plan=plan).order
    old, new = UserFactory(), UserFactory()
    customer_link_user(order.customer, old)
    # when staff link the customer to another sign-in
    customer_link_user(order.customer, new)
    # then the new one sees the order and the old one no longer does
    assert list(orders_visible_to(new)) == [order]
    assert not orders_visible_to(old).exists()
    assert not customers_visible_to(old).exists()


def test_a_sign_in_cannot_belong_to_two_customers(plan) -> None:
    first, second = submit_order(plan=plan).order, submit_order(plan=plan).order
    user = UserFactory()
    customer_link_user(first.customer, user)
    with pytest.raises(OrderError, match="already belongs"):
        customer_link_user(second.customer, user)
    assert list(orders_visible_to(user)) == [first]


def test_a_link_saved_on_the_customer_record_grants_too(plan) -> None:
    # given the link is made by saving the customer (another code path than the service)
    order = submit_order(plan=plan).order
    user = UserFactory()
    customer = order.customer
    customer.user = user
    customer.save(update_fields=["user"])
    # then the grants follow all the same
    assert list(orders_visible_to(user)) == [order]


def test_other_rows_are_restricted_through_their_order(customer_user, two_customers) -> None:
    # given an exception case on each customer's order
    mine, theirs, _ = two_customers
    my_case, their_case = ExceptionCaseFactory(order=mine), ExceptionCaseFactory(order=theirs)
    # then the customer's restriction keeps only the row of their own order
    cases = ExceptionCase.objects.all()
    assert list(restrict_by_order(cases, customer_user)) == [my_case]
    assert their_case not in restrict_by_order(cases, customer_user)


def test_customer_order_list_stays_bounded_in_queries(
    client: Client, customer_user, django_assert_max_num_queries
) -> None:
    # given a customer with many orders (each granted to them)
    customer = CustomerFactory(user=customer_user)
    OrderFactory.create_batch(30, customer=customer)
    client.force_login(customer_user)
    # then their order list costs a few queries, not one per order
    with django_assert_max_num_queries(10):
        response = client.get(reverse("portal:my_orders"))
    assert response.status_code == 200
    assert len(response.context["orders"]) == 30


# --- an exception case and its owner -------------------------------------------------------------
@pytest.fixture
def failed_case(django_capture_on_commit_callbacks, plan, faulty_area, lead_user) -> ExceptionCase:
    """An activation that failed at Faultybridge: its case is routed to the (only) lead."""
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area).order
    return ExceptionCase.objects.get(order=order)


def test_the_routed_owner_holds_the_case_object_permission(failed_case, lead_user) -> None:
    assert failed_case.owner == lead_user
    assert lead_user.has_perm("provisioning.change_exceptioncase", failed_case)


def test_provisioning_staff_may_not_work_a_case_they_do_not_own(
    failed_case, provisioning_user
) -> None:
    # given a case owned by the lead
    owner = failed_case.owner
    # when a member of provisioning staff tries to retry, resolve or take it
    for attempt in (
        lambda: exception_case_retry(failed_case, acting_user=provisioning_user),
        lambda: exception_case_assign(
            failed_case, owner=provisioning_user, acting_user=provisioning_user
        ),
        lambda: exception_case_resolve_override(
            failed_case,
            acting_user=provisioning_user,
            resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
            reason="Done by hand.",
        ),
    ):
        # then the service refuses and the case is as it was
        with pytest.raises(CaseError, match="only its owner or a provisioning lead"):
            attempt()
    failed_case.refresh_from_db()
    assert (failed_case.state, failed_case.owner) == (ExceptionCase.State.OPEN, owner)


def test_a_case_handed_to_provisioning_staff_is_theirs_to_work_and_no_longer_the_old_owners(
    failed_case, provisioning_user, django_capture_on_commit_callbacks
) -> None:
    # given the lead hands the case to a member of provisioning staff, who then hands it on
    other_lead = UserFactory(role=Role.PROVISIONING_LEAD)
    exception_case_assign(failed_case, owner=provisioning_user, acting_user=failed_case.owner)
    assert provisioning_user.has_perm("provisioning.change_exceptioncase", failed_case)
    # then the new owner may retry it
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(failed_case, acting_user=provisioning_user)
    failed_case.refresh_from_db()
    assert failed_case.state == ExceptionCase.State.OPEN  # the network still fails; reopened
    # and once they hand it on, they lose it
    exception_case_assign(failed_case, owner=other_lead, acting_user=provisioning_user)
    fresh = User.objects.get(pk=provisioning_user.pk)
    assert not fresh.has_perm("provisioning.change_exceptioncase", failed_case)
    with pytest.raises(CaseError):
        exception_case_retry(failed_case, acting_user=fresh)


def test_an_owner_without_the_leads_privilege_may_not_cancel_by_override(
    failed_case, provisioning_user
) -> None:
    # given provisioning staff own the case
    exception_case_assign(failed_case, owner=provisioning_user, acting_user=failed_case.owner)
    # when they try to resolve it by cancelling the order
    with pytest.raises(CaseError, match="ask a provisioning lead"):
        exception_case_resolve_override(
            failed_case,
            acting_user=provisioning_user,
            resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
            reason="Customer asked.",
        )
    # then the order is still held
    assert Order.objects.get(pk=failed_case.order_id).status == "exception"


def test_case_page_offers_work_only_to_who_may_work_it(
    client: Client, failed_case, provisioning_user
) -> None:
    # given provisioning staff in the back office, and a case the lead owns
    provisioning_user.is_staff = True
    provisioning_user.save(update_fields=["is_staff"])
    client.force_login(provisioning_user)
    page = reverse("admin:provisioning_exceptioncase_change", args=[failed_case.pk])
    retry = reverse("admin:provisioning_exceptioncase_retry", args=[failed_case.pk])
    # then they see the case without the work buttons, and posting one is forbidden
    assert client.get(page).context["work"] == {
        "assign": False,
        "retry": False,
        "resolve": False,
        "cancel_item": False,
    }
    assert client.post(retry).status_code == 403
    # when the case is handed to them, the buttons appear and the retry goes through
    exception_case_assign(failed_case, owner=provisioning_user, acting_user=failed_case.owner)
    assert client.get(page).context["work"]["retry"] is True
    assert client.post(retry).status_code == 302
