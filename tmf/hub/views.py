"""The /hub of each API (stub: tmf.hub is being written)."""

from typing import Any


def hub_urls(api: str) -> list[Any]:
    return []
