"""Answering a TMF679 qualification: can we sell these offerings at this address?

The rules are the sales form's: ``orders.eligibility.serviceability_check`` decides, for the
postcode, which plans the network delivers there (``Serviceability.allows``); this module only
words the answer in TMF679 terms and keeps it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from orders.eligibility import Serviceability, serviceability_check
from orders.models import Plan, normalize_postcode
from orders.selectors import activation_promise
from tmf.catalog.representation import offering_path
from tmf.common import drop_empty, iso
from tmf.models import ApiClient, ProductOfferingQualification, TaskState
from tmf.qualification.parsing import QualificationAsk


class QualificationResult(models.TextChoices):
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"


class UnavailabilityReason(models.TextChoices):
    """``eligibilityUnavailabilityReason.code`` values; the labels sent are plain sentences."""

    NO_COVERAGE = "NO_COVERAGE", "The network does not reach the address"
    SPEED_NOT_AVAILABLE = "SPEED_NOT_AVAILABLE", "The offering's speed is not available there"
    OFFERING_RETIRED = "OFFERING_RETIRED", "The offering is no longer sold"
    UNKNOWN_OFFERING = "UNKNOWN_OFFERING", "No such offering"


def expected_activation_date(check: Serviceability) -> datetime.date:
    """What an order taken now at the checked address would be promised: the rule of
    orders.selectors.activation_promise, as the order's own pages apply it."""
    automated = check.area is None or check.area.auto_provisioning
    return activation_promise(automated=automated, start=timezone.localdate())


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
    elif not check.area.supports(plan):
        reasons.append(
            _reason(
                UnavailabilityReason.SPEED_NOT_AVAILABLE,
                f"{plan.name} ({plan.speed_tier}) is not available at {postcode}: "
                f"the network there delivers up to {check.area.max_download_mbps} Mbps.",
            )
        )
    return reasons


def _item(
    item_id: str,
    offering_id: str,
    plan: Plan | None,
    check: Serviceability,
    *,
    postcode: str,
    product_place: list[dict[str, Any]],
) -> dict[str, Any]:
    qualified = plan is not None and check.allows(plan)
    offering: dict[str, Any] = {"id": offering_id, "@referredType": "ProductOffering"}
    if plan is not None:
        # A path, made absolute on the caller's host when the answer is read.
        offering.update(href=offering_path(plan.code), name=plan.name)
    return drop_empty(
        {
            "id": item_id,
            "action": "add",
            "state": TaskState.DONE.value,
            "qualificationItemResult": (
                QualificationResult.QUALIFIED if qualified else QualificationResult.UNQUALIFIED
            ).value,
            "expectedActivationDate": iso(expected_activation_date(check)) if qualified else None,
            "eligibilityUnavailabilityReason": (
                None
                if qualified
                else unavailability_reasons(check, plan, offering_id, postcode=postcode)
            ),
            "productOffering": offering,
            "product": {"place": product_place} if product_place else None,
            "@type": "ProductOfferingQualificationItem",
        }
    )


def _answer_items(ask: QualificationAsk, check: Serviceability) -> list[dict[str, Any]]:
    if not ask.items:
        on_sale = Plan.objects.filter(is_active=True).order_by(
            "download_mbps", "monthly_price", "code"
        )
        return [
            _item(str(number), plan.code, plan, check, postcode=ask.postcode, product_place=[])
            for number, plan in enumerate(on_sale, start=1)
        ]
    plans = Plan.objects.in_bulk([item.offering_id for item in ask.items], field_name="code")
    return [
        _item(
            item.id,
            item.offering_id,
            plans.get(item.offering_id),
            check,
            postcode=ask.postcode,
            product_place=item.product_place,
        )
        for item in ask.items
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
