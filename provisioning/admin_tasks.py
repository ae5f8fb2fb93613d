"""The back office's view of fulfilment tasks: each task with its retry log (read only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from orders.access import restrict_by_order
from orders.admin_helpers import (
    OrderFilter,
    OrderIdSearchMixin,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    order_link,
)
from provisioning.models import FulfilmentTask, TaskAttempt


class TaskAttemptInline(ReadOnlyTabularInline):
    model = TaskAttempt
    fields = (
        "number",
        "trigger",
        "outcome",
        "requested_by",
        "worker",
        "network_reference",
        "error_code",
        "error_message",
        "transient",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    ordering = ("number",)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The attempts are part of the task: whoever may see the task sees its retry log.
        return request.user.has_perm("provisioning.view_fulfilmenttask")


@admin.register(FulfilmentTask)
class FulfilmentTaskAdmin(OrderIdSearchMixin, ReadOnlyAdmin):
    change_form_template = "admin/backoffice_change_form.html"
    list_display = (
        "pk",
        "order_display",
        "key",
        "task_type",
        "mode",
        "state",
        "attempts",
        "error_code",
        "ready_at",
        "started_at",
        "finished_at",
    )
    list_display_links = ("pk",)
    list_select_related = ("order",)
    list_filter = ("state", "mode", "task_type", "error_code", OrderFilter)
    search_fields = ("^order__id",)
    ordering = ("-created_at", "-pk")
    inlines = (TaskAttemptInline,)
    fields = (
        "order_display",
        "key",
        "task_type",
        "mode",
        "is_ponr",
        "depends_on",
        "state",
        "attempts",
        "network_reference",
        "result",
        "error_code",
        "error_message",
        "done_by",
        "note",
        "created_at",
        "ready_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = ("order_display",)

    @admin.display(description="order", ordering="order__id")
    def order_display(self, task: FulfilmentTask) -> str:
        return order_link(task.order)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfilmentTask]:
        return restrict_by_order(super().get_queryset(request), request.user)
