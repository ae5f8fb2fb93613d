"""The sales page "Add to this line" (orders.views_add_ons): add-ons for a customer's live line,
ordered from the page and shown, on every page that lists the order's items, beside the line
itself as "no change"."""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Product, ProductStatus
from orders.models import Order
from orders.states import ItemAction, OrderStatus
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


@pytest.fixture
def static_ip(db):
    return StaticIpOfferingFactory(name="Static IP", monthly_price=Decimal("5.00"))


@pytest.fixture
def router(db):
    return RouterOfferingFactory(name="Fritz Router")


def page_url(line: Product) -> str:
    return reverse("orders:line_add_ons", kwargs={"product_id": line.pk})


def text(response) -> str:
    return html.unescape(response.content.decode())


def offered(page: str) -> list[str]:
    """The add-ons the page offers, by name (the labels of its checkboxes)."""
    return re.findall(r'name="add_ons" value="\d+"[^>]*>\s*([^·<]+?) ·', page)


def post(client, line: Product, *add_ons, token: str | None = None):
    return client.post(
        page_url(line),
        {
            "add_ons": [str(a.pk) for a in add_ons],
            "submission_token": token or str(uuid.uuid4()),
        },
    )


def add_on_orders(line: Product):
    return Order.objects.filter(items__product_ref=line.pk)


def test_a_rep_orders_a_static_ip_for_a_live_line_and_lands_on_its_order(
    sales_client, live_line, static_ip, router, django_capture_on_commit_callbacks
):
    # Given Jane's live Fibre 500 and the rep on its "Add to this line" page
    page = text(sales_client.get(page_url(live_line)))
    assert 'line-name">Fibre 500 · 500 Mbps · Active' in page
    assert "9 Elm Row, Testville SW1A 1AA" in page and "jane@example.com" in page

    # When the rep ticks the static IP and submits
    with django_capture_on_commit_callbacks(execute=True):
        response = post(sales_client, live_line, static_ip)

    # Then one order is taken for the line's customer, and the rep lands on its page
    order = add_on_orders(live_line).get()
    assert order.customer_id == live_line.customer_id
    assert response.status_code == 302
    assert response.url == reverse("orders:detail", kwargs={"order_id": order.pk})
    detail = text(sales_client.get(response.url))
    assert f"Order {order.display_id} submitted." in detail
    # ... which shows the line as the customer's live line, unchanged and not priced, and the
    # static IP with its price; the totals are the static IP's
    assert "Fibre 500 — the customer's live line (no change)" in detail
    assert "Add-ons on the customer's live line Fibre 500" in detail
    items = detail[detail.index('data-testid="order-items"') :]
    assert "35.00 GBP" not in items
    assert re.search(r'order-total-monthly">5.00 GBP', detail)
    assert order.items.get(position=1).action == ItemAction.NO_CHANGE


def test_a_double_submit_of_the_page_takes_one_order(
    sales_client, live_line, static_ip, django_capture_on_commit_callbacks
):
    # Given the page submitted once
    token = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        first = post(sales_client, live_line, static_ip, token=token)
    # When the same form is posted again (a double click, a re-post)
    with django_capture_on_commit_callbacks(execute=True):
        again = post(sales_client, live_line, static_ip, token=token)
    # Then there is still one order, and both land on it
    order = add_on_orders(live_line).get()
    assert first.url == again.url == reverse("orders:detail", kwargs={"order_id": order.pk})


def test_the_page_offers_only_add_ons_that_suit_the_line_and_are_not_on_it(
    sales_client,
    make_live_line,
    plan_factory,
    slow_area,
    static_ip,
    router,
    django_capture_on_commit_callbacks,
):
    # Given a live line on copper (FTTC), where the router (full fibre only) does not suit
    line = make_live_line(plan=plan_factory(download_mbps=50), area=slow_area)

    # When the rep opens its page, Then the static IP is offered and the router is not
    page = text(sales_client.get(page_url(line)))
    assert offered(page) == ["Static IP"]
    assert 'Add-ons on it</dt><dd data-testid="live-add-ons">None' in page

    # Given the static IP ordered and live on the line
    with django_capture_on_commit_callbacks(execute=True):
        post(sales_client, line, static_ip)
    assert add_on_orders(line).get().status == OrderStatus.COMPLETED

    # When the rep opens the page again, Then nothing is offered: it has its static IP
    page = text(sales_client.get(page_url(line)))
    assert offered(page) == []
    assert "No other add-on on sale suits this line." in page
    assert 'data-testid="live-add-ons">Static IPv4 address' in page


