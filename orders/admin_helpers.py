"""Small admin helpers every back-office admin reuses (orders is the one app every other app may
import): read-only model admins, order-ID search, links, and the intermediate page that admin
actions with a form render (moved here from orders.admin, which had grown past 800 lines)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django_fsm import ConcurrentTransition

from orders import order_id, paging
from orders.models import Order
from orders.services import OrderError

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


class BoundedCountPaginator(Paginator):
    """The admin's paginator without a count of the whole table: exact up to
    ``paging.COUNT_CAP`` rows, the database's estimate beyond (``paging.list_count``), so a
    changelist of a million rows costs what one of a hundred does. Past the estimate's last
    page the admin answers as for any page number out of range."""

    @cached_property
    def count(self) -> int:
        return paging.list_count(self.object_list)[0]  # type: ignore[arg-type]


class ScaledChangeList(admin.ModelAdmin):
    """Changelists that stay fast at a million rows: a bounded count, no second count of
    the unfiltered table ("N total"), and no date_hierarchy (its year and month links read
    every row; a date filter in the sidebar does the same job from an index)."""

    paginator = BoundedCountPaginator
    show_full_result_count = False
    # A page's cost is mostly drawing its rows; 50 keeps a changelist page well under 100 ms.
    list_per_page = 50


class ReadOnlyAdmin(ScaledChangeList):
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


class OrderFilter(admin.SimpleListFilter):
    """``?order=<order ID in any form>``: the rows of one order. Shown only while in use; the
    exception case page links here."""

    title = "order"
    parameter_name = "order"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if not value:
            return []
        try:
            return [(value, order_id.display(order_id.normalize(value)))]
        except order_id.InvalidOrderId:
            return [(value, f"{value} (not an order ID)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return order_id_matches(queryset, value, field="order_id") if value else queryset
