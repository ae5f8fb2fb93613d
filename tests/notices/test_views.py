"""The customer's order page and support's order view show the messages sent about it."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notices.models import CustomerNotice, NoticeKind
from notices.selectors import NOTICES_SHOWN
from notices.services import notice_send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notices_on")]


@pytest.fixture
def my_order(place_order, plan, manual_area, customer_user):
    """customer_user's order (taken: one notice), then delayed (a second)."""
    order = place_order(
        plan=plan, area=manual_area, email="mine@example.com", customer_user=customer_user
    )
    with transaction.atomic():
        delayed = notice_send(
            order,
            NoticeKind.DELAYED,
            key="delayed:1",
            context={"expected": datetime.date(2027, 3, 9)},
        )
    # A minute later than the first, so "newest first" is the order they were sent in.
    CustomerNotice.objects.filter(pk=delayed.pk).update(
        created_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    return order


def test_the_customer_reads_the_messages_about_their_order_newest_first(
    client, customer_user, my_order
):
    client.force_login(customer_user)
    response = client.get(reverse("portal:order_detail", kwargs={"order_id": my_order.pk}))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Messages about this order" in page
    delayed = page.index("now expected by 9 March 2027")
    taken = page.index(f"We have your order {my_order.display_id}")
    assert delayed < taken
    assert "We are sorry" in page
    assert page.count('data-testid="order-notice"') == 2


def test_another_customer_cannot_see_them(client, my_order, django_user_model):
    other = django_user_model.objects.create_user("someone-else", password="x")
    client.force_login(other)
    response = client.get(reverse("portal:order_detail", kwargs={"order_id": my_order.pk}))
    assert response.status_code == 404
    assert "9 March 2027" not in response.content.decode()


def test_another_customers_page_does_not_list_this_orders_messages(
    client, place_order, plan, manual_area, my_order, django_user_model
):
    other_user = django_user_model.objects.create_user("neighbour", password="x")
    theirs = place_order(
        plan=plan, area=manual_area, email="neighbour@example.com", customer_user=other_user
    )
    client.force_login(other_user)
    page = client.get(reverse("portal:order_detail", kwargs={"order_id": theirs.pk}))
    text = page.content.decode()
    assert theirs.display_id in text
    assert my_order.display_id not in text and "9 March 2027" not in text


def test_support_sees_what_the_customer_was_told_and_what_is_not_sent_yet(
    client, support_user, my_order
):
    CustomerNotice.objects.filter(kind=NoticeKind.DELAYED).update(sent_at=None)
    client.force_login(support_user)
    page = client.get(reverse("support:order", kwargs={"order_id": my_order.pk})).content.decode()
    assert "Messages about this order" in page
    assert "now expected by 9 March 2027" in page
    assert page.count('data-testid="notice-unsent"') == 1


def test_the_messages_cost_one_query_however_many_there_are(
    client, customer_user, my_order, django_assert_num_queries, django_assert_max_num_queries
):
    client.force_login(customer_user)
    url = reverse("portal:order_detail", kwargs={"order_id": my_order.pk})
    client.get(url)
    with django_assert_max_num_queries(50) as few:
        client.get(url)
    CustomerNotice.objects.bulk_create(
        CustomerNotice(
            order=my_order,
            kind=NoticeKind.CHANGED,
            key=f"bulk:{n}",
            to="x@example.com",
            subject=f"Change {n}",
            body="...",
        )
        for n in range(120)
    )
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('data-testid="order-notice"') == NOTICES_SHOWN


def test_the_back_office_finds_an_orders_notices_by_its_order_id_and_cannot_edit_them(
    admin_client, my_order
):
    url = reverse("admin:notices_customernotice_changelist")
    page = admin_client.get(url, {"q": my_order.display_id.lower()}).content.decode()
    assert page.count(my_order.display_id) >= 2
    assert "now expected by 9 March 2027" in page
    notice = CustomerNotice.objects.filter(order=my_order).first()
    change = reverse("admin:notices_customernotice_change", args=[notice.pk])
    assert admin_client.post(change, {"subject": "edited"}).status_code == 403
