"""The back office for the shared core: catalog and serviceability (editable), customers, orders
and the outbox (read-only: orders change only through orders.services).

Also home to the small admin helpers the other apps' admins reuse (orders is the one app every
other app may import): read-only model admins, order-ID search, and the intermediate page that
admin actions with a form render.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django_fsm import ConcurrentTransition

from orders import order_id
from orders.models import (
    Customer,
    Order,
    OrderEvent,
    OutboxMessage,
    Plan,
    ServiceArea,
    normalize_postcode,
)
from orders.outbox import outbox_dispatch
from orders.services import (
    OrderError,
    normalize_email,
    normalize_phone,
    order_confirm_manual_activation,
)
from orders.states import EventSource, OrderStatus

admin.site.site_header = "Order to activation: back office"
admin.site.site_title = "Back office"
admin.site.index_title = "Orders, provisioning and billing"

# What a person types when they search by phone number: digits, spaces, dashes, brackets, +.
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-()]{6,}$")

# A service refused or lost a race: show the person why, never a 500.
SERVICE_REFUSALS: tuple[type[Exception], ...] = (OrderError, ConcurrentTransition)


def refusal_message(exc: Exception) -> str:
    if isinstance(exc, OrderError):
        return exc.message
    return "Someone else changed this order at the same moment. Reload and try again."


# --- helpers shared by the back-office admins ------------------------------------------------
def order_id_matches(queryset: QuerySet[Any], search_term: str, *, field: str) -> QuerySet[Any]:
    """Rows of ``queryset`` whose ``field`` is the order ID ``search_term`` names, in any of the
    forms people type (lower case, dashes, spaces, O for 0); none if it is no valid order ID."""
    try:
        canonical = order_id.normalize(search_term)
    except order_id.InvalidOrderId:
        return queryset.none()
    return queryset.filter(**{field: canonical})


def admin_link(obj: Model | None, text: str | None = None) -> str:
    """A link to ``obj``'s admin page (or just its text when there is none)."""
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else str(obj))


def order_link(order: Order | None) -> str:
    return admin_link(order, order.display_id if order is not None else None)


class OrderIdSearchMixin:
    """Admin search that also finds a row by its order ID typed in any human form.

    ``order_id_search_field`` is the path to the order's primary key (``pk`` on Order itself).
    Django splits the search term into words and ANDs them, so 'k7qm3 xpa9z' finds nothing on
    its own; the whole term, normalized, is ORed in.
    """

    order_id_search_field = "order_id"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        results, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term
        )
        if search_term.strip():
            by_id = order_id_matches(queryset, search_term, field=self.order_id_search_field)
            results = results | by_id
        return results, may_have_duplicates


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by whoever holds the view permission; changed only by services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SelectedRowsActionMixin:
    """Actions act on exactly the rows the person ticked.

    Django narrows the selection by the changelist's current filters, so a case that another
    person resolved or reassigned since the page was drawn (and that the default 'active' filter
    now hides) would be dropped with a vague "Items must be selected". Here it stays in, and
    the action reports why it could not act on it (DESIGN invariant 9). "Select all N" still
    means all N rows of the filtered list.
    """

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        select_across = request.POST.get("select_across", "0") not in ("", "0", "False", "false")
        if not select_across:
            queryset = self.get_queryset(request)  # type: ignore[attr-defined]
        return super().response_action(request, queryset, *args, **kwargs)  # type: ignore[misc]


@dataclass
class ActionRow:
    """One selected object as the intermediate page lists it."""

    pk: Any
    label: str
    url: str = ""
    details: Sequence[str] = field(default_factory=tuple)


def render_action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    title: str,
    form: forms.Form,
    rows: Iterable[ActionRow],
    columns: Sequence[str],
    submit_label: str,
    action: str | None = None,
    form_url: str = "",
    cancel_url: str = "",
    intro: str = "",
) -> HttpResponse:
    """The intermediate page of an admin action (or of a one-object admin URL) with a form.

    With ``action``, the page re-posts the selected ids, the action name and ``apply`` to the
    changelist, Django's pattern for actions that ask before they act. Without it, the form
    posts to ``form_url``.
    """
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "intro": intro,
        "opts": opts,
        "app_label": opts.app_label,
        "form": form,
        "rows": list(rows),
        "columns": columns,
        "submit_label": submit_label,
        "action_name": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "form_url": form_url,
        "cancel_url": cancel_url,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/action_form_page.html", context)


