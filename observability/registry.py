"""Gauges other areas add to the metrics endpoint, each computed when Prometheus scrapes
(reconciliation's mismatches, say): ``register_gauge("name", "doc", fn)`` in an app's
``ready()``. ``fn`` returns a number, or a mapping of label tuples to numbers together with the
label names (``labels=("state",)``); it runs on every scrape, so it must be a bounded, indexed
query or cheaper."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

GaugeValue = float | int | Mapping[tuple[str, ...], float | int]

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class ScrapeGauge:
    name: str
    doc: str
    fn: Callable[[], GaugeValue]
    labels: tuple[str, ...] = ()


_gauges: dict[str, ScrapeGauge] = {}


def register_gauge(
    name: str, doc: str, fn: Callable[[], GaugeValue], *, labels: tuple[str, ...] = ()
) -> None:
    """Add a gauge computed at scrape time. Registering the same name again replaces it (an
    app's ``ready()`` may run twice in tests); a bad name is refused at once."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a Prometheus metric name")
    if not doc.strip():
        raise ValueError(f"gauge {name} needs a description")
    _gauges[name] = ScrapeGauge(name=name, doc=doc, fn=fn, labels=tuple(labels))


def unregister_gauge(name: str) -> None:
    _gauges.pop(name, None)


def registered_gauges() -> list[ScrapeGauge]:
    return [_gauges[name] for name in sorted(_gauges)]
