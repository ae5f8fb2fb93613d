"""Address pools and who holds which address, in the back office.

Pools are edited here (their network, gateway, reserved addresses and areas), with the rules
checked by ``AddressPool.clean`` on every database and by PostgreSQL's constraints there.
Assignments are read-only: only ``addressing.services`` hands out and releases addresses (the
allocate_address task and its undo), so that the record matches the network.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from addressing.models import AddressAssignment, AddressPool
from addressing.selectors import pools_with_counts
from orders.access import restrict_by_order
from orders.admin_helpers import OrderIdSearchMixin, ReadOnlyAdmin, admin_link


class AddressPoolForm(forms.ModelForm):  # type: ignore[type-arg]
    reserved = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Addresses never handed out besides the gateway, one per line or comma "
        "separated. The network and broadcast addresses never are.",
    )

    class Meta:
        model = AddressPool
        fields = ("name", "network", "gateway", "reserved", "areas")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["reserved"] = "\n".join(self.instance.reserved or [])

    def clean_reserved(self) -> list[str]:
        text = self.cleaned_data.get("reserved") or ""
        return [part for part in text.replace(",", " ").split() if part]


@admin.register(AddressPool)
class AddressPoolAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = AddressPoolForm
    list_display = ("name", "network", "gateway", "area_list", "usable", "held", "free")
    search_fields = ("name", "network", "areas__postcode", "areas__exchange")
    filter_horizontal = ("areas",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AddressPool]:
        return pools_with_counts(super().get_queryset(request)).prefetch_related("areas")

    @admin.display(description="areas")
    def area_list(self, pool: AddressPool) -> str:
        return ", ".join(area.postcode for area in pool.areas.all()) or "-"

    @admin.display(description="usable")
    def usable(self, pool: AddressPool) -> int:
        return pool.usable_count

    @admin.display(description="in use", ordering="held")
    def held(self, pool: AddressPool) -> int:
        return pool.held  # type: ignore[attr-defined, no-any-return]

    @admin.display(description="free")
    def free(self, pool: AddressPool) -> int:
        # Released addresses in quarantine are neither in use nor free yet.
        return max(0, pool.usable_count - pool.held - pool.quarantined)  # type: ignore[attr-defined]


@admin.register(AddressAssignment)
class AddressAssignmentAdmin(OrderIdSearchMixin, ReadOnlyAdmin):
    order_id_search_field = "order_ref"
    list_display = (
        "address",
        "pool",
        "order_display",
        "item_ref",
        "product_display",
        "assigned_at",
        "released_at",
    )
    list_display_links = ("address",)
    list_select_related = ("pool", "order_item__order", "order_item__product")
    list_filter = ("pool", ("released_at", admin.EmptyFieldListFilter))
    search_fields = ("address", "^order_ref", "pool__name")
    fields = (
        "address",
        "pool",
        "order_display",
        "item_ref",
        "product_display",
        "assigned_at",
        "released_at",
    )
    readonly_fields = ("order_display", "product_display")

    @admin.display(description="order", ordering="order_ref")
    def order_display(self, held: AddressAssignment) -> str:
        if held.order_item is not None:
            return admin_link(held.order_item.order, held.order_item.order.display_id)
        return held.order_ref

    @admin.display(description="product")
    def product_display(self, held: AddressAssignment) -> str:
        # The live product the order item became (the installed base), once it completed.
        product = getattr(held.order_item, "product", None) if held.order_item else None
        return admin_link(product) if product is not None else "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AddressAssignment]:
        return restrict_by_order(
            super().get_queryset(request), request.user, via="order_item__order"
        )
