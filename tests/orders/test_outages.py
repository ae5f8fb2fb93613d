"""Work that must not be lost when the database rolls its transaction back over a conflict with
another one (orders.outages.atomic_retrying_conflicts): the outcome of a network call a worker
is recording. PostgreSQL's own deadlock detector picks the loser here."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection

from orders.models import Customer
from orders.outages import atomic_retrying_conflicts, is_conflict_rolled_back
from tests.factories import CustomerFactory


@pytest.mark.postgresql  # row locks and the deadlock detector are PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_two_workers_that_deadlock_both_get_their_work_recorded(run_in_threads):
    # Given two workers each recording an outcome that touches two rows in opposite order,
    # made to take their first row at the same moment (a deadlock, every time)
    first, second = CustomerFactory(name="First"), CustomerFactory(name="Second")
    both_hold_one = threading.Barrier(2, timeout=30)
    runs = {"a": 0, "b": 0}
    rolled_back: list[bool] = []

    def record(name: str, rows: tuple[int, int]) -> str:
        def work() -> str:
            runs[name] += 1
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '100ms'")
            Customer.objects.select_for_update().get(pk=rows[0])
            if runs[name] == 1:
                both_hold_one.wait()
            for pk in rows:
                customer = Customer.objects.select_for_update().get(pk=pk)
                customer.address_line2 += name
                customer.save(update_fields=["address_line2"])
            return name

        try:
            return atomic_retrying_conflicts(work)
        except OperationalError as exc:  # only if the retry did not happen
            rolled_back.append(is_conflict_rolled_back(exc))
            raise

    # When both record at once
    answers = run_in_threads(
        lambda: record("a", (first.pk, second.pk)),
        lambda: record("b", (second.pk, first.pk)),
    )

    # Then the database rolled one back, it ran again, and each outcome is on record once
    assert answers == ["a", "b"]
    assert sorted(runs.values()) == [1, 2]
    for customer in (first, second):
        customer.refresh_from_db()
        assert sorted(customer.address_line2) == ["a", "b"]


@pytest.mark.django_db(transaction=True)
def test_an_error_that_is_not_a_conflict_is_not_run_again():
    # Given work the database refuses for another reason than a conflict
    runs = []

    def work() -> None:
        runs.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_anywhere")

    # When it is run, then it fails at once, run only once
    with pytest.raises(Exception) as failure:
        atomic_retrying_conflicts(work)
    assert not is_conflict_rolled_back(failure.value)
    assert runs == [1]
