"""The exception queue in the admin (provisioning/admin.py): US-06 as the provisioning lead works
it, and DESIGN invariants 5 (failure is routed), 7 (overrides are traceable) and 9 (concurrent
edits don't corrupt)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inventory.models import Product
from orders.models import Order, OrderEvent
from orders.roles import Role
from orders.states import EventSource, OrderStatus
from provisioning.models import ExceptionCase, ReasonCode
from provisioning.services import exception_case_resolve_override
from tests.factories import (
    UserFactory,
    submit_order,
)

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("admin:provisioning_exceptioncase_changelist")
MakeCase = Callable[..., ExceptionCase]


def _staff(user: User) -> User:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def lead(lead_user: User) -> User:
    return _staff(lead_user)


@pytest.fixture
def lead_client(client: Client, lead: User) -> Client:
    client.force_login(lead)
    return client


@pytest.fixture
def make_case(django_capture_on_commit_callbacks, plan, faulty_area, lead) -> MakeCase:
    """An order whose activation failed at Faultybridge: 'exception', with one open case that
    the lead owns (the only lead there is)."""

    def make(**customer: str) -> ExceptionCase:
        with django_capture_on_commit_callbacks(execute=True):
            order = submit_order(plan=plan, area=faulty_area, **customer).order
        return ExceptionCase.objects.select_related("order").get(order=order)

    return make


def _listed(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [case.pk for case in response.context["cl"].result_list]


def _messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def _act(client: Client, action: str, cases: list[ExceptionCase], **extra: str):  # type: ignore[no-untyped-def]
    """Post an action from the changelist, as its 'Go' button does."""
    data = {"action": action, "_selected_action": [c.pk for c in cases], "index": "0", **extra}
    return client.post(QUEUE_URL, data, follow=True)


def _apply(client: Client, action: str, cases: list[ExceptionCase], **fields: str):  # type: ignore[no-untyped-def]
    """Post an action's intermediate form, as its submit button does."""
    data = {"action": action, "_selected_action": [c.pk for c in cases], "apply": "yes", **fields}
    return client.post(QUEUE_URL, data, follow=True)


# --- the queue ----------------------------------------------------------------------------------
def test_queue_opens_on_active_cases_only(
    lead_client: Client, lead: User, make_case: MakeCase
) -> None:
    # given an open case, a case whose retry is in progress, and a resolved case
    open_case, retrying, resolved = make_case(), make_case(), make_case()
    ExceptionCase.objects.filter(pk=retrying.pk).update(state=ExceptionCase.State.RETRYING)
    exception_case_resolve_override(
        resolved,
        acting_user=lead,
        resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        reason="Customer withdrew.",
    )

    # when the lead opens the queue
    response = lead_client.get(QUEUE_URL)

    # then it lists the work to do, oldest first, under the order's display ID
    assert response.status_code == 200
    assert _listed(response) == [open_case.pk, retrying.pk]
    assert open_case.order.display_id in response.content.decode()
    # and the resolved case is one filter away
    assert resolved.pk in _listed(lead_client.get(QUEUE_URL, {"state": "all"}))
    assert _listed(lead_client.get(QUEUE_URL, {"state": "resolved"})) == [resolved.pk]


def test_queue_filters_by_reason_owner_and_age(
    lead_client: Client, lead: User, make_case: MakeCase
) -> None:
    # given three cases: fresh and mine, 6 hours old and unassigned with another reason,
    # 4 days old and owned by another lead
    fresh, six_hours, four_days = make_case(), make_case(), make_case()
    other_lead = UserFactory(role=Role.PROVISIONING_LEAD)
    now = timezone.now()
    ExceptionCase.objects.filter(pk=six_hours.pk).update(
        opened_at=now - datetime.timedelta(hours=6),
        owner=None,
        reason_code=ReasonCode.LINE_TEST_FAILED,
    )
    ExceptionCase.objects.filter(pk=four_days.pk).update(
        opened_at=now - datetime.timedelta(days=4), owner=other_lead
    )

    def listed(**params: str) -> list[int]:
        return _listed(lead_client.get(QUEUE_URL, params))

    # when the lead filters, then each filter keeps only its cases
    assert listed(reason_code__exact=ReasonCode.LINE_TEST_FAILED) == [six_hours.pk]
    assert listed(owner="mine") == [fresh.pk]
    assert listed(owner="none") == [six_hours.pk]
    assert listed(owner=str(other_lead.pk)) == [four_days.pk]
    assert listed(age="lt1h") == [fresh.pk]
    assert listed(age="1-4h") == []
    assert listed(age="4-24h") == [six_hours.pk]
    assert listed(age="gt1d") == [four_days.pk]
    assert listed(age="gt3d") == [four_days.pk]
    # and the age column reads like a person would say it
    response = lead_client.get(QUEUE_URL)
    assert "6 h" in response.content.decode()
    assert "4 d" in response.content.decode()


