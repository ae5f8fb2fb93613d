"""The notices sent to customers, for the back office: read-only (only the service writes
them), each staff member seeing those of the orders they may see."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from notices.models import CustomerNotice
from orders.access import restrict_by_order
from orders.admin_helpers import OrderIdSearchMixin, ReadOnlyAdmin, order_link


@admin.register(CustomerNotice)
class CustomerNoticeAdmin(OrderIdSearchMixin, ReadOnlyAdmin):
    list_display = ("order_display", "kind", "subject", "to", "created_at", "sent_at")
    list_select_related = ("order",)
    search_fields = ("=order__id",)  # the order ID as typed, through the mixin
    # By key: the newest first from the primary key's index, at any number of notices.
    ordering = ("-id",)
    fields = (
        "order",
        "kind",
        "key",
        "channel",
        "to",
        "subject",
        "body_shown",
        "created_at",
        "sent_at",
    )
    readonly_fields = ("body_shown",)

    @admin.display(description="order", ordering="order_id")
    def order_display(self, notice: CustomerNotice) -> str:
        return order_link(notice.order)

    @admin.display(description="body")
    def body_shown(self, notice: CustomerNotice) -> str:
        return notice.body_for_staff

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerNotice]:
        return restrict_by_order(super().get_queryset(request), request.user)
