"""Writes for customer notices: record one per business event and hand its e-mail to the
outbox in the causing transaction (DESIGN invariant 3: a killed worker or a lost broker
message delays the e-mail, never drops or doubles it)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from notices.models import CustomerNotice, NoticeChannel, NoticeKind
from orders.models import Order, OrderItem
from orders.notifications import email_deliver, email_render
from orders.outbox import outbox_enqueue
from orders.selectors import estimated_activation_date
from orders.states import change_title

logger = logging.getLogger(__name__)
NOTICE_EMAIL_TASK = "notices.send_customer_notice"


def notice_send(
    order: Order,
    kind: NoticeKind | str,
    *,
    key: str,
    context: Mapping[str, Any] | None = None,
) -> CustomerNotice | None:
    """Tell the order's customer about ``kind`` (templates ``emails/notice_<kind>.txt`` and
    ``_subject.txt``), once per ``key``: in the caller's transaction, record the notice as
    rendered and queue its e-mail in the outbox. A second call with the same ``order`` and
    ``key`` changes nothing and returns the notice the first one recorded. ``context`` adds to
    what every template gets (order, address, plan, dates); ``delayed`` needs
    ``context["expected"]`` (a date). The rejected, cancelled, needs-action and delayed
    templates tell ``context["situation"]`` (a notices.customer_words.CustomerWords: what
    happened and what happens next) when it is given. Returns None, and records nothing, when
    the customer has no e-mail address. Must run inside a transaction (``outbox_enqueue``)."""
    kind = NoticeKind(kind)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notice_send must run inside the transaction that causes the notice")
    if not key:
        raise ValueError("notice_send needs the key of the event it is about")
    existing = CustomerNotice.objects.filter(order=order, key=key).first()
    if existing is not None:
        return existing
    to = order.customer.email.strip()
    if not to:
        return None
    if kind == NoticeKind.DELAYED and not (context and context.get("expected")):
        raise ValueError("a delayed notice needs context['expected'], the new expected date")
    subject, body = email_render(
        template=f"notice_{kind.value}", context=notice_context(order, context)
    )
    try:
        with transaction.atomic():
            notice = CustomerNotice.objects.create(
                order=order,
                kind=kind,
                key=key,
                channel=NoticeChannel.EMAIL,
                to=to,
                subject=subject[:200],
                body=body,
            )
    except IntegrityError:  # the same event, recorded by a concurrent transaction
        return CustomerNotice.objects.get(order=order, key=key)
    outbox_enqueue(NOTICE_EMAIL_TASK, order=order, key=f"notice:{notice.pk}", notice_id=notice.pk)
    return notice


def notice_context(order: Order, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every notice template can name, in customer words."""
    line = (
        OrderItem.objects.filter(order=order, parent__isnull=True)
        .select_related("offering")
        .order_by("position")
        .first()
    )
    title = change_title(line.action, line.change, order.plan.name) if line is not None else ""
    return {
        "customer_name": order.customer.name,
        "order_display_id": order.display_id,
        "address": order.service_address,
        "plan_name": order.plan.name,
        "speed": order.plan.speed_tier,
        "monthly_price": order.monthly_price,
        "currency": order.currency,
        "submitted_on": timezone.localdate(order.submitted_at),
        "requested_date": order.requested_activation_date,
        "estimated_date": estimated_activation_date(order),
        "activated_on": order.activation_date,
        # A change to a live line reads as the change ("Speed change to Fibre 900").
        "change_title": title,
        "is_change": order.product_ref is not None,
        "order_url": settings.SITE_URL
        + reverse("portal:order_detail", kwargs={"order_id": order.pk}),
        **(extra or {}),
    }


def notice_email_send(*, notice_id: int) -> bool:
    """E-mail notice ``notice_id`` as it was recorded. Idempotent: the notice's row is locked
    while the e-mail goes and marked sent in the same transaction, so a repeated or concurrent
    run sends nothing more. True when this run sent it."""
    with transaction.atomic():
        notice = (
            CustomerNotice.objects.select_for_update()
            .filter(pk=notice_id, sent_at__isnull=True)
            .first()
        )
        if notice is None:
            return False
        email_deliver(subject=notice.subject, body=notice.body, to=notice.to)
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    logger.info("order %s: notice %s (%s) e-mailed", notice.order_id, notice.pk, notice.kind)
    return True
