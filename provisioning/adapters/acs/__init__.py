"""The ACS that configures customers' routers: GenieACS, through its northbound REST API.

``GenieAcsAdapter`` does the ``register_cpe`` task; route it there with
``PROVISIONING_TASK_ADAPTERS='{"register_cpe": "provisioning.adapters.acs.GenieAcsAdapter"}'``
(see provisioning.adapters.routed and docs/network-acs.md).
"""

from provisioning.adapters.acs.adapter import GenieAcsAdapter, preset_key, preset_name
from provisioning.adapters.acs.nbi import AcsTrouble, GenieAcsClient

__all__ = ["AcsTrouble", "GenieAcsAdapter", "GenieAcsClient", "preset_key", "preset_name"]
