"""Hooks for the served OpenAPI document (drf-spectacular)."""

from __future__ import annotations

from typing import Any


def tmf_paths(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Write paths as the TM Forum specifications do, without a trailing slash (the routes
    accept both, ``productOrder`` and ``productOrder/``)."""
    result["paths"] = {
        (path.rstrip("/") if path != "/" else path): item
        for path, item in result.get("paths", {}).items()
    }
    return result
