"""US-02 Customer order tracking, and each role's landing page."""

import pytest
from django.urls import reverse

from orders.models import OrderEvent
from orders.services import order_confirm_manual_activation
from orders.states import EventSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer_user):
    client.force_login(customer_user)
    return client


def live(client, order, since):
    url = reverse("portal:order_live", kwargs={"order_id": order.pk})
    return client.get(url, {"since": since})


def test_us02_customer_sees_own_orders_with_friendly_status_and_estimated_date(
    customer_client, customer_manual_order
):
    response = customer_client.get(reverse("portal:my_orders"))
    page = response.content.decode()
    assert customer_manual_order.display_id in page
    assert "Being set up by our team" in page
    assert "Estimated activation" in page
    detail = customer_client.get(
        reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    )
    assert "We received your order." in detail.content.decode()
    assert detail.context["estimated_activation"] is not None


def test_us02_status_change_reaches_the_open_page_on_its_next_poll(
    customer_client, customer_manual_order, lead_user, django_capture_on_commit_callbacks
):
    # Given the customer's page is open at the current version
    page = customer_client.get(
        reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    )
    version = page.context["live_version"]
    assert live(customer_client, customer_manual_order, version).status_code == 204
    # When provisioning records a lifecycle event
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            customer_manual_order,
            actor=lead_user,
            reason="Technician activated the line.",
            source=EventSource.ADMIN,
        )
    # Then the page's next poll (every 2 s, well within 60 s) gets the new customer status
    update = live(customer_client, customer_manual_order, version)
    assert update.status_code == 200
    assert int(update["X-Live-Version"]) > version
    html = update.content.decode()
    assert "Active" in html
    assert "Your internet service is live." in html
    assert "Technician activated" not in html  # internal reasons stay internal


def test_us02_customer_page_never_shows_internal_reason_codes(client, failed_order):
    client.force_login(failed_order.customer.user)
    detail = client.get(reverse("portal:order_detail", kwargs={"order_id": failed_order.pk}))
    html = detail.content.decode()
    assert "Delayed: our team is on it" in html
    assert "PORT_UNAVAILABLE" not in html
    assert "exchange" not in html.lower()


def test_customer_cannot_open_another_customers_order(customer_client, failed_order):
    # failed_order belongs to a different customer: missing and forbidden look the same
    for name in ("portal:order_detail", "portal:order_live"):
        response = customer_client.get(reverse(name, kwargs={"order_id": failed_order.pk}))
        assert response.status_code == 404
    mine = customer_client.get(reverse("portal:my_orders")).content.decode()
    assert failed_order.display_id not in mine


def test_customer_cannot_open_staff_pages(customer_client, customer_manual_order):
    pk = customer_manual_order.pk
    assert customer_client.get(reverse("orders:detail", kwargs={"order_id": pk})).status_code == 403
    assert customer_client.get(reverse("support:order", kwargs={"order_id": pk})).status_code == 403


def test_customer_tracking_page_runs_a_bounded_number_of_queries(
    customer_client, customer_manual_order, django_assert_max_num_queries
):
    url = reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    customer_client.get(url)
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=customer_manual_order,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            from_status="submitted",
            to_status="awaiting_manual",
            source="admin",
        )
        for _ in range(200)
    )
    with django_assert_max_num_queries(10):
        response = customer_client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("user_fixture", "landing"),
    [
        ("sales_user", "portal:sales_home"),
        ("provisioning_user", "portal:provisioning_home"),
        ("lead_user", "portal:lead_home"),
        ("billing_user", "portal:billing_home"),
        ("support_user", "support:search"),
        ("customer_user", "portal:my_orders"),
    ],
)
def test_each_role_lands_on_its_own_page_after_sign_in(client, request, user_fixture, landing):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response.url == reverse(landing)


def test_anonymous_visitors_are_sent_to_sign_in(client, customer_manual_order):
    for url in (
        reverse("portal:home"),
        reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk}),
        reverse("orders:new"),
        reverse("support:search"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
