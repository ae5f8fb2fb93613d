from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kpis.views import may_see_kpis
from orders.live import push_available
from orders.roles import Role, roles_of
from portal.worklists import WORKLIST_PERMISSIONS


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar may show: only what the user's roles may use. A worklist's link
    shows exactly when its page would open (the same permissions)."""
    # No user on a request refused before the authentication middleware (the 400 page).
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}, **_live(request)}
    roles = roles_of(user)
    nav = {name: user.has_perms(perms) for name, perms in WORKLIST_PERMISSIONS.items()}
    nav.update(
        {
            # Order search is support's window; other staff reach orders from their own lists.
            "support": Role.SUPPORT in roles or user.is_superuser,
            # The open-ticket queue opens for whoever may answer tickets.
            "support_queue": user.has_perm("support.change_supportticket"),
            "support_contacts": user.has_perm("support.change_supportticket"),
            # The KPI dashboard shows whoever holds one of its figures their figures.
            "kpis": may_see_kpis(user),
            "customer": Role.CUSTOMER in roles,
            "admin": user.is_staff,
        }
    )
    return {"nav": nav, **_live(request)}


def _live(request: HttpRequest) -> dict[str, Any]:
    """How the page's live parts hear of changes: pushed where this server can hold a stream
    (orders.live), and by polling every ``live_poll_ms`` otherwise or meanwhile."""
    return {"live_poll_ms": settings.LIVE_STATUS_POLL_MS, "live_push": push_available(request)}
