"""US-05 Support visibility: search by order ID and the end-to-end order view."""

import pytest
from django.urls import reverse

from orders import order_id
from orders.models import OrderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


def mistype(canonical: str) -> str:
    """The same ID with its third character replaced by a different symbol."""
    wrong = "7" if canonical[2] != "7" else "8"
    return canonical[:2] + wrong + canonical[3:]


@pytest.mark.parametrize(
    "typed",
    [
        lambda oid: oid,
        lambda oid: oid.lower(),
        lambda oid: order_id.display(oid),
        lambda oid: " ".join(order_id.display(oid).lower().split("-")),
        lambda oid: f"  {oid[:3]}-{oid[3:6]} {oid[6:]} ",
    ],
    ids=["canonical", "lower", "dashed", "spaced", "mixed"],
)
def test_us05_search_by_order_id_in_any_form_opens_the_order(support_client, failed_order, typed):
    response = support_client.get(reverse("support:search"), {"q": typed(failed_order.pk)})
    assert response.status_code == 302
    assert response.url == reverse("support:order", kwargs={"order_id": failed_order.pk})


def test_us05_mistyped_order_id_is_caught_by_the_check_character(support_client, failed_order):
    response = support_client.get(reverse("support:search"), {"q": mistype(failed_order.pk)})
    assert response.status_code == 200
    assert "mistyped" in response.context["error"]


@pytest.mark.parametrize("body", ["7K3M9QX2A", "AWRRZNDMJ"], ids=["with-digits", "letters-only"])
def test_us05_unknown_but_valid_order_id_says_so(support_client, body):
    # About 1 ID in 42 has no digit; those must be answered as IDs too
    other = body + order_id.check_symbol(body)
    assert order_id.is_valid(other)
    response = support_client.get(reverse("support:search"), {"q": other})
    assert response.context["error"] == f"No order {order_id.display(other)}."


def test_us05_search_by_customer_email_or_name_lists_orders(support_client, failed_order):
    for query in (failed_order.customer.email.upper(), failed_order.customer.name.split()[0]):
        response = support_client.get(reverse("support:search"), {"q": query})
        assert [o.pk for o in response.context["results"]] == [failed_order.pk]


def test_us05_order_view_shows_status_events_attempts_exception_and_billing(
    support_client, failed_order
):
    # Given a support agent searches by order ID / When the order is retrieved
    response = support_client.get(reverse("support:order", kwargs={"order_id": failed_order.pk}))
    page = response.content.decode()
    # Then lifecycle status, recent events and exception state are visible
    assert response.status_code == 200
    assert failed_order.display_id in page
    assert 'data-testid="order-status">Exception<' in page
    assert "Delayed: our team is on it" in page  # what the customer is told
    assert "Provisioning → Exception" in page  # recent events
    assert "PORT_UNAVAILABLE" in page  # exception state with its reason code
    assert "Owner: " in page
    assert "Reserve access port" in page  # provisioning attempts and steps
    assert "Billing not started." in page


def test_us05_order_view_of_a_completed_order_shows_billing(support_client, completed_order):
    response = support_client.get(reverse("support:order", kwargs={"order_id": completed_order.pk}))
    account = completed_order.billing_account
    page = response.content.decode()
    assert f"Account {account.pk}" in page
    assert str(account.monthly_price) in page
    assert "No exception case." in page


def test_support_pages_are_not_for_customers(client, customer_user, failed_order):
    client.force_login(customer_user)
    assert client.get(reverse("support:search")).status_code == 403
    url = reverse("support:order", kwargs={"order_id": failed_order.pk})
    assert client.get(url).status_code == 403


def test_support_order_view_runs_a_bounded_number_of_queries(
    support_client, failed_order, django_assert_max_num_queries
):
    url = reverse("support:order", kwargs={"order_id": failed_order.pk})
    support_client.get(url)
    with django_assert_max_num_queries(16) as few_events:
        support_client.get(url)
    OrderEvent.objects.bulk_create(
        OrderEvent(order=failed_order, kind=OrderEvent.Kind.NOTE, source="admin", reason=str(i))
        for i in range(300)
    )
    with django_assert_max_num_queries(len(few_events.captured_queries)):
        response = support_client.get(url)
    assert response.status_code == 200
    assert len(response.context["events"]) == 30  # the newest, not all 300
