"""Pools for the addressing tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from addressing.models import AddressPool
from orders.models import ServiceArea


@pytest.fixture
def make_pool(db: None) -> Callable[..., AddressPool]:
    """``make_pool(network, *areas, gateway=, reserved=, name=)``: a pool serving ``areas``."""

    def make(
        network: str,
        *areas: ServiceArea,
        gateway: str | None = None,
        reserved: list[str] | None = None,
        name: str | None = None,
        **extra: Any,
    ) -> AddressPool:
        pool = AddressPool.objects.create(
            name=name or f"pool {network}",
            network=network,
            gateway=gateway,
            reserved=reserved or [],
            **extra,
        )
        pool.areas.set(areas)
        return pool

    return make
