"""reconciliation.models.Mismatch: one open mismatch per kind and subject, in the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from reconciliation.models import Mismatch, MismatchKind

pytestmark = pytest.mark.django_db

KIND = MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE


def test_a_subject_has_one_open_mismatch_of_a_kind_and_any_number_resolved():
    # given a resolved mismatch and an open one about the same subject
    Mismatch.objects.create(kind=KIND, subject="p-1", detail="x", resolved_at=timezone.now())
    Mismatch.objects.create(kind=KIND, subject="p-1", detail="x")
    # when a second open one is written, then the database refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        Mismatch.objects.create(kind=KIND, subject="p-1", detail="again")
    # while another kind about the same subject is its own mismatch
    Mismatch.objects.create(kind=MismatchKind.PRODUCT_WITHOUT_ORDER, subject="p-1", detail="x")
    assert Mismatch.objects.filter(resolved_at__isnull=True).count() == 2
