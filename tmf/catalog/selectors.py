"""Reads of the catalogue for TMF620."""

from __future__ import annotations

from auditlog import get_logentry_model
from django.db.models import OuterRef, QuerySet, Subquery

from orders.models import Plan, ProductSpecification


def catalog_plans() -> QuerySet[Plan]:
    """Every plan (lines and add-ons), retired ones included, in code order (a unique key the
    list pages by), with its specification, each annotated with ``first_recorded`` and
    ``last_update``: when the audit log first saw it and when it last recorded a change to it
    (None for plans loaded without auditing). One query."""
    log_entry = get_logentry_model()
    changes = log_entry.objects.filter(
        content_type__app_label=Plan._meta.app_label,
        content_type__model=Plan._meta.model_name,
        object_id=OuterRef("pk"),
        action__in=[log_entry.Action.CREATE, log_entry.Action.UPDATE],
    )
    return (
        Plan.objects.select_related("specification")
        .annotate(
            first_recorded=Subquery(changes.order_by("timestamp", "pk").values("timestamp")[:1]),
            last_update=Subquery(changes.order_by("-timestamp", "-pk").values("timestamp")[:1]),
        )
        .order_by("code")
    )


def catalog_specifications() -> QuerySet[ProductSpecification]:
    """Every product specification, retired ones included, in code order (its unique key)."""
    return ProductSpecification.objects.order_by("code")


def specification_parents() -> dict[str, ProductSpecification]:
    """The specification of each kind an add-on can rely on, by kind (one query; the first
    by code where several share a kind, as ProductSpecification.clean picks one)."""
    parents: dict[str, ProductSpecification] = {}
    for specification in ProductSpecification.objects.order_by("-code"):
        parents[specification.kind] = specification
    return parents
