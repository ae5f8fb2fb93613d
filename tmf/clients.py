"""Registering client systems and their tokens."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from tmf.models import ApiClient, Scope

USERNAME_PREFIX = "api:"


class ClientError(ValueError):
    pass


def parse_scopes(raw: Iterable[str]) -> list[str]:
    scopes: list[str] = []
    for item in raw:
        for part in str(item).split(","):
            scope = part.strip().lower()
            if not scope:
                continue
            if scope not in Scope.values:
                raise ClientError(f"Unknown scope '{scope}'. Scopes: {', '.join(Scope.values)}.")
            if scope not in scopes:
                scopes.append(scope)
    if not scopes:
        raise ClientError(f"Give at least one scope of: {', '.join(Scope.values)}.")
    return scopes


def api_client_create(name: str, scopes: Iterable[str]) -> tuple[ApiClient, str]:
    """A new client with its own inactive account (the actor its changes are recorded under)
    and a new token, returned once: only its hash is kept."""
    scope_list = parse_scopes(scopes)
    if ApiClient.objects.filter(name=name).exists():
        raise ClientError(f"An API client named '{name}' exists; use --rotate for a new token.")
    user_model = get_user_model()
    with transaction.atomic():
        user, _ = user_model.objects.get_or_create(
            username=f"{USERNAME_PREFIX}{name}",
            defaults={"is_active": False, "first_name": f"API client {name}"},
        )
        user.set_unusable_password()
        user.is_active = False
        user.save()
        token = ApiClient.new_token()
        client = ApiClient(name=name, scopes=scope_list, user=user)
        client.set_token(token)
        client.full_clean()
        client.save()
    return client, token


def api_client_rotate(name: str, scopes: Iterable[str] | None = None) -> tuple[ApiClient, str]:
    """A new token for an existing client (the old one stops working at once); new scopes if
    given."""
    client = ApiClient.objects.filter(name=name).first()
    if client is None:
        raise ClientError(f"No API client named '{name}'.")
    token = ApiClient.new_token()
    client.set_token(token)
    fields = ["token_hash", "token_hint"]
    if scopes is not None:
        client.scopes = parse_scopes(scopes)
        fields.append("scopes")
    client.save(update_fields=fields)
    return client, token
