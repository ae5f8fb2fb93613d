"""Charts drawn on the server as SVG: no script runs, so they render under the site's
Content-Security-Policy unchanged, print, and read in any browser. Each chart is an image with
a title for screen readers; the dashboard shows its figures as a table beside it too.

Colours come from classes (static/css/app.css: .chart-bar, .chart-line, .chart-target, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 40

Number = int | Decimal | float


def _scale(values: Sequence[Number | None], references: Sequence[Number]) -> float:
    top = max([float(v) for v in values if v is not None] + [float(r) for r in references] + [0])
    return top * 1.1 or 1.0


def _y(value: Number, top: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - float(value) / top), 1)


def _frame(title: str, top: float, unit: str, body: SafeString) -> SafeString:
    ticks = _ticks(top, unit)
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        title,
        ticks,
        body,
    )


def _tick(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _ticks(top: float, unit: str) -> SafeString:
    parts = []
    for i in range(5):
        value = top / 1.1 * i / 4
        y = _y(value, top)
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end" dy="4">{}{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y,
                y,
                LEFT - 6,
                y,
                _tick(value),
                unit,
            )
        )
    return mark_safe("".join(parts))  # noqa: S308  (each part is escaped by format_html)


def _labels(labels: Sequence[str], xs: Sequence[float]) -> SafeString:
    every = max(1, len(labels) // 8)  # at most about eight labels under the axis
    return format_html_join(
        "",
        '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (x, HEIGHT - BOTTOM + 16, label)
            for i, (label, x) in enumerate(zip(labels, xs, strict=True))
            if i % every == 0
        ),
    )


def bar_chart(title: str, bars: Sequence[tuple[str, Number]], *, unit: str = "") -> SafeString:
    """Vertical bars, one per (label, value), each with its value above it."""
    top = _scale([value for _, value in bars], [])
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(bars))
    xs = [round(LEFT + slot * (i + 0.5), 1) for i in range(len(bars))]
    body = format_html_join(
        "",
        '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}">'
        "<title>{}: {}</title></rect>"
        '<text class="chart-value" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (
                round(x - slot * 0.35, 1),
                _y(value, top),
                round(slot * 0.7, 1),
                round(_y(0, top) - _y(value, top), 1),
                label,
                value,
                x,
                round(_y(value, top) - 4, 1),
                value,
            )
            for (label, value), x in zip(bars, xs, strict=True)
        ),
    )
    return _frame(title, top, unit, mark_safe(body + _labels([b[0] for b in bars], xs)))  # noqa: S308


def line_chart(
    title: str,
    points: Sequence[tuple[str, Number | None]],
    *,
    references: Sequence[tuple[str, Number, str]] = (),
    unit: str = "",
) -> SafeString:
    """A line through (label, value) points, a gap where a value is missing, and horizontal
    reference lines (label, value, class: a target, a baseline)."""
    top = _scale([value for _, value in points], [value for _, value, _ in references])
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(points))
    xs = [round(LEFT + slot * (i + 0.5), 1) for i in range(len(points))]
    segments: list[list[str]] = []
    current: list[str] = []
    for (_, value), x in zip(points, xs, strict=True):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{x:.1f},{_y(value, top):.1f}")
    if current:
        segments.append(current)
    lines = format_html_join(
        "", '<polyline class="chart-line" points="{}"/>', ((" ".join(s),) for s in segments)
    )
    dots = format_html_join(
        "",
        '<circle class="chart-dot" cx="{}" cy="{}" r="3"><title>{}: {}{}</title></circle>',
        (
            (x, _y(value, top), label, value, unit)
            for (label, value), x in zip(points, xs, strict=True)
            if value is not None
        ),
    )
    refs = format_html_join(
        "",
        '<line class="{}" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="chart-ref-label" x="{}" y="{}" text-anchor="end" dy="-3">{} {}{}</text>',
        (
            (
                css,
                LEFT,
                WIDTH - RIGHT,
                _y(v, top),
                _y(v, top),
                WIDTH - RIGHT,
                _y(v, top),
                name,
                v,
                unit,
            )
            for name, v, css in references
        ),
    )
    return _frame(
        title,
        top,
        unit,
        mark_safe(lines + dots + refs + _labels([p[0] for p in points], xs)),  # noqa: S308
    )