def test_search_by_lower_case_dashed_order_id_finds_the_case(
    lead_client: Client, make_case: MakeCase
) -> None:
    # given two cases
    wanted, _other = make_case(), make_case()
    typed = wanted.order.display_id.lower()  # as read over the phone: "k7qm3-xpa9z"

    # when the lead searches by the order ID as typed, or with spaces instead of the dash
    by_dash = lead_client.get(QUEUE_URL, {"q": typed})
    by_space = lead_client.get(QUEUE_URL, {"q": typed.replace("-", " ")})

    # then exactly that case is found
    assert _listed(by_dash) == [wanted.pk]
    assert _listed(by_space) == [wanted.pk]


def test_search_by_customer_email_finds_the_case(lead_client: Client, make_case: MakeCase) -> None:
    # given two customers' cases
    wanted = make_case(email="quinn.failed@example.com")
    make_case()

    # when the lead searches by part of the e-mail address
    response = lead_client.get(QUEUE_URL, {"q": "quinn.failed"})

    # then only that customer's case is listed
    assert _listed(response) == [wanted.pk]


# --- actions ------------------------------------------------------------------------------------
def test_assign_to_me_takes_the_case_and_records_it_on_the_order(
    lead_client: Client, lead: User, make_case: MakeCase
) -> None:
    # given a case owned by another lead
    case = make_case()
    other_lead = UserFactory(role=Role.PROVISIONING_LEAD)
    ExceptionCase.objects.filter(pk=case.pk).update(owner=other_lead)

    # when the lead runs "Assign to me" on it
    response = _act(lead_client, "assign_to_me", [case])

    # then the lead owns it, the order's history says so, and the lead is told
    case.refresh_from_db()
    assert case.owner == lead
    event = OrderEvent.objects.get(order=case.order, kind=OrderEvent.Kind.EXCEPTION_ASSIGNED)
    assert event.actor == lead
    assert any("Assigned to" in m for m in _messages(response))


def test_assign_to_another_person_through_the_intermediate_form(
    lead_client: Client, provisioning_user: User, make_case: MakeCase
) -> None:
    # given an open case
    case = make_case()

    # when the lead chooses "Assign to…", then picks a provisioning team member
    form_page = _act(lead_client, "assign_to", [case])
    assert form_page.status_code == 200
    assert provisioning_user.get_full_name() in form_page.content.decode()
    _apply(lead_client, "assign_to", [case], owner=str(provisioning_user.pk))

    # then that person owns the case
    case.refresh_from_db()
    assert case.owner == provisioning_user


def test_retry_after_the_network_is_fixed_completes_the_order_and_resolves_the_case(
    lead_client: Client,
    lead: User,
    make_case: MakeCase,
    settings,
    django_capture_on_commit_callbacks,
) -> None:
    # given an open case, and the network fault since fixed
    case = make_case()
    settings.NETWORK_SIMULATOR_RULES = []

    # when the lead runs "Retry activation" on it
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(lead_client, "retry_activation", [case])

    # then the retry succeeded: the case is resolved, the order activated and billed
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.RESOLVED
    assert case.resolution == ExceptionCase.Resolution.RETRY_SUCCEEDED
    assert case.resolved_by == lead
    assert Order.objects.get(pk=case.order_id).status == OrderStatus.COMPLETED
    assert any("retry started" in m for m in _messages(response))


