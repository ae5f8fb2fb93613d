"""US-05 Support visibility: search by order ID and the end-to-end order view."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import Product
from orders import order_id
from orders.fulfilment import TaskMode, TaskType
from orders.models import Order, OrderEvent
from orders.states import OrderStatus
from provisioning.models import ReasonCode, TaskAttempt, TaskState
from tests.factories import (
    FulfilmentTaskFactory,
    OrderFactory,
    ProductFactory,
    RouterOfferingFactory,
    ServiceAreaFactory,
    StaticIpOfferingFactory,
    TaskAttemptFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


def section(page: str, testid: str) -> str:
    """The HTML of the page's element marked ``data-testid=testid`` up to the next card."""
    start = page.index(f'data-testid="{testid}"')
    end = page.find('<section class="card"', start)
    return page[start : end if end != -1 else len(page)]


def task_row(page: str, key: str) -> str:
    start = page.index(f'data-testid="task-{key}"')
    return page[start : page.index("</tr>", start)]


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
    # the plan: the port reservation failed on every attempt, the rest waits on it
    plan = section(page, "plan-panel")
    assert "Reserve access port" in plan
    assert "Failed: <code>PORT_UNAVAILABLE</code>" in plan
    assert "Waiting on reserve access port (<code>1.reserve_port</code>, failed)" in plan
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
    # 18: the panels, the plan, the products, the cases, the tickets, the notices (one each),
    # the cancel card's scheduled cancellation (one row, by its index), the milestones card
    # (the milestones, the jeopardies, where the point of no return stands)...
    with django_assert_max_num_queries(21) as few_events:
        support_client.get(url)
    OrderEvent.objects.bulk_create(
        OrderEvent(order=failed_order, kind=OrderEvent.Kind.NOTE, source="admin", reason=str(i))
        for i in range(300)
    )
    with django_assert_max_num_queries(len(few_events.captured_queries)):
        response = support_client.get(url)
    assert response.status_code == 200
    assert len(response.context["events"]) == 30  # the newest, not all 300


@pytest.fixture
def three_item_offerings(plan):
    return plan, StaticIpOfferingFactory(name="Static IP"), RouterOfferingFactory(name="Router")


def test_support_sees_the_plan_of_a_three_item_order_held_on_its_static_ip(
    support_client, place_order, three_item_offerings, serviceable_area, settings
):
    # given a line, a static IP and a router, where the address pool is empty
    settings.NETWORK_SIMULATOR_RULES = [
        {"when": {}, "step": "allocate_address", "error": "ADDRESS_POOL_EXHAUSTED"}
    ]
    line, static_ip, router = three_item_offerings
    order = place_order(
        plan=line, add_ons=(static_ip, router), area=serviceable_area, email="three@example.com"
    )
    # when support opens the order
    page = support_client.get(reverse("support:order", kwargs={"order_id": order.pk}))
    plan = section(page.content.decode(), "plan-panel")
    # then each item is there with its offering, state and price
    assert "Item 1: Fibre 500" in plan and "Item 2: Static IP" in plan and "Item 3: Router" in plan
    assert "add-on to item 1" in plan
    assert "49.00 GBP one-time" in plan  # the router fee
    assert "Held (a task failed)" in plan
    # and each task in words: done with its network reference, failed with its reason,
    # waiting on what, the point of no return marked, and the attempts of each
    assert task_row(plan, "1.reserve_port").count("Done ") == 1
    assert "network ref <code>" in task_row(plan, "1.reserve_port")
    failed = task_row(plan, "2.allocate_address")
    assert "Failed: <code>ADDRESS_POOL_EXHAUSTED</code>" in failed
    assert "#1 First attempt: failed" in failed
    assert "Waiting on allocate static ipv4 address (<code>2.allocate_address</code>, failed)" in (
        task_row(plan, "2.bind_address")
    )
    activate = task_row(plan, "1.activate_line")
    assert "Point of no return" in activate
    assert "<code>2.bind_address</code>" in activate  # what it depends on
    assert "Point of no return" not in task_row(plan, "3.register_cpe")


def test_support_sees_the_products_of_the_order_and_the_customers_installed_base(
    support_client, place_order, three_item_offerings, serviceable_area
):
    # given a customer with two delivered orders (the second a 3-item one elsewhere), and
    # another customer's
    line, static_ip, router = three_item_offerings
    first = place_order(plan=line, area=serviceable_area, email="base@example.com")
    second = place_order(
        plan=line, add_ons=(static_ip, router), area=ServiceAreaFactory(), email="base@example.com"
    )
    other = place_order(plan=line, area=serviceable_area, email="someone-else@example.com")
    assert second.customer_id == first.customer_id
    assert Product.objects.filter(order=second).count() == 3
    # when support opens the first order
    response = support_client.get(reverse("support:order", kwargs={"order_id": first.pk}))
    page = response.content.decode()
    # then the order's product shows with its status, start date and network identifiers
    products = section(page, "products-panel")
    product = Product.objects.get(order=first)
    assert "Fibre 500" in products and "Active" in products
    assert f"Subscriber <code>{product.network_identifiers['subscriber']}</code>" in products
    assert f"Port <code>{product.network_identifiers['port']}</code>" in products
    # and the customer's installed base lists their products, not another customer's
    base = section(page, "customer-products")
    assert base.count('data-testid="product"') == 4
    assert base.index("Router") < base.index(first.display_id)  # newest first
    assert second.display_id in base
    assert "IPv4 address <code>" in base and "Router serial <code>CPE" in base
    assert other.display_id not in base


