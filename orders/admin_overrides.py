"""Overrides on the order's admin page (DESIGN invariants 7 and 9): force a status, edit the
order, re-run activation, and whatever other apps register (billing: waive the billing start).

Each override is a link on the order page (for those who may override) to an intermediate form
with a mandatory reason and, hidden, the order version the person saw. The service decides: a
refusal is shown on the form, a change made meanwhile sends the person back to the order as it
is now with the conflict message, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from orders import overrides
from orders.admin_helpers import SERVICE_REFUSALS, ActionRow, refusal_message, render_action_page
from orders.models import FORCED_MOVES, Order, Plan
from orders.services import OrderConflict
from orders.states import OrderStatus


class OverrideForm(forms.Form):
    """An override's intermediate form: what to do, why (mandatory), and the order version the
    person saw (hidden), so a change made meanwhile is refused instead of overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": "A reason is required."},
        help_text="Why you override. Recorded in the order's history and the audit log under "
        "your name.",
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        self.order = order
        super().__init__(*args, **kwargs)
        # The reason goes last, after what the override changes.
        self.order_fields([name for name in self.fields if name != "reason"] + ["reason"])

    def add_service_errors(self, exc: Exception) -> None:
        field_errors = getattr(exc, "field_errors", {}) or {}
        shown = False
        for name, message in field_errors.items():
            if name in self.fields:
                self.add_error(name, message)
                shown = True
        if not shown:
            self.add_error(None, refusal_message(exc))


class ForceStatusForm(OverrideForm):
    to_status = forms.ChoiceField(label="Move the order to")

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, order=order, **kwargs)
        self.fields["to_status"].choices = [  # type: ignore[attr-defined]
            (status, OrderStatus(status).label) for status in FORCED_MOVES.get(order.status, ())
        ]


class EditOrderForm(OverrideForm):
    service_address_line1 = forms.CharField(label="Service address", max_length=120)
    service_address_line2 = forms.CharField(label="Address line 2", max_length=120, required=False)
    service_city = forms.CharField(label="City", max_length=60)
    service_postcode = forms.CharField(label="Postcode", max_length=10)
    plan = forms.ModelChoiceField(label="Plan", queryset=Plan.objects.none())
    requested_activation_date = forms.DateField(
        label="Requested activation date",
        required=False,
        # ISO, the only format a browser's date input reads back.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, order=order, **kwargs)
        self.fields["plan"].queryset = Plan.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=order.plan_id)
        )
        for name in overrides.EDITABLE_FIELDS:
            self.fields[name].initial = getattr(order, f"{name}_id" if name == "plan" else name)
        self.fields["service_postcode"].initial = order.service_postcode_display
        self.fields["plan"].help_text = (
            f"Now {order.monthly_price} {order.currency}/month, locked when ordered. A new plan "
            "is charged at its current price."
        )

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in overrides.EDITABLE_FIELDS}


@dataclass(frozen=True)
class OrderOverride:
    """One override offered on the order's admin page. ``apply`` calls the service and returns
    what to tell the person; it raises the service's refusal."""

    slug: str
    label: str
    intro: str
    form_class: type[OverrideForm]
    apply: Callable[[Order, User, OverrideForm], str]
    available: Callable[[Order], bool]


# Other apps add theirs (billing: waive the billing start) from their admin module: orders may
# not import them, and the order page is where a person looks for every override.
ORDER_OVERRIDES: dict[str, OrderOverride] = {}


def register_order_override(override: OrderOverride) -> None:
    ORDER_OVERRIDES[override.slug] = override


def _force(order: Order, actor: User, form: OverrideForm) -> str:
    done = overrides.order_force_status(
        order,
        to_status=form.cleaned_data["to_status"],
        actor=actor,
        reason=form.cleaned_data["reason"],
        expected_version=form.cleaned_data["version"],
    )
    return f"Order {done.display_id} is now {done.get_status_display().lower()}."


def _edit(order: Order, actor: User, form: OverrideForm) -> str:
    done = overrides.order_edit_payload(
        order,
        actor=actor,
        reason=form.cleaned_data["reason"],
        changes=form.changes(),  # type: ignore[attr-defined]
        expected_version=form.cleaned_data["version"],
    )
    return f"Order {done.display_id} edited."