def test_refusals_stand_next_to_the_add_on_and_nothing_is_written(
    sales_client,
    make_live_line,
    plan_factory,
    slow_area,
    static_ip,
    router,
    django_capture_on_commit_callbacks,
):
    # Given a copper line with its static IP live already
    line = make_live_line(plan=plan_factory(download_mbps=50), area=slow_area)
    with django_capture_on_commit_callbacks(execute=True):
        post(sales_client, line, static_ip)
    before = Order.objects.count()

    # When a page shown before that (a stale page) posts another static IP and the router
    response = post(sales_client, line, static_ip, router)

    # Then each is refused next to it, the summary names both, and no order is taken
    assert response.status_code == 200
    page = text(response)
    assert re.search(
        rf'id="add-on-{static_ip.pk}-error">Plan \d+ 50 has a static ipv4 address already', page
    )
    assert re.search(rf'id="add-on-{router.pk}-error">Fritz Router does not suit the network', page)
    assert "The order was not submitted: 1 problem to fix" in page
    assert Order.objects.count() == before


def test_submitting_nothing_ticked_asks_for_an_add_on(sales_client, live_line, static_ip):
    response = post(sales_client, live_line)
    assert "Tick at least one add-on to add to this line." in text(response)
    assert not add_on_orders(live_line).exists()


@pytest.mark.parametrize("status", [ProductStatus.SUSPENDED, ProductStatus.TERMINATED])
def test_a_line_that_is_not_active_says_why_and_takes_nothing(
    sales_client, live_line, static_ip, status
):
    # Given the line suspended (or ceased)
    Product.objects.filter(pk=live_line.pk).update(status=status)
    # When the rep opens its page, Then it says why and has no form
    page = text(sales_client.get(page_url(live_line)))
    assert f"Fibre 500 is {status}: add-ons go on an active line only." in page
    assert 'id="order-form"' not in page
    # ... and a post takes nothing
    assert 'id="order-form"' not in text(post(sales_client, live_line, static_ip))
    assert not add_on_orders(live_line).exists()


def test_people_who_may_not_take_orders_are_refused(
    client, live_line, support_user, billing_user, customer_user, static_ip
):
    from orders.services import customer_link_user

    # Given Jane signed up (her line is hers to see), and staff without the order permission
    customer_link_user(live_line.customer_id, customer_user)
    for user in (customer_user, support_user, billing_user):
        # When they open or post the line's "Add to this line" page, Then 403, nothing taken
        client.force_login(user)
        assert client.get(page_url(live_line)).status_code == 403
        assert post(client, live_line, static_ip).status_code == 403
    assert not add_on_orders(live_line).exists()


def test_an_unknown_product_or_one_that_is_no_line_is_not_found(
    sales_client, live_line, static_ip, django_capture_on_commit_callbacks
):
    # An id that is nobody's product
    assert sales_client.get(reverse("orders:line_add_ons", args=[uuid.uuid4()])).status_code == 404
    # A product that is an add-on, not a line
    with django_capture_on_commit_callbacks(execute=True):
        post(sales_client, live_line, static_ip)
    add_on = Product.objects.get(parent=live_line)
    assert sales_client.get(page_url(add_on)).status_code == 404


def test_only_people_who_may_take_orders_see_add_to_this_line_in_support(
    client, sales_user, support_user, live_line, static_ip, django_capture_on_commit_callbacks
):
    # Given the line has a static IP (a product of the installed base, but no line)
    client.force_login(sales_user)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, live_line, static_ip)
    support_url = reverse("support:order", kwargs={"order_id": live_line.order_id})

    # When a sales rep opens the support view of the line's order
    page = text(client.get(support_url))
    # Then the line (and only the line) links to its "Add to this line" page
    installed = page[page.index('data-testid="customer-products"') : page.index("data-live-url")]
    assert installed.count("Add to this line") == 1
    assert f'href="{page_url(live_line)}"' in installed

    # When support (who may not take orders) opens it, Then there is no such link
    client.force_login(support_user)
    assert "Add to this line" not in text(client.get(support_url))