def test_retry_reports_each_case_it_could_not_retry(
    lead_client: Client, lead: User, make_case: MakeCase, django_capture_on_commit_callbacks
) -> None:
    # given an open case and a case someone else already cancelled
    still_open, cancelled = make_case(), make_case()
    exception_case_resolve_override(
        cancelled,
        acting_user=UserFactory(role=Role.PROVISIONING_LEAD),
        resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        reason="Customer withdrew.",
    )

    # when the lead retries both (the network is still broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(lead_client, "retry_activation", [still_open, cancelled])

    # then the open one was retried (and failed again), the cancelled one was left alone
    # with a message saying why
    messages = _messages(response)
    assert any(
        cancelled.order.display_id in m and "someone acted on it first" in m for m in messages
    )
    assert any(still_open.order.display_id in m and "retry started" in m for m in messages)
    still_open.refresh_from_db()
    assert still_open.failure_count == 2
    assert Order.objects.get(pk=cancelled.order_id).status == OrderStatus.CANCELLED


def test_resolve_by_override_without_a_reason_shows_the_error_and_changes_nothing(
    lead_client: Client, make_case: MakeCase
) -> None:
    # given an open case
    case = make_case()
    events_before = OrderEvent.objects.filter(order=case.order).count()

    # when the lead submits the override form with a blank reason
    response = _apply(
        lead_client,
        "resolve_by_override",
        [case],
        resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
        reason="   ",
    )

    # then the form comes back with the error next to the reason, and nothing changed
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["A reason is required."]}
    assert "A reason is required." in response.content.decode()
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.OPEN
    assert Order.objects.get(pk=case.order_id).status == OrderStatus.EXCEPTION
    assert OrderEvent.objects.filter(order=case.order).count() == events_before


def test_resolve_by_override_records_the_lead_and_the_reason(
    lead_client: Client, lead: User, make_case: MakeCase, django_capture_on_commit_callbacks
) -> None:
    # given an open case
    case = make_case()
    reason = "Port freed by hand at the cabinet; line tested live."

    # when the lead resolves it as activated by hand, with a reason
    form_page = _act(lead_client, "resolve_by_override", [case])
    assert form_page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(
            lead_client,
            "resolve_by_override",
            [case],
            resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
            reason=reason,
        )

    # then the case is resolved by the lead, the order activated (and billed), and the status
    # event names the lead, the admin and the reason
    assert any("Resolved" in m for m in _messages(response))
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.RESOLVED
    assert case.resolution == ExceptionCase.Resolution.OVERRIDE_ACTIVATED
    assert case.resolved_by == lead
    event = OrderEvent.objects.get(
        order=case.order, kind=OrderEvent.Kind.STATUS_CHANGED, to_status=OrderStatus.ACTIVATED
    )
    assert (event.actor, event.source, event.reason) == (lead, EventSource.ADMIN, reason)
    assert Order.objects.get(pk=case.order_id).status == OrderStatus.COMPLETED
    # and the audit log holds the change with the lead as actor
    assert LogEntry.objects.get_for_object(case).filter(actor=lead).exists()


def test_second_resolve_of_a_case_someone_resolved_meanwhile_says_so_and_changes_nothing(
    lead_client: Client, make_case: MakeCase, django_capture_on_commit_callbacks
) -> None:
    # given the lead has the override form open for a case
    case = make_case()
    assert _act(lead_client, "resolve_by_override", [case]).status_code == 200
    # and meanwhile another lead cancels the order through the case
    other_lead = UserFactory(role=Role.PROVISIONING_LEAD)
    exception_case_resolve_override(
        case,
        acting_user=other_lead,
        resolution=ExceptionCase.Resolution.OVERRIDE_CANCELLED,
        reason="Customer withdrew.",
    )

    # when the lead submits "activated by hand"
    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(
            lead_client,
            "resolve_by_override",
            [case],
            resolution=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
            reason="Activated at the cabinet.",
        )

    # then the lead reads a clear conflict message, and the first decision stands
    assert response.status_code == 200
    assert any(
        case.order.display_id in m and "someone acted on it first" in m for m in _messages(response)
    )
    case.refresh_from_db()
    assert case.resolution == ExceptionCase.Resolution.OVERRIDE_CANCELLED
    assert case.resolved_by == other_lead
    assert Order.objects.get(pk=case.order_id).status == OrderStatus.CANCELLED


