"""reconciliation.selectors.open_mismatch_counts: what the metrics endpoint reports."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reconciliation.models import Mismatch, MismatchKind
from reconciliation.selectors import open_mismatch_counts

pytestmark = pytest.mark.django_db


def test_open_mismatch_counts_count_the_open_ones_of_every_kind():
    # given two open mismatches of one kind, one of another, and a resolved one
    for subject in ("a", "b"):
        Mismatch.objects.create(
            kind=MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE, subject=subject, detail="x"
        )
    Mismatch.objects.create(
        kind=MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER, subject="c", detail="x"
    )
    Mismatch.objects.create(
        kind=MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE,
        subject="d",
        detail="x",
        resolved_at=timezone.now(),
    )
    # when the counts are read
    counts = open_mismatch_counts()
    # then each kind is there, with its open ones only
    assert set(counts) == set(MismatchKind.values)
    assert counts[MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE] == 2
    assert counts[MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER] == 1
    assert sum(counts.values()) == 3


def test_with_nothing_open_every_count_is_zero():
    assert open_mismatch_counts() == dict.fromkeys(MismatchKind.values, 0)
