"""reconciliation.services.reconciliation_run: what it records, run after run; the Celery task,
its beat entry and ``manage.py reconcile``."""

from __future__ import annotations

import datetime
from io import StringIO
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.models import BillingAccount
from orders.fulfilment import TaskType
from provisioning.models import SimulatedNetworkRecord
from reconciliation import checks
from reconciliation.models import Mismatch, MismatchKind
from reconciliation.services import reconciliation_run
from reconciliation.tasks import reconciliation_run_task

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(hours=1)


def _ghost(order_ref: str = "GHOST0001") -> SimulatedNetworkRecord:
    return SimulatedNetworkRecord.objects.create(
        order_ref=order_ref,
        item_ref="1",
        task_type=TaskType.CREATE_SUBSCRIBER,
        identifiers={"subscriber": f"sub-{order_ref.lower()}"},
        done_at=timezone.now() - datetime.timedelta(hours=2),
    )


def test_a_run_records_each_mismatch_once_and_a_rerun_sees_it_again(no_grace, live_line):
    # given a live line with no billing account
    line = live_line()
    BillingAccount.objects.filter(order_id=line.order_id).delete()
    first = timezone.now()
    # when reconciliation runs twice, an hour apart
    summary = reconciliation_run(now=first)
    again = reconciliation_run(now=first + LATER)
    # then the mismatch is one open row, first seen at the first run, last seen at the second
    (mismatch,) = Mismatch.objects.filter(kind=MismatchKind.ORDER_ACTIVE_WITHOUT_BILLING_ACCOUNT)
    assert (mismatch.subject, mismatch.order_id) == (line.order_id, line.order_id)
    assert (mismatch.first_seen_at, mismatch.last_seen_at) == (first, first + LATER)
    assert mismatch.resolved_at is None
    kind = MismatchKind.ORDER_ACTIVE_WITHOUT_BILLING_ACCOUNT
    assert (summary.kinds[kind].new, again.kinds[kind].new, again.kinds[kind].found) == (1, 0, 1)


def test_a_fixed_mismatch_is_resolved_and_a_recurrence_is_a_new_one(no_grace):
    # given a subscriber on the network for no order, found by a run
    ghost = _ghost()
    first = timezone.now()
    reconciliation_run(now=first)
    # when the network forgets it and reconciliation runs again
    SimulatedNetworkRecord.objects.filter(pk=ghost.pk).update(undone_at=timezone.now())
    summary = reconciliation_run(now=first + LATER)
    # then the mismatch is resolved at that run, and counted so
    (mismatch,) = Mismatch.objects.all()
    assert mismatch.resolved_at == first + LATER
    assert summary.kinds[MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER].resolved == 1
    # and when it comes back, it is a new open mismatch beside the resolved one
    SimulatedNetworkRecord.objects.filter(pk=ghost.pk).update(undone_at=None)
    reconciliation_run(now=first + 2 * LATER)
    assert Mismatch.objects.filter(resolved_at__isnull=True).count() == 1
    assert Mismatch.objects.count() == 2


def test_a_check_that_fails_leaves_its_kind_as_it_was(no_grace):
    # given an open mismatch from an earlier run
    _ghost()
    first = timezone.now()
    reconciliation_run(now=first)

    # when the network cannot be asked on the next run
    def broken(ctx):
        raise ConnectionError("network inventory does not answer")
        yield  # pragma: no cover

    kind = MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER
    with mock.patch.dict(checks.CHECKS, {kind: broken}):
        summary = reconciliation_run(now=first + LATER)
    # then the run says the check failed, and the mismatch stays open (not "all is well")
    assert summary.failed == [kind]
    assert Mismatch.objects.get().resolved_at is None
    assert any("FAILED" in line for line in summary.lines())


def test_the_grace_period_setting_holds_back_fresh_changes(settings, live_line):
    # given a live line that lost its billing account a moment ago, and a 30-minute grace
    settings.RECONCILIATION_GRACE_MINUTES = 30
    line = live_line()
    BillingAccount.objects.filter(order_id=line.order_id).delete()
    # when reconciliation runs now, nothing is recorded; half an hour on, it is
    reconciliation_run()
    assert not Mismatch.objects.exists()
    reconciliation_run(now=timezone.now() + datetime.timedelta(minutes=31))
    assert Mismatch.objects.filter(subject=line.order_id).exists()


def test_the_task_runs_hourly_from_beat_and_returns_the_open_count(no_grace):
    # given the beat schedule: the reconciliation runs every RECONCILIATION_INTERVAL_MINUTES
    entry = settings.CELERY_BEAT_SCHEDULE["reconciliation-run"]
    assert entry["task"] == "reconciliation.run"
    assert entry["schedule"] == settings.RECONCILIATION_INTERVAL_MINUTES * 60.0 == 3600.0
    # when the task runs with one unknown subscriber on the network
    _ghost()
    # then it records it and answers how many are open
    assert reconciliation_run_task.apply().get() == 1
    assert Mismatch.objects.filter(kind=MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER).exists()


def test_manage_py_reconcile_prints_a_summary_per_kind(no_grace):
    # given one unknown subscriber on the network
    _ghost()
    out = StringIO()
    # when an operator runs the command
    call_command("reconcile", stdout=out)
    # then it prints each kind with its count, and the total
    text = out.getvalue()
    assert "network_has_unknown_subscriber: 1 open (1 new, 0 resolved)" in text
    assert "order_active_without_billing_account: 0 open" in text
    assert "Open mismatches: 1" in text


def test_manage_py_reconcile_fails_when_a_check_fails(no_grace):
    def broken(ctx):
        raise ConnectionError("down")
        yield  # pragma: no cover

    kind = MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER
    with mock.patch.dict(checks.CHECKS, {kind: broken}), pytest.raises(CommandError) as failed:
        call_command("reconcile", stdout=StringIO())
    assert kind.value in str(failed.value)


def test_a_run_out_of_time_stops_instead_of_going_on_to_the_next_check(no_grace):
    # given a check that runs into the task's soft time limit
    calls = []

    def slow(ctx):
        raise SoftTimeLimitExceeded()
        yield  # pragma: no cover

    def later(ctx):
        calls.append(ctx)
        yield from ()

    first, second = list(checks.CHECKS)[:2]
    # when the run reaches it, then the run stops there (the worker is about to be killed)
    with (
        mock.patch.dict(checks.CHECKS, {first: slow, second: later}),
        pytest.raises(SoftTimeLimitExceeded),
    ):
        reconciliation_run()
    assert calls == []
