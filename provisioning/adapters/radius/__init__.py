"""FreeRADIUS behind the network adapter interface (see adapter.py)."""

from provisioning.adapters.radius.adapter import RadiusAdapter

__all__ = ["RadiusAdapter"]
