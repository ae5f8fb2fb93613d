"""The sales rep's guided order form (US-01)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from orders.eligibility import serviceability_check
from orders.installed_base import LiveLine
from orders.items import ItemRequest, ItemsInvalid, items_check, items_totals
from orders.models import Customer, Plan, ProductKind, postcode_looks_valid
from orders.services import CustomerDetails, PhoneMatch, normalize_phone

PHONE_HELP = "Mobile or landline, digits with optional leading +."
# Plans have no one-time charge: billing starts when the line goes live and charges the first
# month for the days left in it (billing.services.first_period).
PLAN_HELP = (
    "Nothing is due today. Billing starts when the line goes live; the first bill covers only "
    "the days left in that month."
)


CENT = Decimal("0.01")
ADD_ONS_HELP = (
    "Sold with the line. A one-time charge is due now and comes on the first bill; monthly "
    "charges start when the add-on is live."
)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount} {currency}"


def _due_now(offering: Plan) -> str:
    if not offering.one_time_price:
        return "nothing due today"
    return f"{_money(offering.one_time_price, offering.currency)} due now"


class _Priced:
    """Each option carries its offering's prices, for the form's live totals (order_form.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):  # type: ignore[no-untyped-def]
        option = super().create_option(  # type: ignore[misc]
            name, value, label, selected, index, subindex=subindex, attrs=attrs
        )
        offering = getattr(value, "instance", None)
        if isinstance(offering, Plan):
            option["attrs"].update(
                {
                    "data-label": str(offering),
                    "data-monthly": str(offering.monthly_price),
                    "data-once": str(offering.one_time_price),
                }
            )
        return option


class PricedRadioSelect(_Priced, forms.RadioSelect):
    pass


class PricedCheckboxSelectMultiple(_Priced, forms.CheckboxSelectMultiple):
    pass


class PlanChoiceField(forms.ModelChoiceField):
    """The plans with what the customer pays beside each one, so the rep can quote them."""

    def label_from_instance(self, obj: Plan) -> str:  # type: ignore[override]
        return f"{obj} · {obj.monthly_price} {obj.currency} a month · {_due_now(obj)}"


class AddOnChoiceField(forms.ModelMultipleChoiceField):
    """The add-ons on sale, each with its monthly price and one-time charge."""

    def label_from_instance(self, obj: Plan) -> str:  # type: ignore[override]
        return f"{obj.name} · {obj.monthly_price} {obj.currency} a month · {_due_now(obj)}"


def lines_on_sale() -> Any:
    return Plan.objects.filter(
        is_active=True, specification__kind=ProductKind.INTERNET_ACCESS
    ).select_related("specification")


def add_ons_on_sale() -> Any:
    return (
        Plan.objects.filter(is_active=True)
        .exclude(specification__parent_kind="")
        .select_related("specification")
        .order_by("specification__kind", "monthly_price", "code")
    )


@dataclass(frozen=True)
class PriceLine:
    label: str
    monthly: Decimal
    once: Decimal