# --- the case page ------------------------------------------------------------------------------
def test_case_page_shows_the_order_and_its_history_with_work_buttons(
    lead_client: Client, make_case: MakeCase
) -> None:
    # given an open case
    case = make_case()

    # when the lead opens it
    response = lead_client.get(reverse("admin:provisioning_exceptioncase_change", args=[case.pk]))

    # then the page shows the order's status, the failure detail, the failed task the case
    # names, the order's events and its plan, and the buttons that work the case
    page = response.content.decode()
    assert response.status_code == 200
    assert "Exception" in page
    assert case.reason_detail in page
    assert "Reserve access port (1.reserve_port) of item 1, Fibre 500: failed" in page
    assert "Exception case opened" in page
    plan = page[page.index('id="case-plan"') :]
    failed = plan[plan.index('data-testid="task-1.reserve_port"') :]
    failed = failed[: failed.index("</tr>")]
    assert "case-task" in failed and "The task this case is about" in failed
    assert "Failed: <code>PORT_UNAVAILABLE</code>" in failed
    assert "#1 First attempt: failed" in failed
    assert "Point of no return" in plan  # activate line
    for name in ("assign_to_me", "assign", "retry", "resolve"):
        assert reverse(f"admin:provisioning_exceptioncase_{name}", args=[case.pk]) in page
    # and no add-on to cancel on a line-only order
    assert 'id="case-cancel-item"' not in page


def test_case_page_buttons_resolve_through_the_service_and_refuse_a_blank_reason(
    lead_client: Client, lead: User, make_case: MakeCase, django_capture_on_commit_callbacks
) -> None:
    # given an open case
    case = make_case()
    url = reverse("admin:provisioning_exceptioncase_resolve", args=[case.pk])

    # when the lead presses "Resolve" with no reason
    blank = lead_client.post(
        url, {"resolution": ExceptionCase.Resolution.OVERRIDE_CANCELLED, "reason": ""}
    )

    # then the form comes back with the error, and the case is untouched
    assert blank.status_code == 200
    assert blank.context["form"].errors == {"reason": ["A reason is required."]}
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.OPEN

    # when the lead gives a reason
    with django_capture_on_commit_callbacks(execute=True):
        done = lead_client.post(
            url,
            {"resolution": ExceptionCase.Resolution.OVERRIDE_CANCELLED, "reason": "Withdrawn."},
            follow=True,
        )

    # then the order is cancelled by the lead and the case page says so
    assert done.redirect_chain[-1][0].endswith(
        reverse("admin:provisioning_exceptioncase_change", args=[case.pk])
    )
    case.refresh_from_db()
    assert (case.state, case.resolved_by) == (ExceptionCase.State.RESOLVED, lead)
    assert Order.objects.get(pk=case.order_id).status == OrderStatus.CANCELLED
    # and the work URLs take POST only
    assert lead_client.get(url).status_code == 405


def test_case_page_assign_to_me_button_takes_the_case(
    lead_client: Client, lead: User, make_case: MakeCase
) -> None:
    # given an unassigned case
    case = make_case()
    ExceptionCase.objects.filter(pk=case.pk).update(owner=None)

    # when the lead presses "Assign to me" on the case page
    response = lead_client.post(
        reverse("admin:provisioning_exceptioncase_assign_to_me", args=[case.pk]), follow=True
    )

    # then the lead owns it
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.owner == lead


# --- who may work the queue ---------------------------------------------------------------------
def test_support_sees_the_queue_but_cannot_work_it(
    client: Client, support_user: User, make_case: MakeCase
) -> None:
    # given an open case and a support agent with back-office access
    case = make_case()
    client.force_login(_staff(support_user))

    # when the agent opens the queue and the case
    queue = client.get(QUEUE_URL)
    page = client.get(reverse("admin:provisioning_exceptioncase_change", args=[case.pk]))

    # then they see the case but no actions and no work buttons
    assert _listed(queue) == [case.pk]
    assert queue.context["action_form"] is None
    assert "Assign to me" not in queue.content.decode()
    assert page.status_code == 200
    assert 'id="case-work"' not in page.content.decode()

    # when they post to the case's work URLs or name an action anyway
    form = {"reason": "x", "resolution": ExceptionCase.Resolution.OVERRIDE_CANCELLED}
    for name in ("assign_to_me", "retry", "resolve", "assign"):
        url = reverse(f"admin:provisioning_exceptioncase_{name}", args=[case.pk])
        assert client.post(url, form).status_code == 403
    _act(client, "assign_to_me", [case])

    # then nothing changed
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.OPEN
    assert case.owner != support_user
    assert not OrderEvent.objects.filter(
        order=case.order, kind=OrderEvent.Kind.EXCEPTION_ASSIGNED
    ).exists()


