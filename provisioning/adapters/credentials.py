"""A subscriber's sign-in credentials (PPPoE/IPoE), known to the systems that need them and
stored by none of ours: the name is the line's subscriber, the password is derived from it with
a key (settings.SUBSCRIBER_CREDENTIALS_KEY). FreeRADIUS is given it when the subscriber is
created; the ACS hands it to the customer's router when the router is pre-registered, whichever
task runs first. It never appears in a task's result, an event, a log line or an e-mail.

Rotating the key changes every password: re-run the subscriber and router tasks after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

from provisioning.adapters.base import TaskRequest


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never the password, even in a traceback
        return f"Credentials(username={self.username!r}, password='***')"


def subscriber_username(request: TaskRequest) -> str:
    """The line's subscriber: the one its delivering order recorded, or (the line's own order,
    before its subscriber task has run) the name that task will give it."""
    return request.identifiers.get("subscriber") or f"sub-{request.order_id.lower()}"


def subscriber_password(username: str) -> str:
    key = settings.SUBSCRIBER_CREDENTIALS_KEY.encode()
    digest = hmac.new(key, username.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:20]


def subscriber_credentials(request: TaskRequest) -> Credentials:
    username = subscriber_username(request)
    return Credentials(username=username, password=subscriber_password(username))
