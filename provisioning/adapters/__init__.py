"""The edge of the world: how provisioning talks to the network.

``get_adapter()`` returns the configured ``NetworkAdapter`` (settings.PROVISIONING_NETWORK_ADAPTER).
The default is the simulator; a real adapter (RADIUS/SQL, an element manager's API) implements
the same interface.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from provisioning.adapters.base import ActivationRequest, NetworkAdapter, StepResult

__all__ = ["ActivationRequest", "NetworkAdapter", "StepResult", "get_adapter"]


def get_adapter() -> NetworkAdapter:
    adapter_class = import_string(settings.PROVISIONING_NETWORK_ADAPTER)
    return adapter_class()
