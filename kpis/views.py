"""The KPI dashboard (/work/kpis/) and the CSV of each of its figures.

Each figure has its permission (kpis.models.KpiDay's): the operations manager and the
provisioning lead see them all; billing sees activations and duplicate entry; support sees
tickets, CSAT and jeopardies. A figure a user may not see is neither drawn nor exported; a user
who may see none gets 403. The figures are sums of summary rows (kpis.figures), never a scan of
the orders."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from kpis import charts, figures
from kpis.forms import KpiFilterForm

ACTIVATION = "kpis.view_activation_kpis"
PROVISIONING = "kpis.view_provisioning_kpis"
DUPLICATES = "kpis.view_duplicate_kpis"
SUPPORT = "kpis.view_support_kpis"
ALL = (ACTIVATION, PROVISIONING, DUPLICATES, SUPPORT)


def may_see_kpis(user: Any) -> bool:
    return any(user.has_perm(perm) for perm in ALL)


def _or_blank(value: Any) -> Any:
    return "" if value is None else value


@dataclass(frozen=True)
class Table:
    """One figure's rows, as the page's table and its CSV show them."""

    header: list[str]
    rows: list[list[Any]]

    @property
    def body(self) -> SafeString:
        """The rows as the table's HTML, each cell escaped, numbers as the CSV writes them
        (no thousands separator, a point for decimals: as ``{{ cell }}`` shows them in
        en-gb). Built here: a two-year weekly trend has hundreds of cells a section, which the
        template language takes several times longer to render."""
        if not self.rows:
            return format_html(
                '<tr><td colspan="{}">Nothing in this period.</td></tr>', len(self.header)
            )
        return mark_safe(  # noqa: S308 - every cell is escaped
            "".join(
                "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                for row in self.rows
            )
        )


def activation_trend(f: figures.Activation) -> Table:
    return Table(
        ["Week from", "Activated", "Average hours", "Live within 1 day (%)"],
        [[w.isoformat(), n, _or_blank(avg), _or_blank(within)] for w, n, avg, within in f.weekly],
    )


def activation_distribution(f: figures.Activation) -> Table:
    return Table(["Time to live", "Activations"], [[label, n] for label, n in f.distribution])


def error_trend(f: figures.Errors) -> Table:
    return Table(
        ["Week from", "Attempts", "Failed", "Error rate (%)"],
        [[w.isoformat(), a, n, _or_blank(rate)] for w, a, n, rate in f.weekly],
    )


def error_reasons(f: figures.Errors) -> Table:
    return Table(
        [
            "Reason code",
            "Reason",
            "Failures",
            "Error rate (%)",
            "Baseline failures",
            "Baseline rate (%)",
        ],
        [
            [
                r.code,
                r.label,
                r.failures,
                _or_blank(r.rate),
                r.baseline_failures,
                _or_blank(r.baseline_rate),
            ]
            for r in f.reasons
        ],
    )


def duplicate_trend(f: figures.Duplicates) -> Table:
    return Table(
        ["Week from", "Duplicates refused", "Repeats answered", "Customers matched"],
        [[w.isoformat(), a, b, c] for w, a, b, c in f.weekly],
    )


def support_trend(f: figures.Support) -> Table:
    return Table(
        ["Week from", "Orders", "Tickets", "Tickets per order", "CSAT answers", "CSAT average"],
        [
            [w.isoformat(), orders, tickets, _or_blank(per), answers, _or_blank(avg)]
            for w, orders, tickets, per, answers, avg in f.weekly
        ],
    )


def csat_distribution(f: figures.Support) -> Table:
    return Table(["Score", "Answers"], [[score, n] for score, n in f.csat_distribution])


# Each CSV: its permission, the figure it reads and the table it writes.
EXPORTS: dict[str, tuple[str, str, Callable[[Any], Table]]] = {
    "activation-trend": (ACTIVATION, "activation", activation_trend),
    "activation-distribution": (ACTIVATION, "activation", activation_distribution),
    "error-trend": (PROVISIONING, "errors", error_trend),
    "error-reasons": (PROVISIONING, "errors", error_reasons),
    "duplicates": (DUPLICATES, "duplicates", duplicate_trend),
    "support-trend": (SUPPORT, "support", support_trend),
    "csat-distribution": (SUPPORT, "support", csat_distribution),
}


def _figure(name: str, form: KpiFilterForm, days: figures.Days | None = None) -> Any:
    kpi = form.kpi_filter()
    if name == "activation":
        return figures.activation(kpi, days)
    if name == "errors":
        data = form.cleaned_data
        return figures.errors(kpi, data["baseline_since"], data["baseline_until"], days)
    if name == "duplicates":
        return figures.duplicates(kpi, days)
    return figures.support(kpi, days)


def _charts(section: str, figure: Any) -> dict[str, Any]:
    if section == "activation":
        return {
            "trend": charts.line_chart(
                "Average activation time per week, hours",
                [(w.strftime("%d %b"), avg) for w, _, avg, _ in figure.weekly],
                references=[("Target", figure.target_hours, "chart-target")],
                unit=" h",
            ),
            "distribution": charts.bar_chart("Activations by time to live", figure.distribution),
        }
    if section == "errors":
        references = []
        if figure.baseline_rate is not None:
            references = [
                ("Baseline", figure.baseline_rate, "chart-baseline"),
                ("Target", figure.target_rate, "chart-target"),
            ]
        return {
            "trend": charts.line_chart(
                "Provisioning error rate per week, %",
                [(w.strftime("%d %b"), rate) for w, _, _, rate in figure.weekly],
                references=references,
                unit=" %",
            ),
            "reasons": charts.bar_chart(
                "Failed attempts by reason", [(r.code, r.failures) for r in figure.reasons]
            ),
        }
    if section == "duplicates":
        return {
            "kinds": charts.bar_chart(
                "Duplicate entry caught, by kind",
                [
                    ("Refused", figure.refused),
                    ("Repeats answered", figure.replayed),
                    ("Customers matched", figure.customers_matched),
                ],
            )
        }
    return {
        "tickets": charts.line_chart(
            "Support tickets per order, per week",
            [(w.strftime("%d %b"), per) for w, _, _, per, _, _ in figure.weekly],
        ),
        "csat": charts.bar_chart(
            "CSAT answers by score", [(str(s), n) for s, n in figure.csat_distribution]
        ),
    }


# The dashboard's sections in order: each with its permission and its figures' exports.
SECTIONS = [
    ("activation", ACTIVATION, ["activation-trend", "activation-distribution"]),
    ("errors", PROVISIONING, ["error-trend", "error-reasons"]),
    ("duplicates", DUPLICATES, ["duplicates"]),
    ("support", SUPPORT, ["support-trend", "csat-distribution"]),
]


def _form(request: HttpRequest) -> KpiFilterForm:
    return KpiFilterForm(request.GET or {})


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not may_see_kpis(request.user):
        raise PermissionDenied(
            "The KPI dashboard is for operations, provisioning, billing and support."
        )
    form = _form(request)
    context: dict[str, Any] = {"form": form, "sections": {}}
    if not form.is_valid():
        return render(request, "kpis/dashboard.html", context, status=400)
    query = request.GET.urlencode()
    days = figures.day_sums(form.kpi_filter())  # read once, shared by every section
    for section, perm, exports in SECTIONS:
        if not request.user.has_perm(perm):
            continue
        figure = _figure(section, form, days)
        context["sections"][section] = {
            "figure": figure,
            "charts": _charts(section, figure),
            "tables": [(name, EXPORTS[name][2](figure)) for name in exports],
        }
    if "support" in context["sections"]:
        context["sections"]["support"]["jeopardies"] = figures.open_jeopardies(
            form.kpi_filter(), request.user
        )
    context["query"] = query
    context["refreshed_at"] = figures.refreshed_at(form.kpi_filter())
    return render(request, "kpis/dashboard.html", context)


@login_required
@require_GET
def export(request: HttpRequest, name: str) -> HttpResponse:
    if name not in EXPORTS:
        raise Http404("No such figure.")
    perm, section, table_of = EXPORTS[name]
    if not request.user.has_perm(perm):
        raise PermissionDenied("This figure is not among yours.")
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in form.errors.items()
        )
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    table = table_of(_figure(section, form))
    data = form.cleaned_data
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{data["since"]}-{data["until"]}.csv"'
    )
    _write(response, table.header, table.rows)
    return response


def _write(response: HttpResponse, header: list[str], rows: Iterable[list[Any]]) -> None:
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
