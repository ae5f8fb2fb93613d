"""A kept qualification as the TMF679 v4 ProductOfferingQualification its client reads.

The answer is stored as given (tmf.qualification.services) with links as paths; here the row's
``id`` and ``href`` are put in front and every path becomes a URL on the caller's host, so the
same answer reads right behind any proxy.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework.request import Request

from tmf.common import absolute
from tmf.models import ProductOfferingQualification

# Attributes every representation carries, whatever ``fields=`` asks for.
ALWAYS = ("id", "href", "state", "@type")


def qualification_path(qualification_id: str) -> str:
    return reverse("tmf679:qualification-detail", args=[qualification_id])


def _with_urls(item: dict[str, Any], request: Request | None) -> dict[str, Any]:
    offering = item.get("productOffering")
    if not isinstance(offering, dict):
        return item
    href = offering.get("href")
    if not (isinstance(href, str) and href.startswith("/")):
        return item
    return {**item, "productOffering": {**offering, "href": absolute(request, href)}}


def qualification_representation(
    qualification: ProductOfferingQualification, request: Request | None = None
) -> dict[str, Any]:
    stored = dict(qualification.representation)
    items = stored.get("productOfferingQualificationItem")
    if isinstance(items, list):
        stored["productOfferingQualificationItem"] = [_with_urls(i, request) for i in items]
    return {
        "id": qualification.pk,
        "href": absolute(request, qualification_path(qualification.pk)),
        **stored,
    }
