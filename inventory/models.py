"""The installed base: each completed order item as a product the customer has (TMF637)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from orders.models import Customer, Order, OrderItem, Plan, ProductSpecification


class ProductStatus(models.TextChoices):
    """TMF637 ProductStatusType values the installed base uses."""

    CREATED = "created", "Created"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class Product(models.Model):
    """A product in the customer's installed base, made from one completed order item.

    ``characteristics`` are its characteristic values as delivered (speeds and technology, a
    router's model); ``network_identifiers`` what fulfilment recorded for maintenance (port,
    subscriber, address, CPE serial). An add-on's ``parent`` is the line it is on.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="products")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="products")
    order_item = models.OneToOneField(OrderItem, on_delete=models.PROTECT, related_name="product")
    offering = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="products")
    specification = models.ForeignKey(
        ProductSpecification, on_delete=models.PROTECT, related_name="products"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="add_ons"
    )
    name = models.CharField(max_length=120)
    status = models.CharField(
        max_length=12, choices=ProductStatus.choices, default=ProductStatus.ACTIVE
    )
    start_date = models.DateTimeField()
    termination_date = models.DateTimeField(null=True, blank=True)
    characteristics = models.JSONField(default=dict, blank=True)
    network_identifiers = models.JSONField(default=dict, blank=True)
    recurring_price = models.DecimalField(max_digits=8, decimal_places=2)
    one_time_price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3)
    service_address = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # TMF637 list and the admin, newest first; a customer's installed base.
            models.Index(fields=["created_at", "id"], name="product_created_idx"),
            models.Index(fields=["customer", "created_at", "id"], name="product_customer_idx"),
            models.Index(fields=["status", "created_at", "id"], name="product_status_idx"),
            # The TMF637 filters, each an index range in the list's order (tmf.inventory.views):
            # productOffering.id, productSpecification.id, productOrderItem.productOrderId; and
            # startDate ranges (listed by start date then).
            models.Index(fields=["offering", "created_at", "id"], name="product_offering_idx"),
            models.Index(fields=["order", "created_at", "id"], name="product_order_idx"),
            models.Index(
                fields=["specification", "created_at", "id"], name="product_specification_idx"
            ),
            models.Index(fields=["start_date", "id"], name="product_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer.name})"
