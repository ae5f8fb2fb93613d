"""The back office for the shared core: catalog and serviceability (editable), customers, orders
and the outbox (read-only: orders change only through orders.services and, for the privileged,
the overrides on the order page, orders.admin_overrides), and the audit log (read-only for all).

Every queryset here goes through orders.access, the one restriction path. The small helpers the
other apps' admins reuse live in orders.admin_helpers.
"""

from __future__ import annotations

import re
from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from orders import admin_catalogue  # noqa: F401 (registers the catalogue's admins)
from orders.access import restrict_by_order, restrict_customers, restrict_orders
from orders.admin_helpers import (
    SERVICE_REFUSALS,
    ActionRow,
    OrderIdSearchMixin,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    ScaledChangeList,
    SelectedRowsActionMixin,
    order_link,
    refusal_message,
    render_action_page,
)
from orders.admin_overrides import OrderOverridesAdminMixin
from orders.models import (
    Customer,
    Order,
    OrderEvent,
    OutboxMessage,
    ScheduledCancellation,
    ServiceArea,
    normalize_postcode,
)
from orders.outbox import outbox_dispatch, outbox_task_names
from orders.selectors import orders_matching
from orders.services import normalize_email, normalize_phone, order_confirm_manual_activation
from orders.states import EventSource, OrderStatus

admin.site.site_header = "Order to activation: back office"
admin.site.site_title = "Back office"
admin.site.index_title = "Orders, provisioning and billing"

# What a person types when they search by phone number: digits, spaces, dashes, brackets, +.
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-()]{6,}$")


