"""Forms for the exception-queue actions in the admin (provisioning/admin.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from orders.models import Order, OrderItem
from orders.roles import Role
from orders.states import ItemState
from provisioning.models import ExceptionCase

CASE_WORKER_ROLES = (Role.PROVISIONING, Role.PROVISIONING_LEAD)


def case_assignable_users() -> QuerySet[User]:
    """Active members of the provisioning teams, by name: whom a case may be handed to."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[r.value for r in CASE_WORKER_ROLES])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def person_label(user: Any) -> str:
    full_name = user.get_full_name()
    return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


class CaseOwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class AssignCaseForm(forms.Form):
    owner = CaseOwnerField(
        label="Assign to",
        queryset=get_user_model().objects.none(),
        empty_label="Choose a person",
        help_text="Members of the provisioning and provisioning lead teams.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = case_assignable_users()  # type: ignore[attr-defined]


class ResolveOverrideForm(forms.Form):
    resolution = forms.ChoiceField(
        label="Resolution",
        choices=[
            (
                ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
                "Activated by hand: the line is live, start billing",
            ),
            (ExceptionCase.Resolution.OVERRIDE_CANCELLED, "Cancel the order"),
        ],
        widget=forms.RadioSelect,
        initial=ExceptionCase.Resolution.OVERRIDE_ACTIVATED,
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": "A reason is required."},
        help_text="Why you override, and what was done. Recorded in the order's history and "
        "the audit log under your name.",
    )

    def add_service_errors(self, field_errors: dict[str, str]) -> None:
        """Show a service's refusal next to the field it concerns."""
        for name, message in field_errors.items():
            self.add_error(name if name in self.fields else None, message)


def cancellable_add_ons(order: Order) -> QuerySet[OrderItem]:
    """The order's add-on items whose fulfilment failed: what the lead may drop from a case."""
    return (
        OrderItem.objects.filter(order=order, parent__isnull=False, state=ItemState.HELD)
        .select_related("offering")
        .order_by("position", "pk")
    )


class CancelItemForm(forms.Form):
    """Drop an add-on that cannot be delivered from the order (provisioning.services.
    exception_case_cancel_item): the order goes on without it and completes as partial."""

    item = forms.ModelChoiceField(
        label="Add-on",
        queryset=OrderItem.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the add-on to cancel.",
            "invalid_choice": "That is not a held add-on of this order.",
        },
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "A reason is required."},
        help_text="Why it cannot be delivered. Recorded in the order's history under your name; "
        "the customer is not billed for it.",
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["item"]
        field.queryset = cancellable_add_ons(order)  # type: ignore[attr-defined]
        field.label_from_instance = (  # type: ignore[attr-defined]
            lambda item: f"Item {item.item_id}: {item.offering.name}"
        )

    def add_service_errors(self, field_errors: dict[str, str]) -> None:
        """Show a service's refusal next to the field it concerns."""
        for name, message in field_errors.items():
            self.add_error(name if name in self.fields else None, message)