def _rerun(order: Order, actor: User, form: OverrideForm) -> str:
    done = overrides.order_rerun_activation(
        order,
        actor=actor,
        reason=form.cleaned_data["reason"],
        expected_version=form.cleaned_data["version"],
    )
    return f"Activation of order {done.display_id} re-run: a new attempt is queued."


register_order_override(
    OrderOverride(
        slug="force-status",
        label="Force status",
        intro="Move the order by decision where its normal road cannot. A forced activation "
        "starts billing; leaving 'exception' closes the exception case.",
        form_class=ForceStatusForm,
        apply=_force,
        available=lambda order: bool(FORCED_MOVES.get(order.status)),
    )
)
register_order_override(
    OrderOverride(
        slug="edit",
        label="Edit order",
        intro="Correct the service address, plan or requested date before activation starts. "
        "A new address or plan is checked for serviceability again.",
        form_class=EditOrderForm,
        apply=_edit,
        available=lambda order: order.status in overrides.EDITABLE_STATES,
    )
)
register_order_override(
    OrderOverride(
        slug="rerun-activation",
        label="Re-run activation",
        intro="Queue a new automatic activation attempt (for example after the network was "
        "fixed). An open exception case waits for its outcome.",
        form_class=OverrideForm,
        apply=_rerun,
        available=lambda order: order.status in overrides.RERUN_STATES,
    )
)


class OrderOverridesAdminMixin(admin.ModelAdmin):
    """For OrderAdmin: the override URLs, their view, and the links on the order page."""

    def has_override_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return overrides.order_may_override(request.user)

    def get_urls(self) -> list[Any]:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = require_http_methods(["GET", "POST"])(self.override_view)
        return [
            path(
                "<path:object_id>/override/<slug:kind>/",
                self.admin_site.admin_view(view),
                name=f"{info}_override",
            ),
            *super().get_urls(),
        ]

    def _change_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk])

    def override_view(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponse:
        """GET: the override's form, carrying the version the person saw (``?version=`` from
        the order page). POST: the service decides; a refusal is shown on the form, a conflict
        sends the person back to the order as it is now."""
        order = self.get_object(request, unquote(object_id))
        override = ORDER_OVERRIDES.get(kind)
        if order is None or override is None:
            raise Http404("No such order or override.")
        if not self.has_override_permission(request, order):
            raise PermissionDenied
        if request.method == "POST":
            form = override.form_class(request.POST, order=order)
            if form.is_valid():
                try:
                    message = override.apply(order, request.user, form)  # type: ignore[arg-type]
                except OrderConflict as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                    return HttpResponseRedirect(self._change_url(order))
                except SERVICE_REFUSALS as exc:
                    form.add_service_errors(exc)
                else:
                    self.message_user(request, message, messages.SUCCESS)
                    return HttpResponseRedirect(self._change_url(order))
        else:
            if not override.available(order):
                self.message_user(
                    request,
                    f"{override.label} is not possible: order {order.display_id} is "
                    f"{order.get_status_display().lower()}.",
                    messages.WARNING,
                )
                return HttpResponseRedirect(self._change_url(order))
            seen = request.GET.get("version", "")
            version = int(seen) if seen.isdigit() else order.version
            form = override.form_class(order=order, initial={"version": version})
        return render_action_page(
            self,
            request,
            title=f"{override.label}: order {order.display_id}",
            intro=override.intro,
            form=form,
            columns=("Order", "Customer", "Plan", "Status"),
            rows=[
                ActionRow(
                    pk=order.pk,
                    label=order.display_id,
                    url=self._change_url(order),
                    details=(order.customer.name, str(order.plan), order.get_status_display()),
                )
            ],
            submit_label=override.label,
            form_url=request.path,
            cancel_url=self._change_url(order),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        order = self.get_object(request, unquote(object_id))
        if order is not None and self.has_override_permission(request, order):
            context["order_overrides"] = [
                {
                    "label": override.label,
                    "url": reverse("admin:orders_order_override", args=[order.pk, override.slug])
                    + f"?version={order.version}",
                }
                for override in ORDER_OVERRIDES.values()
                if override.available(order)
            ]
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="customer", ordering="customer__name")
    def customer_name(self, order: Order) -> str:
        return order.customer.name
