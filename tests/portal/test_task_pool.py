"""The manual pool of tasks on the provisioning worklist (portal/worklists.py, ``task_done``): a
person records a manual task of an order's plan as done (note mandatory, network reference
optional) and the plan goes on; a task someone did first says so; only the provisioning roles,
only manual tasks, only on orders they may see."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from orders.fulfilment import TaskMode
from orders.models import Order
from orders.states import OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from tests.factories import FulfilmentTaskFactory, OrderFactory

pytestmark = pytest.mark.django_db

PROVISIONING_URL = reverse("portal:provisioning_home")


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def manual_order(submitted_order: Order) -> Order:
    """An order of the manual area: its plan's first task waits in the pool for a person."""
    return submitted_order


def done_url(task: FulfilmentTask) -> str:
    return reverse("portal:task_done", args=[task.pk])


def pool_task(order: Order) -> FulfilmentTask:
    return FulfilmentTask.objects.get(order=order, state=TaskState.READY, mode=TaskMode.MANUAL)


def test_a_manual_task_needs_a_note_then_is_done_and_the_plan_goes_on(
    client: Client,
    provisioning_user: User,
    manual_order: Order,
    django_capture_on_commit_callbacks,
) -> None:
    # given the first task of a manual order's plan, waiting in the pool
    task = pool_task(manual_order)
    assert task.key == "1.reserve_port"
    signed_in(client, provisioning_user)

    # when provisioning records it done without a note
    blank = client.post(done_url(task), {"note": "  ", "network_reference": "PORT-7"})

    # then the page comes back with the error next to that task's note, and the task waits
    assert blank.status_code == 200
    row = blank.content.decode()
    row = row[row.index(f'data-testid="task-{task.pk}"') :]
    row = row[: row.index("</tr>")]
    assert '<p class="field-error" id="note-' in row
    assert "A note is required: say what you did." in row
    assert 'value="PORT-7"' in row  # what they typed is kept
    task.refresh_from_db()
    assert task.state == TaskState.READY

    # when they say what they did, with the port they reserved
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            done_url(task),
            {"note": "Patched port 7 at the cabinet.", "network_reference": "INV-PORT-7"},
            follow=True,
        )

    # then the task is done under their name, and the next task of the plan is in the pool
    assert any("reserve access port done under your name" in m for m in messages_of(done))
    task.refresh_from_db()
    assert (task.state, task.done_by, task.network_reference, task.note) == (
        TaskState.DONE,
        provisioning_user,
        "INV-PORT-7",
        "Patched port 7 at the cabinet.",
    )
    assert [t.key for t in done.context["manual_tasks"].items] == ["1.create_subscriber"]


def test_a_manual_task_someone_did_first_says_so(
    client: Client, provisioning_user: User, lead_user: User, manual_order: Order
) -> None:
    # given a pool task that a colleague records while the page is open
    task = pool_task(manual_order)
    signed_in(client, provisioning_user)
    client.get(PROVISIONING_URL)
    client_b = Client()
    signed_in(client_b, lead_user).post(done_url(task), {"note": "Done it."})

    # when provisioning records it too
    response = client.post(done_url(task), {"note": "Me too."}, follow=True)

    # then they are told someone acted first, and the colleague's record stands
    assert any(
        f"Order {manual_order.display_id}:" in m and "someone acted on it first" in m
        for m in messages_of(response)
    )
    task.refresh_from_db()
    assert (task.done_by, task.note) == (lead_user, "Done it.")


def test_only_provisioning_may_record_a_task_and_only_a_manual_one(
    client: Client,
    support_user: User,
    customer_user: User,
    provisioning_user: User,
    manual_order: Order,
) -> None:
    task = pool_task(manual_order)
    # support and customers (no orders.activate_manually) are refused before anything happens
    for user in (support_user, customer_user):
        assert signed_in(Client(), user).post(done_url(task), {"note": "x"}).status_code == 403
    # an automatic task, or one that does not exist, is not the pool's: not found
    running = OrderFactory(status=OrderStatus.PROVISIONING)
    automatic = FulfilmentTaskFactory(order=running, mode=TaskMode.AUTOMATIC)
    signed_in(client, provisioning_user)
    assert client.post(done_url(automatic), {"note": "x"}).status_code == 404
    assert client.post(reverse("portal:task_done", args=[999999]), {"note": "x"}).status_code == 404
    task.refresh_from_db()
    automatic.refresh_from_db()
    assert (task.state, automatic.state) == (TaskState.READY, TaskState.READY)
