"""Where listeners may be: callback addresses the worker refuses to call.

A client with the subscribe scope chooses the URL our worker POSTs to, so the hub could be
used to reach what only the ISP's own network should reach (a cloud metadata service at
169.254.169.254, the host's own admin ports). ``TMF_HUB_BLOCKED_NETWORKS`` lists the networks
no callback may resolve to; the check runs when a listener registers (a 400) and again before
every delivery (the name may resolve elsewhere by then), which records a failed try.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def blocked_networks() -> list[IPNetwork]:
    return [ipaddress.ip_network(text, strict=False) for text in settings.TMF_HUB_BLOCKED_NETWORKS]


def _as_connected(address: IPAddress) -> IPAddress:
    """The address a connection to ``address`` really reaches, for the check: an IPv4-mapped
    IPv6 address (``::ffff:169.254.169.254``) is that IPv4 address on a dual-stack host, and
    the unspecified ``::`` is this host, as ``0.0.0.0`` is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.is_unspecified:
            return ipaddress.IPv4Address(0)  # 0.0.0.0
    return address


def blocked_reason(url: str, *, unresolved_ok: bool) -> str | None:
    """Why the worker may not call ``url``, or None. A host name that does not resolve is
    refused only when ``unresolved_ok`` is false (at delivery; a listener may register before
    its name is published)."""
    networks = blocked_networks()
    if not networks:
        return None
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 80
    except ValueError:
        return None  # not a URL at all: the send fails and says so
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None if unresolved_ok else f"The callback's host '{host}' does not resolve."
    for info in infos:
        resolved = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        for address in (resolved, _as_connected(resolved)):
            for network in networks:
                if address.version == network.version and address in network:
                    return (
                        f"The callback's host '{host}' resolves to {address}, in {network}, "
                        "where listeners may not be (TMF_HUB_BLOCKED_NETWORKS)."
                    )
    return None
