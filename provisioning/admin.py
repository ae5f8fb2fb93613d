"""The provisioning lead's exception queue (US-06) and the provisioning attempts, in the admin.

Nothing here writes a model field: every change to a case goes through provisioning.services
(``exception_case_assign``, ``exception_case_retry``, ``exception_case_resolve_override``), which
lock the row, re-check its state and write the order's events. When a service refuses (someone
acted first), the person reads why; the state stays as the winner left it (DESIGN invariant 9).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from guardian.shortcuts import get_objects_for_user

from orders.access import restrict_by_order
from orders.admin_helpers import (
    SERVICE_REFUSALS,
    ActionRow,
    OrderIdSearchMixin,
    ReadOnlyAdmin,
    SelectedRowsActionMixin,
    order_link,
    refusal_message,
    render_action_page,
)
from orders.selectors import order_recent_events
from orders.states import ItemState
from provisioning import admin_tasks  # noqa: F401  (registers the fulfilment task admin)
from provisioning.admin_cpe import RouterSerialCaseMixin
from provisioning.forms import (
    AssignCaseForm,
    CancelItemForm,
    ResolveOverrideForm,
    case_assignable_users,
    person_label,
)
from provisioning.models import ExceptionCase
from provisioning.selectors import (
    CASE_AGE_BUCKETS,
    order_exception_cases,
    order_plan,
)
from provisioning.services import (
    OWNER_PERMISSION,
    WORK_PERMISSION,
    CaseError,
    exception_case_assign,
    exception_case_cancel_item,
    exception_case_may_work,
    exception_case_resolve_override,
    exception_case_retry,
)

ACTIVE_STATES = (ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING)
# Dropping an add-on from the order changes what the customer gets: a lead's right, which
# provisioning.services.exception_case_cancel_item checks again.
CANCEL_ITEM_PERMISSION = "orders.override_order"


def humanize_age(age: datetime.timedelta) -> str:
    """Short enough for a queue column: '12 min', '3 h', '4 d'."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"


# --- list filters ----------------------------------------------------------------------------
class CaseStateFilter(admin.SimpleListFilter):
    """Opens on the work to do: active cases (open or retrying) unless asked otherwise."""

    title = "state"
    parameter_name = "state"
    DEFAULT = "active"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("active", "Active (open or retrying)"),
            *ExceptionCase.State.choices,
            ("all", "All"),
        ]

    def value(self) -> str:
        return super().value() or self.DEFAULT

    def choices(self, changelist: Any) -> Any:
        # No separate "All" entry pointing at the bare URL: the bare URL means "active".
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ExceptionCase]
    ) -> QuerySet[ExceptionCase]:
        value = self.value()
        if value == "active":
            return queryset.filter(state__in=ACTIVE_STATES)
        if value in ExceptionCase.State.values:
            return queryset.filter(state=value)
        return queryset


class OwnerFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # The provisioning teams, plus anyone else who holds an active case (the superuser
        # fallback when no lead existed), so every active case's owner can be picked.
        # Two subqueries of user ids, not a join of the users to every case: the owners of
        # active cases come from the queue's own partial index.
        holders = ExceptionCase.objects.filter(state__in=ACTIVE_STATES).values("owner_id")
        people = (
            get_user_model()
            .objects.filter(Q(pk__in=case_assignable_users().values("pk")) | Q(pk__in=holders))
            .order_by("first_name", "last_name", "username")
        )
        return [
            ("mine", "Mine"),
            ("none", "Unassigned"),
            *((str(person.pk), person_label(person)) for person in people),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ExceptionCase]
    ) -> QuerySet[ExceptionCase]:
        value = self.value()
        if value == "mine":
            return queryset.filter(owner_id=request.user.pk)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value and value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset


