"""The open mismatches are counted on the metrics endpoint, by kind, as the page lists them."""

from __future__ import annotations

import pytest

from reconciliation.models import Mismatch, MismatchKind
from tests.observability.conftest import metrics_token, sample, scrape  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_open_mismatches_are_counted_by_kind_on_the_metrics_endpoint(scrape) -> None:  # noqa: F811
    # every kind is a series from the start, at zero
    before = scrape()
    series = ("reconciliation_open_mismatches", (("kind", "product_without_order"),))
    assert before[series] == 0

    # Given two open mismatches of one kind and one of another resolved
    for subject in ("a", "b"):
        Mismatch.objects.create(
            kind=MismatchKind.PRODUCT_WITHOUT_ORDER, subject=subject, detail="No order."
        )
    resolved = Mismatch.objects.create(
        kind=MismatchKind.BILLING_RUNNING_FOR_CANCELLED_ORDER, subject="c", detail="Billed."
    )
    resolved.resolved_at = resolved.first_seen_at
    resolved.save(update_fields=["resolved_at"])

    # Then the next scrape counts the open ones, by kind
    after = scrape()
    assert sample(after, "reconciliation_open_mismatches", kind="product_without_order") == 2
    assert (
        sample(after, "reconciliation_open_mismatches", kind="billing_running_for_cancelled_order")
        == 0
    )
