"""Reads of the plan catalogue for TMF620."""

from __future__ import annotations

from auditlog import get_logentry_model
from django.db.models import OuterRef, QuerySet, Subquery

from orders.models import Plan


def catalog_plans() -> QuerySet[Plan]:
    """Every plan, retired ones included, in a stable order (slowest first), each annotated
    with ``first_recorded`` and ``last_update``: when the audit log first saw it and when it
    last recorded a change to it (None for plans loaded without auditing). One query."""
    log_entry = get_logentry_model()
    changes = log_entry.objects.filter(
        content_type__app_label=Plan._meta.app_label,
        content_type__model=Plan._meta.model_name,
        object_id=OuterRef("pk"),
        action__in=[log_entry.Action.CREATE, log_entry.Action.UPDATE],
    )
    return Plan.objects.annotate(
        first_recorded=Subquery(changes.order_by("timestamp", "pk").values("timestamp")[:1]),
        last_update=Subquery(changes.order_by("-timestamp", "-pk").values("timestamp")[:1]),
    ).order_by("download_mbps", "monthly_price", "code")