class AgeFilter(admin.SimpleListFilter):
    """How long ago the case opened."""

    title = "age"
    parameter_name = "age"
    # Shared with the lead's worklist in the portal: the same buckets in both queues.
    BUCKETS = CASE_AGE_BUCKETS

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, label) for value, (label, _, _) in self.BUCKETS.items()]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ExceptionCase]
    ) -> QuerySet[ExceptionCase]:
        bucket = self.BUCKETS.get(self.value() or "")
        if bucket is None:
            return queryset
        _, at_least, less_than = bucket
        now = timezone.now()
        if at_least is not None:
            queryset = queryset.filter(opened_at__lte=now - at_least)
        if less_than is not None:
            queryset = queryset.filter(opened_at__gt=now - less_than)
        return queryset


# --- the exception queue ------------------------------------------------------------------------
@admin.register(ExceptionCase)
class ExceptionCaseAdmin(
    RouterSerialCaseMixin, SelectedRowsActionMixin, OrderIdSearchMixin, ReadOnlyAdmin
):
    change_form_template = "admin/provisioning/exceptioncase/change_form.html"
    list_display = (
        "case_display",
        "order_display",
        "customer",
        "reason",
        "owner_display",
        "state",
        "age",
        "failure_count",
        "opened_at",
    )
    list_display_links = ("case_display",)
    # The "N total" link would lead back to the default (active) view: drop it and its COUNT.
    show_full_result_count = False
    list_select_related = ("order", "owner", "order__customer")
    list_filter = (CaseStateFilter, "reason_code", OwnerFilter, AgeFilter)
    search_fields = ("^order__id", "order__customer__name", "order__customer__email")
    ordering = ("opened_at", "pk")
    actions = ("assign_to_me", "assign_to", "retry_activation", "resolve_by_override")
    fieldsets = (
        (
            "Case",
            {
                "fields": (
                    "order_display",
                    "order_status",
                    "customer",
                    "reason_display",
                    "reason_detail",
                    "task_display",
                    "state",
                    "owner_display",
                    "failure_count",
                    ("opened_at", "age"),
                    "updated_at",
                )
            },
        ),
        ("Resolution", {"fields": ("resolution", "resolved_by", "resolved_at", "resolution_note")}),
    )
    readonly_fields = (
        "order_display",
        "order_status",
        "customer",
        "owner_display",
        "reason_display",
        "task_display",
        "age",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExceptionCase]:
        return restrict_by_order(super().get_queryset(request), request.user).select_related(
            "order", "order__customer", "owner", "resolved_by", "task__item__offering"
        )

    # --- columns ---------------------------------------------------------------------------
    @admin.display(description="case", ordering="pk")
    def case_display(self, case: ExceptionCase) -> str:
        return f"Case {case.pk}"

    @admin.display(description="reason code", ordering="reason_code")
    def reason(self, case: ExceptionCase) -> str:
        return format_html(
            '<span title="{}">{}</span>', case.get_reason_code_display(), case.reason_code
        )

    @admin.display(description="order", ordering="order__id")
    def order_display(self, case: ExceptionCase) -> str:
        return order_link(case.order)

    @admin.display(description="reason code")
    def reason_display(self, case: ExceptionCase) -> str:
        return f"{case.reason_code}: {case.get_reason_code_display()}"

    @admin.display(description="failed task")
    def task_display(self, case: ExceptionCase) -> str:
        task = case.task
        if task is None:
            return "-"
        return (
            f"{task.get_task_type_display()} ({task.key}) of item {task.item.item_id}, "
            f"{task.item.offering.name}: {task.get_state_display().lower()}"
        )

    @admin.display(description="order status")
    def order_status(self, case: ExceptionCase) -> str:
        return case.order.get_status_display()

    @admin.display(description="customer", ordering="order__customer__name")
    def customer(self, case: ExceptionCase) -> str:
        return case.order.customer.name

    @admin.display(description="owner", ordering="owner__username")
    def owner_display(self, case: ExceptionCase) -> str:
        return person_label(case.owner) if case.owner_id else "Unassigned"

    @admin.display(description="age", ordering="-opened_at")
    def age(self, case: ExceptionCase) -> str:
        return humanize_age(timezone.now() - case.opened_at)

    # --- permissions -----------------------------------------------------------------------
    def has_work_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Leads work every case; other provisioning staff the cases they own (the object
        permission provisioning.services grants the owner). Without ``obj`` (the list's
        actions): whether there is any case the person may work; the services still refuse,
        case by case, the ones they may not."""
        user = request.user
        if obj is not None:
            return exception_case_may_work(user, obj)  # type: ignore[arg-type]
        if user.has_perm(WORK_PERMISSION):
            return True
        return (
            user.is_authenticated
            and get_objects_for_user(
                user,
                OWNER_PERMISSION,
                klass=ExceptionCase.objects.filter(state__in=ACTIVE_STATES),
                accept_global_perms=False,
                with_superuser=False,
            ).exists()
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {"title": "Exception queue", **(extra_context or {})}
        )

    # --- actions on the selected cases ------------------------------------------------------
    def _refused(self, request: HttpRequest, case: ExceptionCase, exc: Exception) -> None:
        self.message_user(
            request, f"Order {case.order.display_id}: {refusal_message(exc)}", messages.ERROR
        )

    def _assign(self, request: HttpRequest, cases: list[ExceptionCase], *, owner: Any) -> None:
        assigned = []
        for case in cases:
            try:
                exception_case_assign(case, owner=owner, acting_user=request.user)  # type: ignore[arg-type]
            except SERVICE_REFUSALS as exc:
                self._refused(request, case, exc)
            else:
                assigned.append(case.order.display_id)
        if assigned:
            self.message_user(
                request,
                f"Assigned to {person_label(owner)}: {', '.join(assigned)}.",
                messages.SUCCESS,
            )

    def _retry(self, request: HttpRequest, cases: list[ExceptionCase]) -> None:
        started = []
        for case in cases:
            try:
                exception_case_retry(case, acting_user=request.user)  # type: ignore[arg-type]
            except SERVICE_REFUSALS as exc:
                self._refused(request, case, exc)
            else:
                started.append(case)
        # Read back: with an eager or fast worker the retry may already have an outcome.
        outcomes = {c.pk: c for c in ExceptionCase.objects.filter(pk__in=[c.pk for c in started])}
        for case in started:
            now = outcomes[case.pk]
            if now.state == ExceptionCase.State.RESOLVED:
                text, level = f"the retry succeeded; case {case.pk} is resolved.", messages.SUCCESS
            elif now.state == ExceptionCase.State.OPEN:
                text = f"the retry failed again ({now.reason_code}); case {case.pk} is open."
                level = messages.ERROR
            else:
                text = (
                    f"retry started; case {case.pk} stays 'retry in progress' until the "
                    "attempt finishes."
                )
                level = messages.SUCCESS
            self.message_user(request, f"Order {case.order.display_id}: {text}", level)

    def _resolve(
        self, request: HttpRequest, cases: list[ExceptionCase], *, resolution: str, reason: str
    ) -> None:
        resolved = []
        for case in cases:
            try:
                exception_case_resolve_override(
                    case,
                    acting_user=request.user,  # type: ignore[arg-type]
                    resolution=resolution,
                    reason=reason,
                )
            except SERVICE_REFUSALS as exc:
                self._refused(request, case, exc)
            else:
                resolved.append(case.order.display_id)
        if resolved:
            label = ExceptionCase.Resolution(resolution).label
            self.message_user(
                request, f"Resolved ({label}): {', '.join(resolved)}.", messages.SUCCESS
            )

    def _case_rows(self, cases: list[ExceptionCase]) -> list[ActionRow]:
        return [
            ActionRow(
                pk=case.pk,
                label=case.order.display_id,
                url=reverse("admin:provisioning_exceptioncase_change", args=[case.pk]),
                details=(
                    case.order.customer.name,
                    case.reason_code,
                    person_label(case.owner) if case.owner_id else "Unassigned",
                    case.get_state_display(),
                ),
            )
            for case in cases
        ]

    def _case_page(
        self,
        request: HttpRequest,
        cases: list[ExceptionCase],
        *,
        title: str,
        form: Any,
        submit_label: str,
        action: str | None = None,
        form_url: str = "",
        intro: str = "",
    ) -> HttpResponse:
        cancel_url = (
            reverse("admin:provisioning_exceptioncase_change", args=[cases[0].pk])
            if form_url
            else reverse("admin:provisioning_exceptioncase_changelist")
        )
        return render_action_page(
            self,
            request,
            title=title,
            intro=intro,
            form=form,
            rows=self._case_rows(cases),
            columns=("Order", "Customer", "Reason", "Owner", "State"),
            submit_label=submit_label,
            action=action,
            form_url=form_url,
            cancel_url=cancel_url,
        )

    def _selected(self, queryset: QuerySet[ExceptionCase]) -> list[ExceptionCase]:
        return list(queryset.select_related("order", "order__customer", "owner"))

    @admin.action(permissions=["work"], description="Assign to me")
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[ExceptionCase]) -> None:
        self._assign(request, self._selected(queryset), owner=request.user)

    @admin.action(permissions=["work"], description="Assign to…")
    def assign_to(
        self, request: HttpRequest, queryset: QuerySet[ExceptionCase]
    ) -> HttpResponse | None:
        cases = self._selected(queryset)
        if "apply" in request.POST:
            form = AssignCaseForm(request.POST)
            if form.is_valid():
                self._assign(request, cases, owner=form.cleaned_data["owner"])
                return None
        else:
            form = AssignCaseForm()
        return self._case_page(
            request,
            cases,
            title="Assign exception cases",
            form=form,
            submit_label="Assign",
            action="assign_to",
        )

    @admin.action(permissions=["work"], description="Retry activation")
    def retry_activation(self, request: HttpRequest, queryset: QuerySet[ExceptionCase]) -> None:
        self._retry(request, self._selected(queryset))

    @admin.action(permissions=["work"], description="Resolve by override…")
    def resolve_by_override(
        self, request: HttpRequest, queryset: QuerySet[ExceptionCase]
    ) -> HttpResponse | None:
        cases = self._selected(queryset)
        if "apply" in request.POST:
            form = ResolveOverrideForm(request.POST)
            if form.is_valid():
                self._resolve(request, cases, **form.cleaned_data)
                return None
        else:
            form = ResolveOverrideForm()
        return self._case_page(
            request,
            cases,
            title="Resolve exception cases by override",
            intro="Activated by hand confirms the line is live and starts billing; cancel "
            "closes the order. Either way the reason goes into the order's history.",
            form=form,
            submit_label="Resolve",
            action="resolve_by_override",
        )

    # --- the one-case page and its buttons ------------------------------------------------------
    def get_urls(self) -> list[Any]:
        info = f"{self.opts.app_label}_{self.opts.model_name}"

        def work(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(require_POST(view))

        return [
            path(
                "<path:object_id>/work/assign-to-me/",
                work(self.assign_to_me_view),
                name=f"{info}_assign_to_me",
            ),
            path("<path:object_id>/work/assign/", work(self.assign_view), name=f"{info}_assign"),
            path("<path:object_id>/work/retry/", work(self.retry_view), name=f"{info}_retry"),
            path("<path:object_id>/work/resolve/", work(self.resolve_view), name=f"{info}_resolve"),
            path(
                "<path:object_id>/work/cancel-item/",
                work(self.cancel_item_view),
                name=f"{info}_cancel_item",
            ),
            *self.router_serial_urls(work, info),
            *super().get_urls(),
        ]

    def _case_to_work(self, request: HttpRequest, object_id: str) -> ExceptionCase:
        # A case the person may not see is missing (404); one they see but may not work is
        # forbidden (403).
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404("No such exception case.")
        if not self.has_work_permission(request, case):
            raise PermissionDenied
        return case

    @staticmethod
    def _back_to(case: ExceptionCase) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:provisioning_exceptioncase_change", args=[case.pk])
        )

    def assign_to_me_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self._case_to_work(request, object_id)
        self._assign(request, [case], owner=request.user)
        return self._back_to(case)

    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self._case_to_work(request, object_id)
        form = AssignCaseForm(request.POST)
        if not form.is_valid():
            return self._case_page(
                request,
                [case],
                title="Assign exception case",
                form=form,
                submit_label="Assign",
                form_url=request.path,
            )
        self._assign(request, [case], owner=form.cleaned_data["owner"])
        return self._back_to(case)

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self._case_to_work(request, object_id)
        self._retry(request, [case])
        return self._back_to(case)

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self._case_to_work(request, object_id)
        form = ResolveOverrideForm(request.POST)
        if not form.is_valid():
            return self._case_page(
                request,
                [case],
                title="Resolve exception case by override",
                form=form,
                submit_label="Resolve",
                form_url=request.path,
            )
        self._resolve(request, [case], **form.cleaned_data)
        return self._back_to(case)

    def cancel_item_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Drop a held add-on from the case's order (a lead's decision: the service checks
        ``orders.override_order`` and says so to anyone else)."""
        case = self._case_to_work(request, object_id)
        form = CancelItemForm(request.POST, order=case.order)
        if form.is_valid():
            item = form.cleaned_data["item"]
            try:
                exception_case_cancel_item(
                    case,
                    item=item,
                    acting_user=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                )
            except CaseError as exc:
                if not exc.field_errors:
                    self._refused(request, case, exc)
                    return self._back_to(case)
                form.add_service_errors(exc.field_errors)
            except SERVICE_REFUSALS as exc:
                self._refused(request, case, exc)
                return self._back_to(case)
            else:
                self.message_user(
                    request,
                    f"Order {case.order.display_id}: item {item.item_id} ({item.offering.name}) "
                    f"cancelled; case {case.pk} is resolved and the order goes on without it.",
                    messages.SUCCESS,
                )
                return self._back_to(case)
        return self._case_page(
            request,
            [case],
            title="Cancel an add-on of the order",
            intro="The add-on is dropped: the order goes on with the other items, completes as "
            "partial, and only what was delivered is billed.",
            form=form,
            submit_label="Cancel this add-on",
            form_url=request.path,
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        case = self.get_object(request, unquote(object_id))
        context = self._case_context(request, case) if case is not None else {}
        context.update(extra_context or {})
        return super().change_view(request, object_id, form_url, context)

    def _case_context(self, request: HttpRequest, case: ExceptionCase) -> dict[str, Any]:
        can_work = self.has_work_permission(request, case)
        is_open = case.state == ExceptionCase.State.OPEN
        order = case.order
        plan = order_plan(order)
        held_add_ons = [
            entry.item
            for entry in plan
            if entry.item.parent_id is not None and entry.item.state == ItemState.HELD
        ]
        may_cancel = request.user.has_perm(CANCEL_ITEM_PERMISSION)

        def url(name: str) -> str:
            return reverse(f"admin:provisioning_exceptioncase_{name}", args=[case.pk])

        return {
            "work": {
                "assign": can_work and case.is_active,
                "retry": can_work and is_open,
                "resolve": can_work and is_open,
                "cancel_item": can_work and is_open and may_cancel and bool(held_add_ons),
            },
            # An add-on could be dropped, but only a lead may: say so instead of a button.
            "cancel_needs_lead": can_work and is_open and bool(held_add_ons) and not may_cancel,
            "work_urls": {
                name: url(name)
                for name in (
                    "assign_to_me",
                    "assign",
                    "retry",
                    "resolve",
                    "cancel_item",
                    "router_serial",
                )
            },
            **self.router_serial_context(case, can_work=can_work),
            "assign_form": AssignCaseForm(initial={"owner": case.owner_id}),
            "resolve_form": ResolveOverrideForm(),
            "cancel_item_form": CancelItemForm(order=order),
            "held_add_ons": held_add_ons,
            "case_order": order,
            "recent_events": order_recent_events(order, limit=20),
            "plan": plan,
            "case_task_id": case.task_id,
            "attempts_url": reverse("admin:provisioning_fulfilmenttask_changelist")
            + f"?order={order.pk}",
            "other_cases": [c for c in order_exception_cases(order) if c.pk != case.pk],
        }
