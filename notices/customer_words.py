"""Every reason code in the customer's words: what happened and what happens next, never
internal detail (no exchanges, task names or codes). Used on the customer's order page
and on /track/ (portal/_tracking.html), and by the e-mails that explain a status
(notices.receivers). The words live here, below the portal, because both the portal and the
notices use them and the portal already builds on the notices.

The codes come from every part of the system that records why an order moved: the network's
activation failures (provisioning.models.ReasonCode), the eligibility checks
(orders.eligibility.EligibilityReason), refusals to cancel or change (orders.errors), overrides
and jeopardies. tests/portal/test_customer_words.py fails for a code without words here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orders.eligibility import EligibilityReason
from orders.errors import CancellationRefused
from orders.events import OVERRIDE_REASON_CODE
from orders.models import Order
from orders.selectors import CustomerTimelineEntry, customer_timeline
from orders.states import OrderStatus
from provisioning.models import ReasonCode


@dataclass(frozen=True)
class CustomerWords:
    happened: str
    next: str


_NETWORK_PROBLEM = CustomerWords(
    "We hit a problem while switching your line on.",
    "Our provisioning team is fixing it now. We will tell you when your line is live, and "
    "if this changes your date.",
)

WORDS: dict[str, CustomerWords] = {
    # Activation failures on the network (provisioning.models.ReasonCode)
    ReasonCode.PORT_UNAVAILABLE: CustomerWords(
        "There is no free connection for your line in your area at the moment.",
        "Our team is arranging one. We will tell you if this moves the date we expect.",
    ),
    ReasonCode.PROFILE_REJECTED: _NETWORK_PROBLEM,
    ReasonCode.SPEED_PROFILE_FAILED: CustomerWords(
        "We could not set your line to the speed you ordered yet.",
        "Our team is fixing it; your line will run at your plan's speed once it is done.",
    ),
    ReasonCode.LINE_TEST_FAILED: CustomerWords(
        "A test of your line did not pass.",
        "Our team is checking the line. If an engineer needs to visit, we will contact you to "
        "arrange it.",
    ),
    ReasonCode.NETWORK_TIMEOUT: CustomerWords(
        "Our network was slow to answer while we set up your line.",
        "We are trying again; you do not need to do anything.",
    ),
    ReasonCode.WORKER_LOST: CustomerWords(
        "Setting up your line was interrupted on our side.",
        "It starts again by itself; you do not need to do anything.",
    ),
    ReasonCode.ADAPTER_ERROR: _NETWORK_PROBLEM,
    ReasonCode.ADDRESS_POOL_EXHAUSTED: CustomerWords(
        "We could not give your line its fixed IP address yet.",
        "Our team is making one available; the rest of your order goes ahead.",
    ),
    ReasonCode.ADDRESS_BIND_FAILED: CustomerWords(
        "We could not link your fixed IP address to your line yet.",
        "Our team is fixing it; the rest of your order goes ahead.",
    ),
    ReasonCode.CPE_REJECTED: CustomerWords(
        "We could not register your router yet.",
        "Our team is sorting it out. Your router will set itself up once it is done.",
    ),
    # Eligibility (orders.eligibility.EligibilityReason)
    EligibilityReason.NOT_SERVICEABLE: CustomerWords(
        "We cannot provide this service at your address.",
        "Your order is closed and you will not be charged.",
    ),
    EligibilityReason.SPEED_NOT_AVAILABLE: CustomerWords(
        "The speed you chose is not available at your address.",
        "Your order is closed and you will not be charged; a slower plan may be available.",
    ),
    EligibilityReason.MANUAL_AREA: CustomerWords(
        "In your area our team sets up each line by hand.",
        "It takes a little longer; we will tell you when your line is live.",
    ),
    EligibilityReason.INCOMPLETE_PAYLOAD: CustomerWords(
        "We need a few more details from you to set up your line.",
        "We will contact you; you can also write to us from your order page.",
    ),
    # Refusals to cancel or change (orders.errors.CancellationRefused and amendments)
    CancellationRefused.PONR: CustomerWords(
        "We have started switching your line on, so the order can no longer be changed online.",
        "Once it is live you can change or stop the service from your account.",
    ),
    CancellationRefused.CLOSED: CustomerWords(
        "This order is finished.", "Any change is a new request from your account."
    ),
    CancellationRefused.CANCELLING: CustomerWords(
        "We are cancelling this order.", "We will tell you when it is done."
    ),
    CancellationRefused.SCHEDULED: CustomerWords(
        "This order is set to be cancelled on the date you asked.",
        "Until then you can keep it from your order page.",
    ),
    "LIVE": CustomerWords(
        "This order is about a line that is already live.",
        "Changes to a live line are a new request from your account.",
    ),
    # A person on our side moved the order on (orders.overrides)
    OVERRIDE_REASON_CODE: CustomerWords(
        "Our team has updated your order.", "We will tell you if this changes your date."
    ),
    # Jeopardies (orders.jeopardy)
    "JEOPARDY_AT_RISK": CustomerWords(
        "Your order is taking a little longer than usual.", "We are keeping a close eye on it."
    ),
    "JEOPARDY_LATE": CustomerWords(
        "Your order is late. We are sorry.",
        "We have told you the new date; our team is working to bring it forward.",
    ),
    "JEOPARDY_CRITICAL": CustomerWords(
        "Your order is very late. We are sorry.",
        "A manager is now looking after it; we will contact you.",
    ),
}

# The statuses whose reason is worth telling while the order is in them.
EXPLAINED_STATUSES = frozenset(
    {OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION, OrderStatus.REJECTED}
)


def customer_words(code: str) -> CustomerWords | None:
    """The words for ``code``; None for no code or one without words (the caller leaves the
    explanation out rather than show a code)."""
    return WORDS.get(code) if code else None


def current_situation(status: str, latest_reason_code: str) -> CustomerWords | None:
    """What the customer's page explains for the order's status now, if anything."""
    if status not in EXPLAINED_STATUSES:
        return None
    return customer_words(latest_reason_code)


def order_situation(
    order: Order, *, timeline: Sequence[CustomerTimelineEntry] | None = None
) -> CustomerWords | None:
    """What explains ``order``'s status now, in customer words: the reason of its latest status
    change while it is in a status worth explaining (``current_situation``), else None. Give the
    order's ``timeline`` (orders.selectors.customer_timeline) when it is read already."""
    if order.status not in EXPLAINED_STATUSES:
        return None  # nothing to explain: the timeline is not read
    if timeline is None:
        timeline = customer_timeline(order)
    latest = timeline[-1].reason_code if timeline else ""
    return current_situation(order.status, latest)