@dataclass(frozen=True)
class PriceSummary:
    """What the customer pays for the items chosen on the form: each item's prices, the total
    per month, and what is due now (the one-time charges)."""

    lines: list[PriceLine]
    monthly: Decimal
    once: Decimal
    currency: str


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
        queryset=lines_on_sale(),
        widget=PricedRadioSelect,
        empty_label=None,
        help_text=PLAN_HELP,
    )
    add_ons = AddOnChoiceField(
        label="Add-ons",
        queryset=add_ons_on_sale(),
        widget=PricedCheckboxSelectMultiple,
        required=False,
        help_text=ADD_ONS_HELP,
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
        # The refusals of single add-ons, by offering pk, shown next to that add-on.
        self.add_on_errors: dict[str, str] = {}
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
        area = None
        if postcode:
            check = serviceability_check(postcode)
            if check.area is None or not check.serviceable:
                self.add_error("postcode", check.message)
            else:
                area = check.area
                if plan is not None and not check.allows(plan):
                    self.add_error(
                        "plan",
                        f"{plan.name} ({plan.speed_tier}) is not available at {postcode}: "
                        f"the network there delivers up to {check.area.max_download_mbps} Mbps.",
                    )
        chosen = self.chosen_add_ons()
        if chosen and (area is not None or plan is None):
            # The order rules themselves (orders.items), so the form refuses what
            # order_submit would, next to the add-on concerned, before anything is written.
            try:
                items_check(self.item_requests(), area)
            except ItemsInvalid as exc:
                self.items_refused(exc)
        return cleaned

    def add_on_choices(self) -> list[tuple[Any, str]]:
        """Each add-on checkbox with the refusal of that add-on, if any."""
        return [
            (choice, self.add_on_errors.get(str(choice.data["value"]), ""))
            for choice in self["add_ons"]
        ]

    def chosen_add_ons(self) -> list[Plan]:
        """The add-ons ticked, in the order they are passed to ``order_submit`` (items 2..)."""
        return list(self.cleaned_data.get("add_ons") or [])

    def item_requests(self) -> list[ItemRequest]:
        """The order's items as the form states them: the line is item "1" (when chosen) and
        the add-ons, relying on it, items "2".. in ``chosen_add_ons`` order."""
        plan = self.cleaned_data.get("plan")
        line = [ItemRequest("1", plan)] if plan is not None else []
        add_ons = [
            ItemRequest(str(n), offering, relies_on="1")
            for n, offering in enumerate(self.chosen_add_ons(), 2)
        ]
        return line + add_ons

    def items_refused(self, exc: ItemsInvalid) -> None:
        """Put each item's refusal next to its field: item "1" at the plan, items "2".. at
        their add-on, a refusal of the whole order above the form. An add-on whose line is
        missing is told why in the rule's own words for the order ("add-ons are sold with a
        line") rather than as a reference to an item number the rep never sees."""
        errors = dict(exc.item_errors)
        order_message = errors.pop("order", "")
        no_line = self.cleaned_data.get("plan") is None
        if errors.pop("1", "") and not self.has_error("plan"):
            self.add_error("plan", exc.item_errors["1"])
        for n, offering in enumerate(self.chosen_add_ons(), 2):
            message = errors.pop(str(n), "")
            if no_line and order_message:
                message = order_message
            if message:
                self.add_on_errors[str(offering.pk)] = message
                self.add_error("add_ons", f"{offering.name}: {message}")
        if no_line:
            order_message = ""
        for message in [order_message, *errors.values()]:
            if message:
                self.add_error(None, message)

    def price_summary(self) -> PriceSummary:
        """Prices and totals of the plan and add-ons chosen so far, read from what was typed
        even where another field is wrong (the rep quotes while filling in)."""
        plan = _picked(lines_on_sale(), [self["plan"].value()])
        add_ons = _picked(add_ons_on_sale(), self["add_ons"].value() or [])
        offerings = plan + add_ons
        monthly, once = items_totals([ItemRequest(str(n), o) for n, o in enumerate(offerings)])
        currency = offerings[0].currency if offerings else "GBP"
        return PriceSummary(
            lines=[
                PriceLine(label=str(o), monthly=o.monthly_price, once=o.one_time_price)
                for o in offerings
            ],
            monthly=monthly.quantize(CENT),
            once=once.quantize(CENT),
            currency=currency,
        )

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


def form_initial_from(data: Any) -> dict[str, Any]:
    """The form's initial values from a posted QueryDict: the form shown again as it was,
    without validating it."""
    initial: dict[str, Any] = {}
    for name, field in OrderEntryForm.base_fields.items():
        if isinstance(field, forms.ModelMultipleChoiceField):
            initial[name] = data.getlist(name)
        elif name in data:
            initial[name] = data.get(name)
    return initial


def _picked(queryset: Any, values: Sequence[Any]) -> list[Plan]:
    pks = [str(v) for v in values if v is not None and str(v).isdigit()]
    return list(queryset.filter(pk__in=pks)) if pks else []


LIVE_ADD_ONS_HELP = (
    "For the line as it is: nothing changes on it. A one-time charge comes on the next bill; "
    "monthly charges go on the line's bill from the day the add-on is live."
)


class LiveLineAddOnsForm(forms.Form):
    """Add-ons for a customer's live line (the staff page "Add to this line"): the add-ons on
    sale that suit the line's network and are not on it already. The order rules are
    order_submit_add_ons' own, checked there before anything is written (after the one-time
    key: a re-post of a taken order returns that order rather than "the line has it
    already"); ``items_refused`` puts each refusal next to the add-on concerned."""

    add_ons = AddOnChoiceField(
        label="Add-ons",
        # Every add-on on sale validates (a page shown before the line changed may post one
        # that is no longer offered: the order rules then say why, next to it); only the
        # ones that fit are offered (``add_on_choices``).
        queryset=add_ons_on_sale(),
        widget=PricedCheckboxSelectMultiple,
        help_text=LIVE_ADD_ONS_HELP,
        error_messages={"required": "Tick at least one add-on to add to this line."},
    )
    submission_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args: Any, line: LiveLine, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.add_on_errors: dict[str, str] = {}
        self.check = serviceability_check(line.postcode)
        self.offered = [
            offering
            for offering in self.check.available_add_ons
            if offering.kind not in line.add_on_kinds
        ]

    def chosen_add_ons(self) -> list[Plan]:
        """The add-ons ticked, in the order they are passed on (items 2..)."""
        return list(self.cleaned_data.get("add_ons") or [])

    def add_on_choices(self) -> list[tuple[Any, str]]:
        """The checkboxes of the add-ons offered, and of any other one ticked (to say why it
        was refused), each with its refusal, if any."""
        offered = {str(offering.pk) for offering in self.offered}
        ticked = {str(value) for value in self["add_ons"].value() or []}
        return [
            (choice, self.add_on_errors.get(str(choice.data["value"]), ""))
            for choice in self["add_ons"]
            if str(choice.data["value"]) in offered | ticked
        ]

    def items_refused(self, exc: ItemsInvalid) -> None:
        """Each add-on's refusal next to it; the line's (item "1") and the whole order's above
        the form (an order that adds nothing at the add-ons)."""
        errors = dict(exc.item_errors)
        order_message = errors.pop("order", "")
        line_message = errors.pop("1", "")
        for n, offering in enumerate(self.chosen_add_ons(), 2):
            message = errors.pop(str(n), "")
            if message:
                self.add_on_errors[str(offering.pk)] = message
                self.add_error("add_ons", f"{offering.name}: {message}")
        if order_message:
            self.add_error("add_ons", order_message)
        for message in [line_message, *errors.values()]:
            if message:
                self.add_error(None, message)

    def price_summary(self) -> PriceSummary:
        """Prices and totals of the add-ons ticked so far (the line is not charged again)."""
        add_ons = _picked(add_ons_on_sale(), self["add_ons"].value() or [])
        monthly, once = items_totals([ItemRequest(str(n), o) for n, o in enumerate(add_ons, 2)])
        return PriceSummary(
            lines=[
                PriceLine(label=str(o), monthly=o.monthly_price, once=o.one_time_price)
                for o in add_ons
            ],
            monthly=monthly.quantize(CENT),
            once=once.quantize(CENT),
            currency=add_ons[0].currency if add_ons else self.line.offering.currency,
        )


class MoveHomeForm(forms.Form):
    """A move of a customer's live line (the staff page "Move home"): the new address and the
    moving day. The line's plan and the add-ons that suit the new address go with it; the
    rules are order_submit_move's, and ``refused`` puts each refusal next to its field."""

    address_line1 = forms.CharField(label="New address", max_length=120, help_text=up_to(120))
    address_line2 = forms.CharField(
        label="Address line 2", max_length=120, required=False, help_text=up_to(120)
    )
    city = forms.CharField(label="Town or city", max_length=60, help_text=up_to(60))
    postcode = forms.CharField(label="Postcode", max_length=10)
    requested_date = forms.DateField(
        label="Moving day",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The new line is set up for this day (empty: as soon as possible). The old "
        "line is ceased when the new one is live, never before.",
    )
    submission_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    # order_submit_move's names for the fields it refuses.
    FIELDS = {"requested_activation_date": "requested_date"}

    def clean_postcode(self) -> str:
        postcode = " ".join(self.cleaned_data["postcode"].upper().split())
        if not postcode_looks_valid(postcode):
            raise forms.ValidationError("Enter a full postcode, for example SW1A 1AA.")
        return postcode

    def clean_requested_date(self) -> datetime.date | None:
        value = self.cleaned_data.get("requested_date")
        if value and value < timezone.localdate():
            raise forms.ValidationError("The moving day cannot be in the past.")
        return value

    def refused(self, message: str, field_errors: dict[str, str]) -> None:
        """A refusal of the move: next to the field it names, else above the form."""
        placed = False
        for name, text in field_errors.items():
            field = self.FIELDS.get(name, name)
            if field in self.fields and not self.has_error(field):
                self.add_error(field, text)
                placed = True
            else:
                self.add_error(None, text)
                placed = True
        if not placed:
            self.add_error(None, message)
