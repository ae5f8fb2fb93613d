"""support.selectors.csat_summary: what the KPI dashboard reads of the CSAT answers (how many,
the mean score, how many gave each score), by period and by orders."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from orders.models import Order
from support.models import CsatChannel, CsatResponse
from support.selectors import csat_summary
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
START = timezone.make_aware(datetime.datetime(2026, 11, 1, 9, 0))


@pytest.fixture
def answers() -> dict[str, Order]:
    """Five answered orders: scores 5, 4, 4, 2 and 1, answered on 1, 2, 3, 10 and 20 November;
    one more order with no answer."""
    given = {}
    for name, score, day in [("a", 5, 0), ("b", 4, 1), ("c", 4, 2), ("d", 2, 9), ("e", 1, 19)]:
        order = OrderFactory()
        CsatResponse.objects.create(
            order=order,
            score=score,
            channel=CsatChannel.EMAIL if score % 2 else CsatChannel.PORTAL,
            answered_at=START + day * DAY,
        )
        given[name] = order
    given["unanswered"] = OrderFactory()
    return given


def test_every_answer_counts_with_its_mean_and_each_score(answers, django_assert_num_queries):
    with django_assert_num_queries(1):
        summary = csat_summary()
    # 5 + 4 + 4 + 2 + 1 = 16 over 5 answers
    assert summary.count == 5
    assert summary.average == pytest.approx(3.2)
    assert summary.distribution == {1: 1, 2: 1, 3: 0, 4: 2, 5: 1}


def test_a_period_takes_the_answers_from_since_up_to_until(answers):
    # 2 to 10 November, the 10th itself not included: b (4) and c (4)
    summary = csat_summary(since=START + DAY, until=START + 9 * DAY)
    assert (summary.count, summary.average) == (2, 4.0)
    assert summary.distribution == {1: 0, 2: 0, 3: 0, 4: 2, 5: 0}
    # from the 10th on: d (2) and e (1)
    later = csat_summary(since=START + 9 * DAY)
    assert (later.count, later.average) == (2, 1.5)
    # up to the 2nd: a (5)
    assert csat_summary(until=START + DAY).distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 1}


def test_only_the_given_orders_count(answers):
    # as a queryset (a dashboard's filter), as orders, or as order IDs
    chosen = Order.objects.filter(
        pk__in=[answers["a"].pk, answers["d"].pk, answers["unanswered"].pk]
    )
    for orders in (chosen, [answers["a"], answers["d"]], [answers["a"].pk, answers["d"].pk]):
        summary = csat_summary(orders=orders)
        # 5 and 2: a mean of 3.5
        assert (summary.count, summary.average) == (2, 3.5)
        assert summary.distribution == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    # ... with a period too: only d is on or after the 5th
    assert csat_summary(orders=chosen, since=START + 4 * DAY).distribution[2] == 1
    assert csat_summary(orders=chosen, since=START + 4 * DAY).count == 1


def test_no_answers_is_no_mean_and_every_score_at_zero(answers):
    summary = csat_summary(orders=[answers["unanswered"]])
    assert (summary.count, summary.average) == (0, None)
    assert summary.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert csat_summary(orders=[]).count == 0
