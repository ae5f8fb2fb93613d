from typing import Any

from django.conf import settings
from django.http import HttpRequest

from orders.roles import Role, roles_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar may show: only what the user's roles may use."""
    roles = roles_of(request.user)
    user = request.user
    return {
        "nav": {
            "sales": Role.SALES in roles,
            "support": Role.SUPPORT in roles,
            "customer": Role.CUSTOMER in roles,
            "admin": bool(user.is_authenticated and user.is_staff),
        },
        "live_poll_ms": settings.LIVE_STATUS_POLL_MS,
    }
