"""Roles are Django groups with model permissions. The groups and their permissions exist in
every environment (created after each migrate); which users hold them is data."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db.models import TextChoices


class Role(TextChoices):
    SALES = "sales", "Sales"
    PROVISIONING = "provisioning", "Provisioning"
    PROVISIONING_LEAD = "provisioning_lead", "Provisioning lead"
    BILLING = "billing", "Billing"
    SUPPORT = "support", "Support"
    OPERATIONS_MANAGER = "operations_manager", "Operations manager"
    CUSTOMER = "customer", "Customer"


ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.SALES: [
        "orders.add_order",
        "orders.cancel_order",
        "orders.view_order",
        "orders.view_customer",
        "orders.add_customer",
        "orders.view_plan",
        "orders.view_servicearea",
    ],
    Role.PROVISIONING: [
        "orders.view_order",
        "orders.activate_manually",
        "orders.view_customer",
        "orders.view_plan",
        "provisioning.view_fulfilmenttask",
        "provisioning.view_exceptioncase",
        "inventory.view_product",
        # Static address pools and who holds which address (addressing).
        "addressing.view_addresspool",
        "addressing.view_addressassignment",
    ],
    Role.PROVISIONING_LEAD: [
        "orders.view_order",
        "orders.view_customer",
        "orders.view_plan",
        "orders.override_order",
        "orders.cancel_order",
        "orders.activate_manually",
        "orders.view_orderevent",
        # The milestone targets orders are watched against (orders.milestones).
        "orders.view_milestonetarget",
        "orders.add_milestonetarget",
        "orders.change_milestonetarget",
        "orders.view_jeopardy",
        "provisioning.view_fulfilmenttask",
        "provisioning.view_exceptioncase",
        "provisioning.change_exceptioncase",
        "provisioning.work_exceptioncase",
        "inventory.view_product",
        "kpis.view_activation_kpis",
        "kpis.view_provisioning_kpis",
        "kpis.view_duplicate_kpis",
        "kpis.view_support_kpis",
        # Cross-system mismatches (reconciliation), as for billing and operations.
        "reconciliation.view_mismatch",
        # The lead keeps the static address pools (addressing): adds and changes them.
        "addressing.view_addresspool",
        "addressing.add_addresspool",
        "addressing.change_addresspool",
        "addressing.view_addressassignment",
    ],
    Role.BILLING: [
        "orders.view_order",
        "orders.view_customer",
        "orders.view_plan",
        "billing.view_billingaccount",
        "billing.work_billingaccount",
        "inventory.view_product",
        "kpis.view_activation_kpis",
        "kpis.view_duplicate_kpis",
        "reconciliation.view_mismatch",
    ],
    Role.SUPPORT: [
        "orders.view_order",
        "orders.cancel_order",
        "orders.view_customer",
        "orders.view_plan",
        "provisioning.view_fulfilmenttask",
        "provisioning.view_exceptioncase",
        "billing.view_billingaccount",
        "support.view_supportticket",
        "support.change_supportticket",
        "inventory.view_product",
        "kpis.view_support_kpis",
    ],
    # Critical jeopardies come to them (orders.jeopardy); they see every order and its plan.
    Role.OPERATIONS_MANAGER: [
        "orders.view_order",
        "orders.view_customer",
        "orders.view_plan",
        "orders.view_orderevent",
        "orders.view_jeopardy",
        "orders.view_milestonetarget",
        "provisioning.view_fulfilmenttask",
        "provisioning.view_exceptioncase",
        "inventory.view_product",
        "kpis.view_activation_kpis",
        "kpis.view_provisioning_kpis",
        "kpis.view_duplicate_kpis",
        "kpis.view_support_kpis",
        "reconciliation.view_mismatch",
    ],
    Role.CUSTOMER: [],
}

STAFF_ROLES = frozenset(set(Role) - {Role.CUSTOMER})


def ensure_role_groups(**kwargs: Any) -> None:
    """post_migrate: create each role's group and give it exactly its permissions."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        perms = []
        for dotted in perm_names:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:  # the app may not be migrated yet; the next migrate adds it
                perms.append(perm)
        group.permissions.set(perms)


def roles_of(user: User | AnonymousUser) -> set[Role]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
        cached = {role for role in Role if role.value in names}
        user._role_cache = cached  # type: ignore[union-attr,attr-defined]
    return cached


def primary_role(user: User | AnonymousUser) -> Role | None:
    """The role whose landing page the user sees first."""
    held = roles_of(user)
    for role in (
        Role.OPERATIONS_MANAGER,
        Role.PROVISIONING_LEAD,
        Role.PROVISIONING,
        Role.SALES,
        Role.SUPPORT,
        Role.BILLING,
        Role.CUSTOMER,
    ):
        if role in held:
            return role
    return None
