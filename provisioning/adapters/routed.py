"""One network made of several systems: each fulfilment task goes to the adapter of the system
that does it (settings.PROVISIONING_TASK_ADAPTERS, task type -> dotted path), and every task type
not named there to settings.PROVISIONING_FALLBACK_ADAPTER (the simulator, by default: the access
network's element manager has no real counterpart here).

A real deployment names, for example, FreeRADIUS for the subscriber's tasks, the static address
pools for ``allocate_address`` and the ACS for ``register_cpe``::

    PROVISIONING_NETWORK_ADAPTER=provisioning.adapters.routed.RoutedNetworkAdapter
    PROVISIONING_TASK_ADAPTERS='{"create_subscriber": "provisioning.adapters.radius.RadiusAdapter",
                                 "register_cpe": "provisioning.adapters.acs.GenieAcsAdapter"}'

What the network holds (read by the reconciliation) is each adapter's own, for the task types
routed to it: a type's holdings are asked of the adapter that does it, and a listing of all of
them is merged from each adapter's pages in key order.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from orders.fulfilment import TaskType
from provisioning.adapters.base import NetworkAdapter, NetworkHolding, TaskRequest, TaskResult


class RoutedNetworkAdapter:
    def __init__(
        self, routes: Mapping[str, str] | None = None, *, fallback: str | None = None
    ) -> None:
        routes = settings.PROVISIONING_TASK_ADAPTERS if routes is None else routes
        fallback = settings.PROVISIONING_FALLBACK_ADAPTER if fallback is None else fallback
        unknown = sorted(set(routes) - set(TaskType.values))
        if unknown:
            raise ImproperlyConfigured(
                f"PROVISIONING_TASK_ADAPTERS names unknown task types: {', '.join(unknown)}."
            )
        instances: dict[str, NetworkAdapter] = {}

        def instance(path: str) -> NetworkAdapter:
            if path not in instances:
                instances[path] = import_string(path)()
            return instances[path]

        self._by_type = {
            task_type: instance(routes.get(task_type, fallback)) for task_type in TaskType.values
        }
        # Each adapter with the task types it does, in a stable order.
        self._adapters: list[tuple[NetworkAdapter, frozenset[str]]] = [
            (adapter, frozenset(t for t, a in self._by_type.items() if a is adapter))
            for adapter in instances.values()
        ]

    def adapter_for(self, task_type: str) -> NetworkAdapter:
        return self._by_type[task_type]

    def execute(self, request: TaskRequest) -> TaskResult:
        return self._by_type[request.task_type].execute(request)

    def lookup(self, order_ids: Collection[str]) -> list[NetworkHolding]:
        found = [
            holding
            for adapter, types in self._adapters
            for holding in adapter.lookup(order_ids)
            if holding.task_type in types
        ]
        return sorted(found, key=lambda holding: holding.key)

    def holdings(
        self,
        *,
        task_type: str | None = None,
        after: tuple[str, str, str] | None = None,
        limit: int = 1000,
    ) -> list[NetworkHolding]:
        if task_type is not None:
            return self._by_type[task_type].holdings(task_type=task_type, after=after, limit=limit)
        # One page per task type from the adapter that does it: each page is complete up to its
        # last key, so the merged listing is cut where the first full page ends.
        pages = [
            self._by_type[each].holdings(task_type=each, after=after, limit=limit)
            for each in TaskType.values
        ]
        bounds = [page[-1].key for page in pages if len(page) >= limit]
        merged = heapq.merge(*pages, key=lambda holding: holding.key)
        if bounds:
            bound = min(bounds)
            return [holding for holding in merged if holding.key <= bound][:limit]
        return list(merged)[:limit]
