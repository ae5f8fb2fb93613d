"""Eligibility: can we serve this address (at intake), and can this order be activated
automatically (technical checks, run by the worker before it calls the network)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from orders.models import Order, Plan, ProductKind, ServiceArea, normalize_postcode


@dataclass(frozen=True)
class Serviceability:
    postcode: str
    area: ServiceArea | None
    available_plans: list[Plan] = field(default_factory=list)
    available_add_ons: list[Plan] = field(default_factory=list)

    @property
    def serviceable(self) -> bool:
        """The network reaches the address, even if no plan in today's catalog fits it (then
        the plan, not the address, is what the person must change)."""
        return self.area is not None and self.area.max_download_mbps > 0

    def allows(self, plan: Plan) -> bool:
        return self.area is not None and plan.is_active and self.area.supports(plan)

    @property
    def message(self) -> str:
        if self.area is None or self.area.max_download_mbps == 0:
            return "We don't offer service at this postcode yet."
        top = max((p.download_mbps or 0 for p in self.available_plans), default=0)
        top = top or self.area.max_download_mbps
        return f"Serviceable: {self.area.get_technology_display()}, up to {top} Mbps."


def serviceability_check(postcode: str) -> Serviceability:
    """Which active lines (internet access offerings) and add-ons the network can deliver at
    ``postcode``: a line up to the area's speed, an add-on that suits its technology."""
    normalized = normalize_postcode(postcode)
    area = ServiceArea.objects.filter(postcode=normalized).first()
    if area is None:
        return Serviceability(postcode=normalized, area=None)
    offerings = Plan.objects.filter(is_active=True).select_related("specification")
    plans = [
        plan
        for plan in offerings.filter(
            specification__kind=ProductKind.INTERNET_ACCESS,
            download_mbps__lte=area.max_download_mbps,
        )
        if area.supports(plan)
    ]
    add_ons = [
        offering
        for offering in offerings.exclude(specification__parent_kind="").order_by(
            "specification__kind", "monthly_price", "code"
        )
        if area.supports(offering)
    ]
    return Serviceability(
        postcode=normalized, area=area, available_plans=plans, available_add_ons=add_ons
    )


class EligibilityDecision(models.TextChoices):
    AUTOMATIC = "automatic", "Eligible for automatic activation"
    MANUAL = "manual", "Needs manual provisioning"
    REJECT = "reject", "Cannot be served"


class EligibilityReason(models.TextChoices):
    NOT_SERVICEABLE = "NOT_SERVICEABLE", "Address not serviceable"
    SPEED_NOT_AVAILABLE = "SPEED_NOT_AVAILABLE", "Plan speed not available at address"
    MANUAL_AREA = "MANUAL_AREA", "Network at this address is not automated"
    INCOMPLETE_PAYLOAD = "INCOMPLETE_PAYLOAD", "Order data incomplete for activation"


@dataclass(frozen=True)
class EligibilityResult:
    decision: EligibilityDecision
    reason_code: str = ""
    reason: str = ""


def technical_eligibility(order: Order) -> EligibilityResult:
    """The checks an order must pass before the network is asked to activate it."""
    area = ServiceArea.objects.filter(postcode=order.service_postcode).first()
    if area is None or area.max_download_mbps == 0:
        return EligibilityResult(
            EligibilityDecision.REJECT,
            EligibilityReason.NOT_SERVICEABLE,
            f"No network coverage at {order.service_postcode_display}.",
        )
    if not area.supports(order.plan):
        return EligibilityResult(
            EligibilityDecision.REJECT,
            EligibilityReason.SPEED_NOT_AVAILABLE,
            f"{order.plan.speed_tier} is not available at {order.service_postcode_display} "
            f"(max {area.max_download_mbps} Mbps).",
        )
    missing = [
        label
        for label, value in (
            ("service address", order.service_address_line1),
            ("city", order.service_city),
            ("customer e-mail", order.customer.email),
            ("customer phone", order.customer.phone),
        )
        if not value
    ]
    if missing:
        return EligibilityResult(
            EligibilityDecision.MANUAL,
            EligibilityReason.INCOMPLETE_PAYLOAD,
            "Missing for activation: " + ", ".join(missing) + ".",
        )
    if not area.auto_provisioning:
        return EligibilityResult(
            EligibilityDecision.MANUAL,
            EligibilityReason.MANUAL_AREA,
            f"Exchange {area.exchange} is not automated; provision by hand.",
        )
    return EligibilityResult(EligibilityDecision.AUTOMATIC)
