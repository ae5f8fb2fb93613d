"""Reads of jeopardies and escalations for the pages: restricted through orders.access like
every list, paged by keyset on their partial indexes (orders.models.jeopardy)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Exists, OuterRef, QuerySet

from orders.access import restrict_by_order
from orders.models import Escalation, Jeopardy, Order
from orders.selectors import Worklist, worklist

PAGE = 50


def jeopardies_open(
    user: User | AnonymousUser,
    *,
    after: str | None = None,
    limit: int = PAGE,
    statuses: tuple[str, ...] = (),
    with_open_case: bool = False,
) -> Worklist[Jeopardy]:
    """Open jeopardies the user may see, worst first (critical, then late, then at risk; the
    most recently raised first within a level). A worklist narrows them to its own orders:
    those in ``statuses``, or (``with_open_case``) those with an exception case open."""
    queryset = Jeopardy.objects.filter(cleared_at__isnull=True)
    if statuses:
        queryset = queryset.filter(order__status__in=statuses)
    if with_open_case:
        from provisioning.models import ExceptionCase  # provisioning builds on orders

        queryset = queryset.filter(
            Exists(
                ExceptionCase.objects.filter(order=OuterRef("order")).exclude(
                    state=ExceptionCase.State.RESOLVED
                )
            )
        )
    queryset = (
        restrict_by_order(queryset, user)
        .select_related("order__customer", "order__plan", "milestone__item__offering")
        .order_by("-rank", "-level_at", "-id")
    )
    return worklist(queryset, limit=limit, after=after)


def escalations_to(user: User | AnonymousUser, *, limit: int = PAGE) -> list[Escalation]:
    """What was escalated to the user and not yet taken, newest first (their worklist)."""
    if not user.is_authenticated:
        return []
    queryset: QuerySet[Escalation] = restrict_by_order(
        Escalation.objects.filter(to_id=user.pk, acknowledged_at__isnull=True), user
    )
    return list(
        queryset.select_related("order", "jeopardy__milestone__item__offering").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def order_jeopardies(order: Order) -> list[Jeopardy]:
    """The order's jeopardies, open ones first, each with its escalations (the order's pages:
    two queries)."""
    return list(
        Jeopardy.objects.filter(order=order)
        .select_related("milestone__item__offering")
        .prefetch_related("escalations__to")
        .order_by("cleared_at", "-rank", "-raised_at")
    )


def counts_by_level(user: User | AnonymousUser, **order_filters: Any) -> dict[str, int]:
    """Open jeopardies per level the user may see (the manager's summary), of the orders that
    match ``order_filters`` (``service_area=...``: the KPI dashboard's slice) when given."""
    mine = Jeopardy.objects.filter(
        cleared_at__isnull=True, **{f"order__{name}": v for name, v in order_filters.items()}
    )
    rows = restrict_by_order(mine, user).values("level").annotate(n=Count("id")).order_by()
    return {row["level"]: row["n"] for row in rows}
