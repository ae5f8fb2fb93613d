"""The standard product specifications: what this ISP delivers and the fulfilment plan of each.

``specifications_ensure()`` writes them if they are missing (demo data, tests, a new install);
migration 0012 wrote the same ones for existing databases. Staff edit them in the admin, where
a plan is checked by ``orders.fulfilment.plan_validate``.
"""

from __future__ import annotations

from typing import Any

from orders.models import ProductKind, ProductSpecification

INTERNET_ACCESS = "internet-access"
STATIC_IP = "static-ipv4"
MANAGED_ROUTER = "managed-router"

STANDARD_SPECIFICATIONS: dict[str, dict[str, Any]] = {
    INTERNET_ACCESS: {
        "name": "Residential internet access",
        "kind": ProductKind.INTERNET_ACCESS,
        "parent_kind": "",
        "customer_label": "Internet line",
        "description": "A residential broadband line at a speed tier.",
        "characteristics": [
            {
                "name": "downloadSpeed",
                "valueType": "integer",
                "description": "Download speed, Mbit/s",
            },
            {"name": "uploadSpeed", "valueType": "integer", "description": "Upload speed, Mbit/s"},
            {
                "name": "technology",
                "valueType": "string",
                "description": "Access technology at the address",
                "values": ["fttp", "fttc", "fwa"],
            },
        ],
        # Reserve port -> create subscriber -> apply speed profile -> activate line. Activating
        # the line is the point of no return: the customer is live from then on.
        "fulfilment_plan": [
            {"task": "reserve_port"},
            {"task": "create_subscriber", "depends_on": ["reserve_port"]},
            {"task": "apply_speed_profile", "depends_on": ["create_subscriber"]},
            {"task": "activate_line", "depends_on": ["apply_speed_profile"], "ponr": True},
        ],
        # Changes to a live line. A plan change applies the new speed profile (its point of no
        # return); a suspension bars the subscriber, a resumption lifts the bar; a cease
        # deactivates the line first (no way back from then), then takes the rest down.
        "change_plans": {
            "modify": [{"task": "apply_speed_profile", "ponr": True}],
            "suspend": [{"task": "suspend_service"}],
            "resume": [{"task": "resume_service"}],
            "delete": [
                {"task": "activate_line", "undo": True, "ponr": True},
                {"task": "apply_speed_profile", "undo": True, "depends_on": ["activate_line"]},
                {"task": "create_subscriber", "undo": True, "depends_on": ["apply_speed_profile"]},
                {"task": "reserve_port", "undo": True, "depends_on": ["create_subscriber"]},
            ],
        },
    },
    STATIC_IP: {
        "name": "Static IPv4 address",
        "kind": ProductKind.STATIC_IP,
        "parent_kind": ProductKind.INTERNET_ACCESS,
        "customer_label": "Static IP",
        "description": "One fixed public IPv4 address on the line.",
        "characteristics": [
            {"name": "ipVersion", "valueType": "string", "values": ["IPv4"]},
        ],
        # Allocate an address once the subscriber exists; bind it before the line goes live.
        "fulfilment_plan": [
            {"task": "allocate_address", "depends_on": ["parent.create_subscriber"]},
            {
                "task": "bind_address",
                "depends_on": ["allocate_address"],
                "before": ["parent.activate_line"],
            },
        ],
        # Taken off a live line (or ceased with it, after the line is deactivated and before
        # its subscriber is removed): unbind, then free the address.
        "change_plans": {
            "delete": [
                {"task": "bind_address", "undo": True, "depends_on": ["parent.activate_line"]},
                {
                    "task": "allocate_address",
                    "undo": True,
                    "depends_on": ["bind_address"],
                    "before": ["parent.create_subscriber"],
                },
            ],
        },
    },
    MANAGED_ROUTER: {
        "name": "Managed router",
        "kind": ProductKind.ROUTER,
        "parent_kind": ProductKind.INTERNET_ACCESS,
        "customer_label": "Router",
        "description": "A router we configure and look after remotely.",
        "characteristics": [
            {"name": "model", "valueType": "string", "description": "Router model"},
        ],
        # Pre-register the CPE at once, in parallel with the port; the line waits for it.
        "fulfilment_plan": [
            {"task": "register_cpe", "before": ["parent.activate_line"]},
        ],
        "change_plans": {
            "delete": [
                {"task": "register_cpe", "undo": True, "depends_on": ["parent.activate_line"]}
            ],
        },
    },
}


def specifications_ensure() -> dict[str, ProductSpecification]:
    """The standard specifications by code, written if missing (never overwritten; change
    plans are given to one that has none)."""
    found: dict[str, ProductSpecification] = {}
    for code, fields in STANDARD_SPECIFICATIONS.items():
        spec, _ = ProductSpecification.objects.get_or_create(code=code, defaults=fields)
        if not spec.change_plans and fields.get("change_plans"):
            spec.change_plans = fields["change_plans"]
            spec.save(update_fields=["change_plans", "last_update"])
        found[code] = spec
    return found


def specification_for(kind: str) -> ProductSpecification:
    by_kind = {fields["kind"]: code for code, fields in STANDARD_SPECIFICATIONS.items()}
    return specifications_ensure()[by_kind[kind]]