def test_work_urls_need_the_csrf_token(lead: User, make_case: MakeCase) -> None:
    # given a lead whose browser does not send the CSRF token
    case = make_case()
    ExceptionCase.objects.filter(pk=case.pk).update(owner=None)
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)

    # when a forged POST hits the case's "Assign to me"
    response = client.post(reverse("admin:provisioning_exceptioncase_assign_to_me", args=[case.pk]))

    # then it is refused and the case keeps no owner
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.owner is None


# --- queries ------------------------------------------------------------------------------------
def test_queue_query_count_does_not_grow_with_the_number_of_cases(
    lead_client: Client, make_case: MakeCase, django_assert_max_num_queries
) -> None:
    # given 3 cases, then 30
    for _ in range(3):
        make_case()
    lead_client.get(QUEUE_URL)  # warm the session and content-type caches

    # when the lead opens the queue, then the page costs the same number of queries
    with django_assert_max_num_queries(10):
        assert len(_listed(lead_client.get(QUEUE_URL))) == 3
    for _ in range(27):
        make_case()
    with django_assert_max_num_queries(10):
        assert len(_listed(lead_client.get(QUEUE_URL))) == 30


# --- the rest of the back office (orders/admin.py, billing/admin.py) ------------------------------
ORDERS_URL = reverse("admin:orders_order_changelist")


@pytest.fixture
def manual_order(django_capture_on_commit_callbacks, plan, manual_area) -> Order:
    """An order waiting in the manual provisioning pool."""
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area).order
    return Order.objects.get(pk=order.pk)


def _confirm(client: Client, orders: list[Order], **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "action": "confirm_manual_activation",
        "_selected_action": [o.pk for o in orders],
        **fields,
    }
    return client.post(ORDERS_URL, data, follow=True)


def test_confirm_manual_activation_needs_a_reason_then_activates_as_the_lead(
    lead_client: Client, lead: User, manual_order: Order, django_capture_on_commit_callbacks
) -> None:
    # given an order in the manual pool
    assert manual_order.status == OrderStatus.AWAITING_MANUAL

    # when the lead confirms its activation without a reason
    blank = _confirm(lead_client, [manual_order], apply="yes", reason=" ")

    # then the form says a reason is required and the order still waits
    assert blank.context["form"].errors == {"reason": ["A reason is required."]}
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.AWAITING_MANUAL

    # when the lead gives the reason
    with django_capture_on_commit_callbacks(execute=True):
        _confirm(lead_client, [manual_order], apply="yes", reason="Engineer activated on site.")

    # then the order is activated (and billed) with the lead and the reason on its history
    event = OrderEvent.objects.get(order=manual_order, to_status=OrderStatus.ACTIVATED)
    assert (event.actor, event.source, event.reason) == (
        lead,
        EventSource.ADMIN,
        "Engineer activated on site.",
    )
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.COMPLETED


def test_confirm_manual_activation_is_offered_only_to_provisioning_staff(
    client: Client,
    provisioning_user: User,
    support_user: User,
    manual_order: Order,
    django_capture_on_commit_callbacks,
) -> None:
    # given a support agent with back-office access but no provisioning role
    client.force_login(_staff(support_user))

    # when they open the order list and try the action anyway
    listing = client.get(ORDERS_URL)
    _confirm(client, [manual_order], apply="yes", reason="Done.")

    # then the action is not offered, and the order still waits
    assert listing.status_code == 200
    assert "confirm_manual_activation" not in listing.content.decode()
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.AWAITING_MANUAL

    # while provisioning staff, who work the manual pool, see it and can use it
    client.force_login(_staff(provisioning_user))
    assert "confirm_manual_activation" in client.get(ORDERS_URL).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _confirm(client, [manual_order], apply="yes", reason="Engineer activated on site.")
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.COMPLETED


