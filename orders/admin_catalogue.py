"""The catalogue in the back office: product specifications (what can be delivered, and the
fulfilment plan that delivers it) and product offerings (``Plan``: what is sold, at what price).

A specification's fulfilment plan is data (orders.fulfilment); the model's ``clean`` checks it
with ``plan_validate`` and the form shows every problem next to the plan field, so a plan that
would not decompose is never saved. Its code and kind are fixed once it exists: the APIs and
the orders taken name it by code, and the order rules read its kind.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join

from orders.fulfilment import TaskType, plan_steps
from orders.models import MilestoneTarget, Plan, ProductSpecification, Technology

PLAN_HELP = (
    'A list of steps, each {"task": ..., "depends_on": [...], "before": [...], '
    '"mode": "automatic" or "manual", "ponr": true on the point of no return}. '
    'An add-on may refer to its line\'s steps as "parent.<task>". Tasks: '
    + ", ".join(TaskType.values)
    + "."
)
CHARACTERISTICS_HELP = (
    'TMF620 characteristics: a list of {"name", "valueType", "description", "values": [...]}.'
)


class ProductSpecificationForm(forms.ModelForm):
    class Meta:
        model = ProductSpecification
        fields = (
            "code",
            "name",
            "kind",
            "parent_kind",
            "customer_label",
            "description",
            "brand",
            "version",
            "lifecycle_status",
            "characteristics",
            "fulfilment_plan",
        )
        widgets = {
            "fulfilment_plan": forms.Textarea(attrs={"rows": 14, "cols": 90}),
            "characteristics": forms.Textarea(attrs={"rows": 8, "cols": 90}),
        }
        help_texts = {"fulfilment_plan": PLAN_HELP, "characteristics": CHARACTERISTICS_HELP}

    def clean_characteristics(self) -> Any:
        value = self.cleaned_data.get("characteristics")
        if not isinstance(value, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]
            for entry in value
        ):
            raise forms.ValidationError(
                "A list of objects, each with a 'name' (and 'valueType', 'description', "
                "'values' as needed)."
            )
        return value


@admin.register(ProductSpecification)
class ProductSpecificationAdmin(admin.ModelAdmin):
    form = ProductSpecificationForm
    list_display = (
        "code",
        "name",
        "kind",
        "parent_kind",
        "lifecycle_status",
        "version",
        "last_update",
    )
    list_filter = ("kind", "lifecycle_status")
    search_fields = ("code", "name")
    ordering = ("kind", "code")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "parent_kind", "customer_label")}),
        ("TMF620", {"fields": ("description", "brand", "version", "lifecycle_status")}),
        ("Characteristics", {"fields": ("characteristics",)}),
        ("Fulfilment", {"fields": ("fulfilment_plan", "plan_summary")}),
        ("Changed", {"fields": ("last_update",)}),
    )

    def get_readonly_fields(
        self, request: HttpRequest, obj: ProductSpecification | None = None
    ) -> tuple[str, ...]:
        fixed = ("code", "kind", "parent_kind") if obj is not None else ()
        return (*fixed, "plan_summary", "last_update")

    @admin.display(description="plan as saved")
    def plan_summary(self, specification: ProductSpecification) -> str:
        if not specification.pk:
            return "-"
        rows = []
        for step in plan_steps(specification.fulfilment_plan):
            notes = [f"after {', '.join(step.depends_on)}"] if step.depends_on else []
            if step.before:
                notes.append(f"before {', '.join(step.before)}")
            if step.mode != "automatic":
                notes.append(step.mode)
            if step.ponr:
                notes.append("point of no return")
            rows.append((step.task, "; ".join(notes)))
        return format_html_join("", "<div><strong>{}</strong> {}</div>", rows) or "-"


class PlanForm(forms.ModelForm):
    technologies = forms.MultipleChoiceField(
        choices=Technology.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Where it can be sold; none ticked: on every technology.",
    )

    class Meta:
        model = Plan
        fields = (
            "code",
            "name",
            "specification",
            "description",
            "is_active",
            "download_mbps",
            "upload_mbps",
            "characteristic_values",
            "technologies",
            "monthly_price",
            "one_time_price",
            "currency",
        )
        widgets = {"characteristic_values": forms.Textarea(attrs={"rows": 3, "cols": 60})}


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = (
        "code",
        "name",
        "specification",
        "speed_tier",
        "monthly_price",
        "one_time_price",
        "currency",
        "is_active",
    )
    list_filter = ("is_active", "specification")
    list_select_related = ("specification",)
    search_fields = ("code", "name")
    ordering = ("specification__kind", "download_mbps", "monthly_price")
    fieldsets = (
        (None, {"fields": ("code", "name", "specification", "description", "is_active")}),
        ("What it delivers", {"fields": ("download_mbps", "upload_mbps", "characteristic_values")}),
        ("Where it is sold", {"fields": ("technologies",)}),
        ("Prices", {"fields": ("monthly_price", "one_time_price", "currency")}),
    )

    @admin.display(description="speed tier", ordering="download_mbps")
    def speed_tier(self, plan: Plan) -> str:
        return plan.speed_tier


@admin.register(MilestoneTarget)
class MilestoneTargetAdmin(admin.ModelAdmin):
    """The targets orders are watched against (orders.milestones): a change applies to orders
    submitted from then on; each order's milestones say which target they were planned from."""

    list_display = ("milestone", "fulfilment", "order_kind", "hours", "active", "note")
    list_filter = ("milestone", "fulfilment", "order_kind", "active")
    list_editable = ("hours", "active")
    fields = ("milestone", "fulfilment", "order_kind", "hours", "active", "note", "updated_at")
    readonly_fields = ("updated_at",)
