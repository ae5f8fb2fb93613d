"""The pushed live status (orders.live, orders.live_notifier): a page's event stream opens only
for someone who may see the order, says "changed" when a change commits, and a WSGI server
answers the same request as a poll (the fallback)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse

from orders.live_notifier import notifier
from orders.models import OrderEvent
from orders.services import order_confirm_manual_activation
from orders.states import EventSource

STREAM = {"Accept": "text/event-stream"}


def portal_live(order) -> str:
    return reverse("portal:order_live", kwargs={"order_id": order.pk})


@pytest.mark.django_db
def test_another_customers_order_has_no_stream(customer_user, failed_order):
    # Given a signed-in customer, and an order of someone else's
    client = AsyncClient()
    client.force_login(customer_user)
    # When their page asks for that order's stream, on the customer and on the staff URL
    own_url = async_to_sync(client.get)(portal_live(failed_order), headers=STREAM)
    staff_url = async_to_sync(client.get)(
        reverse("orders:live", kwargs={"order_id": failed_order.pk}), headers=STREAM
    )
    # Then nothing streams: not found as for a missing order, and no right to the staff view
    assert own_url.status_code == 404
    assert not own_url.streaming
    assert staff_url.status_code == 403
    assert not staff_url.streaming


@pytest.mark.django_db
def test_a_tracking_stream_needs_a_token_we_issued(customer_manual_order):
    client = AsyncClient()
    response = async_to_sync(client.get)(
        reverse("track_live"), headers={**STREAM, "X-Live-Token": "made-up"}
    )
    assert response.status_code == 404
    assert not response.streaming


@pytest.mark.django_db
def test_a_wsgi_server_answers_the_stream_request_as_a_poll(
    client, customer_user, customer_manual_order
):
    # Given the customer's page under a WSGI server (runserver, gunicorn), which cannot hold
    # a stream open for it
    client.force_login(customer_user)
    version = OrderEvent.objects.filter(order=customer_manual_order).order_by("-id")[0].pk
    page = client.get(reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk}))
    assert 'data-live-push="true"' not in page.content.decode()
    # When the page asks for the stream anyway
    response = client.get(portal_live(customer_manual_order), {"since": version}, headers=STREAM)
    # Then it gets the poll's answer (nothing new) and polls from then on
    assert response.status_code == 204
    assert not response.streaming


@pytest.mark.django_db(transaction=True)
def test_the_customers_own_stream_says_changed_when_a_change_commits(
    customer_user, customer_manual_order, lead_user
):
    # Given the customer's page open under an ASGI server, listening
    client = AsyncClient()
    client.force_login(customer_user)
    page = async_to_sync(client.get)(
        reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    )
    assert 'data-live-push="true"' in page.content.decode()
    version = page.context["live_version"]

    def activate() -> None:
        try:
            order_confirm_manual_activation(
                customer_manual_order,
                actor=lead_user,
                reason="Technician activated the line.",
                source=EventSource.ADMIN,
            )
        finally:
            connections.close_all()

    async def listen() -> list[bytes]:
        response = await client.get(portal_live(customer_manual_order), headers=STREAM)
        assert response.streaming
        assert response["Content-Type"] == "text/event-stream"
        content = aiter(response.streaming_content)
        try:
            ready = await asyncio.wait_for(anext(content), 5)
            # When a person confirms the line live in another process's transaction
            await asyncio.sleep(0.3)  # the notifier has read where the table stands
            changer = threading.Thread(target=activate)
            changer.start()
            change = await asyncio.wait_for(anext(content), 5)
            await asyncio.to_thread(changer.join)
            return [ready, change]
        finally:
            await content.aclose()
            await notifier.aclose()

    ready, change = async_to_sync(listen)()
    # Then the stream says so, with the order's new version and nothing else about it
    assert ready.startswith(b"retry:")
    assert b"event: ready" in ready
    newest = OrderEvent.objects.filter(order=customer_manual_order).order_by("-id")[0].pk
    assert change.startswith(b"event: change\n")
    assert f'"order":"{customer_manual_order.pk}"'.encode() in change
    pushed = int(change.split(b'"version":')[1].split(b"}")[0])
    assert version < pushed <= newest
    assert b"Technician" not in change


@pytest.mark.django_db
def test_a_worklist_stream_opens_only_on_orders_the_user_may_see(
    customer_user, sales_user, customer_manual_order, failed_order
):
    url = reverse("orders:list_live")
    # A customer has no worklist: no stream, even on their own order
    customer = AsyncClient()
    customer.force_login(customer_user)
    refused = async_to_sync(customer.get)(url, {"o": customer_manual_order.pk}, headers=STREAM)
    assert refused.status_code == 403
    assert not refused.streaming
    # Staff naming something that is no order: not found, nothing streams
    sales = AsyncClient()
    sales.force_login(sales_user)
    made_up = async_to_sync(sales.get)(
        url, {"o": [customer_manual_order.pk, "K7QM3XPA9Z"]}, headers=STREAM
    )
    assert made_up.status_code == 404
    assert not made_up.streaming


@pytest.mark.django_db(transaction=True)
def test_a_worklist_stream_says_which_of_its_orders_changed(
    sales_user, customer_manual_order, failed_order
):
    client = AsyncClient()
    client.force_login(sales_user)
    url = reverse("orders:list_live")

    async def listen() -> bytes:
        response = await client.get(
            url, {"o": [customer_manual_order.pk, failed_order.pk]}, headers=STREAM
        )
        assert response.streaming
        content = aiter(response.streaming_content)
        try:
            await asyncio.wait_for(anext(content), 5)  # ready
            notifier.dispatch(failed_order.pk, 99)
            return await asyncio.wait_for(anext(content), 5)
        finally:
            await content.aclose()
            await notifier.aclose()

    change = async_to_sync(listen)()
    assert (
        change == f'event: change\ndata: {{"order":"{failed_order.pk}","version":99}}\n\n'.encode()
    )


@pytest.mark.django_db
def test_a_worklist_stream_takes_only_the_sorts_of_change_we_publish(sales_user):
    sales = AsyncClient()
    sales.force_login(sales_user)
    url = reverse("orders:list_live")
    made_up = async_to_sync(sales.get)(url, {"t": "status:anything"}, headers=STREAM)
    assert made_up.status_code == 404
    assert not made_up.streaming
    nothing = async_to_sync(sales.get)(url, headers=STREAM)
    assert nothing.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_worklist_hears_that_an_order_may_have_come_into_it_without_being_told_which(
    sales_user, customer_manual_order, failed_order, settings
):
    # Given a sales rep's worklist listing one order, waiting for orders put in exception
    settings.LIVE_PUSH_LIST_MIN_SECONDS = 0.5
    client = AsyncClient()
    client.force_login(sales_user)
    url = reverse("orders:list_live")

    async def listen() -> tuple[bytes, bytes, bytes, float]:
        response = await client.get(
            url, {"o": customer_manual_order.pk, "t": "status:exception"}, headers=STREAM
        )
        assert response.streaming
        content = aiter(response.streaming_content)
        try:
            await asyncio.wait_for(anext(content), 5)  # ready
            # When another order goes into exception: the list is told, at once
            notifier.dispatch(failed_order.pk, 98, ("kind:status_changed", "status:exception"))
            first = await asyncio.wait_for(anext(content), 5)
            first_at = time.monotonic()
            # ... a change of a sort it does not wait for says nothing; its own order's does
            notifier.dispatch(failed_order.pk, 99, ("kind:note",))
            notifier.dispatch(customer_manual_order.pk, 100, ("kind:note",))
            own = await asyncio.wait_for(anext(content), 5)
            # ... and two more exceptions at once are told once, not before the list's pause
            notifier.dispatch(failed_order.pk, 101, ("status:exception",))
            notifier.dispatch(failed_order.pk, 102, ("status:exception",))
            second = await asyncio.wait_for(anext(content), 5)
            return first, own, second, time.monotonic() - first_at
        finally:
            await content.aclose()
            await notifier.aclose()

    first, own, second, waited = async_to_sync(listen)()
    assert first == b'event: change\ndata: {"list":true}\n\n'
    assert failed_order.pk.encode() not in first + second
    told = f'{{"order":"{customer_manual_order.pk}","version":100}}'
    assert own == f"event: change\ndata: {told}\n\n".encode()
    assert second == b'event: change\ndata: {"list":true}\n\n'
    assert 0.5 <= waited <= 3
    # The stream gone, nobody waits on the topic any more
    assert "status:exception" not in notifier._by_topic


@pytest.mark.django_db
def test_my_orders_streams_only_the_customers_own_orders(
    customer_user, customer_manual_order, failed_order
):
    url = reverse("portal:my_orders_live")
    customer = AsyncClient()
    customer.force_login(customer_user)
    # Someone else's order among theirs: as if it did not exist, nothing streams
    refused = async_to_sync(customer.get)(
        url, {"o": [customer_manual_order.pk, failed_order.pk]}, headers=STREAM
    )
    assert refused.status_code == 404
    assert not refused.streaming
    # Customers wait for no sorts of change (those are for staff worklists)
    topics = async_to_sync(customer.get)(
        url, {"o": customer_manual_order.pk, "t": "status:exception"}, headers=STREAM
    )
    assert topics.status_code == 404
    # Their own order: a stream, or where the server cannot push, a 204 (the page as loaded)
    own = async_to_sync(customer.get)(url, {"o": customer_manual_order.pk})
    assert own.status_code == 204