def test_order_search_accepts_the_id_as_typed_and_the_phone_with_spaces(
    lead_client: Client, manual_order: Order
) -> None:
    # given an order (and its customer's phone, stored as digits)
    phone = manual_order.customer.phone
    spaced = f"{phone[:5]} {phone[5:8]} {phone[8:]}"

    # when the lead searches by the lower-case, dashed order ID, or by the spaced phone number
    by_id = lead_client.get(ORDERS_URL, {"q": manual_order.display_id.lower()})
    by_phone = lead_client.get(ORDERS_URL, {"q": spaced})

    # then the order is found both ways
    assert [o.pk for o in by_id.context["cl"].result_list] == [manual_order.pk]
    assert [o.pk for o in by_phone.context["cl"].result_list] == [manual_order.pk]


def test_orders_are_read_only_in_the_admin_even_for_a_superuser(
    client: Client, manual_order: Order
) -> None:
    # given a superuser
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    # when they open the order, and try to add or delete one
    page = client.get(reverse("admin:orders_order_change", args=[manual_order.pk]))
    add = client.get(reverse("admin:orders_order_add"))
    delete = client.post(
        reverse("admin:orders_order_delete", args=[manual_order.pk]), {"post": "yes"}
    )

    # then the order is shown with its status history, and nothing can change it
    assert page.status_code == 200
    assert "Status history and events" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert (add.status_code, delete.status_code) == (403, 403)
    assert Order.objects.get(pk=manual_order.pk).status == OrderStatus.AWAITING_MANUAL


def test_every_back_office_page_opens(
    client: Client, make_case: MakeCase, manual_order: Order, django_capture_on_commit_callbacks
) -> None:
    # given an exception case, a manual order, a completed (billed) order and a superuser
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        billed = submit_order(plan=case.order.plan).order
    account = Order.objects.get(pk=billed.pk).billing_account
    task = case.order.tasks.get(key="1.reserve_port")
    product = Product.objects.get(order=billed)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    pages = [
        reverse(f"admin:{name}_changelist")
        for name in (
            "orders_order",
            "orders_customer",
            "orders_plan",
            "orders_servicearea",
            "orders_outboxmessage",
            "provisioning_exceptioncase",
            "provisioning_fulfilmenttask",
            "billing_billingaccount",
            "inventory_product",
        )
    ] + [
        reverse("admin:orders_customer_change", args=[manual_order.customer_id]),
        reverse("admin:orders_plan_change", args=[manual_order.plan_id]),
        reverse("admin:orders_servicearea_change", args=[manual_order.service_area_id]),
        reverse("admin:provisioning_exceptioncase_change", args=[case.pk]),
        reverse("admin:provisioning_fulfilmenttask_change", args=[task.pk]),
        reverse("admin:provisioning_fulfilmenttask_changelist") + f"?order={case.order_id}",
        reverse("admin:billing_billingaccount_change", args=[account.pk]),
        reverse("admin:inventory_product_change", args=[product.pk]),
    ]

    # when they open each page, then each one answers
    for url in pages:
        assert client.get(url).status_code == 200, url
    # and the task shows its attempts, the account its charges per item, the product its
    # network identifiers
    task_page = client.get(pages[-4]).content.decode()
    assert task_page.count(ReasonCode.PORT_UNAVAILABLE.label) == 2  # the task, its one attempt
    charges = client.get(pages[-2]).content.decode()
    assert "charges per delivered item" in charges.lower() and "Item 1" in charges
    assert product.network_identifiers["subscriber"] in client.get(pages[-1]).content.decode()


def test_send_now_hands_a_stuck_outbox_message_to_the_workers(
    client: Client, plan, serviceable_area, django_capture_on_commit_callbacks
) -> None:
    # given an order whose activation message never left (its after-commit send was lost)
    order = submit_order(plan=plan, area=serviceable_area).order
    message = order.outbox_messages.get(task_name="provisioning.fulfil_order")
    assert message.dispatched_at is None
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    # when a superuser sends it from the outbox admin
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:orders_outboxmessage_changelist"),
            {"action": "send_now", "_selected_action": [message.pk], "index": "0"},
            follow=True,
        )

    # then the message is marked sent and the order went on to activation
    assert any("Sent 1 message" in m for m in _messages(response))
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
