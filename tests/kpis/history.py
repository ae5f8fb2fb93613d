"""A seeded history whose KPI figures are counted by hand in the tests that use it.

Week A (a Monday four weeks ago) and the week after it, in area NORTH (channel sales portal)
and area SOUTH (channel API), plan FAST unless said:

=====  ==================  ===========================  ==========  ========  ============
order  submitted           live                         hours       people?   area/channel
=====  ==================  ===========================  ==========  ========  ============
A      Mon 09:00           Mon 15:00                    6           no        north/sales
B      Mon 10:00           Wed 10:00                    48          yes       north/sales
C      Mon 12:00, for Thu  Thu 20:00 (clock from 00:00) 20          no        north/sales
D      Tue 08:00           Sat 08:00                    96          no        south/api
E      Tue 09:00           a change to a live line (not an activation)       north/sales
=====  ==================  ===========================  ==========  ========  ============

Activations: 4; average (6+48+20+96)/4 = 42.5 h; median (nearest rank 2 of 4) 20 h; 90th
percentile (rank 4 of 4) 96 h; live within a day: A, C = 50.0 %; auto-provisioned A, C, D =
75.0 %. Orders submitted: 5. Task attempts finished in the period: 10 of which 3 failed (2
PORT_UNAVAILABLE, 1 NETWORK_TIMEOUT) = 30.0 %; in the baseline (the four weeks before week A) 4
of which 2 failed (PORT_UNAVAILABLE) = 50.0 %, so the target is 30.0 %. Duplicates: 2 refused,
1 replayed, 3 customers matched. Tickets: 3 (on order A and D), 0.60 per order. CSAT: A 5,
B 4, C 2 (by e-mail), D 5: 4 answers, average 16/4 = 4.00, distribution 0, 1, 0, 1, 2.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from orders.models import DuplicateEntry, Order, OrderEvent, Plan, ServiceArea
from orders.models.duplicates import DuplicateKind
from orders.states import EventSource, OrderStatus
from provisioning.models import TaskAttempt, TaskMode, TaskState
from support.models import CsatChannel, CsatResponse
from tests.factories import (
    FulfilmentTaskFactory,
    OrderFactory,
    PlanFactory,
    ServiceAreaFactory,
    SupportTicketFactory,
)


def week_a() -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday() + 28)


def at(day: datetime.date, hour: int, plus_days: int = 0) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=plus_days), datetime.time(hour))
    )


@dataclass
class History:
    monday: datetime.date
    north: ServiceArea
    south: ServiceArea
    fast: Plan
    orders: dict[str, Order]

    @property
    def until(self) -> datetime.date:
        return self.monday + datetime.timedelta(days=13)

    @property
    def baseline(self) -> tuple[datetime.date, datetime.date]:
        return self.monday - datetime.timedelta(days=28), self.monday - datetime.timedelta(days=1)


def _line(name: str, **fields: Any) -> Order:
    return OrderFactory(status=OrderStatus.COMPLETED, external_id=name, **fields)


def seed_history() -> History:
    monday = week_a()
    north = ServiceAreaFactory(postcode="NO11AA", exchange="Northam")
    south = ServiceAreaFactory(postcode="SO11AA", exchange="Southam")
    fast = PlanFactory(code="fast", name="Fast 900")
    common = {"plan": fast, "service_area": north, "channel": EventSource.SALES_PORTAL}

    def live(submitted: datetime.datetime, activated: datetime.datetime) -> dict[str, Any]:
        return {"submitted_at": submitted, "activated_at": activated, "completed_at": activated}

    orders = {
        "A": _line("A", **common, **live(at(monday, 9), at(monday, 15))),
        "B": _line("B", **common, **live(at(monday, 10), at(monday, 10, 2))),
        "C": _line(
            "C",
            **common,
            **live(at(monday, 12), at(monday, 20, 3)),
            requested_activation_date=monday + datetime.timedelta(days=3),
        ),
        "D": _line(
            "D",
            plan=fast,
            service_area=south,
            channel=EventSource.API,
            **live(at(monday, 8, 1), at(monday, 8, 5)),
        ),
    }
    orders["E"] = OrderFactory(
        status=OrderStatus.COMPLETED,
        product_ref=uuid.uuid4(),
        submitted_at=at(monday, 9, 1),
        activated_at=at(monday, 11, 1),
        completed_at=at(monday, 11, 1),
        **common,
    )
    # B waited for a person.
    OrderEvent.objects.create(
        order=orders["B"],
        kind=OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.SUBMITTED,
        to_status=OrderStatus.AWAITING_MANUAL,
        source=EventSource.PROVISIONING,
        created_at=at(monday, 11),
    )

    task = FulfilmentTaskFactory(order=orders["A"], mode=TaskMode.AUTOMATIC, state=TaskState.DONE)
    attempts = [
        *[(at(monday, 14), "", TaskAttempt.Outcome.SUCCEEDED)] * 7,
        (at(monday, 13), "PORT_UNAVAILABLE", TaskAttempt.Outcome.FAILED),
        (at(monday, 13, 4), "PORT_UNAVAILABLE", TaskAttempt.Outcome.FAILED),
        (at(monday, 13, 8), "NETWORK_TIMEOUT", TaskAttempt.Outcome.FAILED),
        # the baseline
        (at(monday, 9, -20), "", TaskAttempt.Outcome.SUCCEEDED),
        (at(monday, 9, -15), "", TaskAttempt.Outcome.SUCCEEDED),
        (at(monday, 9, -10), "PORT_UNAVAILABLE", TaskAttempt.Outcome.FAILED),
        (at(monday, 9, -5), "PORT_UNAVAILABLE", TaskAttempt.Outcome.FAILED),
        # still running: not finished, not counted
        (None, "", TaskAttempt.Outcome.RUNNING),
    ]
    TaskAttempt.objects.bulk_create(
        TaskAttempt(
            task=task,
            order=orders["A"],
            number=number,
            trigger=TaskAttempt.Trigger.INITIAL,
            outcome=outcome,
            started_at=finished or at(monday, 9),
            finished_at=finished,
            error_code=code,
        )
        for number, (finished, code, outcome) in enumerate(attempts, start=1)
    )

    for kind, n in (
        (DuplicateKind.REFUSED, 2),
        (DuplicateKind.REPLAYED, 1),
        (DuplicateKind.CUSTOMER_MATCHED, 3),
    ):
        for i in range(n):
            DuplicateEntry.objects.create(
                kind=kind, order=orders["A"], channel=EventSource.SALES_PORTAL, at=at(monday, 16, i)
            )
    for order, day in ((orders["A"], 2), (orders["A"], 3), (orders["D"], 6)):
        SupportTicketFactory(order=order, created_at=at(monday, 10, day))
    for name, score, day in (("A", 5, 1), ("B", 4, 3), ("C", 2, 4), ("D", 5, 6)):
        CsatResponse.objects.create(
            order=orders[name],
            score=score,
            channel=CsatChannel.EMAIL if name == "C" else CsatChannel.PORTAL,
            answered_at=at(monday, 18, day),
        )
    return History(monday=monday, north=north, south=south, fast=fast, orders=orders)
