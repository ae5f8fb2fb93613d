"""US-01 Sales order entry, through the sales pages."""

import uuid

import pytest
from django.urls import reverse

from orders.models import Customer, Order, OrderEvent
from orders.states import OrderStatus

pytestmark = pytest.mark.django_db


def form_data(plan, **overrides):
    data = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "07700 900123",
        "address_line1": "1 High Street",
        "address_line2": "",
        "city": "London",
        "postcode": "sw1a 1aa",
        "plan": str(plan.pk),
        "requested_activation_date": "",
        "submission_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


def test_us01_missing_required_field_blocks_submission_and_names_it(
    sales_client, plan, serviceable_area
):
    # Given a required field is missing (and another is invalid)
    data = form_data(plan, phone="", email="not-an-email")
    # When the sales rep submits the order
    response = sales_client.post(reverse("orders:new"), data)
    # Then the system blocks submission and displays the missing fields
    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 0
    page = response.content.decode()
    assert "2 problems to fix" in page
    assert 'href="#field-phone">Phone: This field is required.' in page
    assert 'href="#field-email">E-mail: Enter a valid email address.' in page
    form = response.context["form"]
    assert set(form.errors) == {"phone", "email"}
    # ... next to the field, and what was typed is kept
    assert 'id="id_phone_error"' in page
    assert 'value="Jane Doe"' in page


def test_us01_every_required_field_is_named_when_the_form_is_empty(sales_client, plan):
    response = sales_client.post(reverse("orders:new"), {"submission_token": str(uuid.uuid4())})
    errors = response.context["form"].errors
    assert set(errors) == {"name", "email", "phone", "address_line1", "city", "postcode", "plan"}
    assert Order.objects.count() == 0


def test_us01_unserviceable_address_is_refused_at_the_postcode_field(sales_client, plan):
    response = sales_client.post(reverse("orders:new"), form_data(plan, postcode="ZZ9 9ZZ"))
    assert response.context["form"].errors["postcode"] == [
        "We don't offer service at this postcode yet."
    ]
    assert Order.objects.count() == 0


def test_us01_plan_faster_than_the_network_is_refused_at_the_plan_field(
    sales_client, plan_factory, slow_area
):
    gigabit = plan_factory(download_mbps=1000)
    response = sales_client.post(
        reverse("orders:new"), form_data(gigabit, postcode=slow_area.postcode)
    )
    assert "not available" in response.context["form"].errors["plan"][0]
    assert Order.objects.count() == 0


def test_us01_complete_submission_creates_one_order_and_shows_it(
    sales_client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(reverse("orders:new"), form_data(plan))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders:detail", kwargs={"order_id": order.pk})
    page = sales_client.get(response.url).content.decode()
    assert order.display_id in page
    # US-03: eligible, so activated and billed with no manual step
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.submitted_by.username == "sales-user" or order.submitted_by is not None


def test_us01_double_submit_with_the_same_form_never_creates_a_second_order(
    sales_client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given one rendered form (one submission token)
    data = form_data(plan)
    # When it is posted twice (double click, or back button and re-post)
    with django_capture_on_commit_callbacks(execute=True):
        first = sales_client.post(reverse("orders:new"), data)
        second = sales_client.post(reverse("orders:new"), data)
    # Then there is one order and both answers lead to it
    order = Order.objects.get()
    assert first.url == second.url == reverse("orders:detail", kwargs={"order_id": order.pk})
    assert Customer.objects.count() == 1
    messages = [str(m) for m in second.wsgi_request._messages]
    assert any("already submitted" in m for m in messages)


def test_us01_same_customer_address_and_plan_still_open_is_flagged_not_duplicated(
    sales_client, plan, manual_area
):
    # An order that waits for manual provisioning stays open
    data = form_data(plan, postcode=manual_area.postcode)
    sales_client.post(reverse("orders:new"), data)
    again = form_data(plan, postcode=manual_area.postcode)  # a new form, same order
    response = sales_client.post(reverse("orders:new"), again)
    assert Order.objects.count() == 1
    existing = Order.objects.get()
    assert f"Order {existing.display_id}" in response.content.decode()
    assert "already open" in response.content.decode()


def test_us01_existing_customer_is_found_by_email_or_phone_not_retyped(
    sales_client, plan, serviceable_area, manual_area
):
    sales_client.post(reverse("orders:new"), form_data(plan, postcode=manual_area.postcode))
    by_email = sales_client.get(reverse("orders:customer_lookup"), {"q": "JANE@example.com"})
    by_phone = sales_client.get(reverse("orders:customer_lookup"), {"q": "+44 7700-900123"})
    assert by_email.json()["found"] is True
    assert by_email.json()["customer"]["name"] == "Jane Doe"
    assert by_phone.json()["customer"]["email"] == "jane@example.com"
    assert sales_client.get(reverse("orders:customer_lookup"), {"q": "x@y.z"}).json() == {
        "found": False
    }
    # A second order with the same e-mail (different address) reuses the customer record
    sales_client.post(reverse("orders:new"), form_data(plan, address_line1="9 Other Road"))
    assert Customer.objects.count() == 1
    assert Order.objects.count() == 2


def test_us01_address_is_checked_for_serviceability_before_submit(
    sales_client, plan_factory, slow_area
):
    slow = plan_factory(download_mbps=40)
    fast = plan_factory(download_mbps=1000)
    ok = sales_client.get(reverse("orders:serviceability"), {"postcode": slow_area.postcode})
    assert ok.json()["serviceable"] is True
    assert str(slow.pk) in ok.json()["plans"]
    assert str(fast.pk) not in ok.json()["plans"]
    nope = sales_client.get(reverse("orders:serviceability"), {"postcode": "ZZ9 9ZZ"})
    assert nope.json() == {
        "serviceable": False,
        "message": "We don't offer service at this postcode yet.",
        "plans": [],
    }


def test_sales_pages_require_the_sales_permission(client, support_user, customer_user):
    for user in (support_user, customer_user):
        client.force_login(user)
        assert client.get(reverse("orders:new")).status_code == 403
        assert client.get(reverse("orders:customer_lookup"), {"q": "a@b.c"}).status_code == 403


def test_sales_order_page_runs_a_bounded_number_of_queries(
    sales_client, submitted_order, django_assert_max_num_queries
):
    url = reverse("orders:detail", kwargs={"order_id": submitted_order.pk})
    sales_client.get(url)  # warm the session and permission caches
    with django_assert_max_num_queries(12):
        sales_client.get(url)
    OrderEvent.objects.bulk_create(
        OrderEvent(order=submitted_order, kind=OrderEvent.Kind.NOTE, source="admin", reason=str(i))
        for i in range(200)
    )
    with django_assert_max_num_queries(12):
        response = sales_client.get(url)
    assert response.status_code == 200
