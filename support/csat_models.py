"""Customer satisfaction (CSAT): the one question a customer is asked after their new line goes
live, answered once per order, by the e-mail's link or on their order page."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models import Order

CSAT_COMMENT_MAX_LENGTH = 1000
CSAT_SCORES = (1, 2, 3, 4, 5)


class CsatChannel(models.TextChoices):
    EMAIL = "email", "E-mail link"
    PORTAL = "portal", "Order page"


class CsatResponse(models.Model):
    """The customer's answer about one order: a score from 1 (poor) to 5 (excellent) and an
    optional comment. One per order: the one-to-one's unique constraint decides when two answers
    race (support.services.csat_answer turns the loser's IntegrityError into a refusal)."""

    # PROTECT: the answer is part of the order's record (and of the CSAT KPI).
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="csat_response")
    score = models.PositiveSmallIntegerField(choices=[(n, str(n)) for n in CSAT_SCORES])
    comment = models.TextField(max_length=CSAT_COMMENT_MAX_LENGTH, blank=True)
    channel = models.CharField(max_length=10, choices=CsatChannel.choices)
    # The signed-in customer who answered on their order page; None for the e-mail's link (the
    # link itself identifies the order, not a person).
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The KPI reads answers by period (support.selectors.csat_summary): a range of this index.
    answered_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="csat_response_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.score}/5 ({self.get_channel_display()})"
