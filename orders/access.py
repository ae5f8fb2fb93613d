"""The one restriction path for orders and customers (STYLE.md convention 4).

Portal views, support, the sales pages, the APIs and the admin querysets all fetch orders through
``restrict_orders`` / ``orders_visible_to`` / ``order_get_for_user`` (and customers through
``customers_visible_to``). Forbidden and missing look the same: 404.

Who sees what:

- Staff roles hold the model permission ``orders.view_order`` (``orders.view_customer``) through
  their group: they see every order (customer).
- A client system of the TM Forum APIs (``tmf.auth.ClientPrincipal``, ``is_api_client``) sees
  every order when it holds the ``read`` scope, nothing otherwise: it is a registered system of
  the ISP (CRM, billing), not a person.
- A customer sees what they own: the customer record linked to their user (``Customer.user``)
  and that customer's orders. Lists restrict by that link, a join on the customer's own orders
  (``orders.customer_id`` -> ``customer.user_id``, both indexed), so one customer's list reads
  their few rows whatever the size of the table. The same ownership is also held as
  object-level permissions (django-guardian) for the checks on one object in hand
  (``user.has_perm(perm, obj)``): the user linked to a Customer holds ``view_customer`` on that
  customer and ``view_order`` on each of its orders. The grants follow the link: an order
  created for a linked customer is granted to its user, linking a user grants all the
  customer's existing orders, and re-linking revokes the previous user's grants
  (``order_grant_owner`` and ``customer_sync_ownership``, run for every save, whichever code
  path saved).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import Http404
from guardian.models import UserObjectPermission

from orders import order_id
from orders.models import Customer, Order

VIEW_ORDER = "orders.view_order"
VIEW_CUSTOMER = "orders.view_customer"


def is_staff_viewer(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_perm(VIEW_ORDER)))


def _owned_by(user: User, queryset: QuerySet[Any], *, via: str) -> QuerySet[Any]:
    # The customer's own rows, by the Customer.user link: a join, not guardian's
    # ``pk IN (granted ids) OR pk IN (group-granted ids)`` that makes the database read every
    # order to find one customer's. The grants hold the same set (kept in step below).
    return queryset.filter(**{via: user.pk})


def restrict_orders(queryset: QuerySet[Order], user: User | AnonymousUser) -> QuerySet[Order]:
    """``queryset`` narrowed to what ``user`` may see: everything for staff, the orders they
    own for a customer, nothing for anyone else. Lazy: one query when evaluated."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if getattr(user, "is_api_client", False):
        return queryset if user.has_scope("read") else queryset.none()  # type: ignore[attr-defined,union-attr]
    if is_staff_viewer(user):
        return queryset
    return _owned_by(user, queryset, via="customer__user_id")  # type: ignore[arg-type]


def orders_visible_to(user: User | AnonymousUser) -> QuerySet[Order]:
    return restrict_orders(Order.objects.all(), user)


def own_orders(user: User | AnonymousUser) -> QuerySet[Order]:
    """The orders ``user`` owns as a customer, whatever staff roles they also hold (the
    customer's own pages speak to the customer only)."""
    if not user.is_authenticated or not user.is_active:
        return Order.objects.none()
    return _owned_by(user, Order.objects.all(), via="customer__user_id")  # type: ignore[arg-type]


def restrict_customers(
    queryset: QuerySet[Customer], user: User | AnonymousUser
) -> QuerySet[Customer]:
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser or user.has_perm(VIEW_CUSTOMER):
        return queryset
    return _owned_by(user, queryset, via="user_id")  # type: ignore[arg-type]


def customers_visible_to(user: User | AnonymousUser) -> QuerySet[Customer]:
    return restrict_customers(Customer.objects.all(), user)


def restrict_by_order(
    queryset: QuerySet[Any], user: User | AnonymousUser, *, via: str = "order"
) -> QuerySet[Any]:
    """Rows of another model (cases, jobs, billing accounts) narrowed to those whose order
    ``user`` may see, so that every app restricts through the same rule."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if getattr(user, "is_api_client", False):
        return queryset if user.has_scope("read") else queryset.none()  # type: ignore[attr-defined,union-attr]
    if is_staff_viewer(user):
        return queryset
    return _owned_by(user, queryset, via=f"{via}__customer__user_id")  # type: ignore[arg-type]


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


# --- ownership grants ---------------------------------------------------------------------------
def _permission(model: type[Model], codename: str) -> tuple[ContentType, Permission]:
    content_type = ContentType.objects.get_for_model(model)
    return content_type, Permission.objects.get(content_type=content_type, codename=codename)


def order_grant_owner(order: Order) -> None:
    """The user linked to the order's customer may see the order (idempotent)."""
    user_id = order.customer.user_id
    if user_id is None:
        return
    content_type, permission = _permission(Order, "view_order")
    UserObjectPermission.objects.get_or_create(
        user_id=user_id,
        permission=permission,
        content_type=content_type,
        object_pk=str(order.pk),
    )


def _sync_grants(
    content_type: ContentType, permission: Permission, object_pks: list[str], user_id: int | None
) -> None:
    held = UserObjectPermission.objects.filter(
        permission=permission, content_type=content_type, object_pk__in=object_pks
    )
    (held if user_id is None else held.exclude(user_id=user_id)).delete()
    if user_id is None or not object_pks:
        return
    have = set(held.filter(user_id=user_id).values_list("object_pk", flat=True))
    UserObjectPermission.objects.bulk_create(
        UserObjectPermission(
            user_id=user_id, permission=permission, content_type=content_type, object_pk=pk
        )
        for pk in object_pks
        if pk not in have
    )


def customer_sync_ownership(customer: Customer) -> None:
    """Make the object permissions match the link: the linked user (if any) holds
    ``view_customer`` on the customer and ``view_order`` on every one of its orders; nobody
    else holds them. Idempotent."""
    _sync_grants(*_permission(Customer, "view_customer"), [str(customer.pk)], customer.user_id)
    order_pks = [str(pk) for pk in customer.orders.values_list("pk", flat=True)]
    _sync_grants(*_permission(Order, "view_order"), order_pks, customer.user_id)


def user_may_view_order(user: User | AnonymousUser, order: Order) -> bool:
    """The object-level check for one order already in hand (staff or owner)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return is_staff_viewer(user) or user.has_perm(VIEW_ORDER, order)


# Ownership is derived from the Customer.user link, so it is kept in step on every save of an
# order or a customer, whichever code saved it (intake, the invitation flow, the admin, a
# fixture). A queryset .update() of Customer.user bypasses this: use
# orders.services.customer_link_user.
@receiver(post_save, sender=Order, dispatch_uid="orders.access.order_grant_owner")
def _order_saved(sender: type[Order], instance: Order, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        order_grant_owner(instance)


@receiver(post_save, sender=Customer, dispatch_uid="orders.access.customer_sync_ownership")
def _customer_saved(
    sender: type[Customer], instance: Customer, created: bool, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "user" not in update_fields:
        return
    if created and instance.user_id is None:
        return
    customer_sync_ownership(instance)
