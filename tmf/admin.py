"""The TM Forum APIs in the back office: client systems, their event listeners, and the delivery
log, where a person sees what was sent to whom and replays what a listener missed.

Nothing here is typed in by hand: tokens come from ``manage.py create_api_client`` (only their
hash is stored, and it is never shown); listeners are registered by the client systems through
``/hub``; deliveries are written by the hub. The log is read-only; replaying is the one action,
for superusers and holders of ``tmf.change_eventdelivery``.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from orders.admin_helpers import (
    OrderIdSearchMixin,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    SelectedRowsActionMixin,
    admin_link,
    order_link,
)
from tmf.hub.delivery import deliveries_replay
from tmf.hub.query import EVENT_TYPES
from tmf.models import ApiClient, DeliveryAttempt, EventDelivery, HubSubscription, Scope

REPLAY_PERMISSION = "tmf.change_eventdelivery"
API_CLIENT_HELP = (
    "Client systems are registered with 'python manage.py create_api_client NAME --scopes ...', "
    "which shows the new token once (only its hash is kept; --rotate issues a new one). Here "
    "you can change a client's scopes or deactivate it: its token stops working at once."
)


# --- client systems ------------------------------------------------------------------------------
class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiClient
        fields = ("scopes", "is_active")


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ("name", "scope_list", "token_hint", "is_active", "last_used_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    readonly_fields = ("name", "token_hint", "user", "created_at", "last_used_at")
    fieldsets = (
        (
            None,
            {
                "fields": ("name", "token_hint", "scopes", "is_active"),
                "description": API_CLIENT_HELP,
            },
        ),
        ("Record", {"fields": ("user", "created_at", "last_used_at")}),
    )

    @admin.display(description="scopes")
    def scope_list(self, client: ApiClient) -> str:
        return ", ".join(client.scopes)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Orders, cancellations and deletions name the client that made them: deactivate it.
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {**(extra_context or {}), "subtitle": API_CLIENT_HELP}
        )


# --- listeners ---------------------------------------------------------------------------------
class RegisteredFilter(admin.SimpleListFilter):
    title = "registration"
    parameter_name = "registered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("live", "Registered"), ("deleted", "Unregistered")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[HubSubscription]
    ) -> QuerySet[HubSubscription]:
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(HubSubscription)
class HubSubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "callback",
        "api",
        "client",
        "query",
        "created_at",
        "deleted_at",
        "delivery_log",
    )
    list_filter = ("api", "client", RegisteredFilter)
    list_select_related = ("client",)
    search_fields = ("callback", "query", "id")
    # The signing secret is the client's; it is never shown.
    fields = (
        "id",
        "api",
        "client",
        "callback",
        "query",
        "created_at",
        "deleted_at",
        "delivery_log",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[HubSubscription]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_count=Count(
                    "deliveries", filter=Q(deliveries__status=EventDelivery.Status.PENDING)
                ),
                failed_count=Count(
                    "deliveries", filter=Q(deliveries__status=EventDelivery.Status.FAILED)
                ),
            )
        )

    @admin.display(description="deliveries")
    def delivery_log(self, subscription: HubSubscription) -> str:
        url = (
            reverse("admin:tmf_eventdelivery_changelist")
            + f"?subscription__id__exact={subscription.pk}"
        )
        pending = getattr(subscription, "pending_count", 0)
        failed = getattr(subscription, "failed_count", 0)
        return format_html('<a href="{}">log</a> ({} pending, {} failed)', url, pending, failed)


# --- the delivery log --------------------------------------------------------------------------
class DeliveryAttemptInline(ReadOnlyTabularInline):
    model = DeliveryAttempt
    fields = ("attempted_at", "status_code", "error", "duration_ms", "replay")
    readonly_fields = fields
    verbose_name = "try"
    verbose_name_plural = "tries"


class EventTypeFilter(admin.SimpleListFilter):
    """The event types the hub publishes, from the specifications' list rather than from a
    SELECT DISTINCT over every delivery ever logged."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = sorted({name for types in EVENT_TYPES.values() for name in types})
        return [(name, name) for name in names]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(EventDelivery)
class EventDeliveryAdmin(SelectedRowsActionMixin, OrderIdSearchMixin, ReadOnlyAdmin):
    list_display = (
        "event_type",
        "status",
        "order_display",
        "listener",
        "attempts",
        "last_status_code",
        "next_try",
        "created_at",
    )
    list_filter = ("status", EventTypeFilter, "subscription")
    list_select_related = ("order", "subscription", "subscription__client")
    search_fields = ("event_id", "subscription__callback")
    order_id_search_field = "order_id"
    ordering = ("-created_at", "-id")
    actions = ("replay",)
    inlines = (DeliveryAttemptInline,)
    fields = (
        "event_type",
        "event_id",
        "status",
        "order_display",
        "listener",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "next_try",
        "delivered_at",
        "created_at",
        "body_display",
    )
    readonly_fields = fields

    @admin.display(description="order", ordering="order_id")
    def order_display(self, delivery: EventDelivery) -> str:
        return order_link(delivery.order)

    @admin.display(description="listener", ordering="subscription__callback")
    def listener(self, delivery: EventDelivery) -> str:
        subscription = delivery.subscription
        text = f"{subscription.client.name}: {subscription.callback}"
        if subscription.deleted_at is not None:
            text += " (unregistered)"
        return admin_link(subscription, text)

    @admin.display(description="next try", ordering="next_attempt_at")
    def next_try(self, delivery: EventDelivery) -> Any:
        if delivery.status != EventDelivery.Status.PENDING:
            return "-"
        return delivery.next_attempt_at

    @admin.display(description="body (the exact bytes sent, indented here)")
    def body_display(self, delivery: EventDelivery) -> str:
        try:
            text = json.dumps(json.loads(delivery.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = delivery.body
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPLAY_PERMISSION)

    @admin.action(permissions=["replay"], description="Replay selected deliveries")
    def replay(self, request: HttpRequest, queryset: QuerySet[EventDelivery]) -> None:
        """Send the selected deliveries again now, each as one more (replay) try."""
        outcome = deliveries_replay(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{outcome.queued} deliver{'y' if outcome.queued == 1 else 'ies'} queued for replay.",
            messages.SUCCESS if outcome.queued else messages.WARNING,
        )
        if outcome.unregistered:
            self.message_user(
                request,
                f"{outcome.unregistered} not replayed: the listener was unregistered.",
                messages.WARNING,
            )
        if outcome.in_flight:
            self.message_user(
                request,
                f"{outcome.in_flight} not replayed: being sent at this moment.",
                messages.WARNING,
            )
