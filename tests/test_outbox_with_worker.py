"""Nothing committed is lost, nothing is done twice (DESIGN invariant 3), with real worker
processes: a worker SIGKILLed while it sends an e-mail, and a broker that then drops every
message it holds, still end with every order billed once and every invitation sent once."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from billing.models import BillingAccount
from config.celery import app
from orders.models import Order, OutboxMessage
from orders.states import OrderStatus
from tests.factories import submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment
from tests.plugins.mail import sent_to

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SETTLE_TIMEOUT_SECONDS = 120.0
BATCH = 6


def _drop_everything_the_broker_holds() -> None:
    """What a broker restarted without persistence does: every queued message is gone."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in ("celery", "housekeeping"):
            channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            channel.queue_purge(queue)
        client = getattr(channel, "client", None)
        if client is not None and hasattr(client, "flushdb"):  # Redis: unacked ones too
            client.flushdb()


def _wait_for(condition, timeout: float, what: str, workers: list[CeleryWorker]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.log_path.name}\n{w.log_tail(80)}" for w in workers)
            pytest.fail(f"timed out waiting for {what}\n{logs}", pytrace=False)
        time.sleep(0.2)


def _killed_worker_and_forgetful_broker(
    plan, area, tmp_path: Path, *, lease_seconds: int, restart_under_same_name: bool
) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    hold = mail / "hold"
    held = "held@example.com"
    hold.write_text(held)
    workers: list[CeleryWorker] = []
    with contextlib.ExitStack() as stack:
        env = worker_environment(
            stack,
            TEST_EMAIL_BACKEND="tests.plugins.mail.FolderEmailBackend",
            TEST_MAIL_DIR=str(mail),
            TEST_MAIL_HOLD=str(hold),
            # Short clocks so the test takes seconds: a queued message missing from the broker
            # is lost after 2 s; a started one whose worker is gone after the lease.
            OUTBOX_LEASE_SECONDS=str(lease_seconds),
            OUTBOX_LOST_AFTER_SECONDS="2",
            OUTBOX_RECOVER_EVERY_SECONDS="1",
            OUTBOX_DISPATCH_EVERY_SECONDS="0.5",
        )
        node = f"outbox-test-{tmp_path.name[-8:]}@%h"

        def worker(name: str) -> CeleryWorker:
            w = CeleryWorker(
                env=env,
                log_path=tmp_path / f"{name}.log",
                beat_schedule=tmp_path / f"{name}-beat-schedule",
                hostname=node if restart_under_same_name else None,
            )
            workers.append(w)
            stack.callback(w.stop)
            return start_or_fail(w)

        # Given a worker (with beat) taking orders from new customers
        first = worker("worker-1")
        emails = [f"first{n}@example.com" for n in range(BATCH - 1)] + [held]
        for n, email in enumerate(emails):
            submit_order(plan=plan, area=area, email=email, phone=f"0770090{n:04d}")
        # When it is SIGKILLed while it sends an invitation
        _wait_for((mail / f"{held}.holding").exists, 60, "the held e-mail", workers)
        first.kill()
        # ... more orders are taken while no worker runs
        later = [f"later{n}@example.com" for n in range(BATCH)]
        for n, email in enumerate(later):
            submit_order(plan=plan, area=area, email=email, phone=f"0770091{n:04d}")
        # ... and the broker forgets every message it held
        _drop_everything_the_broker_holds()
        # ... and then a worker comes back (and the mail server lets the held one through)
        hold.unlink()
        worker("worker-2")

        def settled() -> bool:
            return (
                not OutboxMessage.objects.filter(completed_at__isnull=True).exists()
                and Order.objects.exclude(status=OrderStatus.COMPLETED).count() == 0
            )

        _wait_for(settled, SETTLE_TIMEOUT_SECONDS, "every order and message done", workers)
        # Then every customer was invited exactly once, the one held mid-send included
        time.sleep(2)  # a late duplicate would show up here
        assert sent_to(mail) == {email: 1 for email in emails + later}
        # ... and every order was fulfilled and billed exactly once
        assert Order.objects.count() == 2 * BATCH
        assert BillingAccount.objects.count() == 2 * BATCH
        assert not OutboxMessage.objects.filter(failed_at__isnull=False).exists()


def test_every_invitation_is_sent_once_through_a_killed_worker_and_a_forgetful_broker(
    plan, serviceable_area, tmp_path: Path
):
    # The worker comes back under another name: the held message is lost after its lease.
    _killed_worker_and_forgetful_broker(
        plan, serviceable_area, tmp_path, lease_seconds=4, restart_under_same_name=False
    )


def test_a_worker_restarted_under_its_name_resends_at_once_what_it_was_killed_holding(
    plan, serviceable_area, tmp_path: Path
):
    # The lease (10 minutes) is longer than the test may take: only the restarted worker's
    # own look at what its last run left unfinished can bring the held invitation back.
    _killed_worker_and_forgetful_broker(
        plan, serviceable_area, tmp_path, lease_seconds=600, restart_under_same_name=True
    )
