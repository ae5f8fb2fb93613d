"""The integrator's acceptance run, with real parts: a TMF622 order placed over the API is carried
by a real Celery worker exactly like a form order, and a listener registered on the hub (a real
HTTP server on 127.0.0.1) receives the create event and every state change, each signed with its
secret (the deliveries are themselves worker tasks)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from orders.catalogue import specification_for
from orders.models import Order, Plan, ProductKind, ServiceArea
from orders.roles import Role
from orders.states import OrderStatus
from tests.tmf.conftest import TMF622

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SETTLE_SECONDS = 120.0


class Listener:
    """A callback endpoint on 127.0.0.1 that records what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                listener.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/listener"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


def test_api_order_activates_through_the_worker_and_the_listener_gets_every_event_signed(
    celery_worker_process, make_api_client
):
    # Given the catalogue and an automated exchange, a lead (owner of any exception), and a CRM
    # registered with all scopes
    plan = Plan.objects.create(
        specification=specification_for(ProductKind.INTERNET_ACCESS),
        code="fibre-500",
        name="Fibre 500",
        download_mbps=500,
        upload_mbps=75,
        monthly_price=Decimal("42.00"),
    )
    ServiceArea.objects.create(
        postcode="SW1A1AA",
        exchange="Westminster",
        technology="fttp",
        max_download_mbps=1000,
        auto_provisioning=True,
    )
    lead = User.objects.create_user("lead", is_staff=True)
    lead.groups.add(Group.objects.get(name=Role.PROVISIONING_LEAD.value))
    crm = make_api_client("read", "create", "subscribe", name="crm")
    with Listener() as listener:
        # and a listener registered on the TMF622 hub for every event
        hub = crm.post(f"{TMF622}/hub", {"callback": listener.url}, format="json")
        assert hub.status_code == 201, hub.content
        secret = hub.json()["secret"]

        # When the CRM places an order over TMF622
        created = crm.post(
            f"{TMF622}/productOrder",
            {
                "externalId": "CRM-777",
                "relatedParty": [
                    {
                        "id": "crm-party-1",
                        "role": "Customer",
                        "@referredType": "Individual",
                        "name": "Ada Lovelace",
                        "contactMedium": [
                            {
                                "mediumType": "email",
                                "characteristic": {"emailAddress": "ada@example.com"},
                            },
                            {
                                "mediumType": "mobile",
                                "characteristic": {"phoneNumber": "07700900123"},
                            },
                        ],
                    }
                ],
                "productOrderItem": [
                    {
                        "id": "1",
                        "action": "add",
                        "productOffering": {"id": plan.code},
                        "product": {
                            "place": [
                                {
                                    "role": "installationAddress",
                                    "@type": "GeographicAddress",
                                    "streetName": "1 High Street",
                                    "city": "London",
                                    "postcode": "SW1A 1AA",
                                }
                            ]
                        },
                    }
                ],
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        order_id = created.json()["id"]

        # Then the worker carries it to completed, as it does a form order
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            states = [e["event"]["productOrder"]["state"] for e in listener.events()]
            if "completed" in states:
                break
            time.sleep(0.25)
        order = Order.objects.get(pk=order_id)
        assert order.status == OrderStatus.COMPLETED, celery_worker_process.log_tail()
        assert hasattr(order, "billing_account")
        assert crm.get(f"{TMF622}/productOrder/{order_id}").json()["state"] == "completed"

        # and the listener received the create event, then each TMF state change, in the order
        # of their eventTime (new events are sent at once, by whichever worker process is free:
        # two may arrive swapped, and eventTime is what a listener orders by; tmf.hub.delivery)
        events = sorted(listener.events(), key=lambda e: e["eventTime"])
        kinds = [(e["eventType"], e["event"]["productOrder"]["state"]) for e in events]
        assert kinds == [
            ("ProductOrderCreateEvent", "acknowledged"),
            ("ProductOrderStateChangeEvent", "inProgress"),
            ("ProductOrderStateChangeEvent", "completed"),
        ], kinds
        assert all(e["event"]["productOrder"]["id"] == order_id for e in events)
        assert all("timeOcurred" in e for e in events)
        # each signed with the listener's secret over the exact body
        for headers, body in listener.received:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert headers["x-signature-256"] == f"sha256={expected}"
