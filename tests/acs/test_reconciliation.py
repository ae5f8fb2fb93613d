"""What the ACS holds, read by the cross-system reconciliation through the routed adapter: a
router's preset deleted behind the system's back is found; a router ceased leaves nothing; an
ACS that cannot be read fails the check instead of reporting everything missing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inventory.models import Product
from orders.changes import order_submit_change
from orders.models import Order
from orders.states import EventSource, OrderStatus
from provisioning.adapters.acs import preset_name
from provisioning.adapters.routed import RoutedNetworkAdapter
from reconciliation import checks
from reconciliation.checks import CheckContext
from reconciliation.models import MismatchKind
from reconciliation.services import reconciliation_run
from tests.acs.conftest import router_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routed_to_the_acs")]


def context() -> CheckContext:
    return CheckContext(
        settled_before=timezone.now() + datetime.timedelta(seconds=1),
        adapter=RoutedNetworkAdapter(),
    )


def test_a_routers_preset_deleted_behind_our_back_is_found(place, acs):
    order = place(serial="SN0042")
    assert list(checks.task_done_but_network_missing(context())) == []

    del acs.presets[preset_name(order.pk, router_item(order).item_id)]  # someone, in the ACS UI

    (finding,) = checks.task_done_but_network_missing(context())
    assert finding.kind == MismatchKind.TASK_DONE_BUT_NETWORK_MISSING
    assert finding.subject == f"{order.pk}:{router_item(order).item_id}:register_cpe"


def test_a_ceased_router_leaves_no_preset_and_nothing_held(
    place, acs, django_capture_on_commit_callbacks
):
    order = place(serial="SN0042")
    acs.inform("SN0042")
    line = Product.objects.get(order=order, parent__isnull=True)
    router = Product.objects.get(order=order, parent=line)

    with django_capture_on_commit_callbacks(execute=True):
        cease = order_submit_change(
            line.pk,
            "remove",
            add_on_id=router.pk,
            channel=EventSource.SUPPORT_PORTAL,
            submitted_by=None,
        ).order

    assert Order.objects.get(pk=cease.pk).status == OrderStatus.COMPLETED
    assert acs.presets == {}
    assert next(iter(acs.devices.values()))["_tags"] == []
    ctx = context()
    assert [f for check in checks.CHECKS.values() for f in check(ctx)] == []


def test_an_acs_that_cannot_be_read_fails_the_check_and_keeps_what_was_open(
    place, acs, settings, unreachable_url
):
    order = place(serial="SN0042")
    del acs.presets[preset_name(order.pk, router_item(order).item_id)]
    later = timezone.now() + datetime.timedelta(hours=2)
    first = reconciliation_run(now=later)
    assert first.kinds[MismatchKind.TASK_DONE_BUT_NETWORK_MISSING].found == 1

    settings.GENIEACS_URL = unreachable_url
    second = reconciliation_run(now=later + datetime.timedelta(minutes=1))

    result = second.kinds[MismatchKind.TASK_DONE_BUT_NETWORK_MISSING]
    assert result.failed and result.resolved == 0
