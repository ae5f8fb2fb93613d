"""The edge of the world: how provisioning talks to the network.

``get_adapter()`` returns the configured ``NetworkAdapter`` (settings.PROVISIONING_NETWORK_ADAPTER).
The default is the simulator; a real adapter (RADIUS/SQL, an IP pool, an ACS for routers)
implements the same interface, one call per fulfilment task.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from provisioning.adapters.base import NetworkAdapter, NetworkHolding, TaskRequest, TaskResult

__all__ = ["NetworkAdapter", "NetworkHolding", "TaskRequest", "TaskResult", "get_adapter"]


def get_adapter() -> NetworkAdapter:
    adapter_class = import_string(settings.PROVISIONING_NETWORK_ADAPTER)
    return adapter_class()
