"""The signed link in the CSAT e-mail: ``/feedback/<token>/``, where the token names the order
(django.core.signing, salted for this use only, so no other signed value of the site is
accepted as one) and runs out after ``settings.CSAT_LINK_MAX_AGE_DAYS`` (30 by default). No
sign-in is needed: whoever holds the e-mail's link may answer for that order, once."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from orders.models import Order

CSAT_LINK_SALT = "support.csat.feedback-link"
DEFAULT_MAX_AGE_DAYS = 30


def csat_link_max_age() -> datetime.timedelta:
    return datetime.timedelta(
        days=getattr(settings, "CSAT_LINK_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS)
    )


def csat_token(order: Order | str) -> str:
    """A token for ``order``'s feedback page, signed now (its age counts from now)."""
    order_pk = order if isinstance(order, str) else str(order.pk)
    return signing.dumps({"order": order_pk}, salt=CSAT_LINK_SALT)


def csat_url(order: Order | str) -> str:
    """The absolute address of ``order``'s feedback page, for the e-mail."""
    return settings.SITE_URL + reverse("csat_feedback", kwargs={"token": csat_token(order)})


class LinkProblem(enum.Enum):
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class LinkCheck:
    order_pk: str | None  # the order the token names, when it is valid
    problem: LinkProblem | None


def csat_token_check(token: str) -> LinkCheck:
    """What ``token`` names: the order, or why not (it ran out, or it was not signed by us,
    was altered, or is not a feedback token)."""
    try:
        value = signing.loads(token, salt=CSAT_LINK_SALT, max_age=csat_link_max_age())
    except signing.SignatureExpired:
        return LinkCheck(order_pk=None, problem=LinkProblem.EXPIRED)
    except signing.BadSignature:
        return LinkCheck(order_pk=None, problem=LinkProblem.INVALID)
    order_pk = value.get("order") if isinstance(value, dict) else None
    if not isinstance(order_pk, str) or not order_pk:
        return LinkCheck(order_pk=None, problem=LinkProblem.INVALID)
    return LinkCheck(order_pk=order_pk, problem=None)
