"""The "Change this order" form (staff and customer): the line's plan, its add-ons and the
requested date, before the order's point of no return (orders.amendments)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from orders.amendments import GONE
from orders.eligibility import serviceability_check
from orders.forms import (
    CENT,
    AddOnChoiceField,
    PlanChoiceField,
    PricedCheckboxSelectMultiple,
    PricedRadioSelect,
    PriceLine,
    PriceSummary,
    _picked,
    add_ons_on_sale,
    lines_on_sale,
)
from orders.items import ItemRequest, ItemsInvalid, items_totals
from orders.models import Order, OrderItem, Plan


def current_add_ons(order: Order) -> list[OrderItem]:
    """The order's add-on items still on it (not taken off, cancelled or rejected)."""
    return list(
        order.items.filter(parent__isnull=False)
        .exclude(state__in=GONE)
        .select_related("offering__specification")
        .order_by("position")
    )


class AmendOrderForm(forms.Form):
    """The order's plan, add-ons and requested date as they should be. Only what suits the
    order's service area is offered (and what the order has now); ``expected_version`` is
    the version the page showed, so a change made meanwhile is a conflict, not overwritten."""

    plan = PlanChoiceField(
        label="Plan", queryset=lines_on_sale(), widget=PricedRadioSelect, empty_label=None
    )
    add_ons = AddOnChoiceField(
        label="Add-ons",
        queryset=add_ons_on_sale(),
        widget=PricedCheckboxSelectMultiple,
        required=False,
    )
    requested_activation_date = forms.DateField(
        label="Activation date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to activate as soon as possible.",
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        self.order = order
        self.current = current_add_ons(order)
        kwargs.setdefault(
            "initial",
            {
                "plan": order.plan_id,
                "add_ons": [item.offering_id for item in self.current],
                "requested_activation_date": order.requested_activation_date,
                "expected_version": order.version,
            },
        )
        super().__init__(*args, **kwargs)
        self.add_on_errors: dict[str, str] = {}
        check = serviceability_check(order.service_postcode)
        plans = {p.pk for p in check.available_plans} | {order.plan_id}
        add_ons = {p.pk for p in check.available_add_ons} | {i.offering_id for i in self.current}
        plan_field = self.fields["plan"]
        add_on_field = self.fields["add_ons"]
        assert isinstance(plan_field, forms.ModelChoiceField)
        assert isinstance(add_on_field, forms.ModelMultipleChoiceField)
        plan_field.queryset = (
            Plan.objects.filter(pk__in=plans)
            .select_related("specification")
            .order_by("monthly_price", "code")
        )
        add_on_field.queryset = add_ons_on_sale().filter(pk__in=add_ons)

    def clean_requested_activation_date(self) -> datetime.date | None:
        value = self.cleaned_data.get("requested_activation_date")
        if value and value < timezone.localdate() and value != self.order.requested_activation_date:
            raise forms.ValidationError("The activation date cannot be in the past.")
        return value

    def chosen_plan(self) -> Plan | None:
        """The plan, or None when it stays as it is."""
        plan = self.cleaned_data.get("plan")
        return None if plan is None or plan.pk == self.order.plan_id else plan

    def chosen_add_ons(self) -> list[Plan]:
        return list(self.cleaned_data.get("add_ons") or [])

    def items_changed(self) -> bool:
        wanted = {p.pk for p in self.chosen_add_ons()}
        return self.chosen_plan() is not None or wanted != {i.offering_id for i in self.current}

    def date_changed(self) -> bool:
        return (
            self.cleaned_data.get("requested_activation_date")
            != self.order.requested_activation_date
        )

    def add_on_choices(self) -> list[tuple[Any, str]]:
        return [
            (choice, self.add_on_errors.get(str(choice.data["value"]), ""))
            for choice in self["add_ons"]
        ]

    def items_refused(self, exc: ItemsInvalid) -> None:
        """Each refusal next to what it is about: the line's at the plan, an add-on's at it
        (the add-on kept by its item id, an added one by its offering), the rest above."""
        by_item = {item.item_id: item.offering for item in self.current}
        numbers = [int(i) for i in [*by_item, "1"] if i.isdigit()]
        kept = set(by_item.values())
        added = [p for p in self.chosen_add_ons() if p not in kept]
        for n, offering in enumerate(added, max(numbers) + 1):
            by_item[str(n)] = offering
        for item_id, message in exc.item_errors.items():
            if item_id == "1":
                self.add_error("plan", message)
            elif item_id in by_item:
                offering = by_item[item_id]
                self.add_on_errors[str(offering.pk)] = message
                self.add_error("add_ons", f"{offering.name}: {message}")
            else:
                self.add_error(None, message)

    def current_prices(self) -> PriceSummary:
        """What the order costs now."""
        return PriceSummary(
            lines=[],
            monthly=self.order.monthly_price,
            once=self.order.one_time_price,
            currency=self.order.currency,
        )

    def price_summary(self) -> PriceSummary:
        """The prices of the plan and add-ons chosen on the form (the new totals)."""
        plan = _picked(Plan.objects.all(), [self["plan"].value()])
        add_ons = _picked(add_ons_on_sale(), self["add_ons"].value() or [])
        offerings = plan + add_ons
        monthly, once = items_totals([ItemRequest(str(n), o) for n, o in enumerate(offerings)])
        return PriceSummary(
            lines=[
                PriceLine(label=str(o), monthly=o.monthly_price, once=o.one_time_price)
                for o in offerings
            ],
            monthly=monthly.quantize(CENT),
            once=once.quantize(CENT),
            currency=offerings[0].currency if offerings else self.order.currency,
        )
