"""Support reacts to business events from orders/: a new line that goes live asks its customer
how we did (one CSAT e-mail per order). The receiver runs in the transaction that made the line
live and only records the notice and its outbox message (notices.services.notice_send), so the
e-mail leaves after commit, once, and is never lost."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import receiver

from notices.models import NoticeKind

# Imported first, so that notices' receivers are connected before this one: on the same event
# the customer is told their line is live before being asked how it went.
from notices.receivers import ACTIVE_STATES
from notices.services import notice_send
from orders.models import Order, OrderEvent
from orders.signals import order_status_changed
from support.csat_links import csat_link_max_age, csat_url

CSAT_NOTICE_KEY = "csat"  # one per order, whichever live state it reaches first


@receiver(order_status_changed, dispatch_uid="support.csat_ask")
def csat_ask(sender: Any, order: Order, event: OrderEvent, **kwargs: Any) -> None:
    # The customer notices' own switch (settings.CUSTOMER_NOTICES_ON_EVENTS) holds for this one.
    if not getattr(settings, "CUSTOMER_NOTICES_ON_EVENTS", True):
        return
    if event.to_status not in ACTIVE_STATES or order.product_ref is not None:
        return  # not live yet, or a change to a live line (asked when the line was new)
    notice_send(
        order,
        NoticeKind.CSAT,
        key=CSAT_NOTICE_KEY,
        context={"feedback_url": csat_url(order), "link_days": csat_link_max_age().days},
    )
