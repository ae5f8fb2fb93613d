"""The one restriction path for orders (STYLE.md convention 4).

Portal views, the admin and the APIs all fetch orders through ``orders_visible_to`` and
``order_get_for_user``. Forbidden and missing look the same: 404.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from orders import order_id
from orders.models import Customer, Order


def is_staff_viewer(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_perm("orders.view_order")))


def restrict_orders(queryset: QuerySet[Order], user: User | AnonymousUser) -> QuerySet[Order]:
    """``queryset`` narrowed to what ``user`` may see."""
    if not user.is_authenticated:
        return queryset.none()
    if is_staff_viewer(user):
        return queryset
    return queryset.filter(customer__user=user)


def orders_visible_to(user: User | AnonymousUser) -> QuerySet[Order]:
    return restrict_orders(Order.objects.all(), user)


def customers_visible_to(user: User | AnonymousUser) -> QuerySet[Customer]:
    if not user.is_authenticated:
        return Customer.objects.none()
    if user.is_superuser or user.has_perm("orders.view_customer"):
        return Customer.objects.all()
    return Customer.objects.filter(user=user)


def order_get_for_user(
    user: User | AnonymousUser,
    text: str,
    *,
    queryset: QuerySet[Order] | None = None,
) -> Order:
    """The order ``text`` names, if ``user`` may see it; Http404 otherwise."""
    try:
        canonical = order_id.normalize(text)
    except order_id.InvalidOrderId as exc:
        raise Http404("No such order.") from exc
    visible = restrict_orders(queryset if queryset is not None else Order.objects.all(), user)
    try:
        return visible.get(pk=canonical)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc
