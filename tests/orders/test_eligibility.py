"""Eligibility (orders/eligibility.py): can we serve the address at intake, and may the order be
activated automatically when the worker picks it up."""

from __future__ import annotations

import pytest

from orders.eligibility import (
    EligibilityDecision,
    EligibilityReason,
    serviceability_check,
    technical_eligibility,
)
from orders.models import ServiceArea
from orders.states import OrderStatus
from provisioning.services import fulfilment_start
from tests.factories import PlanFactory, ServiceAreaFactory, submit_order

pytestmark = pytest.mark.django_db


def test_serviceability_lists_only_active_plans_the_area_can_deliver():
    # Given a catalog from 40 Mbps to 2 Gbps, one plan withdrawn, and an 80 Mbps area
    basic = PlanFactory(download_mbps=40)
    fast = PlanFactory(download_mbps=80)
    PlanFactory(download_mbps=500)
    PlanFactory(download_mbps=2000)
    PlanFactory(download_mbps=60, is_active=False)
    area = ServiceAreaFactory(postcode="LS1 4AP", max_download_mbps=80)
    # When the rep checks the address, typed loosely
    check = serviceability_check(" ls1  4ap ")
    # Then only the plans the network there delivers, still on sale, are offered
    assert check.serviceable is True
    assert check.area == area
    assert {p.pk for p in check.available_plans} == {basic.pk, fast.pk}
    assert check.allows(fast) and not check.allows(PlanFactory(download_mbps=100))
    assert "up to 80 Mbps" in check.message


def test_unknown_postcode_is_not_serviceable():
    PlanFactory()
    check = serviceability_check("ZZ9 9ZZ")
    assert check.serviceable is False
    assert check.area is None
    assert check.available_plans == []
    assert check.message == "We don't offer service at this postcode yet."


def test_area_without_coverage_is_not_serviceable():
    plan = PlanFactory()
    ServiceAreaFactory(postcode="NO1 1NE", max_download_mbps=0)
    check = serviceability_check("NO1 1NE")
    assert check.serviceable is False
    assert not check.allows(plan)


def test_covered_area_stays_serviceable_when_no_catalog_plan_fits_it():
    # Given an 80 Mbps area and a catalog that only sells gigabit
    gigabit = PlanFactory(download_mbps=1000)
    ServiceAreaFactory(postcode="LS1 4AP", max_download_mbps=80)
    check = serviceability_check("LS1 4AP")
    # Then the address is served; it is the plan that does not fit
    assert check.serviceable is True
    assert not check.allows(gigabit)


def test_eligible_order_in_an_automated_area_is_activated_automatically(plan, serviceable_area):
    order = submit_order(plan=plan, area=serviceable_area).order
    result = technical_eligibility(order)
    assert result.decision == EligibilityDecision.AUTOMATIC
    assert result.reason_code == ""


def test_order_in_an_area_without_automation_needs_manual_provisioning(plan, manual_area):
    order = submit_order(plan=plan, area=manual_area).order
    result = technical_eligibility(order)
    assert result.decision == EligibilityDecision.MANUAL
    assert result.reason_code == EligibilityReason.MANUAL_AREA
    assert "Inverness" in result.reason


def test_order_is_rejected_when_the_area_lost_coverage_after_submission(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order taken while the address was served
    order = submit_order(plan=plan, area=serviceable_area).order
    # When the network there is withdrawn before the worker picks the order up
    ServiceArea.objects.filter(pk=serviceable_area.pk).update(max_download_mbps=0)
    # Then the technical check rejects it, and fulfilment closes it as rejected
    result = technical_eligibility(order)
    assert result.decision == EligibilityDecision.REJECT
    assert result.reason_code == EligibilityReason.NOT_SERVICEABLE
    with django_capture_on_commit_callbacks(execute=True):
        assert fulfilment_start(order.pk) == []
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    rejected = order.events.get(to_status=OrderStatus.REJECTED)
    assert rejected.reason_code == EligibilityReason.NOT_SERVICEABLE
    assert not order.tasks.exists()


def test_order_is_rejected_when_the_area_was_slowed_below_the_plan(plan, serviceable_area):
    order = submit_order(plan=plan, area=serviceable_area).order
    ServiceArea.objects.filter(pk=serviceable_area.pk).update(max_download_mbps=80)
    result = technical_eligibility(order)
    assert result.decision == EligibilityDecision.REJECT
    assert result.reason_code == EligibilityReason.SPEED_NOT_AVAILABLE
