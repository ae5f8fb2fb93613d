"""Plans as RADIUS groups: each internet plan of the catalogue is the group ``plan-<code>`` whose
reply attributes set the line's speed on the common NAS families (MikroTik's rate limit, the
WISPr bandwidth attributes most others read) and how often the NAS sends interim accounting.
A suspended line in walled-garden mode is in the group RADIUS_WALLED_GARDEN_GROUP instead,
with the replies RADIUS_WALLED_GARDEN_REPLY.

The replies are derived from the plan alone, so writing them again is harmless: the adapter
writes a plan's group each time it puts a subscriber in it, and ``radius_sync_plans`` writes
them all after the catalogue changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

PLAN_GROUP_PREFIX = "plan-"


@dataclass(frozen=True)
class Reply:
    """One radgroupreply row: what FreeRADIUS adds to the Access-Accept."""

    attribute: str
    value: str
    op: str = ":="


def plan_group(plan_code: str) -> str:
    return f"{PLAN_GROUP_PREFIX}{plan_code}"


def plan_replies(*, download_mbps: int, upload_mbps: int | None) -> list[Reply]:
    """The speed of a plan as reply attributes. A plan without an upload speed is taken as
    symmetric: a NAS needs both directions in its rate limit."""
    down = int(download_mbps)
    up = int(upload_mbps or download_mbps)
    return [
        *rate_replies(download_mbps=down, upload_mbps=up),
        Reply("Acct-Interim-Interval", str(settings.RADIUS_ACCT_INTERIM_INTERVAL)),
    ]


def rate_replies(*, download_mbps: int, upload_mbps: int) -> list[Reply]:
    """The attributes that set a live session's rate (sent by CoA on a plan change too).
    MikroTik reads "rx/tx" from the router's side: what it receives is the upload."""
    return [
        Reply("Mikrotik-Rate-Limit", f"{upload_mbps}M/{download_mbps}M"),
        Reply("WISPr-Bandwidth-Max-Up", str(upload_mbps * 1_000_000)),
        Reply("WISPr-Bandwidth-Max-Down", str(download_mbps * 1_000_000)),
    ]


def walled_garden_group() -> str:
    return str(settings.RADIUS_WALLED_GARDEN_GROUP)


def walled_garden_replies() -> list[Reply]:
    return [
        Reply(str(name), str(value)) for name, value in settings.RADIUS_WALLED_GARDEN_REPLY.items()
    ]


def coa_attributes(replies: list[Reply]) -> dict[str, str | int]:
    """Replies as CoA attributes (pyrad's names; integers as integers), without the ones that
    only matter at sign-in."""
    integer = {"WISPr-Bandwidth-Max-Up", "WISPr-Bandwidth-Max-Down", "Session-Timeout"}
    return {
        reply.attribute: int(reply.value) if reply.attribute in integer else reply.value
        for reply in replies
        if reply.attribute != "Acct-Interim-Interval"
    }
