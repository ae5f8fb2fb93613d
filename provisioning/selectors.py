"""Reads about provisioning for the pages that show an order end to end."""

from __future__ import annotations

from django.db.models import Prefetch

from orders.models import Order
from provisioning.models import ExceptionCase, ProvisioningJob, ProvisioningStep


def order_provisioning_jobs(order: Order, *, limit: int = 10) -> list[ProvisioningJob]:
    """The newest attempts with their steps, in two queries however many there are."""
    return list(
        ProvisioningJob.objects.filter(order=order)
        .select_related("requested_by")
        .prefetch_related(Prefetch("steps", queryset=ProvisioningStep.objects.order_by("id")))
        .order_by("-attempt")[:limit]
    )


def order_exception_cases(order: Order) -> list[ExceptionCase]:
    """All cases for the order, the active one first."""
    cases = ExceptionCase.objects.filter(order=order).select_related("owner", "resolved_by")
    return sorted(cases, key=lambda c: (not c.is_active, -c.opened_at.timestamp()))