def test_a_suspended_line_has_no_add_to_this_line_link(client, sales_user, live_line):
    Product.objects.filter(pk=live_line.pk).update(status=ProductStatus.SUSPENDED)
    client.force_login(sales_user)
    page = text(client.get(reverse("support:order", kwargs={"order_id": live_line.order_id})))
    assert "Add to this line" not in page


def test_the_page_runs_a_bounded_number_of_queries(
    sales_client, live_line, static_ip, router, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        assert sales_client.get(page_url(live_line)).status_code == 200


def test_the_add_on_order_reads_right_on_the_support_and_customer_pages(
    client, sales_user, customer_user, live_line, static_ip, django_capture_on_commit_callbacks
):
    from orders.services import customer_link_user

    # Given a static IP ordered for Jane's live line, and Jane signed up
    client.force_login(sales_user)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, live_line, static_ip)
    order = add_on_orders(live_line).get()
    customer_link_user(order.customer_id, customer_user)

    # The support view: the plan names the line as live, unchanged, with no state or price
    page = text(client.get(reverse("support:order", kwargs={"order_id": order.pk})))
    plan = page[page.index('data-testid="plan-item-1"') : page.index('data-testid="plan-item-2"')]
    assert "Item 1: Fibre 500 — the customer's live line (no change)" in plan
    assert "item-state" not in plan and "GBP" not in plan

    # The customer's own order page: the line as theirs, unchanged, unpriced; totals the IP's
    client.force_login(customer_user)
    page = text(client.get(reverse("portal:order_detail", kwargs={"order_id": order.pk})))
    items = page[page.index('data-testid="customer-items"') :]
    assert re.search(
        r'customer-item"><span class="item-status">Fibre 500 — your live line '
        r"\(no change\)</span></li>",
        items,
    )
    assert "Add-ons for your Fibre 500 line" in page
    assert re.search(r'customer-totals">5.00 GBP a month<', page)
    # ... and their list of orders: the line's order, then the add-ons for it
    page = text(client.get(reverse("portal:my_orders")))
    assert re.search(r"<span>Fibre 500 · 9 Elm Row", page)
    assert re.search(r"<span>Add-ons for your Fibre 500 line · 9 Elm Row", page)

    # The tracking page without sign-in
    client.logout()
    page = text(
        client.post(
            reverse("track_order"),
            {"order_id": order.display_id, "postcode": order.service_postcode},
        )
    )
    assert "Fibre 500 — your live line (no change)" in page
    assert "Add-ons for your Fibre 500 line" in page


def test_a_rep_looking_a_customer_up_finds_add_to_this_line_beside_the_line(
    client, sales_user, support_user, live_line
):
    # Given Jane's live line; When a sales rep searches for her
    client.force_login(sales_user)
    page = text(client.get(reverse("support:search"), {"q": "jane@example.com"}))
    # Then her line in the results links to its "Add to this line" page
    products = page[page.index('data-testid="result-products"') :]
    assert f'href="{page_url(live_line)}"' in products
    # ... which support, who may not take orders, is not offered
    client.force_login(support_user)
    page = text(client.get(reverse("support:search"), {"q": "jane@example.com"}))
    assert "Add to this line" not in page


def test_update_prices_without_javascript_totals_the_ticks_and_takes_nothing(
    sales_client, live_line, static_ip, router
):
    # When the rep ticks both add-ons and asks for the prices (no JavaScript)
    response = sales_client.post(
        page_url(live_line),
        {
            "add_ons": [str(static_ip.pk), str(router.pk)],
            "submission_token": str(uuid.uuid4()),
            "review": "1",
        },
    )
    # Then the totals are the add-ons' (5.00 + 3.00 a month, the router's 49.00 now), the
    # ticks are kept, and nothing is ordered
    page = text(response)
    assert 'data-testid="total-monthly">8.00 GBP' in page
    assert 'data-testid="total-due-now">49.00 GBP' in page
    assert page.count("checked") == 2
    assert not add_on_orders(live_line).exists()
