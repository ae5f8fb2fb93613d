"""Installed-base events other areas react to (the TMF637 hub publishes them). Sent inside the
transaction that caused them."""

from django.dispatch import Signal

# Products entered the installed base; kwargs: order, products.
products_created = Signal()
# A product's status changed; kwargs: product, from_status, order (the order that changed it,
# when one did).
product_status_changed = Signal()
# A product's offering changed (a plan change); kwargs: product, order.
product_changed = Signal()
