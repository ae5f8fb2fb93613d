"""The installed base in the back office: read-only. Products are made only by
inventory.services.products_record when an order completes; rows are restricted by their order
through orders.access, like every other back-office list."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from inventory.models import Product
from orders.access import restrict_by_order
from orders.admin_helpers import OrderIdSearchMixin, ReadOnlyAdmin, admin_link, order_link


@admin.register(Product)
class ProductAdmin(OrderIdSearchMixin, ReadOnlyAdmin):
    change_form_template = "admin/backoffice_change_form.html"
    list_display = (
        "name",
        "customer",
        "order_display",
        "specification",
        "status",
        "start_date",
        "recurring_price",
        "currency",
    )
    list_display_links = ("name",)
    list_select_related = ("customer", "order", "specification")
    list_filter = ("status", "specification")
    search_fields = ("^order__id", "customer__name", "customer__email")
    # Newest first, on product_created_idx.
    ordering = ("-created_at", "-id")
    fields = (
        "name",
        "customer",
        "order_display",
        "order_item",
        "offering",
        "specification",
        "parent_display",
        "status",
        ("start_date", "termination_date"),
        "characteristics",
        "network_identifiers",
        ("recurring_price", "one_time_price", "currency"),
        "service_address",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("order_display", "parent_display")

    @admin.display(description="order", ordering="order__id")
    def order_display(self, product: Product) -> str:
        return order_link(product.order)

    @admin.display(description="add-on to")
    def parent_display(self, product: Product) -> str:
        return admin_link(product.parent) if product.parent_id else "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return restrict_by_order(super().get_queryset(request), request.user)
