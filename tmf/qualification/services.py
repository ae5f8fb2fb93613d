"""Answering a TMF679 qualification: can we sell these offerings at this address?

The rules are the sales form's: ``orders.eligibility.serviceability_check`` decides, for the
postcode, which offerings the network delivers there (``ServiceArea.supports``: a line's speed,
an offering's access technologies); this module only words the answer in TMF679 terms and
keeps it.

Add-ons (a static IP, a managed router) are sold only with an internet access line. An add-on
item is qualified when the area suits it *and* it has a line that qualifies: the item it names
in ``qualificationItemRelationship`` (reliesOn), or, naming none, any line asked for in the
same request (or, when no items are asked, any line on sale there). Asked for alone it is
``unqualified`` with the reason NEEDS_INTERNET_ACCESS ("sold only with an internet access
line"): TMF679 has no result between qualified and unqualified for "yes, with something
else", and ``eligibilityUnavailabilityReason`` is where it says why an offering cannot be sold
as asked; ask again with a line to have it qualified. A router that does not suit the area's
technology is TECHNOLOGY_NOT_SUPPORTED.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone

from orders.eligibility import Serviceability, serviceability_check
from orders.models import Plan, ProductKind, normalize_postcode
from orders.selectors import activation_promise, promise_for
from tmf.catalog.representation import offering_path
from tmf.common import drop_empty, iso
from tmf.models import ApiClient, ProductOfferingQualification, TaskState


@dataclass(frozen=True)
class AskedItem:
    id: str
    offering_id: str
    product_place: list[dict[str, Any]] = field(default_factory=list)
    relies_on: str | None = None  # the item of the line an add-on would be sold with


@dataclass(frozen=True)
class QualificationAsk:
    """A validated request (tmf.qualification.serializers)."""

    postcode: str  # as people write it: upper case, one space ("SW1A 1AA")
    place: list[dict[str, Any]]
    items: list[AskedItem]
    related_party: list[dict[str, Any]]
    description: str = ""
    flags: dict[str, bool] = field(default_factory=dict)

    @property
    def provide_only_available(self) -> bool:
        return self.flags.get("provideOnlyAvailable", False)


class QualificationResult(models.TextChoices):
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"


class UnavailabilityReason(models.TextChoices):
    """``eligibilityUnavailabilityReason.code`` values; the labels sent are plain sentences."""

    NO_COVERAGE = "NO_COVERAGE", "The network does not reach the address"
    SPEED_NOT_AVAILABLE = "SPEED_NOT_AVAILABLE", "The offering's speed is not available there"
    TECHNOLOGY_NOT_SUPPORTED = (
        "TECHNOLOGY_NOT_SUPPORTED",
        "The offering does not suit the access technology there",
    )
    NEEDS_INTERNET_ACCESS = (
        "NEEDS_INTERNET_ACCESS",
        "An add-on, sold only with an internet access line",
    )
    LINE_NOT_QUALIFIED = (
        "LINE_NOT_QUALIFIED",
        "The line the add-on would be sold with cannot be sold there",
    )
    OFFERING_RETIRED = "OFFERING_RETIRED", "The offering is no longer sold"
    UNKNOWN_OFFERING = "UNKNOWN_OFFERING", "No such offering"


def expected_activation_date(check: Serviceability, plan: Plan | None = None) -> datetime.date:
    """What an order of ``plan`` taken now at the checked address would be promised, as the
    order's own pages promise it (orders.selectors.promise_for: the measured cycle time of the
    area and plan, the area or the technology, else the standard lead time)."""
    if check.area is None or plan is None:
        automated = check.area is None or check.area.auto_provisioning
        return activation_promise(automated=automated, start=timezone.localdate())
    return promise_for(check.area, plan, start=timezone.localdate(), requested=None).date


def _reason(code: UnavailabilityReason, label: str) -> dict[str, str]:
    return {"code": code.value, "label": label, "@type": "EligibilityUnavailabilityReason"}


def unavailability_reasons(
    check: Serviceability, plan: Plan | None, offering_id: str, *, postcode: str
) -> list[dict[str, str]]:
    """Why ``plan`` cannot be sold at the checked address, in the sales form's words; every
    reason that applies (a retired plan in an area without coverage has two)."""
    if plan is None:
        return [
            _reason(
                UnavailabilityReason.UNKNOWN_OFFERING,
                f"There is no product offering '{offering_id}' in the catalogue.",
            )
        ]
    reasons = []
    if not plan.is_active:
        reasons.append(
            _reason(UnavailabilityReason.OFFERING_RETIRED, f"{plan.name} is no longer sold.")
        )
    if check.area is None or not check.serviceable:
        reasons.append(_reason(UnavailabilityReason.NO_COVERAGE, check.message))
    elif not plan.suits(check.area.technology):
        reasons.append(
            _reason(
                UnavailabilityReason.TECHNOLOGY_NOT_SUPPORTED,
                f"{plan.name} is not sold on {check.area.get_technology_display()}, the "
                f"network at {postcode}.",
            )
        )
    elif not check.area.supports(plan):
        reasons.append(
            _reason(
                UnavailabilityReason.SPEED_NOT_AVAILABLE,
                f"{plan.name} ({plan.speed_tier}) is not available at {postcode}: "
                f"the network there delivers up to {check.area.max_download_mbps} Mbps.",
            )
        )
    return reasons


def line_reasons(
    item: AskedItem, plan: Plan, asked: list[tuple[AskedItem, Plan | None]], qualified: set[str]
) -> list[dict[str, str]]:
    """Why an add-on cannot be sold for want of a line: the line it relies on (or, naming
    none, every line asked for) missing or not qualified. Empty for a line, and for an
    add-on with a qualified line."""
    parent_kind = plan.specification.parent_kind
    if not parent_kind:
        return []
    lines = [
        other
        for other, offering in asked
        if offering is not None
        and offering.kind == parent_kind
        and (item.relies_on is None or other.id == item.relies_on)
    ]
    if not lines:
        if item.relies_on is not None:
            label = (
                f"{plan.name} is sold only with an internet access line; item "
                f"{item.relies_on}, which it relies on, is not one."
            )
        else:
            label = (
                f"{plan.name} is sold only with an internet access line: qualify it with a "
                "line offering (an item it reliesOn), or order it on a live line."
            )
        return [_reason(UnavailabilityReason.NEEDS_INTERNET_ACCESS, label)]
    if not any(line.id in qualified for line in lines):
        named = ", ".join(line.id for line in lines)
        return [
            _reason(
                UnavailabilityReason.LINE_NOT_QUALIFIED,
                f"{plan.name} is sold only with an internet access line, and the line asked "
                f"for (item {named}) cannot be sold at this address.",
            )
        ]
    return []


def _item(
    item: AskedItem,
    plan: Plan | None,
    check: Serviceability,
    *,
    postcode: str,
    reasons: list[dict[str, str]],
) -> dict[str, Any]:
    qualified = not reasons
    offering: dict[str, Any] = {"id": item.offering_id, "@referredType": "ProductOffering"}
    if plan is not None:
        # A path, made absolute on the caller's host when the answer is read.
        offering.update(href=offering_path(plan.code), name=plan.name)
    relationship = (
        [
            {
                "id": item.relies_on,
                "relationshipType": "reliesOn",
                "@type": "QualificationItemRelationship",
            }
        ]
        if item.relies_on
        else None
    )
    expected = expected_activation_date(check, plan) if qualified else None
    return drop_empty(
        {
            "id": item.id,
            "action": "add",
            "state": TaskState.DONE.value,
            "qualificationItemResult": (
                QualificationResult.QUALIFIED if qualified else QualificationResult.UNQUALIFIED
            ).value,
            "expectedActivationDate": iso(expected) if expected else None,
            "eligibilityUnavailabilityReason": reasons or None,
            "productOffering": offering,
            "product": {"place": item.product_place} if item.product_place else None,
            "qualificationItemRelationship": relationship,
            "@type": "ProductOfferingQualificationItem",
        }
    )


def _asked(ask: QualificationAsk) -> list[tuple[AskedItem, Plan | None]]:
    """The items asked with their offerings; without items, every offering on sale (lines
    slowest first, then add-ons), numbered from 1."""
    offerings = Plan.objects.select_related("specification")
    if not ask.items:
        on_sale = list(offerings.filter(is_active=True))
        on_sale.sort(
            key=lambda plan: (
                plan.is_add_on,
                plan.kind if plan.is_add_on else "",
                plan.download_mbps or 0,
                plan.monthly_price,
                plan.code,
            )
        )
        return [
            (AskedItem(id=str(number), offering_id=plan.code), plan)
            for number, plan in enumerate(on_sale, start=1)
        ]
    plans = offerings.in_bulk([item.offering_id for item in ask.items], field_name="code")
    return [(item, plans.get(item.offering_id)) for item in ask.items]


def _answer_items(ask: QualificationAsk, check: Serviceability) -> list[dict[str, Any]]:
    asked = _asked(ask)
    reasons = {
        item.id: unavailability_reasons(check, plan, item.offering_id, postcode=ask.postcode)
        for item, plan in asked
    }
    # Lines first: an add-on's answer depends on theirs.
    qualified = {
        item.id
        for item, plan in asked
        if plan is not None and plan.kind == ProductKind.INTERNET_ACCESS and not reasons[item.id]
    }
    for item, plan in asked:
        if plan is not None:
            reasons[item.id] += line_reasons(item, plan, asked, qualified)
    return [
        _item(item, plan, check, postcode=ask.postcode, reasons=reasons[item.id])
        for item, plan in asked
    ]


def qualification_create(
    *, client: ApiClient, ask: QualificationAsk
) -> ProductOfferingQualification:
    """Qualify the asked offerings (or every offering on sale) at the asked address, and keep
    the answer as given. The stored representation holds paths, not URLs (see
    tmf.qualification.representation)."""
    now = timezone.now()
    check = serviceability_check(ask.postcode)
    items = _answer_items(ask, check)
    any_qualified = any(
        item["qualificationItemResult"] == QualificationResult.QUALIFIED for item in items
    )
    result = QualificationResult.QUALIFIED if any_qualified else QualificationResult.UNQUALIFIED
    if ask.provide_only_available:
        items = [i for i in items if i["qualificationItemResult"] == QualificationResult.QUALIFIED]
    flags = {key: value for key, value in ask.flags.items() if key != "instantSyncQualification"}
    representation = drop_empty(
        {
            "description": ask.description,
            "state": TaskState.DONE.value,
            "qualificationResult": result.value,
            "productOfferingQualificationDate": iso(now),
            "effectiveQualificationDate": iso(now),
            # Always answered at once, whatever the request asked.
            "instantSyncQualification": True,
            **flags,
            "place": ask.place,
            "relatedParty": ask.related_party,
            "productOfferingQualificationItem": items,
            "@type": "ProductOfferingQualification",
        }
    )
    return ProductOfferingQualification.objects.create(
        client=client,
        postcode=normalize_postcode(ask.postcode),
        state=TaskState.DONE,
        qualification_result=result.value,
        representation=representation,
        created_at=now,
    )