def test_support_order_view_before_delivery_says_there_are_no_products(
    support_client, failed_order
):
    response = support_client.get(reverse("support:order", kwargs={"order_id": failed_order.pk}))
    page = response.content.decode()
    assert "No products yet: items become products when they are delivered." in page
    assert "No products yet: nothing delivered to this customer." in page


def test_support_search_results_show_each_customers_newest_products(
    support_client, django_assert_max_num_queries
):
    # given a customer with four products (from four orders) and another with none
    oldest, *newer = [ProductFactory() for _ in range(4)]
    customer = oldest.customer
    for product in newer:
        Product.objects.filter(pk=product.pk).update(customer=customer)
        Order.objects.filter(pk=product.order_id).update(customer=customer)
    Product.objects.filter(pk=oldest.pk).update(
        name="Oldest line", created_at=oldest.created_at.replace(year=2020)
    )
    bare = OrderFactory()

    # when support searches for the first customer, then the other
    with django_assert_max_num_queries(12):
        found = support_client.get(reverse("support:search"), {"q": customer.email})
    empty = support_client.get(reverse("support:search"), {"q": bare.customer.email})

    # then each result shows the customer's three newest products and says there are more
    cells = re.findall(
        r'data-testid="result-products">(.*?)</td>', found.content.decode(), flags=re.S
    )
    assert len(cells) == 4  # one per order of the customer
    for cell in cells:
        assert cell.count("(active since") == 3
        assert "Oldest line" not in cell and "and more" in cell
    assert re.findall(r'data-testid="result-products">(.*?)</td>', empty.content.decode()) == ["-"]


def test_the_plan_says_each_task_state_in_words(support_client):
    # given an order whose tasks are in every state (rows written directly)
    order = OrderFactory(status=OrderStatus.PROVISIONING)
    now = timezone.now()

    def task(task_type, state, **fields):
        return FulfilmentTaskFactory(
            order=order, task_type=task_type, mode=TaskMode.AUTOMATIC, state=state, **fields
        )

    task(TaskType.RESERVE_PORT, TaskState.DONE, finished_at=now, network_reference="PORT-9")
    running = task(
        TaskType.CREATE_SUBSCRIBER,
        TaskState.RUNNING,
        started_at=now,
        attempts=2,
        depends_on=["1.reserve_port"],
    )
    TaskAttemptFactory(
        task=running,
        outcome=TaskAttempt.Outcome.FAILED,
        worker="celery@node-1",
        error_code=ReasonCode.NETWORK_TIMEOUT,
        error_message="No answer in 30 s.",
    )
    TaskAttemptFactory(task=running, trigger=TaskAttempt.Trigger.AUTO_RETRY)
    task(TaskType.APPLY_SPEED_PROFILE, TaskState.WAITING, depends_on=["1.create_subscriber"])
    # a manual task, waiting for a person
    FulfilmentTaskFactory(order=order, task_type=TaskType.REGISTER_CPE, state=TaskState.READY)
    task(TaskType.ALLOCATE_ADDRESS, TaskState.CANCELLED, finished_at=now)
    task(
        TaskType.ACTIVATE_LINE,
        TaskState.FAILED,
        is_ponr=True,
        error_code=ReasonCode.LINE_TEST_FAILED,
        error_message="Loss on the line.",
    )

    # when support opens the order
    page = support_client.get(reverse("support:order", kwargs={"order_id": order.pk}))
    plan = section(page.content.decode(), "plan-panel")

    # then each task's state reads as words, with what matters for that state
    assert "network ref <code>PORT-9</code>" in task_row(plan, "1.reserve_port")
    subscriber = task_row(plan, "1.create_subscriber")
    assert "Running since" in subscriber and "attempt 2" in subscriber
    assert (
        "#1 First attempt: failed · celery@node-1 · <code>NETWORK_TIMEOUT</code> No answer in 30 s."
        in subscriber
    )
    assert "#2 Automatic retry: running" in subscriber
    assert "Waiting on create subscriber (<code>1.create_subscriber</code>)" in task_row(
        plan, "1.apply_speed_profile"
    )
    assert "Ready since" in task_row(plan, "1.register_cpe")
    assert "in the manual pool" in task_row(plan, "1.register_cpe")
    assert "Cancelled" in task_row(plan, "1.allocate_address")
    line = task_row(plan, "1.activate_line")
    assert "Failed: <code>LINE_TEST_FAILED</code> Loss on the line." in line
    assert "Point of no return" in line
