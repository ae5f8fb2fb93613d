"""The dashboard's filters: a period, a slice (area, channel, plan) and the baseline period the
error rate is compared with. Every field is optional; missing dates take defaults (the last
twelve weeks, the baseline the same length just before)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from kpis.figures import KpiFilter
from orders.models import Plan, ServiceArea
from orders.models.catalog import ProductKind, normalize_postcode
from orders.states import EventSource

DEFAULT_WEEKS = 12
MAX_DAYS = 731  # two years: the charts stay readable and the sums small


class KpiFilterForm(forms.Form):
    since = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    # A postcode, not a list: an ISP has thousands of areas.
    area = forms.CharField(
        label="Area postcode", max_length=10, required=False, help_text="Empty for every area."
    )
    channel = forms.ChoiceField(
        label="Channel",
        # Imported orders count in no figure (kpis.refresh).
        choices=[("", "All channels")]
        + [(v, label) for v, label in EventSource.choices if v != EventSource.MIGRATION],
        required=False,
    )
    plan = forms.ModelChoiceField(
        label="Plan",
        queryset=Plan.objects.filter(specification__kind=ProductKind.INTERNET_ACCESS).order_by(
            "name"
        ),
        required=False,
        empty_label="All plans",
    )
    baseline_since = forms.DateField(
        label="Baseline from", required=False, widget=forms.DateInput({"type": "date"})
    )
    baseline_until = forms.DateField(
        label="Baseline to",
        required=False,
        widget=forms.DateInput({"type": "date"}),
        help_text="The error rate's target is 40 % below this period's rate.",
    )

    def clean_area(self) -> ServiceArea | None:
        postcode = normalize_postcode(self.cleaned_data.get("area") or "")
        if not postcode:
            return None
        area = ServiceArea.objects.filter(postcode=postcode).first()
        if area is None:
            raise forms.ValidationError("No service area has this postcode.")
        return area

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        until = data.get("until") or today
        since = data.get("since") or until - datetime.timedelta(weeks=DEFAULT_WEEKS, days=-1)
        if "until" not in self.errors and "since" not in self.errors:
            if since > until:
                self.add_error("since", "The period must start on or before its last day.")
            elif (until - since).days >= MAX_DAYS:
                self.add_error("since", f"A period is at most {MAX_DAYS} days long.")
        length = until - since
        b_until = data.get("baseline_until") or since - datetime.timedelta(days=1)
        b_since = data.get("baseline_since") or b_until - length
        dated = "baseline_until" not in self.errors and "baseline_since" not in self.errors
        if dated and b_since > b_until:
            self.add_error("baseline_since", "The baseline must start on or before its last day.")
        data.update(since=since, until=until, baseline_since=b_since, baseline_until=b_until)
        return data

    def kpi_filter(self) -> KpiFilter:
        data = self.cleaned_data
        return KpiFilter(
            since=data["since"],
            until=data["until"],
            area=data.get("area"),
            channel=data.get("channel") or "",
            plan=data.get("plan"),
        )
