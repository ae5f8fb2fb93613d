"""The sales rep's guided order form (US-01)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from orders.eligibility import serviceability_check
from orders.models import Customer, Plan, postcode_looks_valid
from orders.services import CustomerDetails, PhoneMatch, normalize_phone

PHONE_HELP = "Mobile or landline, digits with optional leading +."
# Plans have no one-time charge: billing starts when the line goes live and charges the first
# month for the days left in it (billing.services.first_period).
PLAN_HELP = (
    "Nothing is due today. Billing starts when the line goes live; the first bill covers only "
    "the days left in that month."
)


class PlanChoiceField(forms.ModelChoiceField):
    """The plans with what the customer pays beside each one, so the rep can quote them."""

    def label_from_instance(self, obj: Plan) -> str:  # type: ignore[override]
        return f"{obj} · {obj.monthly_price} {obj.currency} a month · nothing due today"


# The rep's answer to "is this the same customer?" when only the phone number matched.
NEW_CUSTOMER = "new"


def up_to(limit: int) -> str:
    return f"Up to {limit} characters."


class OrderEntryForm(forms.Form):
    """Customer, contact, service address and plan on one page. Every problem is reported
    next to its field; the address is checked for serviceability before the order is taken."""

    name = forms.CharField(label="Customer name", max_length=120, help_text=up_to(120))
    email = forms.EmailField(label="E-mail", max_length=254)
    phone = forms.CharField(label="Phone", max_length=20, help_text=PHONE_HELP)
    address_line1 = forms.CharField(label="Service address", max_length=120, help_text=up_to(120))
    address_line2 = forms.CharField(
        label="Address line 2", max_length=120, required=False, help_text=up_to(120)
    )
    city = forms.CharField(label="Town or city", max_length=60, help_text=up_to(60))
    postcode = forms.CharField(label="Postcode", max_length=10)
    plan = PlanChoiceField(
        label="Plan",
        queryset=Plan.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        empty_label=None,
        help_text=PLAN_HELP,
    )
    requested_activation_date = forms.DateField(
        label="Activation date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to activate as soon as possible.",
    )
    # Offered (with choices) only when the phone number is an existing customer's and the
    # e-mail nobody's: households share numbers, so the rep confirms, never the system.
    same_customer = forms.CharField(label="Same customer", required=False, widget=forms.RadioSelect)
    # One token per rendered form: a double click or a re-post submits the same token, and the
    # service returns the order it already took instead of creating a second one.
    submission_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # A browser silently cuts what is typed or pasted at maxlength; the limit is said
            # beside the field instead, and a longer value is refused with its length.
            field.widget.attrs.pop("maxlength", None)
            if isinstance(field, forms.CharField) and field.max_length:
                field.error_messages["max_length"] = (
                    f"At most {field.max_length} characters: this has %(show_value)d."
                )

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data["phone"])
        digits = phone.lstrip("+")
        if not 7 <= len(digits) <= 15:
            raise forms.ValidationError("Enter a phone number of 7 to 15 digits.")
        return phone

    def clean_same_customer(self) -> str:
        value = self.cleaned_data.get("same_customer") or ""
        if value and value != NEW_CUSTOMER and not (value.isascii() and value.isdigit()):
            raise forms.ValidationError("Choose one of the customers listed, or a new customer.")
        return value

    def customer_choice(self) -> dict[str, Any]:
        """``order_submit``'s ``phone_match`` and ``same_customer`` for the rep's answer."""
        value = self.cleaned_data.get("same_customer") or ""
        if value == NEW_CUSTOMER:
            return {"phone_match": PhoneMatch.NEW_CUSTOMER, "same_customer": None}
        return {"phone_match": PhoneMatch.ASK, "same_customer": int(value) if value else None}

    def offer_customers(self, candidates: Sequence[Customer], message: str) -> None:
        """Ask the rep, next to the phone field, whether the order is for one of
        ``candidates`` (customers with the typed phone number) or for a new customer."""
        field = self.fields["same_customer"]
        field.widget.choices = [
            (
                str(c.pk),
                f"Yes, for {c.name} ({c.email}, {c.address_line1}, {c.city} {c.postcode})",
            )
            for c in candidates
        ] + [(NEW_CUSTOMER, "No, a new customer with the details typed above")]
        self.add_error("same_customer", message)

    def clean_postcode(self) -> str:
        postcode = " ".join(self.cleaned_data["postcode"].upper().split())
        if not postcode_looks_valid(postcode):
            raise forms.ValidationError("Enter a full postcode, for example SW1A 1AA.")
        return postcode

    def clean_requested_activation_date(self) -> datetime.date | None:
        value = self.cleaned_data.get("requested_activation_date")
        if value and value < timezone.localdate():
            raise forms.ValidationError("The activation date cannot be in the past.")
        return value

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        postcode, plan = cleaned.get("postcode"), cleaned.get("plan")
        if postcode:
            check = serviceability_check(postcode)
            if check.area is None or not check.serviceable:
                self.add_error("postcode", check.message)
            elif plan is not None and not check.allows(plan):
                self.add_error(
                    "plan",
                    f"{plan.name} ({plan.speed_tier}) is not available at {postcode}: "
                    f"the network there delivers up to {check.area.max_download_mbps} Mbps.",
                )
        return cleaned

    def customer_details(self) -> CustomerDetails:
        data = self.cleaned_data
        return CustomerDetails(
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            address_line1=data["address_line1"],
            address_line2=data.get("address_line2", ""),
            city=data["city"],
            postcode=data["postcode"],
        )