# --- catalog (orders.admin_catalogue) and serviceability: editable -------------------------
class ServiceAreaForm(forms.ModelForm):
    class Meta:
        model = ServiceArea
        fields = ("postcode", "exchange", "technology", "max_download_mbps", "auto_provisioning")

    def clean_postcode(self) -> str:
        # Normalized before the uniqueness check, so 'SW1A 1AA' meets an existing 'SW1A1AA' as
        # a form error rather than as an IntegrityError when save() normalizes it.
        return normalize_postcode(self.cleaned_data["postcode"])


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    form = ServiceAreaForm
    list_display = (
        "postcode",
        "exchange",
        "technology",
        "max_download_mbps",
        "auto_provisioning",
    )
    list_filter = ("technology", "auto_provisioning")
    search_fields = ("postcode", "exchange")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ServiceArea], search_term: str
    ) -> tuple[QuerySet[ServiceArea], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            results = results | queryset.filter(postcode=normalize_postcode(search_term))
        return results, may_have_duplicates


# --- customers ------------------------------------------------------------------------------
class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = (
            "name",
            "email",
            "phone",
            "address_line1",
            "address_line2",
            "city",
            "postcode",
        )

    # The same normal forms intake stores, so that intake finds the customer again.
    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        # Said in words here; the model's case-insensitive constraint would only name itself.
        if Customer.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another customer already has this e-mail address.")
        return email

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean_postcode(self) -> str:
        return normalize_postcode(self.cleaned_data["postcode"])


class CustomerOrderInline(ReadOnlyTabularInline):
    model = Order
    fields = ("order_id", "plan", "status", "channel", "submitted_at")
    readonly_fields = fields
    ordering = ("-submitted_at",)
    verbose_name = "order"
    verbose_name_plural = "orders (read-only)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return restrict_orders(super().get_queryset(request), request.user).select_related("plan")

    @admin.display(description="order ID")
    def order_id(self, order: Order) -> str:
        return order_link(order)


@admin.register(Customer)
class CustomerAdmin(ScaledChangeList):
    """Contact details are editable (kept in intake's normal forms); orders are not."""

    change_form_template = "admin/backoffice_change_form.html"
    form = CustomerForm
    list_display = ("name", "email", "phone", "postcode", "created_at")
    search_fields = ("name", "email", "phone")
    ordering = ("name", "pk")
    readonly_fields = ("user", "created_at")
    inlines = (CustomerOrderInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Customers come from order intake, which finds existing ones first.
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return restrict_customers(super().get_queryset(request), request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if _PHONE_LIKE.match(search_term.strip()):
            results = results | queryset.filter(phone=normalize_phone(search_term))
        return results, may_have_duplicates


# --- orders: read-only, changed only by services ------------------------------------------------
class OrderEventInline(ReadOnlyTabularInline):
    model = OrderEvent
    fields = (
        "created_at",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "source",
        "reason",
        "reason_code",
    )
    readonly_fields = fields
    ordering = ("created_at", "id")
    verbose_name = "event"
    verbose_name_plural = "status history and events"

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The history is part of the order: whoever may see the order sees how it got here.
        return request.user.has_perm("orders.view_order")


class ScheduledCancellationInline(ReadOnlyTabularInline):
    """Cancellations asked for a later date, and what became of each (changed only by
    orders.scheduled_cancellations: from the order pages, the API and the due scan)."""

    model = ScheduledCancellation
    fields = (
        "due_at",
        "state",
        "reason",
        "requested_by",
        "channel",
        "created_at",
        "outcome",
        "settled_at",
        "settled_by",
    )
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    verbose_name = "cancellation for a later date"
    verbose_name_plural = "cancellations for a later date"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScheduledCancellation]:
        return super().get_queryset(request).select_related("requested_by", "settled_by")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.view_order")


class ConfirmManualActivationForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": "A reason is required."},
        help_text="What was done by hand, and by whom. Recorded in the order's history and "
        "the audit log.",
    )


@admin.register(Order)
class OrderAdmin(
    OrderOverridesAdminMixin, SelectedRowsActionMixin, OrderIdSearchMixin, ReadOnlyAdmin
):
    change_form_template = "admin/orders/order/change_form.html"
    order_id_search_field = "pk"
    list_display = ("display_id", "customer_name", "plan", "status", "channel", "submitted_at")
    list_select_related = ("customer", "plan")
    list_filter = ("status", "submitted_at", "channel", "plan", "service_area__technology")
    search_fields = ("^id", "customer__name", "customer__email", "customer__phone")
    ordering = ("-submitted_at", "-pk")
    actions = ("confirm_manual_activation",)
    inlines = (OrderEventInline, ScheduledCancellationInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "display_id",
                    "status",
                    "customer",
                    "plan",
                    ("monthly_price", "currency"),
                    "channel",
                    "submitted_by",
                    "external_id",
                    "version",
                )
            },
        ),
        (
            "Service address",
            {
                "fields": (
                    "service_address_line1",
                    "service_address_line2",
                    "service_city",
                    "service_postcode",
                    "service_area",
                )
            },
        ),
        (
            "Dates",
            {
                "fields": (
                    "requested_activation_date",
                    "submitted_at",
                    "activated_at",
                    "completed_at",
                    "closed_at",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = ("display_id", "version")

    @admin.display(description="order ID", ordering="id")
    def display_id(self, order: Order) -> str:
        return order.display_id

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return restrict_orders(super().get_queryset(request), request.user)

    search_help_text = "An order ID (or its start), part of a name, an e-mail or a phone number."

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        # orders_matching, not Django's icontains over four columns of two tables ORed
        # together, which reads every order and every customer for each search.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(pk__in=orders_matching(term)), False

    def has_activate_manually_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.activate_manually")

    @admin.action(permissions=["activate_manually"], description="Confirm manual activation…")
    def confirm_manual_activation(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> HttpResponse | None:
        """For orders in the manual provisioning pool: a person vouches the line is live."""
        orders = list(queryset.select_related("customer", "plan"))
        if "apply" in request.POST:
            form = ConfirmManualActivationForm(request.POST)
            if form.is_valid():
                self._confirm_manual_activation(request, orders, form.cleaned_data["reason"])
                return None
        else:
            form = ConfirmManualActivationForm()
        waiting = sum(1 for o in orders if o.status == OrderStatus.AWAITING_MANUAL)
        intro = (
            "Confirm that the line of each order below is live. Billing starts from the "
            "activation, as for an automatic one."
        )
        if waiting < len(orders):
            intro += (
                f" Only {waiting} of the {len(orders)} selected orders await manual "
                "provisioning; the others will be left as they are."
            )
        return render_action_page(
            self,
            request,
            title="Confirm manual activation",
            intro=intro,
            form=form,
            columns=("Order", "Customer", "Plan", "Status"),
            rows=[
                ActionRow(
                    pk=o.pk,
                    label=o.display_id,
                    url=reverse("admin:orders_order_change", args=[o.pk]),
                    details=(o.customer.name, str(o.plan), o.get_status_display()),
                )
                for o in orders
            ],
            submit_label="Confirm activation",
            action="confirm_manual_activation",
        )

    def _confirm_manual_activation(
        self, request: HttpRequest, orders: list[Order], reason: str
    ) -> None:
        confirmed, skipped = [], []
        for order in orders:
            if order.status != OrderStatus.AWAITING_MANUAL:
                skipped.append(f"{order.display_id} ({order.get_status_display().lower()})")
                continue
            try:
                order_confirm_manual_activation(
                    order,
                    actor=request.user,  # type: ignore[arg-type]
                    reason=reason,
                    source=EventSource.ADMIN,
                    expected_status=OrderStatus.AWAITING_MANUAL,
                )
            except SERVICE_REFUSALS as exc:
                self.message_user(request, refusal_message(exc), messages.ERROR)
            else:
                confirmed.append(order.display_id)
        if skipped:
            self.message_user(
                request,
                f"Left as they were, not awaiting manual provisioning: {', '.join(skipped)}.",
                messages.WARNING,
            )
        if confirmed:
            self.message_user(
                request,
                f"Activation confirmed for {len(confirmed)} order(s): {', '.join(confirmed)}.",
                messages.SUCCESS,
            )


# --- the outbox ---------------------------------------------------------------------------------
OPEN_MESSAGE = Q(completed_at__isnull=True, failed_at__isnull=True)


class OutboxStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("open", "Not done yet"),
            ("waiting", "Waiting to be sent"),
            ("in_flight", "Sent, not done"),
            ("completed", "Completed"),
            ("failed", "Given up"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage]
    ) -> QuerySet[OutboxMessage]:
        value = self.value()
        if value == "open":
            return queryset.filter(OPEN_MESSAGE)
        if value == "waiting":
            return queryset.filter(OPEN_MESSAGE, dispatched_at__isnull=True)
        if value == "in_flight":
            return queryset.filter(OPEN_MESSAGE, dispatched_at__isnull=False)
        if value == "completed":
            return queryset.filter(completed_at__isnull=False)
        if value == "failed":
            return queryset.filter(failed_at__isnull=False)
        return queryset


class OutboxTaskFilter(admin.SimpleListFilter):
    """By task, from the tasks the outbox hands out (reading the distinct names of a table of
    millions of messages would scan it)."""

    title = "task"
    parameter_name = "task"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in outbox_task_names()]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage]
    ) -> QuerySet[OutboxMessage]:
        return queryset.filter(task_name=self.value()) if self.value() else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(SelectedRowsActionMixin, OrderIdSearchMixin, ReadOnlyAdmin):
    list_display = (
        "task_name",
        "order_display",
        "state",
        "created_at",
        "not_before",
        "dispatched_at",
        "attempts",
        "completed_at",
        "last_error",
    )
    list_filter = (OutboxStateFilter, OutboxTaskFilter)
    list_select_related = ("order",)
    search_fields = ("task_name",)
    ordering = ("-created_at", "-id")
    actions = ("send_now",)

    @admin.display(description="order", ordering="order_id")
    def order_display(self, message: OutboxMessage) -> str:
        return order_link(message.order)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxMessage]:
        return restrict_by_order(super().get_queryset(request), request.user)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_outboxmessage")

    @admin.action(permissions=["send"], description="Send now")
    def send_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        """Hand the selected messages that are not done to the broker now, given-up ones
        included (with a fresh count of tries). Completed ones are left alone; tasks are
        idempotent, so one that is also still in a queue does no harm."""
        pks = list(queryset.filter(completed_at__isnull=True).values_list("pk", flat=True))
        OutboxMessage.objects.filter(pk__in=pks, completed_at__isnull=True).update(
            dispatched_at=None, failed_at=None, attempts=0, not_before=timezone.now()
        )
        sent = sum(1 for pk in pks if outbox_dispatch(pk))
        skipped = queryset.count() - len(pks)
        if sent:
            self.message_user(request, f"Sent {sent} message(s) to the broker.", messages.SUCCESS)
        if sent < len(pks):
            self.message_user(
                request,
                f"{len(pks) - sent} message(s) could not be sent: the broker is unavailable. "
                "They wait on record and are sent as soon as it answers.",
                messages.ERROR,
            )
        if skipped:
            self.message_user(request, f"{skipped} message(s) were already completed.")


# --- the audit log: read-only for everyone ------------------------------------------------------
class ReadOnlyLogEntryAdmin(LogEntryAdmin):
    """django-auditlog's admin with no way to add, change or delete an entry, superusers
    included: the audit trail is evidence. (auditlog's own admin still lets a cascade from
    another admin page delete entries.)"""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, ReadOnlyLogEntryAdmin)
