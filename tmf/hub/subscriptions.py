"""Registering and unregistering listeners (the writes behind each API's ``/hub``).

A listener belongs to the client system that registered it and to one API: another client,
or the same client on another API's ``/hub``, finds no such listener (404, not 403: it tells
nothing about whether it exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db.models import QuerySet
from django.utils import timezone

from tmf.hub.callbacks import blocked_reason
from tmf.hub.query import InvalidQuery, parse_query
from tmf.models import ApiClient, HubSubscription

CALLBACK_MAX_LENGTH = HubSubscription._meta.get_field("callback").max_length or 500
QUERY_MAX_LENGTH = HubSubscription._meta.get_field("query").max_length or 500
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = HubSubscription._meta.get_field("secret").max_length or 128


class RegistrationError(ValueError):
    """What is wrong with a registration, attribute by attribute."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        self.field_errors = field_errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in field_errors.items()))


@dataclass(frozen=True)
class Registration:
    subscription: HubSubscription
    # Set only when we made the secret: it is shown once, in the 201 answer.
    generated_secret: str | None


def _callback_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "Give the listener's absolute http or https URL."
    value = value.strip()
    if len(value) > CALLBACK_MAX_LENGTH:
        return f"At most {CALLBACK_MAX_LENGTH} characters."
    if any(char.isspace() or ord(char) < 32 for char in value):
        return "A URL has no spaces or control characters."
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "Not a valid URL."
    if parts.scheme.lower() not in ("http", "https"):
        return "Must be an absolute http or https URL."
    if not parts.hostname:
        return "The URL names no host."
    if parts.username is not None or parts.password is not None:
        return "Put no credentials in the URL: deliveries are signed (X-Signature-256)."
    if port == 0:
        return "Not a valid port."
    return blocked_reason(value, unresolved_ok=True)


def _text_or_none(value: Any, name: str, problems: dict[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems[name] = "Must be a string."
        return None
    return value


def subscription_register(*, client: ApiClient, api: str, body: dict[str, Any]) -> Registration:
    """Register the listener ``body`` describes ({callback, query?, secret?}) for ``client``
    on ``api``. Every problem is reported at once (``RegistrationError``)."""
    problems: dict[str, str] = {}
    callback_problem = _callback_problem(body.get("callback"))
    if callback_problem:
        problems["callback"] = callback_problem
    query = _text_or_none(body.get("query"), "query", problems)
    if query is not None:
        query = query.strip()
        if len(query) > QUERY_MAX_LENGTH:
            problems["query"] = f"At most {QUERY_MAX_LENGTH} characters."
        else:
            try:
                parse_query(query, api=api)
            except InvalidQuery as exc:
                problems["query"] = str(exc)
    secret = _text_or_none(body.get("secret"), "secret", problems)
    if secret is not None and not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        problems["secret"] = (
            f"Between {SECRET_MIN_LENGTH} and {SECRET_MAX_LENGTH} characters "
            "(or leave it out and one is made for you)."
        )
    if problems:
        raise RegistrationError(problems)
    generated = None
    if not secret:
        secret = generated = HubSubscription.new_secret()
    subscription = HubSubscription.objects.create(
        api=api,
        client=client,
        callback=str(body["callback"]).strip(),
        query=query or "",
        secret=secret,
    )
    return Registration(subscription=subscription, generated_secret=generated)


def subscriptions_of(client: ApiClient, api: str) -> QuerySet[HubSubscription]:
    """The client's live listeners on ``api``."""
    return HubSubscription.objects.filter(client=client, api=api, deleted_at__isnull=True)


def subscription_get(client: ApiClient, api: str, subscription_id: str) -> HubSubscription | None:
    return subscriptions_of(client, api).filter(pk=subscription_id).first()


def subscription_unregister(client: ApiClient, api: str, subscription_id: str) -> bool:
    """Stop sending to the listener (its deliveries stay in the log; pending ones are not
    sent). False when the client has no such live listener."""
    updated = (
        subscriptions_of(client, api).filter(pk=subscription_id).update(deleted_at=timezone.now())
    )
    return updated == 1
