"""Static address pools for the demo's service areas (portal's load_demo_data, and the
load_address_pools command for a demo database made before the pools existed). Documentation
ranges only (RFC 5737). Poolham's pool has no address to give, as its name promises: with the
pools allocating addresses its static IP orders wait in the exception queue, as they do with the
simulator."""

from __future__ import annotations

from addressing.models import AddressPool
from orders.models import ServiceArea, normalize_postcode

# name, network, gateway, reserved, postcodes
DEMO_POOLS: list[tuple[str, str, str, list[str], list[str]]] = [
    ("Westminster", "198.51.100.0/26", "198.51.100.1", [], ["SW1A 1AA"]),
    ("Manchester Central", "198.51.100.64/26", "198.51.100.65", [], ["M1 1AE"]),
    ("Leeds City", "198.51.100.128/26", "198.51.100.129", [], ["LS1 4AP"]),
    ("Edinburgh Old Town", "198.51.100.192/26", "198.51.100.193", [], ["EH1 1YZ"]),
    # One pool behind two points of presence.
    ("Test exchanges", "203.0.113.0/25", "203.0.113.1", ["203.0.113.2"], ["FA1 1LT", "FL1 1KY"]),
    # Two hosts: the gateway and one reserved for the router's own management.
    ("Poolham", "203.0.113.252/30", "203.0.113.253", ["203.0.113.254"], ["PL1 1PH"]),
]


def demo_pools_ensure() -> list[AddressPool]:
    """The demo pools, each made if missing (by name) and given the demo areas that exist."""
    pools = []
    for name, network, gateway, reserved, postcodes in DEMO_POOLS:
        pool, _ = AddressPool.objects.get_or_create(
            name=name, defaults={"network": network, "gateway": gateway, "reserved": reserved}
        )
        areas = ServiceArea.objects.filter(
            postcode__in=[normalize_postcode(code) for code in postcodes]
        )
        pool.areas.add(*areas)
        pools.append(pool)
    return pools
