"""Forms for changes to a customer's live line (orders.changes): a plan change, a suspension, a
resumption, a cease, an add-on taken off. Each carries a one-time submission token, as the
sales form does: a double click or a re-post returns the order already taken. The order rules
are order_submit_change's, checked there before anything is written; ``items_refused`` puts
each refusal next to the field it is about."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from orders.eligibility import serviceability_check
from orders.installed_base import LiveLine
from orders.items import ItemsInvalid
from orders.models import Plan, ProductKind

# The name of the submit button's field that says which change a POST is.
CHANGE_FIELD = "change"


def plans_for_line(line: LiveLine) -> list[Plan]:
    """The internet access offerings on sale that suit the line's address, other than its own
    plan, slowest first."""
    offered = serviceability_check(line.postcode).available_plans
    return sorted(
        (plan for plan in offered if plan.pk != line.offering.pk),
        key=lambda plan: (plan.download_mbps or 0, plan.monthly_price, plan.code),
    )


def monthly_difference(line: LiveLine, plan: Plan) -> str:
    """ "+10.00 GBP a month" / "-5.00 GBP a month" against the line's plan today."""
    difference: Decimal = plan.monthly_price - line.offering.monthly_price
    sign = "+" if difference >= 0 else "-"
    return f"{sign}{abs(difference)} {plan.currency} a month"


class _ChangeForm(forms.Form):
    submission_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    # The field a refusal of the line (item "1") belongs to; None: above the form.
    line_field: str | None = None

    def __init__(self, *args: Any, line: LiveLine, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line

    def items_refused(self, exc: ItemsInvalid) -> None:
        """Each refusal next to its field: the line's at ``line_field``, the rest above."""
        for key, message in exc.item_errors.items():
            field = self.line_field if key == "1" else None
            self.add_error(field, message)


class PlanChangeForm(_ChangeForm):
    """Another plan for the line: the offerings that suit its address, each with its price and
    the monthly difference."""

    offering = forms.ModelChoiceField(
        label="New plan",
        # Every internet access offering validates (a page shown before the catalogue changed
        # may post one no longer offered: the order rules then say why, next to it).
        queryset=Plan.objects.filter(specification__kind=ProductKind.INTERNET_ACCESS),
        empty_label="Choose a plan",
        error_messages={"required": "Choose the new plan."},
    )
    line_field = "offering"

    def __init__(self, *args: Any, line: LiveLine, **kwargs: Any) -> None:
        super().__init__(*args, line=line, **kwargs)
        self.offered = plans_for_line(line)
        field = self.fields["offering"]
        field.choices = [("", "Choose a plan")] + [  # type: ignore[attr-defined]
            (
                plan.pk,
                f"{plan.name} ({plan.speed_tier}): {plan.monthly_price} {plan.currency} a "
                f"month ({monthly_difference(line, plan)})",
            )
            for plan in self.offered
        ]


class SuspendForm(_ChangeForm):
    reason = forms.CharField(
        label="Why is the line suspended?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the line is suspended."},
    )
    line_field = "reason"


class ResumeForm(_ChangeForm):
    pass


class CeaseForm(_ChangeForm):
    """A cease of the line and every add-on on it, from a date (today or later)."""

    requested_date = forms.DateField(
        label="Cease on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Give the date the line is to be ceased.",
            "invalid": "Give a date like 2027-01-31.",
        },
    )
    confirm = forms.BooleanField(
        label="Yes, cease this line",
        error_messages={"required": "Tick to confirm the cease."},
    )
    line_field = "requested_date"

    def __init__(self, *args: Any, line: LiveLine, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("requested_date", timezone.localdate())
        super().__init__(*args, line=line, **kwargs)

    def clean_requested_date(self) -> Any:
        date = self.cleaned_data["requested_date"]
        if date < timezone.localdate():
            raise forms.ValidationError("The cease date is today or later.")
        return date

    @property
    def scheduled_date(self) -> Any:
        """The date as the order takes it: None for today (at once)."""
        date = self.cleaned_data["requested_date"]
        return None if date == timezone.localdate() else date


class RemoveAddOnForm(_ChangeForm):
    add_on = forms.ChoiceField(
        label="Add-on to take off",
        error_messages={"required": "Choose the add-on to take off."},
    )
    line_field = "add_on"

    def __init__(self, *args: Any, line: LiveLine, **kwargs: Any) -> None:
        super().__init__(*args, line=line, **kwargs)
        self.fields["add_on"].choices = [  # type: ignore[attr-defined]
            (str(add_on.product_id), add_on.name) for add_on in line.add_ons
        ]

    def items_refused(self, exc: ItemsInvalid) -> None:
        for key, message in exc.item_errors.items():
            self.add_error("add_on" if key == "2" else None, message)

    @property
    def add_on_id(self) -> uuid.UUID:
        return uuid.UUID(self.cleaned_data["add_on"])
