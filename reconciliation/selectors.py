"""Reads about mismatches: the open list (the page and its CSV) and the counts by kind (the
metrics endpoint)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, QuerySet

from orders.access import is_staff_viewer
from orders.selectors import WORKLIST_PAGE, Worklist, worklist
from reconciliation.models import OPEN, Mismatch, MismatchKind

VIEW_MISMATCH = "reconciliation.view_mismatch"


def may_view_mismatches(user: User | AnonymousUser) -> bool:
    """The roles given the reconciliation page (orders.roles): they also see every order."""
    return bool(user.is_authenticated and user.has_perm(VIEW_MISMATCH) and is_staff_viewer(user))


def open_mismatches(user: User | AnonymousUser, *, kind: str | None = None) -> QuerySet[Mismatch]:
    """The open mismatches ``user`` may see (of ``kind``, if given), oldest first, by the
    open-list indexes; none for anyone without the page's permission."""
    if not may_view_mismatches(user):
        return Mismatch.objects.none()
    queryset = Mismatch.objects.filter(OPEN)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.select_related("order").order_by("first_seen_at", "pk")


def open_mismatch_page(
    user: User | AnonymousUser,
    *,
    kind: str | None = None,
    limit: int = WORKLIST_PAGE,
    after: str | None = None,
) -> Worklist[Mismatch]:
    return worklist(open_mismatches(user, kind=kind), limit=limit, after=after)


def open_mismatch_counts() -> dict[str, int]:
    """How many mismatches are open, per kind (every kind, zero included): for the metrics
    endpoint. One query over the open-list index."""
    counts = {kind.value: 0 for kind in MismatchKind}
    for row in Mismatch.objects.filter(OPEN).values("kind").annotate(n=Count("pk")).order_by():
        counts[row["kind"]] = row["n"]
    return counts
