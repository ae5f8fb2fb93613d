"""A notice's e-mail with real worker processes: a worker SIGKILLed while it sends one, and a
broker that then forgets every message it held, delay the customer's e-mails but never drop or
double them (DESIGN invariant 3)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from notices.models import CustomerNotice, NoticeKind
from orders.models import Order, OutboxMessage
from orders.states import OrderStatus
from tests.factories import submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment
from tests.plugins.mail import sent_to
from tests.test_outbox_with_worker import _drop_everything_the_broker_holds, _wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("notices_on"),
    # SQLite has one writer at a time: the e-mail held mid-send holds its transaction's write
    # lock on the whole database, and this test's own writes time out behind it. CI's second
    # pass runs it on PostgreSQL, where the held send locks only its own rows.
    pytest.mark.postgresql,
]


def test_every_notice_is_sent_once_through_a_killed_worker_and_a_forgetful_broker(
    plan, serviceable_area, tmp_path: Path
):
    mail = tmp_path / "mail"
    mail.mkdir()
    hold = mail / "hold"
    held = "held@example.com"
    hold.write_text(held)
    workers: list[CeleryWorker] = []
    with contextlib.ExitStack() as stack:
        env = worker_environment(
            stack,
            CUSTOMER_NOTICES_ON_EVENTS="1",
            TEST_EMAIL_BACKEND="tests.plugins.mail.FolderEmailBackend",
            TEST_MAIL_DIR=str(mail),
            TEST_MAIL_HOLD=str(hold),
            OUTBOX_LEASE_SECONDS="4",
            OUTBOX_LOST_AFTER_SECONDS="2",
            OUTBOX_RECOVER_EVERY_SECONDS="1",
            OUTBOX_DISPATCH_EVERY_SECONDS="0.5",
        )

        def worker(name: str) -> CeleryWorker:
            w = CeleryWorker(
                env=env, log_path=tmp_path / f"{name}.log", beat_schedule=tmp_path / f"{name}-b"
            )
            workers.append(w)
            stack.callback(w.stop)
            return start_or_fail(w)

        # Given a worker, and orders from new customers (one whose mail is held mid-send)
        first = worker("worker-1")
        emails = ["one@example.com", "two@example.com", held]
        for n, email in enumerate(emails):
            submit_order(plan=plan, area=serviceable_area, email=email, phone=f"0770092{n:04d}")
        # When the worker is SIGKILLed while it sends an e-mail to that customer
        _wait_for((mail / f"{held}.holding").exists, 60, "the held e-mail", workers)
        first.kill()
        # ... the broker forgets every message it held, and a new worker comes
        _drop_everything_the_broker_holds()
        hold.unlink()
        worker("worker-2")

        def settled() -> bool:
            return (
                not OutboxMessage.objects.filter(completed_at__isnull=True).exists()
                and not Order.objects.exclude(status=OrderStatus.COMPLETED).exists()
            )

        _wait_for(settled, 120, "every order and message done", workers)
        time.sleep(2)  # a late duplicate would show up here
        # Then every customer got their invitation, "we have your order", "your service is
        # live" and the CSAT question ("how did we do?"): each once, the held one included
        assert sent_to(mail) == {email: 4 for email in emails}
        for order in Order.objects.all():
            notices = CustomerNotice.objects.filter(order=order)
            assert sorted(notices.values_list("kind", flat=True)) == sorted(
                [NoticeKind.ACTIVE, NoticeKind.CSAT, NoticeKind.TAKEN]
            )
            assert not notices.filter(sent_at__isnull=True).exists()
