"""Who is calling: a registered client system with a bearer token, and what its scopes allow.

``Authorization: Bearer <token>`` names an active ``ApiClient`` (looked up by the token's hash).
Each view says which scope each method needs (``required_scopes``); a request outside the
client's scopes is 403, a missing or unknown token 401 with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from tmf.models import ApiClient, hash_token

# last_used_at is written at most this often per client, not on every call.
_LAST_USED_GRANULARITY_SECONDS = 60


@dataclass(frozen=True)
class ClientPrincipal:
    """``request.user`` for an API call: the client system, never a person."""

    client: ApiClient
    is_authenticated: bool = True
    is_active: bool = True
    is_api_client: bool = True
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def pk(self) -> int:
        return self.client.pk

    @property
    def user(self) -> User:
        """The client's own account: the actor named in timelines and the audit log."""
        return self.client.user

    def has_scope(self, scope: str) -> bool:
        return self.client.has_scope(scope)

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """No model permissions: what a client may do is its scopes (orders.access)."""
        return False

    def __str__(self) -> str:
        return f"api:{self.client.name}"


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[ClientPrincipal, ApiClient] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'."
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The bearer token is not valid.") from None
        client = (
            ApiClient.objects.select_related("user").filter(token_hash=hash_token(token)).first()
        )
        if client is None or not client.is_active:
            raise exceptions.AuthenticationFailed("The bearer token is not valid.")
        now = timezone.now()
        last = client.last_used_at
        if last is None or (now - last).total_seconds() > _LAST_USED_GRANULARITY_SECONDS:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return ClientPrincipal(client), client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="tmf-api"'


def client_of(request: Request) -> ApiClient:
    principal = request.user
    if not isinstance(principal, ClientPrincipal):
        raise exceptions.NotAuthenticated()
    return principal.client


class HasScope(BasePermission):
    """The view's ``required_scopes`` maps HTTP methods to the scope they need. A view that
    names no scope for a method refuses it (safe by default)."""

    message = "This API client's scopes do not allow this request."

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, ClientPrincipal):
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <token>'.")
        method = (request.method or "").upper()
        if method == "OPTIONS" or not hasattr(view, method.lower()):
            return True  # DRF answers OPTIONS itself, and 405 for a method the view lacks
        scopes = getattr(view, "required_scopes", {})
        needed = scopes.get(method) or (scopes.get("GET") if method == "HEAD" else None)
        if needed is None:
            return False
        if not principal.has_scope(needed):
            self.message = f"This API client does not have the '{needed}' scope."
            return False
        return True


class ClientRateThrottle(SimpleRateThrottle):
    """Requests per client system (TMF_API_RATE), so one misbehaving integration cannot starve
    the others; unauthenticated calls are limited per address."""

    scope = "client"

    def get_cache_key(self, request: Request, view: Any) -> str:
        principal = request.user
        if isinstance(principal, ClientPrincipal):
            ident = f"client-{principal.client.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
    """Describes BearerTokenAuthentication in the served OpenAPI document."""

    target_class = "tmf.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `python manage.py create_api_client NAME --scopes ...`.",
        }