# --- catalog and serviceability: editable ----------------------------------------------------
@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "speed_tier",
        "download_mbps",
        "upload_mbps",
        "monthly_price",
        "currency",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("download_mbps", "monthly_price")

    @admin.display(description="speed tier", ordering="download_mbps")
    def speed_tier(self, plan: Plan) -> str:
        return plan.speed_tier


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
        return super().get_queryset(request).select_related("plan")

    @admin.display(description="order ID")
    def order_id(self, order: Order) -> str:
        return order_link(order)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Contact details are editable (kept in intake's normal forms); orders are not."""

    change_form_template = "admin/backoffice_change_form.html"
    form = CustomerForm
    list_display = ("name", "email", "phone", "postcode", "created_at")
    search_fields = ("name", "email", "phone")
    readonly_fields = ("user", "created_at")
    inlines = (CustomerOrderInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Customers come from order intake, which finds existing ones first.
        return False

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


class ConfirmManualActivationForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": "A reason is required."},
        help_text="What was done by hand, and by whom. Recorded in the order's history and "
        "the audit log.",
    )


@admin.register(Order)
class OrderAdmin(SelectedRowsActionMixin, OrderIdSearchMixin, ReadOnlyAdmin):
    change_form_template = "admin/backoffice_change_form.html"
    order_id_search_field = "pk"
    list_display = ("display_id", "customer_name", "plan", "status", "channel", "submitted_at")
    list_select_related = ("customer", "plan")
    list_filter = ("status", "channel", "plan", "service_area__technology")
    search_fields = ("^id", "customer__name", "customer__email", "customer__phone")
    date_hierarchy = "submitted_at"
    ordering = ("-submitted_at",)
    actions = ("confirm_manual_activation",)
    inlines = (OrderEventInline,)
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
    readonly_fields = ("display_id",)

    @admin.display(description="order ID", ordering="id")
    def display_id(self, order: Order) -> str:
        return order.display_id

    @admin.display(description="customer", ordering="customer__name")
    def customer_name(self, order: Order) -> str:
        return order.customer.name

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if _PHONE_LIKE.match(search_term.strip()):
            results = results | queryset.filter(customer__phone=normalize_phone(search_term))
        return results, may_have_duplicates

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
class OutboxStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "Pending"), ("dispatched", "Dispatched")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage]
    ) -> QuerySet[OutboxMessage]:
        if self.value() == "pending":
            return queryset.filter(dispatched_at__isnull=True)
        if self.value() == "dispatched":
            return queryset.filter(dispatched_at__isnull=False)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(SelectedRowsActionMixin, OrderIdSearchMixin, ReadOnlyAdmin):
    list_display = (
        "task_name",
        "order_display",
        "created_at",
        "not_before",
        "dispatched_at",
        "send_attempts",
        "last_error",
    )
    list_filter = (OutboxStateFilter, "task_name")
    list_select_related = ("order",)
    search_fields = ("task_name",)
    ordering = ("-created_at", "-id")
    actions = ("send_now",)

    @admin.display(description="order", ordering="order_id")
    def order_display(self, message: OutboxMessage) -> str:
        return order_link(message.order)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_outboxmessage")

    @admin.action(permissions=["send"], description="Send now")
    def send_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        """Hand the selected messages to the broker; already sent ones are left alone (and
        tasks are idempotent, so a message sent twice does no harm)."""
        pending = list(queryset.filter(dispatched_at__isnull=True).values_list("pk", flat=True))
        sent = sum(1 for pk in pending if outbox_dispatch(pk))
        skipped = queryset.count() - len(pending)
        if sent:
            self.message_user(request, f"Sent {sent} message(s) to the broker.", messages.SUCCESS)
        if sent < len(pending):
            self.message_user(
                request,
                f"{len(pending) - sent} message(s) could not be sent: the broker is unavailable. "
                "The sweeper will keep trying.",
                messages.ERROR,
            )
        if skipped:
            self.message_user(request, f"{skipped} message(s) had already been sent.")
