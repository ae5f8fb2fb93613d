"""The staff roles' landing pages (portal/worklists.py): each role's worklist shows the right
orders and nothing else, only that role (and the roles above it) may open it, and the actions on
it go through the services and report conflicts."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingAccount, BillingCharge
from orders.eligibility import EligibilityReason
from orders.fulfilment import TaskMode, TaskType
from orders.models import Order, OrderEvent
from orders.roles import Role
from orders.services import order_confirm_manual_activation
from orders.states import EventSource, OrderStatus
from provisioning.models import ExceptionCase, ReasonCode, TaskAttempt, TaskState
from provisioning.services import exception_case_resolve_override
from tests.factories import (
    BillingAccountFactory,
    ExceptionCaseFactory,
    FulfilmentTaskFactory,
    OrderFactory,
    TaskAttemptFactory,
    UserFactory,
    submit_order,
)

pytestmark = pytest.mark.django_db

SALES_URL = reverse("portal:sales_home")
PROVISIONING_URL = reverse("portal:provisioning_home")
LEAD_URL = reverse("portal:lead_home")
BILLING_URL = reverse("portal:billing_home")
ASSIGN_URL = reverse("portal:lead_assign")
RETRY_URL = reverse("portal:lead_retry")
ROLE_FIXTURES = (
    "sales_user",
    "provisioning_user",
    "lead_user",
    "billing_user",
    "support_user",
    "customer_user",
)
# Who may open each worklist; every other role gets 403.
ALLOWED = {
    SALES_URL: {"sales_user"},
    PROVISIONING_URL: {"provisioning_user", "lead_user"},
    LEAD_URL: {"lead_user"},
    BILLING_URL: {"billing_user"},
}


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def nav_links(html: str) -> set[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert nav is not None
    return set(re.findall(r'<a href="([^"]+)"', nav.group(1)))


def status_event(order: Order, *, to_status: str, reason_code: str, reason: str = "") -> None:
    """The newest status event of ``order``: what put it in its status, and why."""
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.SUBMITTED,
        to_status=to_status,
        source=EventSource.PROVISIONING,
        reason=reason or f"Because {reason_code}.",
        reason_code=reason_code,
    )


# --- who may open what -------------------------------------------------------------------------
@pytest.mark.parametrize("url", list(ALLOWED))
@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_each_worklist_opens_only_for_its_own_roles(
    client: Client, request: pytest.FixtureRequest, url: str, role_fixture: str
) -> None:
    # given a person of one role
    signed_in(client, request.getfixturevalue(role_fixture))

    # when they open a worklist
    response = client.get(url)

    # then it opens for its own role (the provisioning lead also sees provisioning's), and is
    # forbidden to everyone else: support may look at billing accounts order by order, but
    # billing's worklist is not support's window
    expected = 200 if role_fixture in ALLOWED[url] else 403
    assert response.status_code == expected


def test_worklists_send_anonymous_visitors_to_sign_in(client: Client) -> None:
    for url in (*ALLOWED, ASSIGN_URL, RETRY_URL):
        response = client.get(url) if url in ALLOWED else client.post(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_superuser_lands_on_the_back_office(client: Client, django_user_model) -> None:
    admin = django_user_model.objects.create_superuser("root", "root@isp.example", "pw")
    response = signed_in(client, admin).get(reverse("portal:home"))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


@pytest.mark.parametrize(
    ("role_fixture", "expected"),
    [
        ("sales_user", {"portal:sales_home", "orders:new"}),
        ("provisioning_user", {"portal:provisioning_home"}),
        (
            "lead_user",
            {
                "portal:lead_home",
                "portal:provisioning_home",
                "portal:operations_home",
                "admin:index",
                "reconciliation:mismatches",
                "kpis:dashboard",
            },
        ),
        ("billing_user", {"portal:billing_home", "reconciliation:mismatches", "kpis:dashboard"}),
        (
            "support_user",
            {"support:search", "support:queue", "support:contacts", "kpis:dashboard"},
        ),
        ("customer_user", {"portal:my_orders"}),
    ],
)
def test_navigation_shows_only_the_pages_the_role_may_use(
    client: Client, request: pytest.FixtureRequest, role_fixture: str, expected: set[str]
) -> None:
    # given a person of one role on their landing page
    user = request.getfixturevalue(role_fixture)
    signed_in(client, user)
    landing = client.get(reverse("portal:home"), follow=True)
    assert landing.status_code == 200

    # then the navigation links to exactly what that role may open...
    assert nav_links(landing.content.decode()) == {reverse(name) for name in expected}
    # ... and each of those opens
    for name in expected - {"admin:index"}:
        assert client.get(reverse(name)).status_code == 200


# --- sales ---------------------------------------------------------------------------------
def test_sales_sees_their_own_recent_orders_newest_first_with_both_status_labels(
    client: Client, sales_user: User, plan, manual_area, django_capture_on_commit_callbacks
) -> None:
    # given two orders the rep took and one another rep took
    with django_capture_on_commit_callbacks(execute=True):
        older = submit_order(plan=plan, area=manual_area, submitted_by=sales_user).order
        newer = submit_order(submitted_by=sales_user).order
        theirs = submit_order(submitted_by=UserFactory(role=Role.SALES)).order
    Order.objects.filter(pk=older.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(hours=1)
    )

    # when the rep opens their landing page
    response = signed_in(client, sales_user).get(SALES_URL)

    # then it offers a new order, and lists their orders newest first, with the internal
    # status and what the customer reads
    html = response.content.decode()
    assert f'href="{reverse("orders:new")}"' in html
    rows = response.context["recent"]
    assert [row.order.pk for row in rows] == [newer.pk, older.pk]
    assert theirs.display_id not in html
    assert "Awaiting manual provisioning" in html
    assert "Being set up by our team" in html
    assert f'href="{reverse("orders:detail", args=[older.pk])}"' in html


def test_sales_recent_orders_stop_at_the_newest_25(client: Client, sales_user: User) -> None:
    # given 27 orders the rep took, a minute apart
    now = timezone.now()
    orders = [
        OrderFactory(submitted_by=sales_user, submitted_at=now - datetime.timedelta(minutes=i))
        for i in range(27)
    ]

    # when the rep opens their page, then they see the 25 newest
    rows = signed_in(client, sales_user).get(SALES_URL).context["recent"]
    assert [row.order.pk for row in rows] == [o.pk for o in orders[:25]]


def test_sales_needs_information_lists_their_rejections_and_incomplete_data_only(
    client: Client,
    sales_user: User,
    plan,
    manual_area,
    faulty_area,
    django_capture_on_commit_callbacks,
) -> None:
    # given orders of the rep's in each kind of trouble, made the honest way where possible:
    with django_capture_on_commit_callbacks(execute=True):
        # ... no phone number: routed to the manual pool as INCOMPLETE_PAYLOAD (theirs to fix)
        incomplete = submit_order(
            plan=plan, area=manual_area, submitted_by=sales_user, phone=""
        ).order
        # ... a manual exchange (MANUAL_AREA): provisioning's work, not the rep's
        manual = submit_order(plan=plan, area=manual_area, submitted_by=sales_user).order
        # ... a network failure (PORT_UNAVAILABLE): the lead's, not the rep's
        failed = submit_order(plan=plan, area=faulty_area, submitted_by=sales_user).order
    # ... a recent rejection, a rejection from long ago, another rep's rejection, and an
    # exception held for incomplete data
    rejected = OrderFactory(
        submitted_by=sales_user, status=OrderStatus.REJECTED, closed_at=timezone.now()
    )
    status_event(rejected, to_status=OrderStatus.REJECTED, reason_code="NOT_SERVICEABLE")
    OrderFactory(
        submitted_by=sales_user,
        status=OrderStatus.REJECTED,
        closed_at=timezone.now() - datetime.timedelta(days=45),
    )
    OrderFactory(
        submitted_by=UserFactory(role=Role.SALES),
        status=OrderStatus.REJECTED,
        closed_at=timezone.now(),
    )
    held = OrderFactory(submitted_by=sales_user, status=OrderStatus.EXCEPTION)
    status_event(
        held, to_status=OrderStatus.EXCEPTION, reason_code=EligibilityReason.INCOMPLETE_PAYLOAD
    )
    assert Order.objects.get(pk=incomplete.pk).status == OrderStatus.AWAITING_MANUAL
    assert Order.objects.get(pk=failed.pk).status == OrderStatus.EXCEPTION

    # when the rep opens their page
    response = signed_in(client, sales_user).get(SALES_URL)

    # then exactly the orders only they can move on are listed, with why
    needs = response.context["needs_info"]
    assert {o.pk for o in needs.items} == {incomplete.pk, rejected.pk, held.pk}
    assert needs.total == 3
    listed = response.content.decode().split('data-testid="recent-orders"')[0]
    assert "Missing for activation: customer phone." in listed
    assert manual.display_id not in listed
    assert failed.display_id not in listed


# --- provisioning --------------------------------------------------------------------------
def test_provisioning_sees_the_manual_pool_oldest_first_activations_and_retries(
    client: Client,
    provisioning_user: User,
    plan,
    manual_area,
    flaky_area,
    serviceable_area,
    django_capture_on_commit_callbacks,
) -> None:
    # given two orders in the manual pool (the first waiting longer), one order that needed an
    # automatic retry (Flakeyford times out once) and one that went through first time
    with django_capture_on_commit_callbacks(execute=True):
        first = submit_order(plan=plan, area=manual_area).order
        second = submit_order(plan=plan, area=manual_area).order
        flaky = submit_order(plan=plan, area=flaky_area).order
        submit_order(plan=plan, area=serviceable_area)
    OrderEvent.objects.filter(order=first).update(
        created_at=timezone.now() - datetime.timedelta(hours=5)
    )
    # ... and an activation whose subscriber task is in its second attempt
    running = OrderFactory(status=OrderStatus.PROVISIONING)
    subscriber = FulfilmentTaskFactory(
        order=running,
        task_type=TaskType.CREATE_SUBSCRIBER,
        mode=TaskMode.AUTOMATIC,
        state=TaskState.RUNNING,
        attempts=2,
    )
    TaskAttemptFactory(
        task=subscriber,
        outcome=TaskAttempt.Outcome.FAILED,
        error_code=ReasonCode.NETWORK_TIMEOUT,
        transient=True,
    )
    TaskAttemptFactory(task=subscriber, trigger=TaskAttempt.Trigger.AUTO_RETRY)

    # when provisioning opens their landing page
    response = signed_in(client, provisioning_user).get(PROVISIONING_URL)

    # then the pool lists the manual tasks of the waiting orders, longest waiting first, in
    # words, each with its form
    tasks = response.context["manual_tasks"].items
    assert [(t.order_id, t.key) for t in tasks] == [
        (first.pk, "1.reserve_port"),
        (second.pk, "1.reserve_port"),
    ]
    html = response.content.decode()
    pool = html[html.index('data-testid="task-pool"') : html.index('data-testid="manual-pool"')]
    assert "<strong>Reserve access port</strong>" in pool and "item 1, Fibre 500" in pool
    assert first.customer.name in pool and "Inverness" in pool
    assert pool.count("Record as done…") == 2
    # ... the orders themselves, with the override that confirms a whole order live
    assert [o.pk for o in response.context["manual_pool"].items] == [first.pk, second.pk]
    assert "not automated; provision by hand" in html
    assert "Confirm activation…" in html
    # ... activations in progress with their newest attempt, the task in words
    in_progress = response.context["in_progress"].items
    assert [(o.pk, o.attempt_number, o.attempt_status) for o in in_progress] == [
        (running.pk, 2, "running")
    ]
    assert "Create subscriber (item 1): #2 · running (automatic retry)" in html
    # ... and the retry log: the task retries, not the first attempts
    retries = response.context["retries"]
    assert [(a.order_id, a.task.key, a.number, a.outcome) for a in retries] == [
        (running.pk, "1.create_subscriber", 2, TaskAttempt.Outcome.RUNNING),
        (flaky.pk, "1.create_subscriber", 2, TaskAttempt.Outcome.SUCCEEDED),
    ]
    log = html[html.index('data-testid="retry-log"') :]
    assert log.count("Create subscriber") == 2 and "Automatic retry" in log


@pytest.fixture
def manual_order(plan, manual_area, django_capture_on_commit_callbacks) -> Order:
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area).order
    return Order.objects.get(pk=order.pk)


def confirm_url(order: Order) -> str:
    return reverse("portal:confirm_activation", args=[order.pk])


def test_confirm_activation_needs_a_reason_then_activates_under_the_persons_name(
    client: Client,
    provisioning_user: User,
    manual_order: Order,
    django_capture_on_commit_callbacks,
) -> None:
    signed_in(client, provisioning_user)

    # when provisioning confirms the activation without saying what was done
    blank = client.post(confirm_url(manual_order), {"reason": "  "}, follow=True)

    # then they are told a reason is required, and the order still waits
    assert any("A reason is required." in m for m in messages_of(blank))
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.AWAITING_MANUAL

    # when they say what was done
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            confirm_url(manual_order), {"reason": "Engineer patched the line."}, follow=True
        )

    # then the order is activated (and billing starts), recorded under their name
    assert any("confirmed active" in m for m in messages_of(done))
    event = OrderEvent.objects.get(order=manual_order, to_status=OrderStatus.ACTIVATED)
    assert (event.actor, event.source, event.reason) == (
        provisioning_user,
        EventSource.STAFF_PORTAL,
        "Engineer patched the line.",
    )
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.COMPLETED
    assert done.context["manual_pool"].items == []
    # ... and its tasks have left the pool, recorded as done by the person who confirmed
    assert done.context["manual_tasks"].items == []


def test_confirm_activation_someone_did_first_says_so_and_changes_nothing(
    client: Client,
    provisioning_user: User,
    lead_user: User,
    manual_order: Order,
    django_capture_on_commit_callbacks,
) -> None:
    # given the page drawn, then the lead confirming the same order first
    signed_in(client, provisioning_user).get(PROVISIONING_URL)
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            manual_order, actor=lead_user, reason="Done on site.", source=EventSource.ADMIN
        )

    # when provisioning confirms it too
    response = client.post(confirm_url(manual_order), {"reason": "Me too."}, follow=True)

    # then they read that the order changed meanwhile; the lead's confirmation stands alone
    assert any(
        manual_order.display_id in m and "changed while you were looking" in m
        for m in messages_of(response)
    )
    activations = OrderEvent.objects.filter(order=manual_order, to_status=OrderStatus.ACTIVATED)
    assert [e.actor for e in activations] == [lead_user]


@pytest.mark.parametrize("role_fixture", ["sales_user", "billing_user", "support_user"])
def test_confirm_activation_is_refused_to_other_roles(
    client: Client, request: pytest.FixtureRequest, role_fixture: str, manual_order: Order
) -> None:
    signed_in(client, request.getfixturevalue(role_fixture))
    response = client.post(confirm_url(manual_order), {"reason": "Trust me."})
    assert response.status_code == 403
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.AWAITING_MANUAL


def test_confirm_activation_of_an_unknown_order_is_not_found(
    client: Client, provisioning_user: User
) -> None:
    response = signed_in(client, provisioning_user).post(
        reverse("portal:confirm_activation", args=["K7QM3XPA9Z"]), {"reason": "x"}
    )
    assert response.status_code == 404


def test_confirm_activation_needs_the_csrf_token(
    provisioning_user: User, manual_order: Order
) -> None:
    client = signed_in(Client(enforce_csrf_checks=True), provisioning_user)
    response = client.post(confirm_url(manual_order), {"reason": "Forged."})
    assert response.status_code == 403
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.AWAITING_MANUAL


# --- provisioning lead ---------------------------------------------------------------------
MakeCase = Callable[..., ExceptionCase]


@pytest.fixture
def make_case(django_capture_on_commit_callbacks, plan, faulty_area, lead_user) -> MakeCase:
    """An order whose activation failed at Faultybridge, with its open case (owned by the
    least loaded lead)."""

    def make() -> ExceptionCase:
        with django_capture_on_commit_callbacks(execute=True):
            order = submit_order(plan=plan, area=faulty_area).order
        return ExceptionCase.objects.select_related("order").get(order=order)

    return make


def opened(case: ExceptionCase, ago: datetime.timedelta) -> ExceptionCase:
    ExceptionCase.objects.filter(pk=case.pk).update(opened_at=timezone.now() - ago)
    return case


def test_lead_sees_active_cases_by_owner_and_age_and_filters_them(
    client: Client, lead_user: User, provisioning_user: User
) -> None:
    # given active cases: two of the lead's (fresh, and 2 days old), one of provisioning's
    # (5 hours old), one unassigned (4 days old); and a resolved case
    mine_new = ExceptionCaseFactory(owner=lead_user)
    mine_old = opened(ExceptionCaseFactory(owner=lead_user), datetime.timedelta(days=2))
    theirs = opened(ExceptionCaseFactory(owner=provisioning_user), datetime.timedelta(hours=5))
    nobody = opened(ExceptionCaseFactory(owner=None), datetime.timedelta(days=4))
    ExceptionCaseFactory(owner=lead_user, state=ExceptionCase.State.RESOLVED)
    signed_in(client, lead_user)

    # when the lead opens the queue
    response = client.get(LEAD_URL)

    # then it lists the active cases oldest first, and counts them per owner and age
    assert [c.pk for c in response.context["cases"].items] == [
        nobody.pk,
        mine_old.pk,
        theirs.pk,
        mine_new.pk,
    ]
    loads = {load.owner_key: load for load in response.context["loads"]}
    assert loads[str(lead_user.pk)].total == 2
    assert dict((k, n) for k, _, n in loads[str(lead_user.pk)].by_age) == {
        "lt1h": 1,
        "1-4h": 0,
        "4-24h": 0,
        "gt1d": 1,
        "gt3d": 0,
    }
    assert loads["none"].total == 1
    assert dict((k, n) for k, _, n in loads["none"].by_age)["gt3d"] == 1
    assert loads[str(provisioning_user.pk)].total == 1
    html = response.content.decode()
    assert reverse("admin:provisioning_exceptioncase_changelist") in html

    # when they filter by owner, by age, and by both
    def listed(**query: str) -> list[int]:
        return [c.pk for c in client.get(LEAD_URL, query).context["cases"].items]

    # then only the matching cases are listed
    assert listed(owner="mine") == [mine_old.pk, mine_new.pk]
    assert listed(owner="none") == [nobody.pk]
    assert listed(owner=str(provisioning_user.pk)) == [theirs.pk]
    assert listed(age="gt1d") == [nobody.pk, mine_old.pk]
    assert listed(owner="mine", age="gt1d") == [mine_old.pk]


def test_lead_sees_the_failed_task_each_case_names(
    client: Client, lead_user: User, make_case: MakeCase
) -> None:
    # given a case opened by a failed port reservation, and one with no task on record
    case = make_case()
    untasked = ExceptionCaseFactory(owner=lead_user)

    # when the lead opens the queue
    html = signed_in(client, lead_user).get(LEAD_URL).content.decode()

    # then each row says which task failed
    row = html[html.index(f'data-testid="case-{case.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Reserve access port" in row and "<code>1.reserve_port</code>" in row
    other = html[html.index(f'data-testid="case-{untasked.pk}"') :]
    assert '<td data-label="Failed task">-</td>' in other[: other.index("</tr>")]


def test_lead_reassigns_the_selected_cases_to_a_team_member(
    client: Client, lead_user: User, provisioning_user: User, make_case: MakeCase
) -> None:
    # given two cases the lead owns
    first, second = make_case(), make_case()
    assert first.owner == lead_user

    # when the lead hands both to a member of the provisioning team
    response = signed_in(client, lead_user).post(
        ASSIGN_URL,
        {"case": [first.pk, second.pk], "owner": provisioning_user.pk, "return_owner": "mine"},
        follow=True,
    )

    # then that person owns both, the orders' histories say who handed them over, and the
    # lead is back on the view they were working in
    for case in (first, second):
        case.refresh_from_db()
        assert case.owner == provisioning_user
        event = OrderEvent.objects.get(order=case.order, kind=OrderEvent.Kind.EXCEPTION_ASSIGNED)
        assert event.actor == lead_user
        assert event.source == EventSource.STAFF_PORTAL  # not "back office": it came from here
    assert response.redirect_chain[-1][0] == f"{LEAD_URL}?owner=mine"
    assert any("Assigned to Pia Provisioning" in m for m in messages_of(response))


def test_lead_cannot_assign_a_case_outside_the_provisioning_teams(
    client: Client, lead_user: User, sales_user: User, make_case: MakeCase
) -> None:
    case = make_case()
    response = signed_in(client, lead_user).post(
        ASSIGN_URL, {"case": [case.pk], "owner": sales_user.pk}, follow=True
    )
    assert any("Select a valid choice" in m for m in messages_of(response))
    case.refresh_from_db()
    assert case.owner == lead_user


def test_lead_assign_of_a_case_someone_resolved_meanwhile_says_so(
    client: Client, lead_user: User, provisioning_user: User, make_case: MakeCase
) -> None:
    # given a case resolved by someone else after the page was drawn
    case = make_case()
    exception_case_resolve_override(
        case,
        acting_user=UserFactory(role=Role.PROVISIONING_LEAD),
        resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        reason="Customer withdrew.",
    )

    # when the lead assigns it
    response = signed_in(client, lead_user).post(
        ASSIGN_URL, {"case": [case.pk], "owner": provisioning_user.pk}, follow=True
    )

    # then they read that someone acted first, and the case keeps its owner
    assert any("someone acted on it first" in m for m in messages_of(response))
    case.refresh_from_db()
    assert case.owner == lead_user


@pytest.mark.django_db(transaction=True)
def test_lead_bulk_retry_reports_each_case_and_a_case_already_handled(
    client: Client,
    lead_user: User,
    plan,
    faulty_area,
    serviceable_area,
    settings,
) -> None:
    # given three failed activations (committed for real, so each retry runs in the request):
    def failed() -> ExceptionCase:
        order = submit_order(plan=plan, area=faulty_area).order
        return ExceptionCase.objects.select_related("order").get(order=order)

    fixed, broken, handled = failed(), failed(), failed()
    # ... the first one's exchange since repaired
    Order.objects.filter(pk=fixed.order_id).update(service_area=serviceable_area)
    # ... the third one cancelled by another lead after the page was drawn
    exception_case_resolve_override(
        handled,
        acting_user=UserFactory(role=Role.PROVISIONING_LEAD),
        resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        reason="Customer withdrew.",
    )

    # when the lead retries all three
    response = signed_in(client, lead_user).post(
        RETRY_URL, {"case": [fixed.pk, broken.pk, handled.pk]}, follow=True
    )

    # then each case's outcome is reported
    messages = messages_of(response)
    assert any(fixed.order.display_id in m and "retry succeeded" in m for m in messages)
    assert any(
        broken.order.display_id in m and "failed again (PORT_UNAVAILABLE)" in m for m in messages
    )
    assert any(handled.order.display_id in m and "someone acted on it first" in m for m in messages)
    # ... and the states are what the messages say
    assert Order.objects.get(pk=fixed.order_id).status == OrderStatus.COMPLETED
    broken.refresh_from_db()
    assert (broken.state, broken.failure_count) == (ExceptionCase.State.OPEN, 2)
    assert Order.objects.get(pk=handled.order_id).status == OrderStatus.CANCELLED
    assert not TaskAttempt.objects.filter(order=handled.order, number=2).exists()
    # ... and the retries are on the timeline as the lead's, from the staff worklists
    restart = OrderEvent.objects.get(
        order=fixed.order, from_status=OrderStatus.EXCEPTION, to_status=OrderStatus.PROVISIONING
    )
    assert (restart.actor, restart.source) == (lead_user, EventSource.STAFF_PORTAL)


def test_lead_actions_need_at_least_one_case(client: Client, lead_user: User) -> None:
    response = signed_in(client, lead_user).post(RETRY_URL, {}, follow=True)
    assert any("Tick at least one case." in m for m in messages_of(response))


@pytest.mark.parametrize("url", [ASSIGN_URL, RETRY_URL])
def test_provisioning_staff_cannot_work_the_lead_queue(
    client: Client, provisioning_user: User, make_case: MakeCase, url: str
) -> None:
    case = make_case()
    response = signed_in(client, provisioning_user).post(
        url, {"case": [case.pk], "owner": provisioning_user.pk}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert (case.state, case.owner_id) == (ExceptionCase.State.OPEN, case.owner_id)
    assert not TaskAttempt.objects.filter(order=case.order, number=2).exists()


# --- queries -------------------------------------------------------------------------------
def _sales_data(user: User, n: int) -> None:
    for _ in range(n):
        OrderFactory(submitted_by=user)
        rejected = OrderFactory(
            submitted_by=user, status=OrderStatus.REJECTED, closed_at=timezone.now()
        )
        status_event(rejected, to_status=OrderStatus.REJECTED, reason_code="NOT_SERVICEABLE")


def _provisioning_data(user: User, n: int) -> None:
    for _ in range(n):
        pool = OrderFactory(status=OrderStatus.AWAITING_MANUAL)
        status_event(pool, to_status=OrderStatus.AWAITING_MANUAL, reason_code="MANUAL_AREA")
        FulfilmentTaskFactory(order=pool)
        running = OrderFactory(status=OrderStatus.PROVISIONING)
        task = FulfilmentTaskFactory(
            order=running, mode=TaskMode.AUTOMATIC, state=TaskState.RUNNING, attempts=2
        )
        TaskAttemptFactory(task=task, outcome=TaskAttempt.Outcome.FAILED)
        TaskAttemptFactory(task=task, trigger=TaskAttempt.Trigger.MANUAL_RETRY, requested_by=user)


def _lead_data(user: User, n: int) -> None:
    for i in range(n):
        case = ExceptionCaseFactory(owner=UserFactory(role=Role.PROVISIONING) if i % 2 else user)
        opened(case, datetime.timedelta(hours=i * 7))


def _billing_data(user: User, n: int) -> None:
    for _ in range(n):
        BillingAccountFactory(
            order=OrderFactory(status=OrderStatus.COMPLETED, activated_at=timezone.now())
        )
        mismatch = BillingAccountFactory(
            order=OrderFactory(status=OrderStatus.COMPLETED, activated_at=timezone.now())
        )
        BillingAccount.objects.filter(pk=mismatch.pk).update(monthly_price=Decimal("1.00"))
        OrderFactory(status=OrderStatus.ACTIVATED, activated_at=timezone.now())
        change = OrderFactory(status=OrderStatus.COMPLETED, activated_at=timezone.now())
        item = change.items.get()
        BillingCharge.objects.create(
            account=BillingAccountFactory(),
            item=item,
            offering=item.offering,
            recurring_price=item.recurring_price,
            one_time_price=Decimal("0.00"),
            currency=item.currency,
            start_date=timezone.localdate(),
            first_period_end=timezone.localdate(),
            first_period_amount=Decimal("1.00"),
            started_by=item,
            changed_on=timezone.localdate(),
        )


@pytest.mark.parametrize(
    ("url", "role_fixture", "make_data", "max_queries"),
    [
        (SALES_URL, "sales_user", _sales_data, 8),
        # + 3 on the provisioning and lead pages: what was escalated to the person, and the
        # worklist's orders in jeopardy (a page and its bounded count)
        (PROVISIONING_URL, "provisioning_user", _provisioning_data, 15),
        (LEAD_URL, "lead_user", _lead_data, 14),
        (BILLING_URL, "billing_user", _billing_data, 13),
    ],
)
def test_worklist_query_count_does_not_grow_with_the_rows(
    client: Client,
    request: pytest.FixtureRequest,
    django_assert_max_num_queries,
    url: str,
    role_fixture: str,
    make_data: Callable[[User, int], None],
    max_queries: int,
) -> None:
    # given a few rows on the page
    user = request.getfixturevalue(role_fixture)
    signed_in(client, user)
    make_data(user, 2)
    client.get(url)  # warm the session and content-type caches

    # when the page opens with a few rows, then with ten times as many
    with django_assert_max_num_queries(max_queries):
        assert client.get(url).status_code == 200
    make_data(user, 18)
    with django_assert_max_num_queries(max_queries):
        response = client.get(url)

    # then it costs the same bounded number of queries, and shows the larger lists
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="order-id"') >= 20
